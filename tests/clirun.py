"""The one way the tests run the real CLI: :func:`run_cli`.

In-process by default: ``securemsg.cli.main.main(argv)``, the real entry point
(error reporting and exit codes included), with stdin, stdout and stderr
replaced by byte buffers and the environment changed for the call only (then
restored). No interpreter start-up per call, and monkeypatching core functions
reaches the CLI. Usable outside a test too (session fixtures build their worlds
with it).

``executable=True`` runs the installed ``securemsg`` executable (the console
script next to this interpreter) as a child process instead: a new session (no
controlling terminal, so never a prompt on the developer's terminal), the same
environment rules, the same :class:`Result`. Processes that are killed or run
side by side use :func:`cli_command` and :func:`child_env` with ``subprocess``
directly.
"""

from __future__ import annotations

import gc
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[1] / "src"

Env = Mapping[str, str | None]
"""Variables to set for one call; a value of None removes the variable."""


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def error_json(self) -> Any:
        """The ``--json`` error document: exactly one JSON object on stderr."""
        lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1, self.stderr
        return json.loads(lines[0])


def world_env(passphrase: str) -> dict[str, str | None]:
    """The environment of the test worlds' homes: a file key store under
    ``passphrase``, no SECUREMSG_HOME, no colour, wide lines."""
    return {
        "SECUREMSG_PASSPHRASE": passphrase,
        "SECUREMSG_KEYSTORE": "file",
        "SECUREMSG_HOME": None,
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }


def cli_command() -> list[str]:
    """The installed ``securemsg`` executable, next to this interpreter (``make venv``
    installs it); ``python -m securemsg`` where there is none."""
    exe = shutil.which("securemsg", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "securemsg"]


def child_env(env: Env | None = None) -> dict[str, str]:
    """This process's environment with ``env`` applied, for a child process; the
    checkout's ``src`` first on PYTHONPATH (the code under test, installed or not)."""
    out = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    out["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), out.get("PYTHONPATH", "")]))
    return out


def run_cli(
    home: Path | None,
    *args: str | Path,
    env: Env | None = None,
    input: bytes | str | None = None,
    executable: bool = False,
    timeout: float = 120,
    as_user: str | None = None,
) -> Result:
    """``securemsg [--home HOME] ARGS`` with ``env`` applied and ``input`` on stdin.

    Global options such as ``--json`` go in ``args`` before the command.
    ``as_user`` (root only, with ``executable``): the child runs as that Unix
    account, with its primary group and the supplementary groups the group
    database gives it (as ``runuser``/``initgroups`` would), in its home folder."""
    argv = [*(["--home", str(home)] if home is not None else []), *map(str, args)]
    raw_in = input.encode() if isinstance(input, str) else (input or b"")
    if as_user is not None and not executable:
        raise ValueError("as_user runs the executable: pass executable=True")
    if executable:
        account: dict[str, Any] = {}
        if as_user is not None:
            import pwd

            pw = pwd.getpwnam(as_user)
            groups = os.getgrouplist(as_user, pw.pw_gid)
            account = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": groups}
            account["cwd"] = pw.pw_dir
        proc = subprocess.run(
            [*cli_command(), *argv],
            input=raw_in,
            capture_output=True,
            env=child_env(env),
            timeout=timeout,
            start_new_session=True,  # no controlling terminal
            check=False,
            **account,
        )
        return Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())
    return _in_process(argv, raw_in, env or {})


def _in_process(argv: list[str], raw_in: bytes, env: Env) -> Result:
    from securemsg.cli import hardening
    from securemsg.cli.main import main

    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    stdin = io.TextIOWrapper(io.BytesIO(raw_in), encoding="utf-8")
    saved_env = dict(os.environ)
    saved_io = sys.stdin, sys.stdout, sys.stderr
    # main() hardens the process it runs in for good (cli/hardening.py: core limit
    # (0, 0), not dumpable). In-process, that process is pytest's, and every child
    # it starts later would inherit the limit: left out here, tested on the real
    # executable (tests/cli/test_hardening.py).
    saved_hardening = hardening.no_core_dumps, hardening.not_dumpable
    hardening.no_core_dumps = hardening.not_dumpable = _not_here  # type: ignore[method-assign]
    code: int | str | None = 0
    try:
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        sys.stdin, sys.stdout, sys.stderr = stdin, out, err
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code
    finally:
        hardening.no_core_dumps, hardening.not_dumpable = saved_hardening  # type: ignore[method-assign]
        sys.stdin, sys.stdout, sys.stderr = saved_io
        os.environ.clear()
        os.environ.update(saved_env)
    gc.collect()  # close SQLite connections held by dropped Home objects
    exit_code = code if isinstance(code, int) else (0 if code is None else 1)
    return Result(
        exit_code,
        out.buffer.getvalue().decode("utf-8"),  # type: ignore[attr-defined]
        err.buffer.getvalue().decode("utf-8"),  # type: ignore[attr-defined]
    )


def _not_here() -> bool:
    return False


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


LIGHT_KDF = (1, 8192)  # Argon2id opslimit, memlimit: libsodium's minimum


def light_key_file(home: Path, passphrase: str) -> None:
    """Re-seal ``home``'s passphrase key file (``keys/identity.key``) with the
    lightest Argon2id parameters, for the session worlds whose homes are unlocked
    by every command of every test: the same key, the same passphrase, about a
    millisecond per unlock instead of a tenth of a second. The key file, its
    format and its default parameters are tested on homes of their own
    (tests/store/test_keyfile_format.py, test_keystore_file.py, tests/cli)."""
    from securemsg.core import keyfile
    from securemsg.store.fs import atomic_write

    path = home / "keys" / "identity.key"
    word = keyfile.passphrase_bytes(passphrase)
    secret = keyfile.open_keyfile(path.read_bytes(), word)
    atomic_write(path, keyfile.seal(secret, word, keyfile.KdfParams(*LIGHT_KDF)))
