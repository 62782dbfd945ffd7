"""Root fixtures: isolated environment, real CLI runs, temp homes, cards.

``run`` is ``clirun.run_cli``: ``securemsg.cli.main.main(argv)`` in-process (no
interpreter start-up per call, and monkeypatching core functions reaches the
CLI), or the installed executable with ``executable=True``. Every test gets a
clean environment: no SECUREMSG_* variable from the developer's shell, HOME and
XDG folders inside tmp_path, file key store, a passphrase, NO_COLOR.
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

from clirun import Result, light_key_file, run_cli

# Tests leave nothing outside temp dirs: no example database, and hypothesis's
# other caches in a temp dir removed at exit, not in the checkout.
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="securemsg-hypothesis-")
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, True)
set_hypothesis_home_dir(_HYPOTHESIS_HOME)
settings.register_profile("securemsg", database=None)
settings.load_profile("securemsg")

PASSPHRASE = "correct horse battery staple"

_CLEARED = (
    "SECUREMSG_HOME",
    "SECUREMSG_PASSPHRASE",
    "SECUREMSG_KEYSTORE",
    "PYTHON_KEYRING_BACKEND",
    "FORCE_COLOR",
    "COLUMNS",
    "SECUREMSG_TZ",
    "LC_ALL",
    "LC_MESSAGES",
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in _CLEARED:
        monkeypatch.delenv(var, raising=False)
    fake_home = tmp_path / "userhome"
    fake_home.mkdir()
    monkeypatch.setenv("HOME", str(fake_home))
    monkeypatch.setenv("XDG_DATA_HOME", str(fake_home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(fake_home / "config"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")
    # Times shown to people are in the local zone: the tests' is UTC, whatever the
    # developer's (tests/cli/test_local_time.py sets Europe/Paris on the executable).
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("LANG", "C.UTF-8")
    time.tzset()
    monkeypatch.setenv("SECUREMSG_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("SECUREMSG_KEYSTORE", "file")


RunFn = Callable[..., Result]


@pytest.fixture
def run() -> RunFn:
    """``run(home, *args, input=None, env=None, executable=False) -> Result``: the CLI,
    in-process unless ``executable`` (clirun.run_cli, the one runner of the tests).

    ``home`` (a Path or None) becomes ``--home HOME``; global options such as
    ``--json`` go in ``args`` before the command. ``env`` maps variables to set
    (a value of None removes the variable) for this one call.
    """
    return run_cli


def profile_args(**profile: str) -> list[str]:
    out: list[str] = []
    for key, value in profile.items():
        out += [f"--{key.replace('_', '-')}", value]
    return out


@pytest.fixture
def make_home(tmp_path: Path, run: RunFn) -> Callable[..., Path]:
    """``make_home(name, role, **profile) -> Path``: ``securemsg init`` through the CLI
    (the key file then re-sealed with light Argon2id parameters: clirun.light_key_file)."""
    counter = iter(range(1000))

    def _make(name: str, role: str, **profile: str) -> Path:
        home = tmp_path / f"home{next(counter)}"
        res = run(home, "init", "--name", name, "--role", role, *profile_args(**profile))
        assert res.exit_code == 0, res.stderr
        light_key_file(home, PASSPHRASE)  # the tests' commands unlock it, often
        return home

    return _make


@dataclass(frozen=True)
class MadeCard:
    card: Any  # securemsg.core.card.Card
    secret: Any  # securemsg.core.identity.SecretIdentity
    path: Path


@pytest.fixture
def make_card(tmp_path: Path) -> Callable[..., MadeCard]:
    """``make_card(name, role, now=None, secret=None, validity_days=..., test_key=False,
    binary=False, **profile)``: a card built with core (no home, no Argon2), written
    to a file in its text form (or binary)."""
    from securemsg.core.card import Card
    from securemsg.core.identity import Profile, Role, SecretIdentity

    counter = iter(range(10_000))

    def _make(
        name: str,
        role: str,
        *,
        now: int | None = None,
        secret: Any = None,
        validity_days: int = 365,
        test_key: bool = False,
        binary: bool = False,
        **profile: str,
    ) -> MadeCard:
        secret = secret or SecretIdentity.generate()
        prof = Profile(name=name, role=Role.parse(role), **profile)
        when = int(time.time()) if now is None else now
        card = Card.sign(secret, prof, when, validity_days=validity_days, test_key=test_key)
        path = tmp_path / f"card{next(counter)}.{'bin' if binary else 'txt'}"
        path.write_bytes(card.encoded if binary else card.to_text().encode())
        return MadeCard(card, secret, path)

    return _make


def _db_rows(db: Path) -> list[tuple[str, list[tuple[Any, ...]]]]:
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        ]
        return [(t, sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables]
    finally:
        conn.close()


def snapshot_home(home: Path) -> dict[str, Any]:
    """Every DB row, plus every other file's path, mode and digest.

    SQLite's own files (-wal, -shm, the DB page image) are compared through
    their rows, since a checkpoint may rewrite pages without changing data.
    """
    gc.collect()
    files: dict[str, tuple[int, str]] = {}
    for path in sorted(home.rglob("*")):
        rel = path.relative_to(home).as_posix()
        mode = path.stat().st_mode & 0o7777
        if path.is_dir():
            files[rel + "/"] = (mode, "")
        elif not rel.startswith("securemsg.db"):
            files[rel] = (mode, hashlib.sha256(path.read_bytes()).hexdigest())
    return {"files": files, "db": _db_rows(home / "securemsg.db")}


@pytest.fixture
def snapshot() -> Callable[[Path], dict[str, Any]]:
    return snapshot_home


def pytest_collection_finish(session: pytest.Session) -> None:
    # The CLI runner calls gc.collect() after each command (SQLite connections held
    # by dropped Home objects); freezing what import and collection made keeps each
    # of those collections short.
    gc.freeze()
