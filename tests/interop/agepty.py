"""Drive the ``age`` binary through a pseudo-terminal: age reads a passphrase only
from the terminal (never stdin), so the tests give it one made with :mod:`pty`.

``run_age(args, answers)`` runs ``age *args`` as the session leader of a new
pty, answers each passphrase prompt in turn with the next of ``answers`` and
returns the exit status and everything age wrote to the terminal. Input and
output go through files (``-o``, a path argument), never the pty.
"""

from __future__ import annotations

import os
import pty
import select
import time

PROMPT_WORDS = (b"passphrase:", b"passphrase (leave empty")


def run_age(
    args: list[str],
    answers: list[str],
    timeout: float = 60.0,
    env: dict[str, str] | None = None,
) -> tuple[int, str]:
    """Also for ``securemsg`` (its prompts end in "passphrase: " too), with ``env``."""
    pid, master = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal
        try:
            os.execvpe(args[0], args, os.environ if env is None else env)
        finally:
            os._exit(127)
    seen = b""
    pending = list(answers)
    answered_at = 0
    done, status = 0, 0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                seen += data
            lower = seen.lower()
            prompts = sum(lower.count(word) for word in PROMPT_WORDS)
            if pending and prompts > answered_at:
                os.write(master, pending.pop(0).encode() + b"\r")
                answered_at += 1
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
        else:
            os.kill(pid, 9)
        if not done:
            _, status = os.waitpid(pid, 0)
        seen += _rest(master)  # written just before the child exited
    finally:
        os.close(master)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")


def _rest(master: int) -> bytes:
    """What is left to read on the terminal once its child is gone."""
    rest = b""
    while select.select([master], [], [], 0)[0]:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: nothing more
            break
        if not data:
            break
        rest += data
    return rest
