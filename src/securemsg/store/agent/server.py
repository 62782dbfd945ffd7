"""The agent's loop: serve one home's keys until lock, timeout or signal.

Started by ``securemsg unlock`` (client.start_agent) as
``python -m securemsg.cli.agentd SOCKET SECONDS``, in its own session, with the
keys on its standard input. It binds the socket (0600; its folder was checked
0700 and ours), says ``ready`` on standard output and closes it, then answers
one request per connection, one connection at a time:

* every connection's peer credentials (SO_PEERCRED) must be this user's uid,
  else it is closed unanswered;
* every frame is bounded (core/agentproto.py) and validated before use; a bad
  one gets ``BAD_REQUEST``; a client has 5 seconds to send its request;
* it signs only COSE Sig_structures of securemsg objects other than cards and
  key statements (a card, a key succession or acceptance and a key revocation
  bind or unbind an identity: they are signed with the key in hand, by ``init``,
  ``card renew``, ``key rotate`` and ``key revoke``, never by the agent, so that
  a process that can reach the agent cannot move the identity to a key of its
  own, nor revoke it);
* a request that makes the agent fail in any way gets ``BAD_REQUEST``: no
  request stops it but ``OP_LOCK``.

It stops, wiping the keys and removing its socket (if it is still its own),
at the deadline (CLOCK_BOOTTIME: time asleep counts), on ``OP_LOCK``, and on
SIGTERM, SIGINT or SIGHUP.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import time
from types import FrameType
from typing import Final

from securemsg.core import agentproto as proto
from securemsg.core import cbor, cose, labels
from securemsg.errors import FormatError
from securemsg.i18n import N_
from securemsg.store.agent.client import peer_uid
from securemsg.store.agent.keys import KeyMemory

REQUEST_TIMEOUT: Final = 5.0  # for the whole request, not for each read
SIGNABLE: Final = frozenset(labels.COSE_TYPES) - {
    labels.COSE_CARD,
    labels.COSE_KEY_SUCCESSION,
    labels.COSE_KEY_ACCEPTANCE,
    labels.COSE_KEY_REVOCATION,
}


class Stop(Exception):
    """A signal asked the agent to stop."""


def _clock() -> float:
    """Seconds that keep counting while the machine sleeps (Linux), else monotonic."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    return time.clock_gettime(boottime) if boottime is not None else time.monotonic()


def signable(message: bytes) -> bool:
    """True if ``message`` is a COSE Sig_structure of a securemsg object (not a card,
    not a key statement: SIGNABLE)."""
    if not message.startswith(proto.SIG_STRUCTURE_PREFIX):
        return False
    try:
        value = cbor.loads(message, N_("Sig_structure"), proto.MAX_SIGN_MESSAGE)
        if not isinstance(value, list) or len(value) != 4 or value[0] != "Signature1":
            return False
        protected = value[1]
        header = (
            cbor.loads(protected, N_("protected header")) if isinstance(protected, bytes) else None
        )
    except FormatError:
        return False
    if not isinstance(header, dict):
        return False
    content_type = header.get(cose.H_CONTENT_TYPE)
    return (
        type(header.get(cose.H_ALG)) is int
        and header.get(cose.H_ALG) == cose.ALG_EDDSA
        and isinstance(content_type, str)  # a list or map would not even hash
        and content_type in SIGNABLE
        and value[2] == b""
        and isinstance(value[3], bytes)
    )


