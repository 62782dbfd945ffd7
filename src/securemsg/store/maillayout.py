"""The layout of a securemsg mail (docs/format.md, "Letters by mail"): what is
written to the mail system around an envelope, receipt, notice or card, and
how an incoming mail is recognised and taken apart.

A mail is ``multipart/mixed``: a neutral text part that says nothing about the
letter (headers and body are seen by every relay), then the object as one
``application/octet-stream`` attachment in base64, named
``<message id>.<kind suffix>``. The header ``X-Securemsg: <kind>/1`` tells a
securemsg mail from any other; the attachment itself is verified exactly as
the same file would be (the mail's From, To and Subject decide nothing).
"""

from __future__ import annotations

import binascii
import email.parser
import email.policy
import email.utils
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from securemsg.errors import FormatError

HEADER = "X-Securemsg"
KINDS = {"letter": "smsg", "receipt": "receipt", "refusal": "refusal"}
VERSION = "1"
SUBJECT = "Secure message"
BODY = (
    "This mail carries an end-to-end encrypted message for its recipient.\r\n"
    "It can only be opened with securemsg: securemsg receive --mail\r\n"
)
LINE = 57  # bytes of content per base64 line (76 characters)
PIECE = LINE * 16384  # about 900 KiB read and encoded at a time


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One mail: the head (headers, text part, attachment headers) and the tail;
    the attachment's base64 goes between them, streamed from its file."""

    head: bytes
    tail: bytes
    size: int  # the whole mail, in bytes, as sent (CRLF lines)
    message_id: str


def b64_size(n: int) -> int:
    chars = 4 * ((n + 2) // 3)
    return chars + 2 * ((n + LINE - 1) // LINE)


def outgoing(kind: str, sender: str, to: str, name: str, length: int, now: float) -> Outgoing:
    if kind not in KINDS:
        raise ValueError(kind)
    boundary = "securemsg-" + secrets.token_hex(12)
    domain = sender.rpartition("@")[2] or "securemsg.invalid"
    mid = f"<{secrets.token_hex(16)}@{domain}>"
    headers = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {SUBJECT}",
        f"Date: {email.utils.formatdate(now, localtime=False)}",
        f"Message-ID: {mid}",
        "MIME-Version: 1.0",
        f"{HEADER}: {kind}/{VERSION}",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
        "",
        f"--{boundary}",
        "Content-Type: text/plain; charset=us-ascii",
        "Content-Transfer-Encoding: 7bit",
        "",
        BODY,
        f"--{boundary}",
        "Content-Type: application/octet-stream",
        f'Content-Disposition: attachment; filename="{name}"',
        "Content-Transfer-Encoding: base64",
        "",
        "",
    ]
    head = "\r\n".join(headers).encode("ascii")
    tail = f"--{boundary}--\r\n".encode("ascii")
    return Outgoing(head, tail, len(head) + b64_size(length) + len(tail), mid)


def base64_lines(src: BinaryIO) -> Iterator[bytes]:
    """The base64 of ``src``, 76-character CRLF lines, about 1 MiB at a time."""
    while data := src.read(PIECE):
        out = bytearray()
        for i in range(0, len(data), LINE):
            out += binascii.b2a_base64(data[i : i + LINE], newline=False) + b"\r\n"
        yield bytes(out)


@dataclass(frozen=True, slots=True)
class Incoming:
    kind: str  # letter | receipt | refusal
    name: str  # the attachment's file name as given (not trusted: shown only)
    data: bytes
    sender: str  # the From address (routing only: the signature decides)


def kind_of(header: str | None) -> str | None:
    """The kind a ``X-Securemsg`` header names, or None for any other value."""
    if header is None:
        return None
    kind, sep, version = header.strip().partition("/")
    return kind if sep and version == VERSION and kind in KINDS else None


def parse(raw: bytes) -> Incoming:
    """A securemsg mail taken apart; any other shape is a :class:`FormatError`."""
    try:
        msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)
        kind = kind_of(msg.get(HEADER))
        if kind is None:
            raise FormatError(f"the mail's {HEADER} header names no kind this version knows")
        parts = [
            p
            for p in msg.walk()
            if not p.is_multipart() and p.get_content_type() == "application/octet-stream"
        ]
        if len(parts) != 1:
            raise FormatError(f"a securemsg mail holds one attachment, this one {len(parts)}")
        part = parts[0]
        if (part.get("Content-Transfer-Encoding") or "").strip().lower() != "base64":
            raise FormatError("the mail's attachment is not in base64")
        payload = part.get_payload()
        if not isinstance(payload, str):
            raise FormatError("the mail's attachment is malformed")
        data = binascii.a2b_base64(payload.encode("ascii", "strict"))
        sender = email.utils.parseaddr(str(msg.get("From", "")))[1]
        return Incoming(kind, str(part.get_filename() or ""), data, sender)
    except FormatError:
        raise
    except (ValueError, TypeError, LookupError, binascii.Error, UnicodeError) as exc:
        raise FormatError("the mail is not a well-formed securemsg mail") from exc
