"""Folders that other people can write to, reached through a checked directory
descriptor (the drop folder; docs/threat-model.md, "The drop folder").

A name in such a folder may be anything by the time it is used: a link to one of
the user's own folders, a FIFO that blocks a reader for ever, a socket, a sparse
file of a terabyte. So a folder is opened once, without following a link, and
checked (:class:`Dir`); every name in it is then looked up relative to that
descriptor, never through a path again:

* a file is looked at first (``lstat``: a regular file?), then opened with
  ``O_NOFOLLOW | O_NONBLOCK`` (a link or a FIFO swapped in meanwhile neither is
  followed nor blocks), and checked again on the descriptor (``fstat``: a regular
  file, no larger than the caller's cap, without holes) before a byte is read;
  what is read stops at the size that was checked (store/checked.py);
* a file is removed or renamed only while its name still holds the file that was
  checked (same device and inode);
* files are created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` and renamed within the
  folder (or take a name only if it is free: :meth:`Dir.place_new`).

Pure I/O: a problem is an :class:`~securemsg.store.checked.Unsafe` naming what
the name turned out to be; the callers word it (store/drop.py, store/drop_files.py).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, BinaryIO

from securemsg.store.checked import FILE_FLAGS, Ident, Opened, Problem, Unsafe, check, ident

if TYPE_CHECKING:
    from pathlib import Path  # pathlib: annotations only (start-up time of the listings)

# A folder is held by an O_PATH descriptor where there is one (Linux): it needs
# no read permission, only search, so a recipient's folder of a shared drop
# folder (3730: the group may add files, not list them) can be opened, checked
# and written to; listing opens the folder again for reading (:meth:`Dir.names`).
_DIR = getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_CLOEXEC
_LIST = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# link(2) is refused by file systems without hard links (FAT, some network
# shares): EPERM, EOPNOTSUPP, ENOSYS; EMLINK where the link count is capped.
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK})


class Dir:
    """An open folder; every name inside is used relative to its descriptor.
    Close it (or use it as a context manager)."""

    def __init__(self, fd: int, path: Path, made: bool = False) -> None:
        self.fd, self.path = fd, path
        self.st = os.fstat(fd)
        self.made = made  # :meth:`sub` made it

    @classmethod
    def open(cls, path: Path) -> Dir:
        """A folder the user named (the path may go through the user's own links).
        Raises :class:`Unsafe` (MISSING, NOT_DIR, UNREADABLE)."""
        try:
            return cls(os.open(path, _DIR), path)
        except FileNotFoundError as exc:
            raise Unsafe(Problem.MISSING, path, error=exc) from exc
        except NotADirectoryError as exc:
            raise Unsafe(Problem.NOT_DIR, path, _lstat_path(path), exc) from exc
        except OSError as exc:
            raise Unsafe(Problem.UNREADABLE, path, error=exc) from exc

    def sub(
        self,
        name: str,
        *,
        create: int | None = None,
        accept: Callable[[os.stat_result], bool] | None = None,
    ) -> Dir:
        """The folder ``name`` inside this one, opened without following a link; made
        with mode ``create`` if it does not exist and ``create`` is given (then its
        ``made`` is True); refused (NOT_OURS) unless ``accept(its fstat)``. Raises
        :class:`Unsafe`."""
        path = self.path / name
        made = False
        try:
            fd = os.open(name, _DIR | os.O_NOFOLLOW, dir_fd=self.fd)
        except FileNotFoundError as exc:
            if create is None:
                raise Unsafe(Problem.MISSING, path, error=exc) from exc
            try:
                # made meanwhile by someone else: opened and checked below, as any
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, create, dir_fd=self.fd)
                    made = True
            except OSError as err:
                raise Unsafe(Problem.UNWRITABLE, path, error=err) from err
            try:
                fd = os.open(name, _DIR | os.O_NOFOLLOW, dir_fd=self.fd)
            except OSError as err:
                raise self._unsafe_dir(name, err) from err
        except OSError as exc:
            raise self._unsafe_dir(name, exc) from exc
        d = Dir(fd, path, made)
        if accept is not None and not accept(d.st):
            d.close()
            raise Unsafe(Problem.NOT_OURS, path, d.st)
        return d

    def _unsafe_dir(self, name: str, exc: OSError) -> Unsafe:
        path = self.path / name
        try:
            st: os.stat_result | None = self.lstat(name)
        except OSError:
            st = None
        if st is None and isinstance(exc, FileNotFoundError):
            return Unsafe(Problem.MISSING, path, error=exc)
        if st is not None and stat.S_ISLNK(st.st_mode):
            return Unsafe(Problem.LINK, path, st, exc)
        if exc.errno in (errno.ENOTDIR, errno.ELOOP) and st is not None:
            return Unsafe(Problem.NOT_DIR, path, st, exc)
        return Unsafe(Problem.UNREADABLE, path, st, exc)

    def chmod(self, mode: int) -> None:
        """Set this folder's mode (setgid and sticky included: no umask here)."""
        fd = os.open(".", _LIST, dir_fd=self.fd)
        try:
            os.fchmod(fd, mode)
        finally:
            os.close(fd)

    # -- looking -----------------------------------------------------------------
    def names(self) -> list[str]:
        fd = os.open(".", _LIST, dir_fd=self.fd)  # (an O_PATH descriptor cannot list)
        try:
            return os.listdir(fd)
        finally:
            os.close(fd)

    def lstat(self, name: str) -> os.stat_result | None:
        """What ``name`` is now (a link is not followed); None if it is not there."""
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return None

    def open_file(self, name: str, cap: int) -> Opened:
        """``name``, a regular file of at most ``cap`` bytes without holes, opened
        for reading. Raises :class:`Unsafe`; nothing of it has been read then."""
        path = self.path / name
        try:
            seen = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError as exc:
            raise Unsafe(Problem.MISSING, path, error=exc) from exc
        except OSError as exc:
            raise Unsafe(Problem.UNREADABLE, path, error=exc) from exc
        if stat.S_ISLNK(seen.st_mode):
            raise Unsafe(Problem.LINK, path, seen)
        if not stat.S_ISREG(seen.st_mode):
            raise Unsafe(Problem.NOT_FILE, path, seen)
        try:
            fd = os.open(name, FILE_FLAGS, dir_fd=self.fd)
        except OSError as exc:  # swapped since the lstat: look again
            now = self.lstat(name)
            if now is None:
                raise Unsafe(Problem.MISSING, path, error=exc) from exc
            if stat.S_ISLNK(now.st_mode):
                raise Unsafe(Problem.LINK, path, now, exc) from exc
            if not stat.S_ISREG(now.st_mode):
                raise Unsafe(Problem.NOT_FILE, path, now, exc) from exc
            raise Unsafe(Problem.UNREADABLE, path, now, exc) from exc
        return check(fd, path, cap)

    # -- changing ----------------------------------------------------------------
    def holds(self, name: str, which: Ident) -> bool:
        st = self.lstat(name)
        return st is not None and ident(st) == which

    def remove(self, name: str, which: Ident) -> bool:
        """Unlink ``name`` if it still holds the file ``which``. Whether it did."""
        if not self.holds(name, which):
            return False
        try:
            os.unlink(name, dir_fd=self.fd)
        except FileNotFoundError:
            return False
        return True

    def rename(self, name: str, new: str, which: Ident) -> bool:
        """Rename ``name`` to ``new`` (replacing it) within this folder, if ``name``
        still holds ``which``. Whether it did."""
        if not self.holds(name, which):
            return False
        try:
            os.replace(name, new, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except FileNotFoundError:
            return False
        return True

    def create(self, prefix: str, suffix: str, mode: int = 0o600) -> tuple[str, int]:
        """A new file with a random name (``O_EXCL``, never through a link): (name, fd).
        Raises :class:`Unsafe` (UNWRITABLE) if the folder refuses it; a full file
        system is its ``OSError`` (ENOSPC, EDQUOT)."""
        while True:
            # secrets.token_hex(8), without importing hmac, hashlib and random
            name = f"{prefix}{os.urandom(8).hex()}{suffix}"
            try:
                fd = os.open(name, _NEW, mode, dir_fd=self.fd)
            except FileExistsError:
                continue
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise
                raise Unsafe(Problem.UNWRITABLE, self.path, self.st, exc) from exc
            return name, fd

    @contextlib.contextmanager
    def writing(self, prefix: str, mode: int = 0o600) -> Iterator[tuple[str, BinaryIO]]:
        """A new hidden temp file (:meth:`create`), ``mode`` whatever the umask, open
        for writing: (name, file). Flushed and fsync'ed when the block ends; removed
        if it raises. The caller then gives it its name (:meth:`replace`,
        :meth:`place_new`) and calls :meth:`fsync`."""
        name, fd = self.create(prefix, ".tmp", mode)
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as fh:
                yield name, fh
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            self.unlink(name)
            raise

    def replace(self, src: str, dst: str) -> None:
        os.replace(src, dst, src_dir_fd=self.fd, dst_dir_fd=self.fd)

    def place_new(self, src: str, dst: str) -> None:
        """Give the complete file ``src`` the name ``dst`` only if nothing has that
        name, not even a dangling link; else FileExistsError (store/fs.py's
        ``place_new``, within this folder): a hard link, then ``src`` removed; where
        the file system has no hard links, an ``O_EXCL`` placeholder renamed over."""
        try:
            os.link(src, dst, src_dir_fd=self.fd, dst_dir_fd=self.fd, follow_symlinks=False)
        except FileExistsError:
            raise
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            os.close(os.open(dst, _NEW, 0o600, dir_fd=self.fd))
            try:
                self.replace(src, dst)
            except BaseException:
                self.unlink(dst)  # our empty placeholder
                raise
            return
        self.unlink(src)

    def unlink(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=self.fd)

    def exists(self, name: str) -> bool:
        return self.lstat(name) is not None

    def fsync(self) -> None:
        """Flush the folder's entries, where it may be read (else nothing)."""
        with contextlib.suppress(OSError):
            fd = os.open(".", _LIST, dir_fd=self.fd)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Dir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _lstat_path(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None
