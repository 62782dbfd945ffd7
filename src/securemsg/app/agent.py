"""Unlock once: start, query and stop a home's key agent (``unlock``, ``lock``,
``agent status``), and the agent process's body (cli/agentd.py).

While the agent runs, ``Home.unlock`` hands the commands an
:class:`~securemsg.store.agent.client.AgentIdentity` instead of the keys:
nothing prompts, and signing and opening letters happen in the agent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from securemsg.core import agentproto as proto
from securemsg.errors import KeyStoreError, UsageError
from securemsg.i18n import _
from securemsg.store.agent import paths
from securemsg.store.agent.client import AgentClient, find_agent
from securemsg.store.home import Home

MAX_SECONDS = 7 * 24 * 3600
DEFAULT_FOR = "8h"
_DURATION = re.compile(r"(?:(\d{1,4})d)?(?:(\d{1,4})h)?(?:(\d{1,5})m)?(?:(\d{1,6})s)?")


def parse_duration(text: str) -> int:
    """Seconds in ``8h``, ``90m``, ``1h30m``, ``2s``, ``1d`` (1 second to 7 days)."""
    match = _DURATION.fullmatch(text.strip().lower())
    if not text.strip() or match is None or not any(match.groups()):
        raise UsageError(
            _("cannot read the duration {text!r}").format(text=text),
            hint=_("write it like 8h, 90m, 1h30m, 30s or 1d"),
        )
    d, h, m, s = (int(g or 0) for g in match.groups())
    seconds = ((d * 24 + h) * 60 + m) * 60 + s
    if not 1 <= seconds <= MAX_SECONDS:
        raise UsageError(
            _("the duration {text!r} is outside 1 second to 7 days").format(text=text),
            hint=_("choose a working day, e.g. --for 8h"),
        )
    return seconds


@dataclass(frozen=True, slots=True)
class AgentInfo:
    """A running agent: its process, when it stops, its socket; ``started`` if
    this command started it."""

    running: bool
    started: bool
    pid: int | None
    expires: int | None
    socket: str


def _check_keys(home: Home, status: proto.AgentStatus) -> None:
    if status.sign_public != home.card().sign_public:
        raise KeyStoreError(
            _("the agent holds keys that do not match this home's card"),
            hint=_("run `securemsg lock`, check --home / SECUREMSG_HOME, then unlock again"),
        )


def status(home: Home) -> AgentInfo:
    home.require()
    path = paths.socket_path(home.dir, home.env)
    found = find_agent(home.dir, home.env)
    if found is None:
        return AgentInfo(False, False, None, None, path)
    _client, st = found
    return AgentInfo(True, False, st.pid, st.expires, path)


def unlock(home: Home, seconds: int) -> AgentInfo:
    """Start the agent with the keys (asking for the passphrase if the key store
    needs one), or report the one running."""
    home.require()
    path = paths.socket_path(home.dir, home.env)
    found = find_agent(home.dir, home.env)
    if found is not None:
        _client, st = found
        _check_keys(home, st)
        return AgentInfo(True, False, st.pid, st.expires, path)
    from securemsg.store.agent.spawn import start_agent

    secret = home.unlock_local()
    storage = home.storage_keys()  # from my first key pair, even after a rotation
    keys = secret.to_bytes() + storage.seal_key + storage.index_key
    pid = start_agent(path, seconds, keys, home.env)
    st = AgentClient(path).status()
    _check_keys(home, st)
    return AgentInfo(True, True, pid, st.expires, path)


def lock(home: Home) -> AgentInfo:
    """Stop the agent (it wipes the keys and removes its socket); ``running`` is
    False in the result if none ran."""
    home.require()
    path = paths.socket_path(home.dir, home.env)
    found = find_agent(home.dir, home.env)
    if found is None:
        return AgentInfo(False, False, None, None, path)
    client, st = found
    client.lock()
    return AgentInfo(True, False, st.pid, st.expires, path)


def run_agent(path: str, seconds: int, keys_fd: int, ready_fd: int) -> int:
    """The agent process: read the keys from ``keys_fd`` into locked memory,
    serve until lock, timeout or signal. The exit status."""
    import os

    from securemsg.store.agent.keys import KeyMemory
    from securemsg.store.agent.server import serve

    keys = KeyMemory()
    try:
        if not keys.read_from(keys_fd):
            os.write(ready_fd, b"error the keys did not arrive whole\n")
            return 1
        os.close(keys_fd)
        return serve(path, seconds, keys, ready_fd)
    finally:
        keys.wipe()
