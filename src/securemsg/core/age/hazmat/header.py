"""The age v1 header: strict canonical parser and encoder.

::

    age-encryption.org/v1
    -> X25519 <base64 share>
    <base64 body, 64 columns per line, last line shorter (possibly empty)>
    --- <base64 HMAC-SHA-256>

Every accepted header re-encodes to exactly the bytes it was parsed from, so the
bytes a signature binds and the bytes the MAC covers are unambiguous. The parser
reads a line at a time and never consumes a byte past the header; it is bounded
(:data:`MAX_HEADER_SIZE`, :data:`MAX_STANZAS`, :data:`MAX_LINE_SIZE`).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
from collections.abc import Sequence
from typing import Protocol

from securemsg.core.frozen import Frozen, _set
from securemsg.errors import HeaderError
from securemsg.i18n import _

from .hkdf import hkdf_sha256

VERSION_LINE = b"age-encryption.org/v1\n"
STANZA_PREFIX = b"-> "
MAC_PREFIX = b"---"
COLUMNS = 64
MAC_SIZE = 32

MAX_HEADER_SIZE = 1 << 20
MAX_STANZAS = 1024
MAX_LINE_SIZE = 1 << 20

_B64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


class LineReader(Protocol):
    """What the parser reads from: a binary stream with ``readline(limit)``."""

    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...


def b64encode_raw(data: bytes) -> str:
    """Standard base64 without padding, as age writes it."""
    return binascii.b2a_base64(data, newline=False).rstrip(b"=").decode("ascii")


def b64decode_raw(text: str | bytes) -> bytes:
    """Strict inverse of :func:`b64encode_raw`: no padding, no stray bits, no spaces."""
    raw = text.encode("ascii", "replace") if isinstance(text, str) else bytes(text)
    if len(raw) % 4 == 1 or not _B64_ALPHABET.issuperset(raw):
        raise ValueError(_("invalid base64"))
    try:
        data = binascii.a2b_base64(raw + b"=" * (-len(raw) % 4), strict_mode=True)
    except binascii.Error as exc:
        raise ValueError(_("invalid base64")) from exc
    if binascii.b2a_base64(data, newline=False).rstrip(b"=") != raw:
        raise ValueError(_("non-canonical base64"))
    return data


def _valid_arg(arg: str) -> bool:
    return bool(arg) and all(0x21 <= ord(c) <= 0x7E for c in arg)


class Stanza(Frozen):
    """One recipient stanza: a type, string arguments and an opaque body."""

    __slots__ = (  # noqa: RUF023 (field order)
        "type",
        "args",
        "body",
    )
    type: str
    args: tuple[str, ...]
    body: bytes

    def __init__(self, type: str, args: tuple[str, ...], body: bytes) -> None:
        _set(self, "type", type)
        _set(self, "args", args)
        _set(self, "body", body)
        self.__post_init__()

    def __post_init__(self) -> None:
        if not isinstance(self.args, tuple) or not isinstance(self.body, bytes):
            raise TypeError("Stanza args must be a tuple and body bytes")
        for arg in (self.type, *self.args):
            if not isinstance(arg, str) or not _valid_arg(arg):
                raise HeaderError(
                    _("malformed stanza: arguments must be non-empty printable ASCII")
                )

    def encode(self) -> bytes:
        line = " ".join((self.type, *self.args))
        b64 = b64encode_raw(self.body).encode("ascii")
        # The last body line is always shorter than 64 columns, possibly empty.
        lines = [b64[i : i + COLUMNS] for i in range(0, len(b64) // COLUMNS * COLUMNS, COLUMNS)]
        lines.append(b64[len(b64) // COLUMNS * COLUMNS :])
        return STANZA_PREFIX + line.encode("ascii") + b"\n" + b"\n".join(lines) + b"\n"


class Header(Frozen):
    """A parsed header: its stanzas and the 32-byte MAC."""

    __slots__ = (  # noqa: RUF023 (field order)
        "stanzas",
        "mac",
    )
    stanzas: tuple[Stanza, ...]
    mac: bytes

    def __init__(self, stanzas: tuple[Stanza, ...], mac: bytes) -> None:
        _set(self, "stanzas", stanzas)
        _set(self, "mac", mac)
        self.__post_init__()

    def __post_init__(self) -> None:
        if not isinstance(self.stanzas, tuple) or len(self.stanzas) > MAX_STANZAS:
            raise HeaderError(
                _("a header holds at most {MAX_STANZAS} stanzas").format(MAX_STANZAS=MAX_STANZAS)
            )
        if not isinstance(self.mac, bytes) or len(self.mac) != MAC_SIZE:
            raise HeaderError(_("the header MAC is 32 bytes"))

    def encode(self) -> bytes:
        """The full header, including the ``--- <mac>`` line and its newline."""
        return encode_without_mac(self.stanzas) + b" " + b64encode_raw(self.mac).encode() + b"\n"


def encode_without_mac(stanzas: Sequence[Stanza]) -> bytes:
    """The header bytes the MAC covers: everything up to and including ``---``."""
    return VERSION_LINE + b"".join(s.encode() for s in stanzas) + MAC_PREFIX


def header_mac_input(header_bytes: bytes) -> bytes:
    """Strip the `` <mac>\\n`` from a full encoded header, leaving what the MAC covers."""
    end = header_bytes.rfind(b"\n" + MAC_PREFIX + b" ")
    if end < 0 or not header_bytes.endswith(b"\n"):
        raise HeaderError(_("header has no MAC line"))
    return header_bytes[: end + 1 + len(MAC_PREFIX)]


def compute_mac(file_key: bytes, mac_input: bytes) -> bytes:
    """HMAC-SHA-256 over ``mac_input`` under ``HKDF(file_key, salt="", info="header")``."""
    return hmac.digest(hkdf_sha256(file_key, b"", b"header", 32), mac_input, hashlib.sha256)


class _Lines:
    """Reads LF-terminated lines, enforcing the per-line and total size limits."""

    def __init__(self, src: LineReader) -> None:
        self._src = src
        self.consumed = bytearray()

    def next(self) -> bytes:
        budget = min(MAX_LINE_SIZE, MAX_HEADER_SIZE - len(self.consumed))
        line = self._src.readline(budget + 1)
        self.consumed += line
        if not line.endswith(b"\n"):
            if len(line) > budget:
                raise HeaderError(
                    _(
                        "header too large (limit {MAX_HEADER_SIZE} bytes, {MAX_LINE_SIZE} bytes "
                        "per line)"
                    ).format(MAX_HEADER_SIZE=MAX_HEADER_SIZE, MAX_LINE_SIZE=MAX_LINE_SIZE)
                )
            raise HeaderError(_("the file ends inside the header"))
        return line[:-1]


def _args(line: bytes, prefix: bytes) -> list[str]:
    try:
        text = line[len(prefix) :].decode("ascii")
    except UnicodeDecodeError:
        raise HeaderError(_("malformed header line: non-ASCII bytes")) from None
    return text.split(" ")


def parse(src: LineReader) -> tuple[Header, bytes]:
    """Parse one header from ``src``; return it and its exact bytes (MAC line included)."""
    lines = _Lines(src)
    if lines.next() + b"\n" != VERSION_LINE:
        raise HeaderError(_("not an age v1 file (unknown or malformed version line)"))
    stanzas: list[Stanza] = []
    while True:
        line = lines.next()
        if line.startswith(MAC_PREFIX):
            if not line.startswith(MAC_PREFIX + b" "):
                raise HeaderError(_("malformed MAC line"))
            args = _args(line, MAC_PREFIX + b" ")
            try:
                mac = b64decode_raw(args[0]) if len(args) == 1 else b""
            except ValueError:
                mac = b""
            if len(mac) != MAC_SIZE:
                raise HeaderError(_("malformed MAC line"))
            break
        if not line.startswith(STANZA_PREFIX):
            raise HeaderError(_("malformed header line: expected a stanza or the MAC line"))
        if len(stanzas) == MAX_STANZAS:
            raise HeaderError(
                _("too many stanzas (limit {MAX_STANZAS})").format(MAX_STANZAS=MAX_STANZAS)
            )
        args = _args(line, STANZA_PREFIX)
        if not all(_valid_arg(a) for a in args):
            raise HeaderError(_("malformed stanza line: empty or non-printable argument"))
        body = bytearray()
        while True:
            body_line = lines.next()
            if len(body_line) > COLUMNS:
                raise HeaderError(_("malformed stanza body: line longer than 64 columns"))
            try:
                body += b64decode_raw(body_line)
            except ValueError:
                raise HeaderError(_("malformed stanza body: invalid base64")) from None
            if len(body_line) < COLUMNS:
                break
        stanzas.append(Stanza(args[0], tuple(args[1:]), bytes(body)))
    header = Header(tuple(stanzas), mac)
    raw = bytes(lines.consumed)
    if header.encode() != raw:  # belt and braces: the grammar above is canonical
        raise HeaderError(_("header is not in canonical encoding"))
    return header, raw
