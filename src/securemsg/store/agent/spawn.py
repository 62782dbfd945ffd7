"""Starting a home's agent: a new process in its own session, the keys through a pipe.

The unlocking command has the keys in memory (it just unlocked the key store);
it starts ``python -m securemsg.cli.agentd SOCKET SECONDS`` and writes the
key-store blob and the two storage keys to the agent's standard input, a pipe
(kernel memory, never a file). The agent reads them straight into its locked
buffer (keys.py), binds the socket and answers ``ready PID EXPIRES`` on its
standard output, which it then closes. Its standard error goes to /dev/null:
it never writes anything about keys anywhere.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Final

from securemsg.errors import AgentError
from securemsg.i18n import _
from securemsg.store.agent import paths

READY_TIMEOUT: Final = 20.0  # seconds: the agent's interpreter starts in well under 1 s


def start_agent(path: str, seconds: int, keys: bytes, env: Mapping[str, str]) -> int:
    """Start the agent for the socket ``path`` (its folder made private first);
    return its pid once it listens. AgentError if it did not come up."""
    paths.check_dir(os.path.dirname(path), create=True)
    child_env = {k: v for k, v in env.items() if not k.startswith("SECUREMSG_PASSPHRASE")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "securemsg.cli.agentd", path, str(seconds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # not killed with the terminal, nor by ^C in it
        close_fds=True,
        cwd="/",
        env=child_env,
    )
    if proc.stdin is None or proc.stdout is None:  # pragma: no cover - PIPE was asked
        raise RuntimeError("Popen gave no pipes")
    try:
        proc.stdin.write(keys)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    line = b""
    deadline = time.monotonic() + READY_TIMEOUT
    fd = proc.stdout.fileno()
    while not line.endswith(b"\n") and (left := deadline - time.monotonic()) > 0:
        readable, _w, _x = select.select([fd], [], [], left)
        if not readable:
            break
        chunk = os.read(fd, 256)
        if not chunk:
            break
        line += chunk
    proc.stdout.close()
    words = line.decode("ascii", "replace").split()
    if len(words) == 3 and words[0] == "ready" and words[1].isdigit():
        return int(words[1])
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    why = " ".join(words[1:]) if words[:1] == ["error"] else _("it did not start")
    raise AgentError(
        _("the agent could not start: {why}").format(why=why),
        hint=_(
            "check that you can create a socket in {path}; run the command again "
            "without the agent meanwhile"
        ).format(path=os.path.dirname(path)),
    )
