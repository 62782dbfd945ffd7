"""A file of a folder others can write to, checked before a byte of it is read
(store/dirfd.py opens it): a regular file, no larger than the caller's cap,
without holes; then read from its descriptor, never past the size that was
checked. What a name or file turned out to be, when it cannot be used, is an
:class:`Unsafe` naming its :class:`Problem` (pure I/O: the callers word it,
store/drop.py and store/drop_files.py).
"""

from __future__ import annotations

import enum
import errno
import fcntl
import io
import os
import stat
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from pathlib import Path  # pathlib: annotations only (start-up time of the listings)

# a file is opened without following a link and without waiting (a FIFO), never
# as the terminal of this process
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC

Ident = tuple[int, int]  # (st_dev, st_ino): which file a name held when it was checked


class Problem(enum.Enum):
    MISSING = "missing"  # no such name (a file another receiver took meanwhile)
    LINK = "link"  # a symbolic link where a folder or a file belongs
    NOT_DIR = "not_dir"  # something else than a folder where a folder belongs
    NOT_FILE = "not_file"  # a folder, FIFO, socket or device where a file belongs
    TOO_LARGE = "too_large"  # larger than the caller's cap (fstat), not read
    SPARSE = "sparse"  # a file with holes (no letter has any), not read
    NOT_OURS = "not_ours"  # a folder whose owner the caller does not accept
    UNREADABLE = "unreadable"  # the system refused to open or read it (``error``)
    UNWRITABLE = "unwritable"  # the system refused to create a file in it (``error``)


class Unsafe(Exception):
    """``path`` cannot be used: ``problem``; ``st`` is what it was seen to be
    (``lstat`` or ``fstat``), ``error`` the system's error, if any."""

    def __init__(
        self,
        problem: Problem,
        path: Path,
        st: os.stat_result | None = None,
        error: OSError | None = None,
        cap: int | None = None,
    ) -> None:
        super().__init__(f"{path}: {problem.value}")
        self.problem, self.path, self.st, self.error, self.cap = problem, path, st, error, cap

    @property
    def ident(self) -> Ident | None:
        return (self.st.st_dev, self.st.st_ino) if self.st is not None else None


def ident(st: os.stat_result) -> Ident:
    return st.st_dev, st.st_ino


def _has_hole(fd: int, size: int) -> bool:
    """Whether the file has a hole before its end (a region never written).
    File systems that cannot tell report none (``SEEK_HOLE`` then says the end)."""
    if size == 0:
        return False
    try:
        return os.lseek(fd, 0, os.SEEK_HOLE) < size
    except OSError:
        return False


def _lstat_path(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def open_path(path: Path, cap: int) -> Opened:
    """A file the user named (the path may go through the user's own links), with
    the checks of :meth:`Dir.open_file`: never blocks on a FIFO, refuses what is
    not a regular file, larger than ``cap``, or sparse. Raises :class:`Unsafe`."""
    try:
        fd = os.open(path, FILE_FLAGS & ~os.O_NOFOLLOW)
    except FileNotFoundError as exc:
        raise Unsafe(Problem.MISSING, path, error=exc) from exc
    except OSError as exc:
        st = _lstat_path(path)
        if exc.errno in (errno.ENXIO, errno.EISDIR) and st is not None:
            raise Unsafe(Problem.NOT_FILE, path, st, exc) from exc
        raise Unsafe(Problem.UNREADABLE, path, st, exc) from exc
    return check(fd, path, cap)


def check(fd: int, path: Path, cap: int) -> Opened:
    """``fd`` (just opened, nothing read) if it is a regular file of at most ``cap``
    bytes without holes; closed and :class:`Unsafe` otherwise."""
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Unsafe(Problem.NOT_FILE, path, st)
        if st.st_size > cap:
            raise Unsafe(Problem.TOO_LARGE, path, st, cap=cap)
        if _has_hole(fd, st.st_size):
            raise Unsafe(Problem.SPARSE, path, st)
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return Opened(fd, path, st)


class Opened:
    """A checked regular file, open for reading; :meth:`reader` reads it from the
    start, at most the size that was checked (a file that grows afterwards is
    read as it was). Close it (or use it as a context manager)."""

    def __init__(self, fd: int, path: Path, st: os.stat_result) -> None:
        self.fd, self.path, self.st = fd, path, st
        self.ident: Ident = ident(st)
        self.size: int = st.st_size

    def reader(self, on_error: Callable[[OSError], BaseException] | None = None) -> BinaryIO:
        """A new buffered reader from the first byte (each keeps its own position).
        An ``OSError`` while reading is raised as ``on_error(exc)`` if given."""
        raw = _Bounded(self.fd, self.size, on_error)
        return io.BufferedReader(raw, buffer_size=1 << 16)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Opened:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Bounded(io.RawIOBase):
    """The first ``size`` bytes of ``fd``, read with ``pread`` (the descriptor's own
    offset is not used, so several readers of one file do not disturb each other).
    Closing it does not close ``fd``."""

    def __init__(
        self, fd: int, size: int, on_error: Callable[[OSError], BaseException] | None
    ) -> None:
        super().__init__()
        self._fd, self._size, self._pos, self._on_error = fd, size, 0, on_error

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self._size - self._pos)
        if n <= 0:
            return 0
        with memoryview(buffer) as view:
            try:
                got = os.preadv(self._fd, [view[:n]], self._pos)
            except OSError as exc:
                if self._on_error is None:
                    raise
                raise self._on_error(exc) from exc
        self._pos += got
        return got

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos
