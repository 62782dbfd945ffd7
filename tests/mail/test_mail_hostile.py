"""Hostile mail in the inbox, through the installed executable: malformed MIME,
the securemsg header on a mail that is not a letter, an attachment that is not
an age file, a mail over the account's --max-mail, a genuine letter mailed
from someone else's address, hundreds of junk mails. Each is refused clearly
(and never taken up again) or left alone; nothing crashes; the genuine letter
among them is accepted and its receipt goes to the address on its author's
card, not to the mail's From."""

from __future__ import annotations

import io
import os

import pytest
from mailserver import PASSWORD
from mailworld import MailWorld

from securemsg.store import maillayout

pytestmark = pytest.mark.slow

JUNK = 300


def _mail(kind: str, data: bytes, sender: str, to: str, name: str = "x.smsg") -> bytes:
    m = maillayout.outgoing(kind, sender, to, name, len(data), 0)
    return m.head + b"".join(maillayout.base64_lines(io.BytesIO(data))) + m.tail


def _header(body: bytes, extra: str = "") -> bytes:
    return (
        f"From: other@mail.test\r\nSubject: x\r\nX-Securemsg: letter/1\r\n{extra}\r\n".encode()
        + body
    )


def test_hostile_mail_is_refused_or_left_and_the_letter_gets_through(
    mail_world: MailWorld,
) -> None:
    w = mail_world
    to = w.address("card")
    forged_from = "other" + w.suffix + "@mail.test"
    # a genuine letter from Anne, mailed by someone else under their own address
    out = w.root / "out"
    out.mkdir()
    sent = w.ok("gp", "send", w.root / "letter.md", "--to", "Bruno", "--kind", "referral",
                "--patient", "Paule", "--consent", w.root / "consent.cose",
                "--no-patient-copy", "-o", out)  # fmt: skip
    genuine = (out / sent["outputs"][0]["file"].rsplit("/", 1)[1]).read_bytes()
    hostile = {
        "text only": _header(b"no attachment here\r\n"),
        "malformed MIME": _header(
            b"--b\r\nContent-Type: application/octet-stream\r\n\r\n%%%",
            'Content-Type: multipart/mixed; boundary="b"\r\n',
        ),
        "not base64": _header(
            b"--b\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\nabc\r\n--b--\r\n",
            'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n',
        ),
        "not an age file": _mail("letter", os.urandom(5000), forged_from, to),
        "unknown version": _mail("letter", genuine, forged_from, to).replace(
            b"X-Securemsg: letter/1", b"X-Securemsg: letter/9"
        ),
        "receipt that is junk": _mail("proofs", os.urandom(300), forged_from, to, "x.receipt"),
        "proofs/1 with no attachment": _header(b"none\r\n").replace(b"letter/1", b"proofs/1"),
        "too large": _mail("letter", os.urandom(200_000), forged_from, to),
    }
    plain = b"From: other@mail.test\r\nSubject: hello\r\n\r\nnot for securemsg\r\n"
    # the account fetches mails up to 100 kB: the 270 kB one is refused by its size
    w.ok("card", "account", "remove", to)
    w.ok("card", *w.account_args("card"), "--max-mail", "100000", input=PASSWORD + "\n")
    w.inject_many("card", [*hostile.values(), plain])
    w.inject_many("card", [_header(os.urandom(64)) if i % 2 else plain for i in range(JUNK)])
    w.inject("card", _mail("letter", genuine, forged_from, to))
    expected = len(hostile) + 1 + JUNK + 1
    w.wait("card", expected)
    gp_before = w.in_box("gp")
    res = w.run("card", "--json", "receive", "--mail", executable=True, timeout=300)
    assert res.exit_code == 3, res.stderr  # refusals
    assert "internal error" not in res.stderr and "Traceback" not in res.stderr
    rows = res.json()["results"]
    accepted = [r for r in rows if r["status"] == "accepted"]
    assert [r["message_id"] for r in accepted] == [sent["message_id"]]
    refused = [r for r in rows if r["status"] == "refused"]
    assert len(refused) == len(hostile) + JUNK // 2  # every securemsg-looking junk mail
    codes = {r["error"] for r in refused}
    assert codes <= {"malformed", "too_large", "age_header", "age", "refused"}, codes
    assert all(r["detail"] for r in refused)
    too_large = [r for r in refused if r["error"] == "too_large"]
    assert len(too_large) == 1 and "--max-mail" in too_large[0]["detail"]
    # the receipt went to Anne's card address (the From was someone else's)
    w.wait("gp", gp_before + 1)
    back = w.ok("gp", "receive", "--mail")["results"]
    assert [(r["status"], r["message_id"]) for r in back] == [
        ("receipt: delivered", sent["message_id"])
    ]
    # plain mail untouched: neither flagged nor marked \Seen
    flags = w.imap_flags("card", "INBOX")
    untouched = [f for f in flags.values() if not f]
    assert len(untouched) == 1 + JUNK // 2
    # the refused ones are not taken up again
    again = w.run("card", "--json", "receive", "--mail", executable=True)
    assert again.exit_code == 0 and again.json()["results"] == []
