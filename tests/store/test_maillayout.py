"""store/maillayout.py: a securemsg mail built and taken apart (docs/format.md
§18.1), its size known before it is written, nothing of the letter in its
headers; store/mailaccounts.py: an account's repr hides the password."""

from __future__ import annotations

import io
import os

import pytest

from securemsg.errors import FormatError, UsageError
from securemsg.store import maillayout
from securemsg.store.mailaccounts import TLS, Account


def _whole(kind: str, data: bytes, name: str = "ab.smsg") -> tuple[bytes, maillayout.Outgoing]:
    m = maillayout.outgoing(kind, "a@x.test", "b@y.test", name, len(data), 1_700_000_000)
    return m.head + b"".join(maillayout.base64_lines(io.BytesIO(data))) + m.tail, m


@pytest.mark.parametrize("n", [0, 1, 56, 57, 58, 1000, maillayout.PIECE + 5])
def test_round_trip_and_exact_size(n: int) -> None:
    data = os.urandom(n)
    raw, m = _whole("letter", data)
    assert len(raw) == m.size
    got = maillayout.parse(raw)
    assert (got.kind, got.parts, got.sender) == ("letter", (("ab.smsg", data),), "a@x.test")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998  # RFC 5322 line limit


def test_proofs_mail_round_trip() -> None:
    proofs = [(f"{i:032x}.receipt", os.urandom(100 + i)) for i in range(3)]
    got = maillayout.parse(maillayout.proofs_mail("a@x.test", "b@y.test", proofs, 0))
    assert (got.kind, got.parts) == ("proofs", tuple(proofs))
    too_many = [("x.receipt", b"r")] * (maillayout.MAX_PROOFS + 1)
    with pytest.raises(ValueError):
        maillayout.proofs_mail("a@x.test", "b@y.test", too_many, 0)


def test_headers_say_nothing_of_the_letter() -> None:
    raw, m = _whole("letter", b"secret Kq9 content", "0123.smsg")
    head = m.head.decode()
    assert "Subject: Secure message\r\n" in head and "X-Securemsg: letter/1\r\n" in head
    assert "Kq9" not in raw.decode()  # only in base64
    assert m.message_id.startswith("<") and m.message_id.endswith("@x.test>")


@pytest.mark.parametrize(
    "raw",
    [
        b"X-Securemsg: letter/1\r\n\r\nno attachment",
        b"X-Securemsg: letter/2\r\n\r\n",
        b"X-Securemsg: card/1\r\n\r\n",
        b"X-Securemsg: receipt/1\r\n\r\n",
        b"Subject: none\r\n\r\n",
        b"\xff\xfe\x00garbage",
        b"X-Securemsg: letter/1\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"QUJD\r\n--b\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nQUJD\r\n--b--\r\n",
        b"X-Securemsg: letter/1\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"\xc3\xa9\r\n--b--\r\n",
    ],
)
def test_anything_else_is_malformed(raw: bytes) -> None:
    with pytest.raises(FormatError):
        maillayout.parse(raw)


def test_account_hides_its_password_and_checks_its_values() -> None:
    a = Account("n", "a@x.test", "h", 993, TLS.IMPLICIT, "h", 587, TLS.STARTTLS, "a", "pw Zq8")
    assert "Zq8" not in repr(a)
    assert Account.from_cbor(a.to_cbor()) == a
    with pytest.raises(UsageError):
        Account("n", "not an address", "h", 993, TLS.IMPLICIT, "h", 587, TLS.STARTTLS, "a", "p")
    with pytest.raises(UsageError):
        Account("n", "a@x.test", "h", 993, TLS.IMPLICIT, "h", 587, TLS.STARTTLS, "a", "")


def test_double_mail_round_trip_exact_size_and_exactly_two_parts() -> None:
    """A ``double/1`` mail (docs/format.md §18.2): the record, then the double
    streamed; its size known before it is written; one part alone is malformed."""
    record, double = os.urandom(300), os.urandom(maillayout.LINE * 3 + 7)
    m = maillayout.double_mail("a@x.test", "a@x.test", "ab", record, len(double), 1_700_000_000)
    raw = m.head + b"".join(maillayout.base64_lines(io.BytesIO(double))) + m.tail
    assert len(raw) == m.size
    got = maillayout.parse(raw)
    assert (got.kind, got.parts) == ("double", (("ab.double", record), ("ab.smsg", double)))
    one, _m = _whole("letter", double)
    with pytest.raises(FormatError, match="holds 2 attachments, this one 1"):
        maillayout.parse(one.replace(b"X-Securemsg: letter/1", b"X-Securemsg: double/1"))
