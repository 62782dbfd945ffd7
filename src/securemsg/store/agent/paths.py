"""Where a home's agent listens, and the checks made before trusting the place.

The socket is ``<dir>/agent-<h>.sock``, with ``h`` the first 24 hex digits of
SHA-256 of the home's real path (two homes, two agents), and ``<dir>``:

* ``$XDG_RUNTIME_DIR/securemsg`` when ``XDG_RUNTIME_DIR`` is an absolute path
  (the runtime dir itself must be a directory of this user, mode 0700);
* else ``/tmp/securemsg-<uid>``.

``<dir>`` must be a real directory (not a link) owned by this user with no
access for group or others; the socket must be a socket owned by this user,
mode 0600 (no group or other bits). Anything else is refused with an
:class:`~securemsg.errors.AgentError`: a socket or folder that someone else
controls could impersonate the agent (and collect what we would ask it to sign).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping
from typing import Final

from nacl.bindings import crypto_hash_sha256

from securemsg.errors import AgentError
from securemsg.i18n import N_, _

MAX_SOCKET_PATH: Final = 107  # sun_path is 108 bytes on Linux, NUL included


def agent_dir(env: Mapping[str, str]) -> str:
    runtime = env.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.isabs(runtime):
        return os.path.join(runtime, "securemsg")
    return f"/tmp/securemsg-{os.getuid()}"  # noqa: S108 (checked: ours, 0700, no link)


def socket_name(home_dir: str) -> str:
    real = os.path.realpath(home_dir)
    # SHA-256 by libsodium (loaded already), not hashlib: the same digest without
    # loading OpenSSL (~2 ms) in every command that asks the agent
    digest: bytes = crypto_hash_sha256(os.fsencode(real))
    return f"agent-{digest.hex()[:24]}.sock"


def socket_path(home_dir: str, env: Mapping[str, str]) -> str:
    path = os.path.join(agent_dir(env), socket_name(home_dir))
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise AgentError(
            _("the agent's socket path is too long for a Unix socket: {path}").format(path=path),
            hint=_("set XDG_RUNTIME_DIR to a shorter folder (or unset it to use /tmp)"),
        )
    return path


def _not_private(path: str, st: os.stat_result, what: str) -> AgentError:
    if st.st_uid != os.getuid():
        why = _("it belongs to another user (uid {uid})").format(uid=st.st_uid)
    else:
        why = _("its mode {mode:04o} lets others in").format(mode=stat.S_IMODE(st.st_mode))
    said = (
        _("refusing the agent folder {path}: {why}")
        if what == "folder"
        else _("refusing the agent socket {path}: {why}")
    )  # two whole sentences: the word "folder" or "socket" is not glued into a translation
    return AgentError(
        said.format(path=path, why=why),
        hint=_(
            "someone may be impersonating the agent; do not use it. Remove it if it "
            "is yours to remove, or set XDG_RUNTIME_DIR to a private folder"
        ),
    )


def check_dir(path: str, *, create: bool = False) -> bool:
    """True if ``path`` is a private directory of ours (made 0700 if ``create``);
    False if it does not exist; AgentError if it is not private or not ours."""
    if create:
        parent = os.path.dirname(path)
        if parent != "/tmp" and not check_dir(parent):  # noqa: S108
            raise AgentError(
                _("the runtime folder {parent} does not exist").format(parent=parent),
                hint=_("unset XDG_RUNTIME_DIR, or set it to a folder of yours (mode 0700)"),
            )
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, 0o700)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISDIR(st.st_mode):
        raise AgentError(
            _("refusing the agent folder {path}: it is not a folder (a link or a file)").format(
                path=path
            ),
            hint=_("remove it if it is yours, or set XDG_RUNTIME_DIR to a private folder"),
        )
    if st.st_uid != os.getuid() or stat.S_IMODE(st.st_mode) & 0o077:
        raise _not_private(path, st, N_("folder"))
    return True


def check_socket(path: str) -> os.stat_result | None:
    """The socket's stat if it is a socket of ours, mode 0600 or stricter; None if
    it does not exist; AgentError otherwise. Its folder is checked first."""
    if not check_dir(os.path.dirname(path)):
        return None
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISSOCK(st.st_mode):
        raise AgentError(
            _("refusing the agent socket {path}: it is not a socket").format(path=path),
            hint=_("remove it if it is yours; then run securemsg unlock again"),
        )
    if st.st_uid != os.getuid() or stat.S_IMODE(st.st_mode) & 0o077:
        raise _not_private(path, st, N_("socket"))
    return st


def remove_stale(path: str, seen: os.stat_result) -> None:
    """Remove the socket at ``path`` if it is still the one checked as ``seen``
    (same device and inode: never another file put there since)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if (st.st_dev, st.st_ino) == (seen.st_dev, seen.st_ino) and st.st_uid == os.getuid():
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
