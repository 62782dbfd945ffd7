"""The referral story over a real mail server (tests/mail/mailserver.py): Anne
sends by mail, Bruno receives by IMAP and his receipt comes back by mail; a
refused letter's notice comes back too; nothing but securemsg mail is touched."""

from __future__ import annotations

from mailworld import MailWorld

pytestmark = __import__("pytest").mark.slow


def test_referral_by_mail_both_ways_with_receipts(mail_world: MailWorld) -> None:
    w = mail_world
    sent = w.send()
    mid = sent["message_id"]
    assert {m["address"] for m in sent["mails"]} == {w.address("card"), w.address("pat")}
    w.wait("card", 1)
    got = w.ok("card", "receive", "--mail")["results"]
    assert [(r["status"], r["message_id"]) for r in got] == [("accepted", mid)]
    # the receipt went back by mail to the address on Anne's card
    w.wait("gp", 1)
    back = w.ok("gp", "receive", "--mail")["results"]
    assert [(r["status"], r["message_id"]) for r in back] == [("receipt: delivered", mid)]
    rows = w.ok("gp", "sent")
    print(rows)
    # a second receive finds nothing new on either side
    assert w.ok("card", "receive", "--mail")["results"] == []
    assert w.ok("gp", "receive", "--mail")["results"] == []
