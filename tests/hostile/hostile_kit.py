"""Shared machinery of the hostile suite: the world, store watches, tallies.

The world is the letters tests' world (tests/letters/letterworld.py: five homes
with PUBLIC TEST KEYS, a consent, a letter and a 300 kB scan). Here it is
extended once per session with a real referral sent through the CLI, so the
suite has real artefacts to mutate: envelopes, a consent, cards, a receipt.

Every figure the suite produces is collected in :data:`TALLIES` and printed at
the end of the run (conftest.py, ``pytest_terminal_summary``); when
``SECUREMSG_HOSTILE_STATS`` names a file, the figures are also written there
as JSON (that is how docs/security-testing.md got its numbers).
"""

from __future__ import annotations

import gc
import os
import sqlite3
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "letters"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from letterworld import PASSPHRASE, World, run_cli

from clirun import child_env, cli_command, world_env
from securemsg.errors import SecureMsgError
from securemsg.store.home import Home

ENV = {"SECUREMSG_PASSPHRASE": PASSPHRASE, "SECUREMSG_KEYSTORE": "file"}
FULL = os.environ.get("SECUREMSG_SWEEP_FULL") == "1"


def open_home(path: Path) -> Home:
    return Home(path, dict(ENV))


def subprocess_env() -> dict[str, str]:
    """Environment for child processes on the world's homes (clirun.child_env): the
    source tree, the world's passphrase, a file key store."""
    return child_env(world_env(PASSPHRASE))


# -- watching a store -------------------------------------------------------------------
def _listing(root: Path) -> list[tuple[str, int]]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if rel.startswith("securemsg.db"):
                continue  # compared through its rows
            out.append((rel, p.stat().st_size))
    return out


def table_counts(conn: sqlite3.Connection) -> list[tuple[str, int]]:
    names = [
        r[0]
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
    ]
    return [(n, conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names]


@dataclass
class StoreWatch:
    """Cheap proof that nothing was written: the connection's change counter,
    the row count of every table, the data_version seen by a second connection,
    and the name and size of every file of the home."""

    home: Home
    _other: sqlite3.Connection = field(init=False)

    def __post_init__(self) -> None:
        self._other = sqlite3.connect(f"file:{self.home.db_path}?mode=ro", uri=True)

    def state(self) -> tuple[Any, ...]:
        conn = self.home.database()
        return (
            conn.total_changes,
            self._other.execute("PRAGMA data_version").fetchone()[0],
            tuple(table_counts(conn)),
            tuple(_listing(self.home.path)),
        )

    def close(self) -> None:
        self._other.close()


# -- tallies ----------------------------------------------------------------------------
@dataclass
class Tally:
    name: str
    tried: int = 0
    refused: int = 0
    accepted: list[str] = field(default_factory=list)
    crashed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"{self.name}: {self.tried} mutations, {self.refused} refused, "
            f"{len(self.accepted)} accepted, {len(self.crashed)} crashed, "
            f"{len(self.changed)} changed the store ({self.seconds:.1f} s)"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "tried": self.tried,
            "refused": self.refused,
            "accepted": len(self.accepted),
            "crashed": len(self.crashed),
            "changed_store": len(self.changed),
            "seconds": round(self.seconds, 1),
        }


TALLIES: dict[str, Tally] = {}
FIGURES: dict[str, Any] = {}  # other measured figures (crash points, fuzz examples, ...)


def sweep(
    name: str,
    mutations: Iterable[tuple[str, bytes]],
    attempt: Callable[[bytes], object],
    watches: Iterable[StoreWatch] = (),
    original: bytes | None = None,
) -> Tally:
    """Feed every mutation to ``attempt``; it must raise a SecureMsgError and
    leave every watched store as it was."""
    watches = list(watches)
    tally = Tally(name)
    before = [w.state() for w in watches]
    start = time.perf_counter()
    seen: set[bytes] = set()
    for desc, data in mutations:
        if data == original or data in seen:
            continue  # a mutation that gives back the original (or a repeat) is no mutation
        seen.add(data)
        tally.tried += 1
        try:
            attempt(data)
        except SecureMsgError:
            tally.refused += 1
        except Exception:
            tally.crashed.append(f"{desc}: {traceback.format_exc(limit=-3)}")
        else:
            tally.accepted.append(desc)
        if watches:
            after = [w.state() for w in watches]
            if after != before:
                tally.changed.append(desc)
                before = after
    tally.seconds = time.perf_counter() - start
    TALLIES[name] = tally
    gc.collect()
    return tally


__all__ = [
    "FIGURES",
    "FULL",
    "TALLIES",
    "StoreWatch",
    "Tally",
    "World",
    "cli_command",
    "run_cli",
    "sweep",
]
