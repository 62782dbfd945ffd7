"""Key statements by mail (issue 16), through the installed executable: Anne
rotates her key and mails the succession to every contact (``key announce
--mail``); their ``receive --mail`` moves her to the new key, then letters go
both ways by mail. Denis mails his revocation: the letter he sends after it is
refused. A tampered statement mailed by someone else is refused, the home
unchanged, and never taken up again."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from mailworld import MailWorld, snapshot

from securemsg.core.card import Card
from securemsg.store import maillayout
from tamper import flip

pytestmark = pytest.mark.slow


def _card(w: MailWorld, label: str) -> Card:
    return Card.parse((w.home(label) / "card.txt").read_bytes())


def _x(w: MailWorld, label: str, *args: str | Path, code: int = 0) -> Any:
    res = w.run(label, "--json", *args, executable=True)
    assert res.exit_code == code, (args, res.stdout, res.stderr)
    return res.json()


def _note(w: MailWorld, text: str) -> Path:
    src = w.root / "note.md"
    src.write_text(f"## Note\n{text}\n")
    return src


def _send(w: MailWorld, sender: str, to: str, text: str) -> None:
    _x(w, sender, "send", _note(w, text), "--to", to, "--kind", "tele-expertise",
       "--pseudonym", "P1", "--mail")  # fmt: skip


def test_rotation_mailed_to_every_contact_then_letters_both_ways(mail_world: MailWorld) -> None:
    w = mail_world
    old = _card(w, "gp")
    w.ok("gp", "key", "rotate", "-o", w.root / "succession.cose")
    new = _card(w, "gp")
    # a letter signed by the new key mailed BEFORE the statement (by hand: `send
    # --mail` would send the succession first): in the same receive, the statement
    # is taken first and the letter finds Anne moved
    out = w.root / "out"
    out.mkdir()
    _x(w, "gp", "send", _note(w, "after the rotation, from Anne"), "--to", "Bruno", "--kind",
       "tele-expertise", "--pseudonym", "P1", "-o", out)  # fmt: skip
    (envelope,) = out.iterdir()
    data = envelope.read_bytes()
    m = maillayout.outgoing("letter", "other@mail.test", w.address("card"), envelope.name,
                            len(data), 0)  # fmt: skip
    w.inject("card", m.head + b"".join(maillayout.base64_lines(io.BytesIO(data))) + m.tail)
    w.wait("card", 1)
    doc = _x(w, "gp", "key", "announce", "--mail")
    assert (doc["statement"], doc["by"], doc["key"]) == ("key succession", "mail", old.fingerprint)
    assert {(r["status"], r["detail"]) for r in doc["to"]} == {
        ("sent", w.address(label)) for label in ("card", "pat", "spec")
    }
    w.wait("card", 2)
    moved, row = _x(w, "card", "receive", "--mail")["results"]
    assert (moved["status"], moved["from"]) == ("key succession: moved", "Dr Anne Mailgp")
    assert w.ok("card", "contacts", "show", new.fingerprint[:16])["replaces"] == old.fingerprint
    assert (row["status"], row["from"]) == ("accepted", "Dr Anne Mailgp")
    assert w.ok("card", "read", row["message_id"])["author"]["fingerprint"] == new.fingerprint

    _send(w, "card", "Anne", "the answer, from Bruno")
    w.wait("gp", 2)  # Bruno's receipt, then his letter
    rows = _x(w, "gp", "receive", "--mail")["results"]
    assert sorted(r["status"] for r in rows) == ["accepted", "receipt: delivered"]

    # the patient's home too; the same statement mailed again is already recorded
    w.wait("pat", 1)
    (row,) = _x(w, "pat", "receive", "--mail")["results"]
    assert row["status"] == "key succession: moved"
    _x(w, "gp", "key", "announce", "--mail", "--to", "Paule")
    w.wait("pat", 2)
    (row,) = _x(w, "pat", "receive", "--mail")["results"]
    assert row["status"] == "key succession: already recorded"


def test_a_letter_mailed_after_a_rotation_carries_the_succession(mail_world: MailWorld) -> None:
    w = mail_world
    old = _card(w, "gp")
    w.ok("gp", "key", "rotate", "-o", w.root / "succession.cose")
    res = w.run("gp", "send", _note(w, "first letter of the new key"), "--to", "Bruno",
                "--kind", "tele-expertise", "--pseudonym", "P1", "--mail",
                executable=True)  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert "your key succession went with the letter to Dr Bruno Mailcard" in res.stderr
    w.wait("card", 2)  # the statement, then the letter
    moved, row = _x(w, "card", "receive", "--mail")["results"]
    assert moved["status"] == "key succession: moved" and row["status"] == "accepted"
    shown = w.ok("card", "contacts", "show", "Anne")
    assert shown["fingerprint"] == _card(w, "gp").fingerprint != old.fingerprint


def test_revocation_by_mail_then_the_revoked_keys_letter_refused(mail_world: MailWorld) -> None:
    w = mail_world
    (revocation,) = w.home("spec").glob("revocation-*.cose")
    doc = _x(w, "spec", "key", "announce", revocation, "--mail", "--to", "Bruno")
    assert doc["statement"] == "key revocation" and len(doc["to"]) == 1
    _send(w, "spec", "Bruno", "signed by a revoked key")
    w.wait("card", 2)
    res = w.run("card", "--json", "receive", "--mail", executable=True)
    assert res.exit_code == 3, res.stderr
    rows = res.json()["results"]
    assert [r["status"] for r in rows] == ["key revocation: recorded", "refused"]
    assert (rows[1]["error"], rows[1]["rule"]) == ("key_revoked", "key_revoked")
    shown = w.ok("card", "contacts", "show", "Denis")
    assert shown["revoked_as_of"] is not None


def test_tampered_statement_by_mail_is_refused_once(mail_world: MailWorld) -> None:
    w = mail_world
    w.ok("gp", "key", "rotate", "-o", w.root / "succession.cose")
    data = (w.root / "succession.cose").read_bytes()
    to = w.address("card")
    m = maillayout.outgoing("statement", "other@mail.test", to, "key-statement.cose",
                            len(data), 0)  # fmt: skip
    bad = flip(data, len(data) - 10)
    raw = m.head + b"".join(maillayout.base64_lines(io.BytesIO(bad))) + m.tail
    w.inject("card", raw)
    w.wait("card", 1)
    w.ok("card", "inbox")
    before = snapshot(w.home("card"))
    res = w.run("card", "--json", "receive", "--mail", executable=True)
    assert res.exit_code == 3
    (row,) = res.json()["results"]
    assert (row["status"], row["error"]) == ("refused", "bad_signature")
    files, rows = snapshot(w.home("card"))
    assert files == before[0]
    # every table as it was but mail_seen, which records the mail as done
    assert {k: v for k, v in rows if k != "mail_seen"} == {
        k: v for k, v in before[1] if k != "mail_seen"
    }
    assert _x(w, "card", "receive", "--mail")["results"] == []  # never taken up again
