"""Where a recorded key store keeps the keys, in words, for ``whoami``.

On ``whoami``'s import path (CONTRIBUTING.md, "Start-up time"): paths are
strings here, no pathlib. :func:`describe_keystore` gives what
``open_keystore(descriptor, Path(home)).describe()`` gives
(tests/store/test_home_paths.py holds the two together); it only reads the key
file's public header, nothing is unlocked.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping

from securemsg.core import keyfile
from securemsg.core.keyfile import DEFAULT_PARAMS, KdfParams
from securemsg.errors import FormatError, KeyStoreError
from securemsg.i18n import _
from securemsg.store.keystore import invalid_entry


def check_relpath(relpath: str) -> str:
    """A path inside the home: relative, no '..', not empty. Returns its normal
    form, as ``PurePosixPath(relpath).as_posix()`` (empty and '.' parts dropped)."""
    parts = [part for part in relpath.split("/") if part not in ("", ".")]
    if not relpath or relpath.startswith("/") or ".." in parts:
        raise KeyStoreError(
            _("key file path {relpath!r} must be a relative path inside the home").format(
                relpath=relpath
            ),
            hint=_("fix the key store entry in the home's configuration"),
        )
    return "/".join(parts) or "."


def describe_file(path: str | os.PathLike[str], params: KdfParams) -> str:
    """The description of a passphrase file: its path and Argon2id parameters
    (read from its header if it can be read, else ``params``)."""
    with contextlib.suppress(OSError, FormatError):
        with open(path, "rb") as fh:
            data = fh.read(keyfile.MAX_FILE_SIZE + 1)
        params = keyfile.KeyFile.parse(data).header.params
    return f"passphrase file: {os.fspath(path)} ({params})"


def describe_keystore(descriptor: Mapping[str, str], home: str) -> str:
    """``open_keystore(descriptor, Path(home)).describe()``, without pathlib.

    ``home`` must be in normal form, ``str(Path(home))`` (store.home.home_dir)."""
    kind = descriptor.get("kind")
    if kind == "keyring":
        # here, not at import: ~1 ms that a passphrase-file home does not need
        from securemsg.store.keystore.os_keyring import reopen_keyring_store

        return reopen_keyring_store(descriptor).describe()
    path = descriptor.get("path") if kind == "file" else None
    if not isinstance(path, str):
        raise invalid_entry()
    rel = check_relpath(path)
    if rel == ".":
        shown = home
    elif home == ".":
        shown = rel
    else:
        shown = home + rel if home.endswith("/") else f"{home}/{rel}"
    return describe_file(shown, DEFAULT_PARAMS)
