"""Issue 16, key statements that travel: a key succession or revocation given to
``receive`` as a file (told apart by its content, not its name), announced by
``key announce --drop`` and picked up by ``receive --drop`` (with the drop
folder's rules for hostile files), then letters both ways; a revoked key's
letter after T refused; tampered, unknown and replayed statements. All through
the installed executable; every refusal leaves the home exactly as it was.
(By mail: tests/mail/test_mail_statements.py.)"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
import test_key_rotation as base
from test_key_rotation import ALICE, BOB, card_of, contact, ok, sm

from securemsg.core.card import Card
from securemsg.core.identity import SecretIdentity
from securemsg.core.keychange import Succession
from tamper import flip

# Whole runs of the executable: in `make test` (CI), not in the inner loop.
pytestmark = pytest.mark.slow


class World(base.World):
    """The rotation tests' world, with a drop folder."""

    def __init__(self, tmp: Path, alice: Path, bob: Path) -> None:
        super().__init__(tmp, alice, bob)
        self.drop = tmp / "drop"
        self.drop.mkdir()

    def source(self, text: str) -> Path:
        self.n += 1
        src = self.tmp / f"letter{self.n}.md"
        src.write_text(f"## Note\n{text}\n")
        return src

    def drop_letter(self, sender: Path, to: str, text: str) -> None:
        ok(sm(sender, "send", self.source(text), "--to", to, "--kind", "tele-expertise",
              "--pseudonym", "P1", "--drop", self.drop))  # fmt: skip

    def receive_drop(self, home: Path) -> list[dict[str, Any]]:
        res = sm(home, "--json", "receive", "--drop", self.drop)
        assert res.exit_code == 0, (res.stdout, res.stderr)
        return list(res.json()["results"])


@pytest.fixture
def world(make_home, tmp_path: Path) -> World:
    return World(tmp_path, *base.verified_pair(make_home))


def by_status(rows: list[dict[str, Any]]) -> list[str]:
    return [r["status"] for r in rows]


def test_rotation_announced_by_drop_then_letters_both_ways(world: World) -> None:
    a, b = world.alice, world.bob
    old = card_of(a)
    ok(sm(a, "key", "rotate", "-o", world.tmp / "succession.cose"))
    new = card_of(a)
    doc = ok(sm(a, "--json", "key", "announce", "--drop", world.drop)).json()
    assert (doc["statement"], doc["key"], doc["by"]) == ("key succession", old.fingerprint, "drop")
    (sent,) = doc["to"]
    assert (sent["name"], sent["status"]) == (BOB, "sent")
    placed = Path(sent["detail"])
    assert placed.parent.name == card_of(b).fingerprint and placed.name.endswith(".statement")
    assert placed.stat().st_mode & 0o777 == 0o644

    # a letter signed by the new key waits in the same folder: the statement goes first
    world.drop_letter(a, BOB, "after the rotation, from Alice")
    rows = world.receive_drop(b)
    assert by_status(rows) == ["key succession: moved", "accepted"]
    assert rows[0]["from"] == ALICE and "still verified" in rows[0]["detail"]
    assert not placed.exists()
    assert contact(b, old.fingerprint)["state"] == "replaced"
    moved = contact(b, new.fingerprint)
    assert moved["verified"] is True and moved["replaces"] == old.fingerprint
    read = ok(sm(b, "--json", "read", rows[1]["message_id"])).json()
    assert read["author"]["fingerprint"] == new.fingerprint and read["author"]["verified"]

    world.drop_letter(b, ALICE, "the answer, from Bob")
    rows = world.receive_drop(a)
    assert sorted(by_status(rows)) == ["accepted", "receipt: delivered"]  # and Alice's receipt
    assert any(r["status"] == "accepted" and r["from"] == BOB for r in rows)

    # announced again: the same file name, the same statement; a replay changes nothing
    ok(sm(a, "key", "announce", "--drop", world.drop, "--to", BOB))
    rows = world.receive_drop(b)
    assert by_status(rows)[0] == "key succession: already recorded"
    human = ok(sm(b, "receive", world.tmp / "succession.cose")).stdout
    assert "key succession: already recorded" in human


