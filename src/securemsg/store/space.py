"""Space for a send's envelopes, reserved while the attachments are hashed.

A send first hashes every attachment on the calling thread (the item digests
go into the signed manifest, which comes first in every envelope), and only
then encrypts. :class:`Reserved` makes the envelopes' hidden temp files before
that pass and reserves their space (``posix_fallocate``) on a worker thread
meanwhile: the file system's allocation moves onto the otherwise idle core
(docs/performance.md), and a send that cannot fit fails with
:class:`NoSpaceError` before anything is encrypted. File systems without
``fallocate`` simply allocate as the envelopes are written.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from collections.abc import Sequence
from pathlib import Path

from securemsg.errors import NoSpaceError
from securemsg.i18n import _
from securemsg.store.dirfd import Dir
from securemsg.store.fs import PRIVATE_FILE, SHARED_FILE, file_mode_in

RESERVE_FROM = 8 << 20  # smaller envelopes are not worth a thread
_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def no_space(directory: Path | None, exc: OSError) -> NoSpaceError:
    strerror = os.strerror(exc.errno or 0)
    message = (
        _("not enough space in {directory} for the letter ({strerror})").format(
            directory=directory, strerror=strerror
        )
        if directory is not None
        else _("not enough space for the letter ({strerror})").format(strerror=strerror)
    )
    return NoSpaceError(
        message,
        hint=_("free some space there (or send to another folder), then send again"),
    )


def is_full(exc: OSError) -> bool:
    return exc.errno in _FULL


def temp_file(directory: Path | Dir) -> tuple[Path, int]:
    """A new hidden temp file for an envelope in ``directory``: (path, descriptor);
    0600, or 0640 in a folder shared with a group (store/drop.py). In an open
    :class:`~securemsg.store.dirfd.Dir` (a drop folder's), it is made relative to
    its descriptor, never through a link."""
    if isinstance(directory, Dir):
        name, fd = directory.create(".send-", ".tmp", PRIVATE_FILE)
        path = directory.path / name
        shared = bool(directory.st.st_mode & stat.S_ISGID)
    else:
        import tempfile  # here: tempfile imports shutil, lzma, bz2, random

        fd, tmp = tempfile.mkstemp(prefix=".send-", suffix=".tmp", dir=directory)
        path = Path(tmp)
        shared = file_mode_in(directory) != PRIVATE_FILE
    try:
        if shared:
            os.fchmod(fd, SHARED_FILE)
    except BaseException:
        os.close(fd)
        _remove(directory, path)
        raise
    return path, fd


def _remove(directory: Path | Dir, path: Path) -> None:
    if isinstance(directory, Dir):
        directory.unlink(path.name)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


class Reserved:
    """One hidden temp file per ``(directory, expected size)``, created now (none
    for a ``None`` target); the space of the large ones is reserved on a worker
    thread. :meth:`wait` before writing; hand each file to its writer with
    :meth:`take`; :meth:`close` always (it removes every file not taken)."""

    def __init__(self, targets: Sequence[tuple[Path | Dir, int] | None]) -> None:
        self._files: list[tuple[Path, int] | None] = []
        self._dirs = [t[0] if t is not None else None for t in targets]
        self._error: tuple[Path, OSError] | None = None
        self._thread: threading.Thread | None = None
        try:
            for target in targets:
                if target is None:
                    self._files.append(None)
                    continue
                self._files.append(temp_file(target[0]))
        except BaseException:
            self.close()
            raise
        jobs: list[tuple[Path, int, int]] = []
        for target, f in zip(targets, self._files, strict=True):
            if target is not None and f is not None and target[1] >= RESERVE_FROM:
                jobs.append((f[0].parent, f[1], target[1]))
        if jobs:
            self._thread = threading.Thread(
                target=self._reserve, args=(jobs,), daemon=True, name="securemsg-reserve"
            )
            self._thread.start()

    def _reserve(self, jobs: list[tuple[Path, int, int]]) -> None:
        for directory, fd, size in jobs:
            try:
                os.posix_fallocate(fd, 0, size)
            except OSError as exc:
                if is_full(exc):
                    self._error = (directory, exc)
                    return
                # EOPNOTSUPP, EINVAL...: the writes will allocate as they go

    def wait(self) -> None:
        """Raise :class:`NoSpaceError` if a reservation failed for lack of space."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            directory, exc = self._error
            raise no_space(directory, exc) from exc

    def take(self, k: int) -> tuple[Path, int] | None:
        """The ``k``-th temp file (path, descriptor), now the caller's, or None."""
        f = self._files[k]
        self._files[k] = None
        return f

    def close(self) -> None:
        if self._thread is not None:  # never close a descriptor it still uses
            self._thread.join()
            self._thread = None
        for k, f in enumerate(self._files):
            directory = self._dirs[k]
            if f is not None:
                self._files[k] = None
                os.close(f[1])
                if directory is not None:
                    _remove(directory, f[0])
