"""Item 5 of issue 5: SIGKILL in the middle of ``receive --drop`` and ``send``.

No hook in the code: real processes (the installed ``securemsg`` executable) are
killed after seeded random delays spread over their run, then restarted. After every kill:
no letter is lost (each is in the inbox or still in the drop folder). At the
end: each letter is in the inbox exactly once (one row, one file), the drop
folder is empty, ``PRAGMA integrity_check`` is ok, ``log verify`` passes, no
orphan envelope and no temp file is left in mail/ (the next run cleans them).
For ``send``: no output in the drop folder without its double (row and file).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from hostile_kit import FIGURES, World, cli_command, subprocess_env

# A slow suite: `make test` runs it, `make test-fast` does not (pyproject.toml, markers).
pytestmark = pytest.mark.slow

LETTERS = 20
KILLS = 16
ROUNDS = 3


def _cmd(world: World, label: str, *args: str | Path) -> list[str]:
    return [*cli_command(), "--home", str(world.home(label)), "--json"] + [str(a) for a in args]


def _kill_after(cmd: list[str], delay: float) -> bool:
    """Run ``cmd``, SIGKILL it after ``delay`` s; True if it was killed (still running)."""
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=subprocess_env()
    )
    try:
        proc.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return True


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _measure(world: World, label: str, *args: str | Path) -> float:
    """Seconds one whole run takes, on a throw-away copy of the world."""
    copy = world.root.parent / "timing"
    shutil.copytree(world.root, copy)
    try:
        argv = [
            str(a).replace(str(world.root), str(copy)).replace("{drop}", str(copy / "drop"))
            for a in args
        ]
        cmd = [*cli_command(), "--home", str(copy / label), "--json", *argv]
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=subprocess_env(), check=True, timeout=120)
        return time.perf_counter() - t
    finally:
        shutil.rmtree(copy)


def test_receive_killed_at_many_points(world: World) -> None:
    att = world.write("att.bin", random.Random(3).randbytes(768 << 10))
    home, mine = world.home("card"), world.drop / world.fp("card")
    cmd = _cmd(world, "card", "receive", "--drop", world.drop)
    rng = random.Random(1955)
    killed, delays, progress, ids = 0, [], [], []
    for _round in range(ROUNDS):
        batch = [
            world.send("--to", "Bob", "--no-patient-copy", "--attach", f"{att}:medical")[
                "message_id"
            ]
            for _ in range(LETTERS)
        ]
        ids += batch
        span = _measure(world, "card", "receive", "--drop", "{drop}")
        startup = _measure(world, "nurse", "receive", "--drop", "{drop}")  # nothing for her
        work = max(span - startup, 0.05)
        for _ in range(KILLS):
            if not list(mine.glob("*.smsg")):
                break
            delay = startup + rng.uniform(0.0, work / 3)  # a third of the batch at most
            if _kill_after(cmd, delay):
                killed += 1
                delays.append(round(delay, 2))
            stored = {r[0] for r in _rows(home / "securemsg.db", "SELECT id FROM letters")}
            progress.append(len(stored))
            left = {p.stem for p in mine.glob("*.smsg")}
            assert set(ids) <= stored | left, "a letter was lost"
            assert not list(mine.glob("*.refused")), "a letter was refused after a crash"
        # the final run completes
        res = subprocess.run(cmd, capture_output=True, text=True, env=subprocess_env(), timeout=120)
        assert res.returncode == 0, res.stderr
        rows = _rows(home / "securemsg.db", "SELECT id FROM letters WHERE folder = 'in'")
        assert sorted(r[0] for r in rows) == sorted(ids)
        assert not list(mine.iterdir())
        in_files = sorted(p.name for p in (home / "mail" / "in").iterdir())
        assert in_files == sorted(f"{i}.smsg" for i in ids), in_files  # no orphan, no temp
        assert _rows(home / "securemsg.db", "PRAGMA integrity_check") == [("ok",)]
        assert world.ok("card", "log", "verify")["ok"] is True
    receipts = list((world.drop / world.fp("gp")).glob("*.receipt"))
    assert len(receipts) == len(ids)
    code, doc = world.receive_drop("gp")
    assert code == 0 and len(doc["results"]) == len(ids), doc
    FIGURES["crash safety: receive runs killed (SIGKILL) before they finished"] = (
        f"{killed} over {len(ids)} letters (delays {delays} s; "
        f"letters stored after each run: {progress})"
    )
    assert killed >= 6


def test_send_killed_at_many_points(world: World) -> None:
    big = world.write("big.pdf", random.Random(7).randbytes(6 << 20))
    cmd = _cmd(
        world,
        "gp",
        "send",
        world.path("letter.md"),
        "--to",
        "Bob",
        "--to",
        "Claire",
        "--kind",
        "referral",
        "--patient",
        "Jeanne",
        "--consent",
        world.path("consent.cose"),
        "--attach",
        f"{big}:medical",
        "--drop",
        world.drop,
    )
    home = world.home("gp")
    span = _measure(world, "gp", *cmd[cmd.index("send") :])
    rng = random.Random(2002)
    killed, completed, delays = 0, 0, []
    for _ in range(KILLS):
        delay = rng.uniform(0.3 * span, 1.0 * span)
        if _kill_after(cmd, delay):
            killed += 1
            delays.append(round(delay, 2))
        else:
            completed += 1
        sent = {
            r[0] for r in _rows(home / "securemsg.db", "SELECT id FROM letters WHERE folder='sent'")
        }
        outputs = {p.stem for p in world.drop.rglob("*.smsg")}
        assert outputs <= sent, f"output without its double: {outputs - sent}"
        for mid in sent:  # every double row has its file
            assert (home / "mail" / "sent" / f"{mid}.smsg").is_file()
    # one more complete run; then the mailbox is clean
    res = subprocess.run(cmd, capture_output=True, text=True, env=subprocess_env(), timeout=120)
    assert res.returncode == 0, res.stderr
    assert world.ok("gp", "log", "verify")["ok"] is True
    sent = {
        r[0] for r in _rows(home / "securemsg.db", "SELECT id FROM letters WHERE folder='sent'")
    }
    files = {p.name for p in (home / "mail" / "sent").iterdir()}
    assert files == {f"{m}.smsg" for m in sent}, files  # no orphan, no temp file
    assert _rows(home / "securemsg.db", "PRAGMA integrity_check") == [("ok",)]
    # the recipients accept every letter that reached the drop folder
    for label in ("card", "nurse"):
        code, doc = world.receive_drop(label)
        assert code == 0, doc
    FIGURES["crash safety: send runs killed (SIGKILL) before they finished"] = (
        f"{killed} of {killed + completed} (delays {delays} s)"
    )
    assert killed >= 3