def test_statement_given_as_a_file_is_recognised_by_content(world: World, snapshot) -> None:
    a, b = world.alice, world.bob
    old = card_of(a)
    succ = world.tmp / "succession.cose"
    ok(sm(a, "key", "rotate", "-o", succ))
    disguised = world.tmp / "from-alice.smsg"  # the name says letter: the content decides
    disguised.write_bytes(succ.read_bytes())
    letter = world.letter(a, BOB, "from the new key")
    res = ok(sm(b, "--json", "receive", letter, disguised))
    rows = res.json()["results"]
    assert by_status(rows) == ["key succession: moved", "accepted"]
    assert rows[0]["file"] == str(disguised) and rows[1]["file"] == str(letter)
    assert contact(b, old.fingerprint)["state"] == "replaced"

    # replayed: harmless and idempotent, the home unchanged
    before = snapshot(b)
    res = ok(sm(b, "--json", "receive", disguised))
    assert by_status(res.json()["results"]) == ["key succession: already recorded"]
    assert snapshot(b) == before
    # and `contacts add` of the same statement agrees
    assert ok(sm(b, "--json", "contacts", "add", succ)).json()["status"] == "unchanged"
    # given to a command that does not take it: what it is, and which command does
    res = sm(b, "--json", "consent", "show", disguised)
    assert res.exit_code == 2 and res.error_json()["error"] == "wrong_command"
    assert "is a key succession" in res.error_json()["message"]
    assert "securemsg receive" in res.error_json()["hint"]


def test_letters_kept_aside_from_the_new_key_are_received_with_the_succession(
    world: World,
) -> None:
    a, b = world.alice, world.bob
    succ = world.tmp / "succession.cose"
    ok(sm(a, "key", "rotate", "-o", succ))
    early = world.letter(a, BOB, "sent before Bob knew the new key")
    res = sm(b, "--json", "receive", early)
    assert res.exit_code == 3 and res.json()["results"][0]["kept_aside"] is True
    rows = ok(sm(b, "--json", "receive", succ)).json()["results"]
    assert by_status(rows) == ["key succession: moved", "accepted"]


def prepared_revocation(home: Path) -> Path:
    (path,) = home.glob("revocation-*.cose")
    return path


def test_revocation_by_drop_then_a_letter_after_t_refused(world: World, snapshot) -> None:
    a, b = world.alice, world.bob
    late = world.letter(a, BOB, "signed by the key after its revocation")
    time.sleep(1.1)
    doc = ok(sm(a, "--json", "key", "announce", prepared_revocation(a), "--drop",
                world.drop)).json()  # fmt: skip
    assert doc["statement"] == "key revocation" and doc["to"][0]["status"] == "sent"
    rows = world.receive_drop(b)
    assert by_status(rows) == ["key revocation: recorded"]
    assert "revoked as of" in rows[0]["detail"]
    assert contact(b, card_of(a).fingerprint)["revoked_as_of"]

    before = snapshot(b)
    res = sm(b, "--json", "receive", late)
    assert res.exit_code == 3
    (row,) = res.json()["results"]
    assert (row["status"], row["error"], row["rule"]) == ("refused", "key_revoked", "key_revoked")
    assert snapshot(b) == before
    # the same revocation again: already recorded, T not moved
    ok(sm(a, "key", "announce", prepared_revocation(a), "--drop", world.drop))
    assert by_status(world.receive_drop(b)) == ["key revocation: already recorded"]


def _unknown_succession(alice: Path) -> bytes:
    """A well-formed succession signed by a key no contact holds."""
    mallory = SecretIdentity.generate()
    card = Card.sign(mallory, card_of(alice).profile, int(time.time()))
    return Succession.sign(SecretIdentity.generate(), mallory, card, int(time.time())).encoded


def test_bad_statements_are_refused_and_the_others_still_received(world: World, snapshot) -> None:
    a, b = world.alice, world.bob
    succ = world.tmp / "succession.cose"
    ok(sm(a, "key", "rotate", "-o", succ))
    data = succ.read_bytes()
    tampered = world.tmp / "tampered.cose"
    tampered.write_bytes(flip(data, len(data) - 10))  # inside the signature
    unknown = world.tmp / "unknown.cose"
    unknown.write_bytes(_unknown_succession(a))
    own_revocation = prepared_revocation(b)
    ok(sm(b, "inbox"))
    before = snapshot(b)
    for bad, code in ((tampered, "bad_signature"), (unknown, "unknown_sender"),
                      (own_revocation, "usage")):  # fmt: skip
        res = sm(b, "--json", "receive", bad)
        assert res.exit_code == 3, (bad, res.stdout, res.stderr)
        (row,) = res.json()["results"]
        assert (row["status"], row["error"]) == ("refused", code), row
        assert row["hint"]
        assert snapshot(b) == before
    human = sm(b, "receive", tampered)
    assert human.exit_code == 3 and "refused" in human.stderr and "hint:" in human.stderr

    # a bad statement does not stop the others: the genuine one is imported after it
    res = sm(b, "--json", "receive", tampered, succ)
    assert res.exit_code == 3
    assert by_status(res.json()["results"]) == ["refused", "key succession: moved"]


