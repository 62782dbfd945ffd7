"""Two devices of one practitioner on one mail account (issue 16; app/doubles.py),
through the installed executable and a real mail server: Anne's first computer
("gp") and a second one joined with `device add`/`device join` ("gp2") both
receive Bruno's letter and each sends its own receipt (Bruno records one); a
letter Anne sends from the first computer reaches the second as its double
(filed under `sent` with the same deliveries), and Bruno's receipt settles it
on both; every re-run is idempotent. A double signed by another key, or one
altered, is refused with the stores unchanged; moving received mails is
refused once the identity has several devices."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from mailserver import PASSWORD
from mailworld import PASSPHRASE, MailWorld, run_cli, snapshot

from clirun import world_env
from ontty import add_device
from securemsg.core.letter.doubles import DoubleRecord
from securemsg.core.testkeys import derive_test_identity
from securemsg.store import maillayout

pytestmark = pytest.mark.slow


def exe(home: Path, *args: str | Path, **env: str) -> Any:
    res = run_cli(home, "--json", *args, extra_env=env, executable=True)
    assert res.exit_code == 0, (args, res.stdout, res.stderr)
    return res.json() if res.stdout.strip() else None


def _join(w: MailWorld) -> Path:
    dev = w.root / "gp.device"
    code, _ = add_device(w.home("gp"), dev, world_env(PASSPHRASE))
    home2 = w.root / "gp2"
    exe(home2, "device", "join", dev, SECUREMSG_DEVICE_CODE=code)
    return home2


def _statuses(doc: Any) -> list[tuple[str, str | None]]:
    return sorted((r["status"], r.get("message_id")) for r in doc["results"])


def _deliveries(home: Path, mid: str) -> dict[str, str]:
    (letter,) = [x for x in exe(home, "sent")["letters"] if x["message_id"] == mid]
    return {d["recipient"]: d["status"] for d in letter["deliveries"]}


def _bruno_writes(w: MailWorld) -> str:
    """Paule consents to Bruno's reply to Anne; Bruno mails it."""
    w.ok("pat", "consent", "grant", "--yes", "--from", "Bruno", "--to", "Anne",
         "--purpose", "reply", "-o", w.root / "reply-consent.cose")  # fmt: skip
    w.ok("card", "consent", "import", w.root / "reply-consent.cose")
    (w.root / "reply.md").write_text("---\nsubject: Stress test\n---\nStress test normal.\n")
    doc = w.ok("card", "send", w.root / "reply.md", "--to", "Anne", "--kind", "reply",
               "--patient", "Paule", "--consent", w.root / "reply-consent.cose",
               "--mail")  # fmt: skip
    return str(doc["message_id"])


def test_two_devices_receive_everything_and_file_each_others_doubles(
    mail_world: MailWorld,
) -> None:
    w = mail_world
    gp, gp2, card = w.home("gp"), _join(w), w.home("card")
    # the third party writes: both devices receive the letter, each signs a receipt
    rid = _bruno_writes(w)
    w.wait("gp", 1)
    assert _statuses(exe(gp, "receive", "--mail")) == [("accepted", rid)]
    assert _statuses(exe(gp2, "receive", "--mail")) == [("accepted", rid)]
    assert "Stress test normal." in str(exe(gp2, "read", rid))
    w.wait("card", 2)
    got = _statuses(exe(card, "receive", "--mail"))
    assert got == [("receipt: already recorded", rid), ("receipt: delivered", rid)]
    # the first device answers; its double goes to Anne's own address
    sent = exe(gp, "send", w.root / "letter.md", "--to", "Bruno", "--kind", "referral",
               "--patient", "Paule", "--consent", w.root / "consent.cose",
               "--reply-to", rid[:10], "--mail")  # fmt: skip
    mid = sent["message_id"]
    assert sent["double_mailed_to"] == w.address("gp") and sent["double_problem"] is None
    w.wait("card", 3)
    assert _statuses(exe(card, "receive", "--mail")) == [("accepted", mid)]
    w.wait("gp", 3)  # Bruno's letter, Anne's double, Bruno's receipt
    before = snapshot(gp2)
    # the second device files the double and settles its delivery to Bruno
    got = _statuses(exe(gp2, "receive", "--mail"))
    assert got == [("double: recorded", mid), ("receipt: delivered", mid)]
    assert snapshot(gp2) != before
    assert _deliveries(gp2, mid) == {"Dr Bruno Mailcard": "delivered", "Paule Mailpat": "sent"}
    letter = exe(gp2, "read", mid)
    assert letter["in_reply_to"] == rid and "angina since 2024 Kw3" in str(letter)
    # the first device finds its own double already there, and settles too
    got = _statuses(exe(gp, "receive", "--mail"))
    assert got == [("double: already recorded", mid), ("receipt: delivered", mid)]
    assert _deliveries(gp, mid) == _deliveries(gp2, mid)
    # re-runs: nothing new, nothing changed
    for home in (gp, gp2):
        before = snapshot(home)
        assert exe(home, "receive", "--mail")["results"] == []
        assert snapshot(home) == before
        assert exe(home, "log", "verify")["ok"] is True
    # each device marked the mails with its own keyword, none moved
    flags = w.imap_flags("gp", "INBOX")
    assert len(flags) == 3 and all("$SecuremsgDone" in f for f in flags.values())
    assert all(any(k.startswith("$SecuremsgDone-") for k in f) for f in flags.values())
    # the patient's copy: the second device still waits for her receipt, like the first
    assert _deliveries(gp2, mid)["Paule Mailpat"] == "sent"


