"""send and receive clean only what is in flight (issue 14): their temp files
live in ``mail/tmp``, and an envelope placed in ``mail/in`` or ``mail/sent``
before its commit is named there by a marker until the commit. So the clean-up
after a crash lists ``mail/tmp`` only, never the mailbox, and the full sweep of
the mail folders is ``log verify``'s. (Killed processes: tests/hostile/
test_crash_safety.py; the speed: benchmarks/everyday.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from letterworld import World

from securemsg.store.mailbox import PLACED

GHOST = "0123456789abcdef0123456789abcdef"  # a message id no row names


def _leave_crash_leftovers(home: Path) -> dict[str, Path]:
    """What a run killed at each point leaves: a temp file, and an envelope placed
    (with its marker) whose commit never happened, in each folder."""
    tmp = home / "mail" / "tmp"
    out = {"temp": tmp / ".recv-killed.tmp"}
    out["temp"].write_bytes(b"half an envelope")
    for folder in ("in", "sent"):
        (tmp / f"{folder}-{GHOST}{PLACED}").touch()
        placed = home / "mail" / folder / f"{GHOST}.smsg"
        placed.write_bytes(b"an envelope never committed")
        out[folder] = placed
    return out


@pytest.mark.parametrize("who", ["sender", "receiver"])
def test_the_next_send_or_receive_removes_what_a_crash_left_in_flight(
    world: World, who: str
) -> None:
    label = "gp" if who == "sender" else "card"
    home = world.home(label)
    world.ok(label, "inbox")  # the mailbox exists (mail/tmp made)
    left = _leave_crash_leftovers(home)
    stray = home / "mail" / "in" / "ffffffffffffffffffffffffffffffff.smsg"
    stray.write_bytes(b"left by an older version: not in flight, not send's to find")
    if who == "sender":
        sent = world.send("--to", "Bob")
        kept = [home / "mail" / "sent" / f"{sent['message_id']}.smsg"]
    else:
        world.send("--to", "Bob")
        code, doc = world.receive_drop("card")
        assert code == 0 and doc["results"][0]["status"] == "accepted", doc
        kept = [home / "mail" / "in" / f"{doc['results'][0]['message_id']}.smsg"]
    assert list((home / "mail" / "tmp").iterdir()) == []  # no temp, no marker left
    for path in left.values():
        assert not path.exists(), path
    assert all(p.is_file() for p in kept)  # the letter just committed is in place
    assert stray.is_file()  # outside mail/tmp: untouched by send and receive
    doc = world.ok(label, "log", "verify")
    assert doc["ok"] is True and doc["stray_files_removed"] == 1
    assert not stray.exists() and all(p.is_file() for p in kept)


def test_a_marker_of_a_committed_letter_never_removes_it(world: World) -> None:
    """A run killed after its commit, before it removed its marker: the letter stays."""
    sent = world.send("--to", "Bob")
    code, doc = world.receive_drop("card")
    assert code == 0
    mid = doc["results"][0]["message_id"]
    home = world.home("card")
    (home / "mail" / "tmp" / f"in-{mid}{PLACED}").touch()
    (home / "mail" / "tmp" / f"sent-{sent['message_id']}{PLACED}").touch()  # not even hers
    world.send("--to", "Bob")
    code, doc = world.receive_drop("card")
    assert code == 0 and doc["results"][0]["status"] == "accepted"
    assert (home / "mail" / "in" / f"{mid}.smsg").is_file()
    assert world.ok("card", "read", mid)["message_id"] == mid
    assert list((home / "mail" / "tmp").iterdir()) == []
    assert world.ok("card", "log", "verify")["stray_files_removed"] == 0


def test_a_marker_that_names_no_letter_file_removes_nothing_else(world: World) -> None:
    """A hostile or garbled marker name cannot point outside the mail folders."""
    home = world.home("card")
    world.ok("card", "inbox")
    victim = home / "config.json"
    before = victim.read_bytes()
    (home / "mail" / "tmp" / f"in-..{PLACED}").touch()
    (home / "mail" / "tmp" / f"in-../../config{PLACED}".replace("/", "_")).touch()
    world.send("--to", "Bob")
    code, _doc = world.receive_drop("card")
    assert code == 0
    assert victim.read_bytes() == before
    assert list((home / "mail" / "tmp").iterdir()) == []


def test_a_rolled_back_commit_leaves_no_envelope(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error after the envelope was placed, inside the transaction: the row is
    rolled back and the placed envelope and its marker removed at once."""
    from securemsg.store.mailbox import Mailbox

    world.send("--to", "Bob")
    home = world.home("card")
    before = world.snap("card")

    def broken(self: Mailbox, *args: object, **kw: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Mailbox, "insert_letter", broken)
    res = world.run("card", "--json", "receive", "--drop", world.drop)
    assert res.exit_code == 1 and res.error_json()["error"] == "no_space"
    assert world.snap("card") == before
    assert list((home / "mail" / "in").iterdir()) == []
    assert list((home / "mail" / "tmp").iterdir()) == []