def test_hostile_statement_files_in_the_drop_folder(world: World, snapshot) -> None:
    a, b = world.alice, world.bob
    ok(sm(b, "receive", "--drop", world.drop))  # Bob's folder exists
    mine = world.drop / card_of(b).fingerprint
    succ = world.tmp / "succession.cose"
    ok(sm(a, "key", "rotate", "-o", succ))
    data = succ.read_bytes()
    tampered = mine / ("1" * 32 + ".statement")
    tampered.write_bytes(flip(data, len(data) - 10))
    huge = mine / ("2" * 32 + ".statement")
    huge.write_bytes(data + b"\0" * (64 * 1024))
    link = mine / ("3" * 32 + ".statement")
    link.symlink_to(succ)
    fifo = mine / ("4" * 32 + ".statement")
    os.mkfifo(fifo)
    before = snapshot(b)
    res = sm(b, "--json", "receive", "--drop", world.drop)
    assert res.exit_code == 3
    got = {Path(r["file"]).name[:1]: (r["status"], r["error"]) for r in res.json()["results"]}
    assert got == {
        "1": ("refused", "bad_signature"),
        "2": ("refused", "too_large"),
        "3": ("refused", "not_a_file"),
        "4": ("refused", "not_a_file"),
    }
    assert snapshot(b) == before
    left = sorted(p.name for p in mine.iterdir())
    assert left == sorted(n + ".statement.refused" for n in ("1" * 32, "2" * 32, "3" * 32,
                                                               "4" * 32))  # fmt: skip
    assert succ.read_bytes() == data  # the link's target untouched
    # the genuine statement, put there by Alice, still goes through
    ok(sm(a, "key", "announce", "--drop", world.drop))
    assert by_status(world.receive_drop(b)) == ["key succession: moved"]


def test_announce_refuses_what_is_not_my_statement(world: World) -> None:
    a, b = world.alice, world.bob
    res = sm(a, "--json", "key", "announce", "--drop", world.drop)
    assert res.exit_code == 1 and res.error_json()["error"] == "not_found"
    res = sm(a, "--json", "key", "announce", prepared_revocation(b), "--drop", world.drop)
    assert res.exit_code == 2 and res.error_json()["error"] == "usage"
    res = sm(a, "--json", "key", "announce", prepared_revocation(a))
    assert res.exit_code == 2 and res.error_json()["error"] == "usage"
    res = sm(a, "--json", "key", "announce", prepared_revocation(a), "--drop", world.drop,
             "--to", "Nobody")  # fmt: skip
    assert res.exit_code == 1 and res.error_json()["error"] == "not_found"
    assert list(world.drop.iterdir()) == []


def test_announce_reports_a_contact_it_cannot_reach(world: World, tmp_path: Path) -> None:
    """Bob's folder in the drop folder is a link (someone who can write there put
    it): not followed, reported for him, exit 1; nothing written through it."""
    a, b = world.alice, world.bob
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (world.drop / card_of(b).fingerprint).symlink_to(elsewhere)
    ok(sm(a, "key", "rotate", "-o", world.tmp / "s.cose"))
    res = sm(a, "--json", "key", "announce", "--drop", world.drop)
    assert res.exit_code == 1, res.stderr
    (row,) = res.json()["to"]
    assert (row["name"], row["status"], row["error"]) == (BOB, "failed", "drop_folder")
    assert row["hint"] and "symbolic link" in res.stderr
    assert list(elsewhere.iterdir()) == []


def test_letters_after_a_rotation_carry_the_succession_until_answered(world: World) -> None:
    """No `key announce`: the letter sent by the drop folder takes the succession
    along; once Bob's receipt for a letter of the new key is back, it stops."""
    a, b = world.alice, world.bob
    old, _ = card_of(a), ok(sm(a, "key", "rotate", "-o", world.tmp / "s.cose"))
    res = sm(a, "send", world.source("first letter of the new key"), "--to", BOB, "--kind",
             "tele-expertise", "--pseudonym", "P1", "--drop", world.drop)  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert f"your key succession went with the letter to {BOB}" in res.stderr
    bobs = world.drop / card_of(b).fingerprint
    assert len(list(bobs.glob("*.statement"))) == 1
    rows = world.receive_drop(b)
    assert by_status(rows) == ["key succession: moved", "accepted"]
    assert contact(b, old.fingerprint)["state"] == "replaced"
    assert contact(b, card_of(a).fingerprint)["verified"] is True

    world.drop_letter(b, ALICE, "the answer, from Bob")
    rows = world.receive_drop(a)  # Bob's receipt for the new key's letter, and his letter
    assert sorted(by_status(rows)) == ["accepted", "receipt: delivered"]
    res = sm(a, "send", world.source("second letter"), "--to", BOB, "--kind",
             "tele-expertise", "--pseudonym", "P1", "--drop", world.drop)  # fmt: skip
    assert res.exit_code == 0 and "key succession" not in res.stderr
    assert list(bobs.glob("*.statement")) == []
    assert sorted(by_status(world.receive_drop(b))) == ["accepted", "receipt: delivered"]
