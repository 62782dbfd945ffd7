"""The agent protocol, ``securemsg-agent-v1``: requests and responses as bytes (pure).

Normative spec: docs/format-agent.md; keep the two in step. The socket I/O is
in store/agent/ (client.py, server.py); this module only encodes, decodes and
bounds. Every frame::

    u32 big-endian length N (1..MAX_BODY), then N bytes of body

    request body:  VERSION (0x01) | op (1 byte) | payload
    response body: VERSION (0x01) | status (1 byte) | payload

Imported by every command that unlocks (through the client): standard library
only, nothing built at import but a few constants and two small classes.
"""

from __future__ import annotations

import struct
from typing import Final

from securemsg.i18n import _

VERSION: Final = 0x01
MAX_SIGN_MESSAGE: Final = (1 << 20) + 4096  # a COSE Sig_structure of a 1 MiB payload
MAX_BODY: Final = 2 + MAX_SIGN_MESSAGE
LENGTH: Final = struct.Struct(">I")

# operations
OP_STATUS: Final = 0x01
OP_SIGN: Final = 0x02
OP_OPEN_SHARE: Final = 0x03
OP_STORAGE_KEYS: Final = 0x04
OP_LOCK: Final = 0x05
OPS: Final = frozenset({OP_STATUS, OP_SIGN, OP_OPEN_SHARE, OP_STORAGE_KEYS, OP_LOCK})

# statuses
OK: Final = 0x00
NOT_MINE: Final = 0x01  # OP_OPEN_SHARE: the stanza is not addressed to this key
BAD_REQUEST: Final = 0x02  # malformed frame, unknown op, wrong payload size
REFUSED: Final = 0x03  # OP_SIGN: not a COSE Sig_structure of a securemsg object
SMALL_ORDER: Final = 0x04  # OP_OPEN_SHARE: the share is a point of small order

SHARE_SIZE: Final = 32
WRAPPED_SIZE: Final = 32  # 16-byte file key + 16-byte tag
FILE_KEY_SIZE: Final = 16
KEY_SIZE: Final = 32
SIGNATURE_SIZE: Final = 64
# "Signature1" as the first element of a 4-array: how every Sig_structure starts
SIG_STRUCTURE_PREFIX: Final = b"\x84\x6aSignature1"
STATUS_FIXED: Final = struct.Struct(">32s32sQI")  # sign_public, enc_public, expires, pid


class ProtocolError(ValueError):
    """A frame or body that does not follow docs/format-agent.md."""


def frame(body: bytes) -> bytes:
    if not 2 <= len(body) <= MAX_BODY:
        raise ProtocolError(_("a body is 2..{max} bytes").format(max=MAX_BODY))
    return LENGTH.pack(len(body)) + body


def body_length(prefix: bytes) -> int:
    """The body length announced by a 4-byte frame prefix, checked against the bounds."""
    if len(prefix) != LENGTH.size:
        raise ProtocolError(_("truncated frame length"))
    (n,) = LENGTH.unpack(prefix)
    if not 2 <= n <= MAX_BODY:
        raise ProtocolError(_("frame length {n} outside 2..{max}").format(n=n, max=MAX_BODY))
    return int(n)


def request(op: int, payload: bytes = b"") -> bytes:
    return frame(bytes((VERSION, op)) + payload)


def response(status: int, payload: bytes = b"") -> bytes:
    return frame(bytes((VERSION, status)) + payload)


def _split(body: bytes) -> tuple[int, bytes]:
    if len(body) < 2:
        raise ProtocolError(_("a body has a version and an op or status byte"))
    if body[0] != VERSION:
        raise ProtocolError(
            _("unsupported agent protocol version {version}").format(version=body[0])
        )
    return body[1], body[2:]


def parse_request(body: bytes) -> tuple[int, bytes]:
    """(op, payload) of a request body whose payload has the op's exact shape."""
    op, payload = _split(body)
    if op not in OPS:
        raise ProtocolError(_("unknown operation 0x{op:02x}").format(op=op))
    if op in (OP_STATUS, OP_STORAGE_KEYS, OP_LOCK) and payload:
        raise ProtocolError(_("this operation takes no payload"))
    if op == OP_OPEN_SHARE and len(payload) != SHARE_SIZE + WRAPPED_SIZE:
        raise ProtocolError(_("open-share takes a 32-byte share and a 32-byte body"))
    if op == OP_SIGN and not 0 < len(payload) <= MAX_SIGN_MESSAGE:
        raise ProtocolError(_("sign takes 1..{max} bytes").format(max=MAX_SIGN_MESSAGE))
    return op, payload


def parse_response(body: bytes, op: int) -> tuple[int, bytes]:
    """(status, payload) of the response to ``op``, its OK payload's size checked."""
    status, payload = _split(body)
    if status != OK:
        if payload:
            raise ProtocolError(_("an error status carries no payload"))
        return status, payload
    expected = {
        OP_SIGN: SIGNATURE_SIZE,
        OP_OPEN_SHARE: FILE_KEY_SIZE,
        OP_STORAGE_KEYS: 2 * KEY_SIZE,
        OP_LOCK: 0,
        OP_STATUS: STATUS_FIXED.size,
    }[op]
    if len(payload) != expected:
        raise ProtocolError(
            _("the response to 0x{op:02x} must carry {expected} bytes").format(
                op=op, expected=expected
            )
        )
    return status, payload


class AgentStatus:
    """What ``OP_STATUS`` tells: the public keys, when the agent stops, its pid."""

    __slots__ = ("enc_public", "expires", "pid", "sign_public")

    def __init__(self, sign_public: bytes, enc_public: bytes, expires: int, pid: int) -> None:
        self.sign_public = sign_public
        self.enc_public = enc_public
        self.expires = expires
        self.pid = pid

    def __repr__(self) -> str:
        return f"AgentStatus(expires={self.expires}, pid={self.pid})"

    def encode(self) -> bytes:
        return STATUS_FIXED.pack(self.sign_public, self.enc_public, self.expires, self.pid)

    @classmethod
    def decode(cls, payload: bytes) -> AgentStatus:
        sign_public, enc_public, expires, pid = STATUS_FIXED.unpack(payload)
        return cls(sign_public, enc_public, expires, pid)