def answer(keys: KeyMemory, expires: int, body: bytes) -> tuple[bytes, bool]:
    """The response to one request body, and whether the agent must stop."""
    try:
        op, payload = proto.parse_request(body)
    except proto.ProtocolError:
        return proto.response(proto.BAD_REQUEST), False
    if op == proto.OP_STATUS:
        status = proto.AgentStatus(keys.sign_public, keys.enc_public, expires, os.getpid())
        return proto.response(proto.OK, status.encode()), False
    if op == proto.OP_SIGN:
        if not signable(payload):
            return proto.response(proto.REFUSED), False
        return proto.response(proto.OK, keys.sign(payload)), False
    if op == proto.OP_OPEN_SHARE:
        from securemsg.core.age.hazmat import x25519  # the first letter opened

        share, wrapped = payload[: proto.SHARE_SIZE], payload[proto.SHARE_SIZE :]
        try:
            file_key = x25519.open_with_shared(keys.x25519(share), share, keys.enc_public, wrapped)
        except FormatError:  # HeaderError: a share of small order
            return proto.response(proto.SMALL_ORDER), False
        if file_key is None:
            return proto.response(proto.NOT_MINE), False
        return proto.response(proto.OK, file_key), False
    if op == proto.OP_STORAGE_KEYS:
        return proto.response(proto.OK, keys.storage_keys()), False
    return proto.response(proto.OK), True  # OP_LOCK


def _read_request(conn: socket.socket, until: float) -> bytes | None:
    """The request body, or None if it is malformed or not all there by ``until``
    (_clock): a client sending a byte now and then does not hold the agent, nor
    keep the keys past their time."""
    try:
        prefix = _recv(conn, proto.LENGTH.size, until)
        return _recv(conn, proto.body_length(prefix), until)
    except (OSError, proto.ProtocolError):
        return None


def _recv(conn: socket.socket, n: int, until: float) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        left = until - _clock()
        if left <= 0:
            raise TimeoutError
        conn.settimeout(left)
        chunk = conn.recv(min(n - len(buf), 1 << 16))
        if not chunk:
            raise ConnectionResetError
        buf += chunk
    return bytes(buf)


def serve_one(
    listener: socket.socket, keys: KeyMemory, expires: int, deadline: float | None = None
) -> bool:
    """Accept and answer one connection: its request must arrive within
    REQUEST_TIMEOUT, and before the agent's ``deadline`` (_clock). True if the
    agent must stop (locked)."""
    conn, _addr = listener.accept()
    with conn:
        if peer_uid(conn) != os.getuid():
            return False  # another user: not a word
        until = _clock() + REQUEST_TIMEOUT
        if deadline is not None:
            until = min(until, deadline)
        body = _read_request(conn, until)
        if body is None:
            with contextlib.suppress(OSError):
                conn.sendall(proto.response(proto.BAD_REQUEST))
            return False
        try:
            reply, stop = answer(keys, expires, body)
        except Stop:
            raise
        except Exception:  # a request we did not foresee: refused, never the agent's end
            reply, stop = proto.response(proto.BAD_REQUEST), False
        conn.settimeout(REQUEST_TIMEOUT)
        with contextlib.suppress(OSError):
            conn.sendall(reply)
        return stop


def _on_signal(_signum: int, _frame: FrameType | None) -> None:
    raise Stop


def bind(path: str) -> tuple[socket.socket, os.stat_result]:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        listener.bind(path)
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    listener.listen(16)
    return listener, os.lstat(path)


def serve(path: str, seconds: int, keys: KeyMemory, ready: int) -> int:
    """Bind ``path``, tell ``ready`` (a file descriptor, then closed), serve until
    the end; 0, or 1 if the socket could not be made. Always wipes the keys and
    removes its own socket."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    listener = None
    seen = None
    try:
        try:
            listener, seen = bind(path)
        except OSError as exc:
            os.write(ready, f"error cannot listen on {path}: {exc.strerror}\n".encode())
            return 1
        deadline = _clock() + seconds
        expires = int(time.time()) + seconds
        os.write(ready, f"ready {os.getpid()} {expires}\n".encode())
        os.close(ready)
        ready = -1
        while (remaining := deadline - _clock()) > 0:
            readable, _w, _x = select.select([listener], [], [], min(remaining, 60.0))
            if readable and serve_one(listener, keys, expires, deadline):
                break
    except Stop:
        pass
    finally:
        if ready >= 0:
            os.close(ready)
        keys.wipe()
        if listener is not None:
            listener.close()
        if seen is not None:
            from securemsg.store.agent.paths import remove_stale

            remove_stale(path, seen)
    return 0
