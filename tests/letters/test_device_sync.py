"""Two devices of one practitioner kept in step without mail (issue 16;
app/devicesync.py, docs/format-backup.md §8), through the installed executable:
the GP's first computer ("gp") exchanges with the cardiologist through the drop
folder, then hands the second ("gp2") a device sync file: the reply is received
there, the double filed under `sent`, the receipt settles it; importing again,
or the second computer's own file coming back, changes nothing; a file for
another identity, a damaged one, or one carrying a double signed by another
key is refused with every store unchanged."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from letterworld import PASSPHRASE, World, snapshot

from clirun import run_cli, world_env
from ontty import add_device
from securemsg.core.letter.doubles import DoubleRecord
from securemsg.store.devicesync import SyncManifest, write_sync

pytestmark = pytest.mark.slow


def exe(home: Path, *args: str | Path, **env: str) -> Any:
    return run_cli(home, *args, env={**world_env(PASSPHRASE), **env}, executable=True)


def ok(home: Path, *args: str | Path) -> Any:
    res = exe(home, "--json", *args)
    assert res.exit_code == 0, (args, res.stdout, res.stderr)
    return res.json()


def _join(world: World) -> Path:
    dev = world.path("gp-device.age")
    code, _ = add_device(world.home("gp"), dev, world_env(PASSPHRASE))
    home2 = world.root / "gp2"
    assert exe(home2, "device", "join", dev, SECUREMSG_DEVICE_CODE=code).exit_code == 0
    return home2


def _statuses(doc: Any) -> list[tuple[str, str | None]]:
    return sorted((r["status"], r.get("message_id")) for r in doc["results"])


def _exchange(world: World) -> tuple[str, str]:
    """The GP (first computer) writes to Bob by the drop folder, gets his receipt
    and his reply."""
    mid = world.send("--to", "Bob")["message_id"]
    assert world.receive_drop("card")[0] == 0
    assert world.receive_drop("gp")[0] == 0
    world.run("pat", "consent", "grant", "--yes", "--from", "Bob", "--to", "Alice",
              "--purpose", "reply", "-o", world.path("reply-consent.cose"))  # fmt: skip
    world.path("reply.md").write_text("---\nsubject: Re referral\n---\nStress test normal.\n")
    rid = world.ok("card", "send", world.path("reply.md"), "--to", "Alice", "--kind", "reply",
                   "--patient", "Jeanne", "--consent", world.path("reply-consent.cose"),
                   "--reply-to", mid[:10], "--phone-call", "2026-01-15T10:30+01:00",
                   "--drop", world.drop)["message_id"]  # fmt: skip
    assert world.receive_drop("gp")[0] == 0
    return mid, rid


def test_a_sync_file_brings_letters_doubles_and_receipts(world: World) -> None:
    gp, gp2 = world.home("gp"), _join(world)
    mid, rid = _exchange(world)
    # a sync file carries what was stored at or after the second of the previous one:
    # the first in a later second than what it carries, so the third can leave it out
    time.sleep(1.05 - time.time() % 1)
    out = ok(gp, "device", "sync", "-o", world.path("sync1.age"))
    assert (out["letters"], out["doubles"], out["proofs"], out["since"]) == (1, 1, 1, None)
    assert world.path("sync1.age").stat().st_mode & 0o777 == 0o600
    got = ok(gp2, "device", "sync", world.path("sync1.age"))
    assert _statuses(got) == [
        ("accepted", rid),
        ("double: recorded", mid),
        ("receipt: delivered", mid),
    ]
    assert world.inbox_ids("gp2") == [rid]
    assert "Stress test normal." in str(ok(gp2, "read", rid))
    (letter,) = ok(gp2, "sent")["letters"]
    (first,) = ok(gp, "sent")["letters"]
    same = [
        [{k: v for k, v in d.items() if k != "at"} for d in x["deliveries"]]
        for x in (letter, first)
    ]
    assert same[0] == same[1]
    assert {d["recipient"]: d["status"] for d in letter["deliveries"]} == {
        "Dr Bob Durand": "delivered",
        "Jeanne Dupont": "sent",
    }
    assert ok(gp2, "log", "verify")["ok"] is True
    # importing again changes nothing
    before = snapshot(gp2)
    again = ok(gp2, "device", "sync", world.path("sync1.age"))
    assert _statuses(again) == [
        ("double: already recorded", mid),
        ("duplicate", rid),
        ("receipt: already recorded", mid),
    ]
    assert snapshot(gp2) == before
    # the second computer sends; its file (everything it holds) goes back to the first
    new = world.send("--to", "Bob", sender="gp2")["message_id"]
    back = ok(gp2, "device", "sync", "-o", world.path("sync2.age"))
    assert (back["letters"], back["doubles"], back["proofs"]) == (1, 2, 1)
    got = ok(gp, "device", "sync", world.path("sync2.age"))
    assert _statuses(got) == sorted([
        ("duplicate", rid),
        ("double: already recorded", mid),
        ("double: recorded", new),
        ("receipt: already recorded", mid),
    ])  # fmt: skip
    assert sorted(r["message_id"] for r in ok(gp, "sent")["letters"]) == sorted([mid, new])
    assert ok(gp, "log", "verify")["ok"] is True
    # a second file from the first computer carries only what came since its first
    third = ok(gp, "device", "sync", "-o", world.path("sync3.age"))
    assert (third["letters"], third["doubles"]) == (0, 1) and third["since"] is not None


def test_foreign_damaged_or_forged_sync_files_are_refused(world: World) -> None:
    gp, gp2 = world.home("gp"), _join(world)
    mid, _rid = _exchange(world)
    ok(gp, "device", "sync", "-o", world.path("mine.age"))
    ok(world.home("card"), "device", "sync", "-o", world.path("bobs.age"))
    damaged = bytearray(world.path("mine.age").read_bytes())
    damaged[len(damaged) // 2] ^= 1
    world.path("damaged.age").write_bytes(bytes(damaged))
    # Bob's key signs a record for the GP's double, in a file encrypted to the GP
    double = (gp / "mail" / "sent" / f"{mid}.smsg").read_bytes()
    to_bob = [(world.fp("card"), bytes(32))]
    forged = DoubleRecord.sign(world.secret("card"), bytes.fromhex(mid), _digest(double), to_bob, 1)
    entries: list[tuple[str, Path | bytes]] = [
        (f"sent/{mid}.double", forged.encoded),
        (f"sent/{mid}.smsg", double),
    ]
    manifest = SyncManifest(1, world.fp("gp"), 0, 2)
    write_sync(world.path("forged.age"), world.card("gp").enc_public, manifest, entries, 1)
    before = snapshot(gp2)
    for name, code in (("bobs.age", "device_sync_invalid"), ("damaged.age", "device_sync_invalid")):
        res = exe(gp2, "--json", "device", "sync", world.path(name))
        assert (res.exit_code, res.error_json()["error"]) == (3, code), res.stderr
        assert snapshot(gp2) == before
    res = exe(gp2, "--json", "device", "sync", world.path("forged.age"))
    assert res.exit_code == 3, res.stderr
    (row,) = res.json()["results"]
    assert (row["status"], row["error"]) == ("refused", "foreign_double")
    assert snapshot(gp2) == before
    # -o and FILE together, or neither: a usage error
    assert exe(gp2, "device", "sync").exit_code == 2
    assert (
        exe(gp2, "device", "sync", world.path("mine.age"), "-o", world.path("x.age")).exit_code == 2
    )


def _digest(data: bytes) -> bytes:
    from securemsg.core.letter.proofs import EnvelopeHasher

    h = EnvelopeHasher()
    h.update(data)
    return h.digest()