def _double_mail(w: MailWorld, mid: str, record: bytes, double: bytes) -> bytes:
    out = maillayout.double_mail(w.address("gp"), w.address("gp"), mid, record, len(double), 0)
    lines = base64.encodebytes(double).replace(b"\n", b"\r\n")
    return out.head + lines + out.tail


def test_a_double_not_signed_by_my_own_key_is_refused(mail_world: MailWorld) -> None:
    w = mail_world
    gp, gp2 = w.home("gp"), _join(w)
    mid = w.send()["message_id"]
    double = (gp / "mail" / "sent" / f"{mid}.smsg").read_bytes()
    w.wait("gp", 1)
    real = _mail_parts(w, 1)
    record = DoubleRecord.verify(real[0], _card(gp))
    assert real[1] == double
    assert _statuses(exe(gp2, "receive", "--mail")) == [("double: recorded", mid)]
    deliveries = list(record.deliveries)
    bruno = derive_test_identity("mail-tests/card")
    anne = derive_test_identity("mail-tests/gp")
    altered = bytearray(double)
    altered[len(altered) // 2] ^= 1
    new_id = bytes(16)
    w.inject_many("gp", [
        # Bruno's key, a new message id: never filed
        _double_mail(w, new_id.hex(), DoubleRecord.sign(
            bruno, new_id, record.double_digest, deliveries, 5).encoded, double),
        # Bruno's key over the real record's fields
        _double_mail(w, mid, DoubleRecord.sign(
            bruno, record.message_id, record.double_digest, deliveries, 5).encoded, double),
        # Anne's real record, but the double altered
        _double_mail(w, mid, record.encoded, bytes(altered)),
        # Anne's key, a record naming another digest than the double's
        _double_mail(w, mid, DoubleRecord.sign(
            anne, record.message_id, bytes(32), deliveries, 5).encoded, double),
        # Anne's key and the real double, under another message id than the letter's
        _double_mail(w, new_id.hex(), DoubleRecord.sign(
            anne, new_id, record.double_digest, deliveries, 5).encoded, double),
    ])  # fmt: skip
    w.wait("gp", 6)
    before = snapshot(gp2)
    res = run_cli(gp2, "--json", "receive", "--mail", executable=True)
    assert res.exit_code == 3, res.stderr
    rows = res.json()["results"]
    # (the server may deliver the five in any order)
    assert sorted((r["status"], r["error"], r["detail"][:30]) for r in rows) == [
        ("refused", "foreign_double", "a double sent to your address "),
        ("refused", "foreign_double", "a double sent to your address "),
        ("refused", "refused", "the double is another letter t"),
        ("refused", "refused", "the double is not the one its "),
        ("refused", "refused", "the double is not the one its "),
    ], rows
    after = snapshot(gp2)
    # nothing kept: every file and every table as before, but the mails recorded as done
    assert after[0] == before[0]
    assert [(t, r) for t, r in after[1] if t != "mail_seen"] == [
        (t, r) for t, r in before[1] if t != "mail_seen"
    ]
    assert len(dict(after[1])["mail_seen"]) == len(dict(before[1])["mail_seen"]) + 5
    assert exe(gp2, "log", "verify")["ok"] is True


def _card(home: Path) -> Any:
    from securemsg.core.card import Card

    return Card.parse((home / "card.txt").read_bytes())


def _mail_parts(w: MailWorld, uid: int) -> tuple[bytes, bytes]:
    import imaplib
    import ssl

    ctx = ssl.create_default_context(cafile=str(w.server.ca))
    with imaplib.IMAP4_SSL("localhost", w.server.ports["imaps"], ssl_context=ctx) as m:
        m.login(w.address("gp"), PASSWORD)
        m.select('"INBOX"', readonly=True)
        _t, data = m.uid("FETCH", str(uid), "(BODY.PEEK[])")
    raw = next(item[1] for item in data if isinstance(item, tuple))
    mail = maillayout.parse(raw)
    assert mail.kind == "double"
    return mail.parts[0][1], mail.parts[1][1]


def test_moving_received_mails_is_refused_with_several_devices(mail_world: MailWorld) -> None:
    w = mail_world
    gp2 = _join(w)
    args = w.account_args("gp")
    run_cli(gp2, "account", "remove", w.address("gp"), executable=True)
    res = run_cli(gp2, *args, "--after", "move", input=PASSWORD + "\n", executable=True)
    assert res.exit_code == 1 and "device forget" in res.stderr  # refused up front
    # a home left with both (an account added before the check existed): refused too
    exe(gp2, "device", "forget")
    res = run_cli(gp2, *args, "--after", "move", input=PASSWORD + "\n", executable=True)
    assert res.exit_code == 0, res.stderr
    config = json.loads((gp2 / "config.json").read_text())
    (gp2 / "config.json").write_text(json.dumps(dict(config, devices=True)))
    before = snapshot(gp2)
    res = run_cli(gp2, "--json", "receive", "--mail", executable=True)
    assert (res.exit_code, res.error_json()["error"]) == (1, "mail"), res.stderr
    assert "--after flag" in res.error_json()["hint"]
    assert snapshot(gp2) == before


def test_a_receipt_for_a_letter_sent_before_the_join(mail_world: MailWorld) -> None:
    """The second computer reports it as another device's (exit 0, nothing
    recorded); a device sync file then brings the double and its receipt."""
    w = mail_world
    gp = w.home("gp")
    mid = w.send()["message_id"]  # before the second device: no double by mail
    gp2 = _join(w)
    w.wait("card", 1)
    assert _statuses(exe(w.home("card"), "receive", "--mail")) == [("accepted", mid)]
    w.wait("gp", 1)
    before = snapshot(gp2)
    res = run_cli(gp2, "--json", "receive", "--mail", executable=True)
    assert res.exit_code == 0, res.stderr
    (row,) = res.json()["results"]
    assert row["status"] == "proof: for another device" and "device sync" in row["detail"]
    after = snapshot(gp2)  # nothing recorded but the mail as done
    assert [p for p, _b in after[0] if p.startswith(("mail/in/", "mail/sent/"))] == []
    assert [x for x in after[1] if x[0] != "mail_seen"] == [
        x for x in before[1] if x[0] != "mail_seen"
    ]
    assert _statuses(exe(gp, "receive", "--mail")) == [("receipt: delivered", mid)]
    exe(gp, "device", "sync", "-o", w.root / "sync.age")
    got = _statuses(exe(gp2, "device", "sync", w.root / "sync.age"))
    assert got == [("double: recorded", mid), ("receipt: delivered", mid)]
    assert _deliveries(gp2, mid) == _deliveries(gp, mid)
    assert exe(gp2, "log", "verify")["ok"] is True


def _send_from(w: MailWorld, home: Path) -> Any:
    return exe(home, "send", w.root / "letter.md", "--to", "Bruno", "--kind", "referral",
               "--patient", "Paule", "--consent", w.root / "consent.cose", "--mail")  # fmt: skip


def test_an_older_first_device_learns_from_a_double_and_forget_stops_them(
    mail_world: MailWorld,
) -> None:
    """A first computer whose `device add` came before the "devices" flag (its
    config lacks it) counts the second once it files a double from it; after
    `device forget` on the second, its doubles are no longer mailed."""
    w = mail_world
    gp, gp2 = w.home("gp"), _join(w)
    config = json.loads((gp / "config.json").read_text())
    del config["devices"]
    (gp / "config.json").write_text(json.dumps(config))
    assert "double_mailed_to" not in w.send()  # one device, as far as it knows
    sent = _send_from(w, gp2)  # the joined one knows (its log chain id)
    assert sent["double_mailed_to"] == w.address("gp")
    w.wait("gp", 1)
    assert _statuses(exe(gp, "receive", "--mail")) == [("double: recorded", sent["message_id"])]
    assert json.loads((gp / "config.json").read_text())["devices"] is True
    assert w.send()["double_mailed_to"] == w.address("gp")
    # the first computer is gone: the second forgets it and mails no more doubles
    assert exe(gp2, "device", "forget")["was_several"] is True
    last = _send_from(w, gp2)
    assert "double_mailed_to" not in last and last["mails"], last
