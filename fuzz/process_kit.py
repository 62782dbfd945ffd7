"""Hostile input through the real ``securemsg`` executable, one child process per batch.

Shared by the subprocess fuzzer (``fuzz/subprocess_fuzz.py``) and the hostile
suite's executable sweep (``tests/hostile/test_mutation_sweep_process.py``).

A :class:`Victim` is a home and the way hostile bytes reach it:

- ``letter`` and ``proof`` inputs go where an attacker puts them, in the home's own
  folder of a drop folder (``DROP/<fp>/``), many at once; one
  ``securemsg --json receive --drop DROP`` takes the whole batch;
- ``card`` and ``consent`` inputs are files given to ``contacts add FILE`` and
  ``consent import FILE``, which take one file each: one process per input.

Every input must be refused, cleanly: the process must not die by a signal, must
not print ``internal error``, must report each input of a batch as refused (JSON
row), and the victim's home must be as before (every database row and every other
file). A process that dies takes the rest of its batch down with it; the files
still under their names in the drop folder are those it did not finish, so the
first of them (the drop folder is read in name order) is the suspect: it is run
alone to confirm, and the rest of the batch goes to a new process, as a user would
run ``receive`` again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_DEATHS = 5  # per batch: past that, the rest of the batch is counted as not run


def executable() -> list[str]:
    """The installed ``securemsg`` next to this interpreter, else ``python -m securemsg``."""
    exe = shutil.which("securemsg", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "securemsg"]


def home_state(home: Path) -> tuple[Any, ...]:
    """Every row of every table and (name, sha256) of every other file of ``home``.
    SQLite's own files are compared through their rows (a checkpoint may rewrite
    pages without changing data)."""
    files = []
    for path in sorted(home.rglob("*")):
        rel = path.relative_to(home).as_posix()
        if path.is_file() and not rel.startswith("securemsg.db"):
            files.append((rel, hashlib.sha256(path.read_bytes()).hexdigest()))
    rows: list[Any] = []
    db = home / "securemsg.db"
    if db.exists():
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            for (table,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"
            ).fetchall():
                query = f'SELECT * FROM "{table}"'  # noqa: S608 (a name from sqlite_master)
                rows.append((table, sorted(conn.execute(query).fetchall())))
        finally:
            conn.close()
    return tuple(files), tuple(rows)


@dataclass(frozen=True)
class Victim:
    """A home fed hostile input. ``env`` is the child's whole environment (key store,
    passphrase). ``drop`` and ``fp``: the drop folder and the home's fingerprint,
    for ``letter`` and ``proof`` inputs."""

    home: Path
    env: dict[str, str]
    drop: Path | None = None
    fp: str = ""

    @property
    def folder(self) -> Path:
        assert self.drop is not None, "this victim has no drop folder"
        return self.drop / self.fp

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*executable(), "--home", str(self.home), "--json", *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,  # no controlling terminal: never a prompt
            check=False,
        )


@dataclass
class Counts:
    """What happened to the inputs of one kind."""

    name: str
    tried: int = 0
    refused: int = 0
    processes: int = 0
    seconds: float = 0.0
    valid: int = 0  # accepted where that is allowed (signed again by a valid key)
    crashed: list[str] = field(default_factory=list)  # signal or "internal error"
    accepted: list[str] = field(default_factory=list)  # accepted where it must be refused
    unreported: list[str] = field(default_factory=list)  # no row, or a run that failed
    changed: list[str] = field(default_factory=list)  # the home changed on a refusal

    @property
    def ok(self) -> bool:
        return not (self.crashed or self.accepted or self.unreported or self.changed)

    def line(self) -> str:
        valid = f"{self.valid} accepted as valid, " if self.valid else ""
        return (
            f"{self.name}: {self.tried} inputs, {self.refused} refused, {valid}"
            f"{len(self.accepted)} accepted, {len(self.crashed)} crashed, "
            f"{len(self.unreported)} not reported, {len(self.changed)} changed the home "
            f"({self.processes} processes, {self.seconds:.1f} s)"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "tried": self.tried,
            "refused": self.refused,
            "valid": self.valid,
            "accepted": len(self.accepted),
            "crashed": len(self.crashed),
            "unreported": len(self.unreported),
            "changed_home": len(self.changed),
            "processes": self.processes,
            "seconds": round(self.seconds, 1),
        }

    def add(self, other: Counts) -> None:
        self.tried += other.tried
        self.refused += other.refused
        self.valid += other.valid
        self.processes += other.processes
        self.seconds += other.seconds
        for name in ("crashed", "accepted", "unreported", "changed"):
            getattr(self, name).extend(getattr(other, name))


def died(proc: subprocess.CompletedProcess[str]) -> str | None:
    """Why this run counts as a crash, or None."""
    rc = proc.returncode
    if rc < 0:
        return f"killed by {signal.Signals(-rc).name}"
    if rc > 128 and rc - 128 in {s.value for s in signal.Signals}:
        return f"exit {rc} (signal {signal.Signals(rc - 128).name} through a shell)"
    if "internal error" in proc.stderr or "Traceback (most recent call last)" in proc.stderr:
        return f"internal error (exit {rc}): {proc.stderr.strip()[-300:]}"
    return None


def _rows(proc: subprocess.CompletedProcess[str]) -> dict[str, str] | None:
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        return None
    return {Path(r["file"]).name: r["status"] for r in doc["results"]}


def _clear(drop: Path) -> None:
    """Empty every sub-folder of the drop folder (inputs left, refused ones set aside,
    refusal notices sent back), keeping the sub-folders."""
    for sub in drop.iterdir():
        if sub.is_dir():
            for p in sub.iterdir():
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p)
                else:
                    p.unlink()


def warm_up(victim: Victim) -> None:
    """One empty ``receive --drop``: the home's drop folder exists and the home holds
    what any run leaves (lock file), so a batch is compared with a settled state."""
    assert victim.drop is not None
    proc = victim.run("receive", "--drop", str(victim.drop))
    if proc.returncode != 0 or died(proc):
        raise RuntimeError(f"receive --drop fails on an empty drop folder: {proc.stderr}")


def drop_batch(
    victim: Victim,
    counts: Counts,
    items: Sequence[tuple[str, bytes]],
    name: str = "{i:032x}.smsg",
    may_accept: bool = False,
) -> None:
    """Put ``items`` (description, bytes) in the victim's drop folder under
    ``name.format(i=...)``, in order, and run ``receive --drop`` until each one has
    been reported or found to crash (see the module's docstring). ``may_accept``:
    the inputs were signed again by a valid key, so accepting one (and changing the
    home) is no failure; refusing, crashing and not reporting are as ever."""
    assert victim.drop is not None
    _clear(victim.drop)
    desc = {}
    for i, (what, data) in enumerate(items):
        fname = name.format(i=i)
        (victim.folder / fname).write_bytes(data)
        desc[fname] = what
    counts.tried += len(desc)
    pending = list(desc)
    deaths = 0
    while pending:
        before = home_state(victim.home)
        start = time.perf_counter()
        proc = victim.run("receive", "--drop", str(victim.drop))
        counts.seconds += time.perf_counter() - start
        counts.processes += 1
        changed = home_state(victim.home) != before
        if changed and not may_accept:
            counts.changed.append(f"the batch from {desc[pending[0]]}")
        why, rows = died(proc), _rows(proc)
        if why is None:
            for f in pending:
                status = None if rows is None else rows.get(f)
                if status == "refused":
                    counts.refused += 1
                elif status is None:
                    counts.unreported.append(f"{desc[f]}: not in the report: {proc.stderr[-300:]}")
                elif may_accept:
                    counts.valid += 1
                else:
                    counts.accepted.append(f"{desc[f]}: {status}")
            break
        left = [f for f in pending if (victim.folder / f).exists()]
        done = [f for f in pending if f not in left]  # taken before the death
        if not changed:  # and nothing stored: refused
            counts.refused += len(done)
        else:
            counts.unreported.extend(f"{desc[f]}: the process died after it" for f in done)
        if not left:
            counts.crashed.append(f"the batch from {desc[pending[0]]}: {why}, after its last input")
            break
        counts.crashed.append(f"{desc[left[0]]}: {why} (the first input left in the folder)")
        (victim.folder / left[0]).unlink()
        pending = left[1:]
        deaths += 1
        if deaths >= MAX_DEATHS:
            counts.unreported.extend(f"{desc[f]}: not run (too many crashes)" for f in pending)
            break
    _clear(victim.drop)


def _error_doc(stderr: str) -> dict[str, Any]:
    """The ``--json`` error document (the last line on stderr), or {}."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    try:
        doc = json.loads(lines[-1]) if lines else None
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def one_file(
    victim: Victim,
    counts: Counts,
    args: Sequence[str],
    desc: str,
    data: bytes,
    path: Path,
    may_accept: bool = False,
) -> None:
    """``securemsg --json ARGS PATH`` with ``data`` in ``path``: one input, one process;
    a refusal is a non-zero exit with a JSON error, no crash, the home unchanged.
    ``may_accept`` as for :func:`drop_batch`."""
    path.write_bytes(data)
    counts.tried += 1
    before = home_state(victim.home)
    start = time.perf_counter()
    proc = victim.run(*args, str(path))
    counts.seconds += time.perf_counter() - start
    counts.processes += 1
    path.unlink()
    if home_state(victim.home) != before and not (may_accept and proc.returncode == 0):
        counts.changed.append(desc)
    why = died(proc)
    if why is not None:
        counts.crashed.append(f"{desc}: {why}")
    elif proc.returncode == 0 and may_accept:
        counts.valid += 1
    elif proc.returncode == 0:
        counts.accepted.append(desc)
    elif _error_doc(proc.stderr).get("schema") == "securemsg.error/1":
        counts.refused += 1
    else:
        counts.unreported.append(f"{desc}: exit {proc.returncode}: {proc.stderr[-300:]}")
