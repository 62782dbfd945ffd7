"""A new passphrase typed on a real terminal (a pseudo-terminal here): a weak
one is explained and asked again, a mistyped confirmation is asked again, and
after three tries the command gives up with nothing written (issue 14)."""

from __future__ import annotations

import os
import pty
import select
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clirun import child_env, cli_command

STRONG = "quartz lantern meadow oxide"


@pytest.fixture
def base() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="smtty-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def converse(
    argv: list[str], env: dict[str, str], answers: list[tuple[str, str]]
) -> tuple[int, str]:
    """Run ``argv`` on a pseudo-terminal; for each (prompt, answer), wait for the
    prompt, then type the answer. Returns the exit status and everything shown."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal is its controlling terminal
        os.execve(argv[0], argv, env)
    shown = b""
    pending = list(answers)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        if pending and pending[0][0].encode() in shown.rsplit(b"\n", 1)[-1]:
            os.write(fd, pending.pop(0)[1].encode() + b"\n")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert not pending, (pending, shown)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def _init(base: Path) -> tuple[list[str], dict[str, str]]:
    env = child_env({"SECUREMSG_KEYSTORE": "file", "SECUREMSG_PASSPHRASE": None,
                     "SECUREMSG_HOME": str(base / "home"), "NO_COLOR": "1"})  # fmt: skip
    return [*cli_command(), "init", "--name", "Dr Tty", "--role", "gp"], env


def test_weak_then_mistyped_then_right(base: Path) -> None:
    argv, env = _init(base)
    code, shown = converse(argv, env, [
        ("New passphrase", "abc"),
        ("New passphrase", STRONG),
        ("Repeat", STRONG + " typo"),
        ("New passphrase", STRONG),
        ("Repeat", STRONG),
    ])  # fmt: skip
    assert code == 0, shown
    assert "too easy to guess" in shown and "hint:" in shown
    assert "do not match" in shown
    assert STRONG not in shown and "abc\r" not in shown  # never echoed
    assert (base / "home" / "keys" / "identity.key").exists()


def test_three_weak_tries_and_it_gives_up(base: Path) -> None:
    argv, env = _init(base)
    code, shown = converse(argv, env, [
        ("New passphrase", "abc"), ("New passphrase", "password"), ("New passphrase", "qwerty"),
    ])  # fmt: skip
    assert code == 4, shown
    assert shown.count("too easy to guess") == 3
    assert not (base / "home" / "keys" / "identity.key").exists()
    assert not (base / "home" / "config.json").exists()
