"""Running the real CLI in-process for the test worlds (consent and letters).

``securemsg.cli.main.main`` is the real entry point (error reporting and exit
codes included); stdout and stderr are captured; the environment is isolated
for the call and restored afterwards.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Res:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def error(self) -> Any:
        """The ``--json`` error document: exactly one JSON object on stderr."""
        lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1, self.stderr
        return json.loads(lines[0])


@contextlib.contextmanager
def cli_env(passphrase: str, extra: dict[str, str] | None = None) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(
        {
            "SECUREMSG_PASSPHRASE": passphrase,
            "SECUREMSG_KEYSTORE": "file",
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }
    )
    os.environ.pop("SECUREMSG_HOME", None)
    os.environ.update(extra or {})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_cli(
    home: Path | None, *args: str | Path, passphrase: str, env: dict[str, str] | None = None
) -> Res:
    from securemsg.cli.main import main

    argv = (["--home", str(home)] if home is not None else []) + [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    code: Any = 0
    with (
        cli_env(passphrase, env),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code
    gc.collect()  # close SQLite connections held by dropped Home objects
    return Res(int(code or 0), out.getvalue(), err.getvalue())


def db_rows(db: Path) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Every row of every table (sealed blobs included), for before/after checks."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        ]
        return [(t, sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables]
    finally:
        conn.close()
