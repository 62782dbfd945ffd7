"""Talking to a home's agent: find it, ask it, start it, stop it.

Before each connection the socket and its folder are checked (paths.py: ours,
private); after connecting, the peer's credentials (SO_PEERCRED) must be this
user's. A socket whose agent is gone (connection refused) is stale: it is
removed, if it is still the socket checked, and the command unlocks as usual.

One request per connection (docs/format-agent.md): the agent serves one
connection at a time, so no command holds it for longer than a request.

Start-up time: the connection is a bare ``_socket.socket`` (the C type that
:class:`socket.socket` extends): every command that reads the store asks the
agent, and the :mod:`socket` module (with selectors and array) costs about
1.5 ms to import; nothing here uses what it adds.
"""

from __future__ import annotations

import _socket
import os
import struct
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from securemsg.core import agentproto as proto
from securemsg.errors import AgentError, HeaderError
from securemsg.i18n import _
from securemsg.store.agent import paths

if TYPE_CHECKING:
    from securemsg.core.storage import StorageKeys

TIMEOUT: Final = 30.0  # seconds for one request: signing a 1 MiB manifest is far less
PEERCRED: Final = struct.Struct("3i")  # struct ucred: pid, uid, gid


def _recv_exact(conn: _socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = conn.recv(min(n - len(buf), 1 << 16))
        if not chunk:
            raise ConnectionResetError("the agent closed the connection")
        buf += chunk
    return bytes(buf)


def peer_uid(conn: _socket.socket) -> int:
    """The uid of the process at the other end of a Unix socket (Linux SO_PEERCRED)."""
    raw = conn.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, PEERCRED.size)
    _pid, uid, _gid = PEERCRED.unpack(raw)
    return int(uid)


class AgentClient:
    """The agent at ``path``, whose socket was checked."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"AgentClient({self.path!r})"

    def call(self, op: int, payload: bytes = b"") -> tuple[int, bytes]:
        """(status, payload) of one request. OSError if the agent cannot be reached."""
        if paths.check_socket(self.path) is None:
            raise FileNotFoundError(self.path)
        conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            conn.settimeout(TIMEOUT)
            conn.connect(self.path)
            if peer_uid(conn) != os.getuid():
                raise AgentError(
                    _("refusing the agent at {path}: it runs as another user").format(
                        path=self.path
                    ),
                    hint=_("someone may be impersonating the agent; do not use it"),
                )
            conn.sendall(proto.request(op, payload))
            n = proto.body_length(_recv_exact(conn, proto.LENGTH.size))
            body = _recv_exact(conn, n)
        finally:
            conn.close()
        return proto.parse_response(body, op)

    def ask(self, op: int, payload: bytes = b"") -> tuple[int, bytes]:
        """:meth:`call`, with the failures of an agent found running turned into
        AgentError (it stopped mid-command, or answers nonsense)."""
        try:
            return self.call(op, payload)
        except (ConnectionRefusedError, FileNotFoundError) as exc:
            raise AgentError(
                _("the agent stopped during this command (its time ran out, or it was locked)"),
                hint=_("run the command again; `securemsg unlock` starts the agent again"),
            ) from exc
        except (OSError, proto.ProtocolError) as exc:
            raise AgentError(
                _("the agent did not answer properly ({name})").format(name=type(exc).__name__),
                hint=_("run `securemsg lock`, then `securemsg unlock` again"),
            ) from exc

    def status(self) -> proto.AgentStatus:
        _status, payload = self.ask(proto.OP_STATUS)
        return proto.AgentStatus.decode(payload)

    def lock(self) -> None:
        self.ask(proto.OP_LOCK)


def find_agent(
    home_dir: str, env: Mapping[str, str]
) -> tuple[AgentClient, proto.AgentStatus] | None:
    """The running agent of this home and its status; None if there is none.

    A stale socket (nothing listens) is removed. AgentError if the socket or its
    folder is not ours and private, or the agent answers wrongly."""
    path = paths.socket_path(home_dir, env)
    seen = paths.check_socket(path)
    if seen is None:
        return None
    client = AgentClient(path)
    try:
        _status, payload = client.call(proto.OP_STATUS)
    except (ConnectionRefusedError, FileNotFoundError):
        paths.remove_stale(path, seen)
        return None
    except (OSError, proto.ProtocolError) as exc:
        raise AgentError(
            _("the agent at {path} did not answer properly ({name})").format(
                path=path, name=type(exc).__name__
            ),
            hint=_("stop it with `securemsg lock` (or end its process), then unlock again"),
        ) from exc
    return client, proto.AgentStatus.decode(payload)


class AgentIdentity:
    """A ``core.identity.KeyHolder`` whose private keys stay in the agent: each
    signature and each X25519 stanza is one request. Holds no secret."""

    __slots__ = ("_client", "_status")

    def __init__(self, client: AgentClient, status: proto.AgentStatus) -> None:
        self._client = client
        self._status = status

    def __repr__(self) -> str:
        return f"AgentIdentity({self._client.path!r})"

    @property
    def sign_public(self) -> bytes:
        return self._status.sign_public

    @property
    def enc_public(self) -> bytes:
        return self._status.enc_public

    def sign_detached(self, message: bytes) -> bytes:
        status, payload = self._client.ask(proto.OP_SIGN, message)
        if status != proto.OK:
            raise AgentError(
                _("the agent refused to sign (it signs only securemsg objects)"),
                hint=_("this is a bug in securemsg: rerun with -v and report it"),
            )
        return payload

    def share_opener(self) -> AgentIdentity:
        return self

    def open_share(self, share: bytes, body: bytes) -> bytes | None:
        status, payload = self._client.ask(proto.OP_OPEN_SHARE, share + body)
        if status == proto.NOT_MINE:
            return None
        if status == proto.SMALL_ORDER:
            raise HeaderError(_("invalid X25519 stanza: the share is a point of small order"))
        if status != proto.OK:
            raise AgentError(
                _("the agent refused the stanza"), hint=_("rerun with -v and report it")
            )
        return payload

    def storage_keys(self) -> StorageKeys:
        """The two storage keys (docs/threat-model.md says why these leave the agent)."""
        from securemsg.core.storage import StorageKeys  # only for a command that reads the store

        _status, payload = self._client.ask(proto.OP_STORAGE_KEYS)
        return StorageKeys(payload[: proto.KEY_SIZE], payload[proto.KEY_SIZE :])
