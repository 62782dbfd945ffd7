"""The layout of a securemsg mail (docs/format.md, "Letters by mail"): what is
written to the mail system around an envelope, receipt, notice or card, and
how an incoming mail is recognised and taken apart.

A mail is ``multipart/mixed``: a neutral text part that says nothing about the
letter (headers and body are seen by every relay), then ``application/octet-stream``
attachments in base64: one envelope (``letter/1``, named ``<message id>.smsg``),
1 to MAX_PROOFS receipts and refusal notices for one author (``proofs/1``,
each named ``<message id>.receipt`` or ``.refusal``), one signed consent object
(``consent/1``, ``consent.cose``: a grant, revocation or objection), one card
(``card/1``, ``card.txt``), one key succession or key revocation
(``statement/1``, ``key-statement.cose``), or a double with its record
(``double/1``, to the practitioner's own address: ``<message id>.double`` then
``<message id>.smsg``; docs/format.md §18.2). The header
``X-Securemsg: <kind>/1`` tells a securemsg mail from any other; each
attachment is verified exactly as the same file would be (the mail's From,
To and Subject decide nothing).
"""

from __future__ import annotations

import binascii
import email.parser
import email.policy
import email.utils
import io
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from securemsg.errors import FormatError
from securemsg.i18n import _, ngettext

HEADER = "X-Securemsg"
KINDS = ("letter", "proofs", "consent", "card", "double", "statement")
MAX_PROOFS = 256  # receipts and notices in one proofs/1 mail
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
    """A mail with one attachment of ``length`` bytes, streamed between its
    head and tail."""
    head, tail, mid = _frame(kind, sender, to, [name], now)
    return Outgoing(head[0], tail, len(head[0]) + b64_size(length) + len(tail), mid)


def double_mail(
    sender: str, to: str, message_id: str, record: bytes, length: int, now: float
) -> Outgoing:
    """A ``double/1`` mail: the double record, whole, then the double (``length``
    bytes) streamed between the head and the tail."""
    heads, tail, mid = _frame(
        "double", sender, to, [f"{message_id}.double", f"{message_id}.smsg"], now
    )
    head = heads[0] + b"".join(base64_lines(io.BytesIO(record))) + heads[1]
    return Outgoing(head, tail, len(head) + b64_size(length) + len(tail), mid)


def proofs_mail(sender: str, to: str, proofs: list[tuple[str, bytes]], now: float) -> bytes:
    """One ``proofs/1`` mail carrying ``proofs`` ((file name, bytes), all small)."""
    if not 0 < len(proofs) <= MAX_PROOFS:
        raise ValueError(len(proofs))
    heads, tail, _mid = _frame("proofs", sender, to, [n for n, _d in proofs], now)
    out = bytearray()
    for head, (_name, data) in zip(heads, proofs, strict=True):
        out += head
        for piece in base64_lines(io.BytesIO(data)):
            out += piece
    return bytes(out + tail)


def _frame(
    kind: str, sender: str, to: str, names: list[str], now: float
) -> tuple[list[bytes], bytes, str]:
    """The heads before each attachment (the first with the mail's headers), the
    tail, the Message-ID."""
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
    ]
    heads = []
    for k, name in enumerate(names):
        part = [
            f"--{boundary}",
            "Content-Type: application/octet-stream",
            f'Content-Disposition: attachment; filename="{name}"',
            "Content-Transfer-Encoding: base64",
            "",
            "",
        ]
        heads.append("\r\n".join((headers if k == 0 else []) + part).encode("ascii"))
    tail = f"--{boundary}--\r\n".encode("ascii")
    return heads, tail, mid


def base64_lines(src: BinaryIO) -> Iterator[bytes]:
    """The base64 of ``src``, 76-character CRLF lines, about 1 MiB at a time."""
    while data := src.read(PIECE):
        out = bytearray()
        for i in range(0, len(data), LINE):
            out += binascii.b2a_base64(data[i : i + LINE], newline=False) + b"\r\n"
        yield bytes(out)


@dataclass(frozen=True, slots=True)
class Incoming:
    kind: str  # letter | proofs
    parts: tuple[tuple[str, bytes], ...]  # (file name as given: shown only, content)
    sender: str  # the From address (routing only: the signature decides)


def kind_of(header: str | None) -> str | None:
    """The kind a ``X-Securemsg`` header names, or None for any other value."""
    if header is None:
        return None
    kind, sep, version = str(header).strip().partition("/")
    return kind if sep and version == VERSION and kind in KINDS else None


def parse(raw: bytes) -> Incoming:
    """A securemsg mail taken apart; any other shape is a :class:`FormatError`."""
    try:
        msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)
        kind = kind_of(msg.get(HEADER))
        if kind is None:
            raise FormatError(
                _("the mail's {HEADER} header names no kind this version knows").format(
                    HEADER=HEADER
                )
            )
        parts = [
            p
            for p in msg.walk()
            if not p.is_multipart() and p.get_content_type() == "application/octet-stream"
        ]
        most = MAX_PROOFS if kind == "proofs" else 2 if kind == "double" else 1
        least = 2 if kind == "double" else 1
        if not least <= len(parts) <= most:
            text = (
                ngettext(
                    "a securemsg {kind} mail holds {least} attachment, this one {n}",
                    "a securemsg {kind} mail holds {least} attachments, this one {n}",
                    least,
                )
                if most == least
                else _("a securemsg {kind} mail holds {least} to {most} attachments, this one {n}")
            )
            raise FormatError(text.format(kind=kind, least=least, most=most, n=len(parts)))
        got = []
        for part in parts:
            if (part.get("Content-Transfer-Encoding") or "").strip().lower() != "base64":
                raise FormatError(_("the mail's attachment is not in base64"))
            payload = part.get_payload()
            if not isinstance(payload, str):
                raise FormatError(_("the mail's attachment is malformed"))
            data = binascii.a2b_base64(payload.encode("ascii", "strict"))
            got.append((str(part.get_filename() or ""), data))
        sender = email.utils.parseaddr(str(msg.get("From", "")))[1]
        return Incoming(kind, tuple(got), sender)
    except FormatError:
        raise
    except (ValueError, TypeError, LookupError, binascii.Error, UnicodeError) as exc:
        raise FormatError(_("the mail is not a well-formed securemsg mail")) from exc
