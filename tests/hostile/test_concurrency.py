"""Item 6 of issue 5: two ``receive --drop`` processes on one mailbox and drop folder.

30 letters wait for the cardiologist; two real processes (the installed ``securemsg``)
start at once on the same home and the same drop folder. Afterwards each letter is
in the inbox exactly once (one row, one file), none is left or set aside in the
drop folder, every receipt is in the sender's folder and imports as "delivered",
the log verifies, and neither process met "database is locked".
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest
from hostile_kit import FIGURES, World, cli_command, subprocess_env

# A slow suite: `make test` runs it, `make test-fast` does not (pyproject.toml, markers).
pytestmark = pytest.mark.slow

LETTERS = 30
ROUNDS = 2


def _send_many(world: World, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        doc = world.send("--to", "Bob", "--no-patient-copy")
        ids.append(doc["message_id"])
    return ids


def _receiver(world: World, label: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *(*cli_command(), "-v", "--home", str(world.home(label))),
            *("--json", "receive", "--drop", str(world.drop)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_two_receivers_same_mailbox(world: World) -> None:
    total_dupes = 0
    all_ids: list[str] = []
    for _round in range(ROUNDS):
        ids = _send_many(world, LETTERS // ROUNDS)
        all_ids += ids
        procs = [_receiver(world, "card"), _receiver(world, "card")]
        outs = [p.communicate(timeout=120) for p in procs]
        for p, (out, err) in zip(procs, outs, strict=True):
            assert "locked" not in err, err
            assert p.returncode == 0, err[-3000:]
        import json

        statuses = [r["status"] for out, _ in outs for r in json.loads(out)["results"]]
        assert set(statuses) <= {"accepted", "duplicate"}, statuses
        total_dupes += statuses.count("duplicate")
    home = world.home("card")
    rows = _rows(home / "securemsg.db", "SELECT id, path FROM letters WHERE folder = 'in'")
    assert sorted(r[0] for r in rows) == sorted(all_ids)  # each exactly once
    files = sorted(p.name for p in (home / "mail" / "in").iterdir())
    assert files == sorted(f"{i}.smsg" for i in all_ids), files
    assert not list((world.drop / world.fp("card")).iterdir())  # nothing left, nothing refused
    receipts = sorted((world.drop / world.fp("gp")).glob("*.receipt"))
    assert len(receipts) == len(all_ids)
    assert _rows(home / "securemsg.db", "PRAGMA integrity_check") == [("ok",)]
    assert world.ok("card", "log", "verify")["ok"] is True
    # the sender imports every receipt: no receipt is lost or unverifiable
    code, doc = world.receive_drop("gp")
    assert code == 0, doc
    assert [r["status"] for r in doc["results"]] == ["receipt: delivered"] * len(all_ids)
    sent = world.ok("gp", "sent")["letters"]
    assert len(sent) == len(all_ids)
    FIGURES["concurrency: letters received by two processes at once"] = len(all_ids)
    FIGURES["concurrency: letters both processes verified (stored once, same receipt)"] = (
        total_dupes
    )
