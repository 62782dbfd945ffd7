"""The referral story over a real mail server (tests/mail/mailserver.py): Anne
sends by mail, Bruno receives by IMAP and his receipt comes back by mail; a
refused letter's notice comes back too; nothing but securemsg mail is touched."""

from __future__ import annotations

from mailserver import PASSWORD
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
    (letter,) = w.ok("gp", "sent")["letters"]
    st = {d["recipient"]: d["status"] for d in letter["deliveries"]}
    assert st == {"Dr Bruno Mailcard": "delivered", "Paule Mailpat": "sent"}
    # a second receive finds nothing new on either side
    assert w.ok("card", "receive", "--mail")["results"] == []
    assert w.ok("gp", "receive", "--mail")["results"] == []
    # the other direction: the patient mails Bruno her consent to reply; he answers
    # by mail, threaded; Anne receives the reply and Bruno gets her receipt back
    w.ok("pat", "consent", "grant", "--yes", "--from", "Bruno", "--to", "Anne",
         "--purpose", "reply",
         "-o", w.root / "reply-consent.cose")  # fmt: skip
    w.ok("pat", "consent", "send", w.root / "reply-consent.cose", "--to", "Bruno")
    w.wait("card", 2)
    (row,) = w.ok("card", "receive", "--mail")["results"]
    assert row["status"] == "consent: recorded"
    (w.root / "reply.md").write_text("---\nsubject: Re referral\n---\nStress test normal.\n")
    reply = w.ok("card", "send", w.root / "reply.md", "--to", "Anne", "--kind", "reply",
                 "--patient", "Paule", "--consent", w.root / "reply-consent.cose",
                 "--reply-to", mid[:10], "--mail")  # fmt: skip
    rid = reply["message_id"]
    w.wait("gp", 2)
    (got,) = w.ok("gp", "receive", "--mail")["results"]
    assert (got["status"], got["message_id"]) == ("accepted", rid)
    assert w.ok("gp", "read", rid)["in_reply_to"] == mid
    w.wait("card", 3)
    (back,) = w.ok("card", "receive", "--mail")["results"]
    assert (back["status"], back["message_id"]) == ("receipt: delivered", rid)
    for label in ("gp", "card"):
        assert w.ok(label, "log", "verify")["ok"] is True


def test_refusal_notice_comes_back_by_mail_and_the_patient_gets_her_copy(
    mail_world: MailWorld,
) -> None:
    w = mail_world
    mid = w.send()["message_id"]
    # the patient receives her copy by mail (before she revokes her consent)
    w.wait("pat", 1)
    (mine,) = w.ok("pat", "receive", "--mail")["results"]
    assert mine["status"] == "accepted" and mine["message_id"] == mid
    w.ok("pat", "consent", "revoke", w.root / "consent.cose", "-o", w.root / "rev.cose")
    w.ok("card", "consent", "import", w.root / "rev.cose")
    w.wait("card", 1)
    res = w.run("card", "--json", "receive", "--mail", executable=True)
    assert res.exit_code == 3, res.stderr
    (row,) = res.json()["results"]
    assert row["status"] == "refused" and row["rule"] == "revoked" and row["notice"] is True
    assert "problem" not in row  # the notice went out
    w.wait("gp", 2)
    back = w.ok("gp", "receive", "--mail")["results"]
    assert sorted(r["status"] for r in back) == [
        "notice: refused by recipient",
        "receipt: delivered",
    ]
    (letter,) = w.ok("gp", "sent")["letters"]
    st = {d["recipient"]: d["status"] for d in letter["deliveries"]}
    assert st == {"Dr Bruno Mailcard": "refused", "Paule Mailpat": "delivered"}
    # the refused mail is not taken up again
    assert w.ok("card", "receive", "--mail")["results"] == []


def test_move_after_receive_and_other_mail_untouched(mail_world: MailWorld) -> None:
    w = mail_world
    w.inject("card", b"Subject: lunch?\r\nFrom: other@mail.test\r\n\r\nAt noon.\r\n")
    w.ok("card", "account", "remove", w.address("card"))
    w.ok("card", *w.account_args("card"), "--after", "move", input=PASSWORD + "\n")
    mid = w.send("--no-patient-copy")["message_id"]
    w.wait("card", 2)
    (row,) = w.ok("card", "receive", "--mail")["results"]
    assert row["message_id"] == mid
    flags = w.imap_flags("card", "INBOX")
    assert list(flags.values()) == [set()]  # the other mail: not moved, not even \Seen
    assert len(w.imap_flags("card", "securemsg-done")) == 1
