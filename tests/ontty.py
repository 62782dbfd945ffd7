"""Run the installed executable with a controlling terminal, as someone at a
terminal running a script with ``>out 2>log`` would: a pseudo-terminal driven by
:func:`interop.agepty.run_age` (the one pty driver of the tests), stdout and
stderr sent to files. What the command shows on the terminal only (a device
file's one-time code, a backup's recovery code: cli/terminal.py) is then told
apart from what it prints.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clirun import Env, Result, child_env, cli_command
from interop.agepty import run_age

CODE = re.compile(r"\b[A-Z2-7]{4}(?:-[A-Z2-7]{4}){7}\b")
"""A one-time or recovery code as shown: 8 groups of 4 base32 characters."""

_REDIRECT = 'out=$1 err=$2; shift 2; exec "$@" >"$out" 2>"$err"'


@dataclass(frozen=True)
class OnTerminal:
    exit_code: int
    tty: str  # what the command wrote to its terminal (not stdout, not stderr)
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def error_json(self) -> Any:
        return Result(self.exit_code, self.stdout, self.stderr).error_json()


def run_on_terminal(
    home: Path | None, *args: str | Path, env: Env | None = None, answers: list[str] | None = None
) -> OnTerminal:
    """``securemsg [--home HOME] ARGS`` on a pseudo-terminal, stdout and stderr to
    files; ``answers`` typed at its passphrase prompts."""
    argv = [*(["--home", str(home)] if home is not None else []), *map(str, args)]
    with tempfile.TemporaryDirectory(prefix="ontty-") as tmp:
        out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
        command = ["/bin/sh", "-c", _REDIRECT, "sh", str(out), str(err), *cli_command(), *argv]
        rc, tty = run_age(command, answers or [], env=child_env(env))
        return OnTerminal(rc, tty.replace("\r\n", "\n"), out.read_text(), err.read_text())


def shown_code(res: OnTerminal) -> str:
    """The one code ``res`` showed on its terminal, found nowhere in what it printed."""
    codes = CODE.findall(res.tty)
    assert len(codes) == 1, res.tty  # shown once
    assert CODE.search(res.stdout + res.stderr) is None, (res.stdout, res.stderr)
    assert codes[0].replace("-", "") not in (res.stdout + res.stderr).replace("-", "")
    return codes[0]


def add_device(
    home: Path, out: Path, env: Env | None = None, *options: str
) -> tuple[str, OnTerminal]:
    """``securemsg [OPTIONS] device add -o OUT`` on a terminal: the one-time code it
    showed there (only there) and the run."""
    res = run_on_terminal(home, *options, "device", "add", "-o", out, env=env)
    assert res.exit_code == 0, res
    return shown_code(res), res
