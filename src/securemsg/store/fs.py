"""Filesystem helpers: atomic writes with private permissions, files that are
never written over, and safe names for files named by someone else.

Path-based front ends: the temp files, the no-replace naming and the folder fsync
are store/dirfd.py's :class:`Dir`, the one implementation (the drop folder uses it
directly)."""

from __future__ import annotations

import contextlib
import os
import stat
import unicodedata
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO, TypeVar

from securemsg.errors import ConflictError, UsageError
from securemsg.i18n import _
from securemsg.store.checked import Unsafe
from securemsg.store.dirfd import Dir

if TYPE_CHECKING:  # pathlib is imported where a Path is made: not by the listings
    from pathlib import Path

_P = TypeVar("_P", str, "Path")

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
SHARED_FILE = 0o640  # a file made in a folder shared with a group (setgid)

MAX_FILE_NAME = 200  # bytes of UTF-8: leaves room for " (NNNN)" under NAME_MAX (255)
MAX_SUFFIX = 16  # characters of an extension kept when a name is shortened
MAX_TRIES = 10_000  # names tried before giving up ("report (9999).pdf")


def ensure_private_dir(path: _P) -> _P:
    """Create ``path`` (and parents) if needed and make it 0700 (a ``str`` or a
    ``Path``: ``os.makedirs`` is ``Path.mkdir(parents=True)``, parents in the
    default mode, the folder itself in ``PRIVATE_DIR``)."""
    os.makedirs(path, mode=PRIVATE_DIR, exist_ok=True)
    os.chmod(path, PRIVATE_DIR)
    return path


def is_group_shared(directory: Path) -> bool:
    """A folder whose set-group-ID bit is set (``securemsg drop init``): the files
    made in it belong to its group, and the group must be able to read them."""
    return bool(os.stat(directory).st_mode & stat.S_ISGID)


def file_mode_in(directory: Path, private: int = PRIVATE_FILE) -> int:
    """The mode of a new file in ``directory``: group-readable in a group-shared
    folder (the recipient is another account of the group), else ``private``."""
    return SHARED_FILE if is_group_shared(directory) else private


@contextlib.contextmanager
def _folder(directory: Path) -> Iterator[Dir]:
    """``directory`` as a :class:`Dir` (store/dirfd.py: the one implementation of
    temp files, no-replace names and folder fsync); its problems surface as the
    system's errors, as from a path-based call."""
    try:
        with Dir.open(directory) as d:
            yield d
    except Unsafe as exc:
        if exc.error is None:
            raise
        err = exc.error
        raise type(err)(err.errno, err.strerror, str(exc.path)) from None
    except OSError as exc:
        # a name used relative to the folder's descriptor: say which folder
        if isinstance(exc.filename, str) and not os.path.isabs(exc.filename):
            exc.filename = str(directory / exc.filename)
        raise


@contextlib.contextmanager
def atomic_writer(
    path: Path, mode: int = PRIVATE_FILE, *, replace: bool = True
) -> Iterator[BinaryIO]:
    """Write to a temp file beside ``path``; fsync and rename on success.

    On any exception the temp file is removed and ``path`` is untouched. With
    ``replace=False`` the file takes its name only if nothing has it, not even
    a dangling symbolic link (:meth:`Dir.place_new`), else FileExistsError.
    """
    from pathlib import Path

    path = Path(path)
    with _folder(path.parent) as d:
        with d.writing(f".{path.name[:32]}.", mode) as (tmp, fh):
            yield fh
        try:
            if replace:
                d.replace(tmp, path.name)
            else:
                d.place_new(tmp, path.name)
        except BaseException:
            d.unlink(tmp)
            raise
        d.fsync()


def atomic_write(path: Path, data: bytes, mode: int = PRIVATE_FILE) -> None:
    with atomic_writer(path, mode) as fh:
        fh.write(data)


def write_new(path: Path, data: bytes, mode: int = PRIVATE_FILE) -> None:
    """An output file the user named: written atomically, never over an
    existing file or link (a usage error, exit 2, as for every ``-o FILE``)."""
    try:
        with atomic_writer(path, mode, replace=False) as fh:
            fh.write(data)
    except FileExistsError as exc:
        raise exists_error(path) from exc


def exists_error(path: Path) -> UsageError:
    return UsageError(
        _("{path} exists; refusing to overwrite it").format(path=path),
        hint=_("choose another file name"),
    )


def check_new_file(path: Path) -> None:
    """Before any work: ``path`` names nothing yet (not even a dangling link), in a
    folder that exists. The write itself still refuses to replace (a race)."""
    if os.path.lexists(path):
        raise exists_error(path)
    if not path.parent.is_dir():
        raise UsageError(_("folder {parent} does not exist").format(parent=path.parent))


def write_unique(directory: Path, name: str, data: bytes, mode: int = PRIVATE_FILE) -> Path:
    """``data`` in ``directory`` under ``name`` or, when that is taken,
    ``stem (2).ext``, ``stem (3).ext``...; a taken name that holds exactly
    ``data`` already (the same receipt written twice) is used as it is."""
    with _folder(directory) as d:
        with d.writing(".new-", mode) as (tmp, fh):
            fh.write(data)
        try:
            for candidate in unique_names(name):
                try:
                    d.place_new(tmp, candidate)
                except FileExistsError:
                    if _same_content(directory / candidate, data):
                        return directory / candidate
                    continue
                d.fsync()
                return directory / candidate
            raise _too_many(directory, name)
        finally:
            d.unlink(tmp)


def _same_content(path: Path, data: bytes) -> bool:
    """``path`` is a regular file (not a link) holding exactly ``data``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
            return False
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read(len(data) + 1) == data
    finally:
        os.close(fd)


def place_unique(tmp: Path, directory: Path, name: str) -> Path:
    """The complete file ``tmp`` (in ``directory``) under the first free name of
    :func:`unique_names`, never over a taken one, not even a dangling link
    (:meth:`Dir.place_new`)."""
    with _folder(directory) as d:
        for candidate in unique_names(name):
            try:
                d.place_new(tmp.name, candidate)
            except FileExistsError:
                continue
            d.fsync()
            return directory / candidate
    raise _too_many(directory, name)


def _too_many(directory: Path, name: str) -> ConflictError:
    return ConflictError(
        _("{directory} already holds {MAX_TRIES} files named like {name}").format(
            directory=directory, MAX_TRIES=MAX_TRIES, name=name
        ),
        hint=_("write into another folder"),
    )


def unique_names(name: str) -> Iterator[str]:
    """``report.pdf``, ``report (2).pdf``, ``report (3).pdf``, ..."""
    yield name
    stem, suffix = os.path.splitext(name)
    for k in range(2, MAX_TRIES + 1):
        yield f"{stem} ({k}){suffix}"


# Characters never kept in a file name: C0 and C1 controls, DEL, format
# characters (bidi overrides, zero-width), line and paragraph separators,
# surrogates; a slash or backslash ends a folder name, so only the last part counts.
_REPLACED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def safe_file_name(name: str, default: str = "attachment") -> str:
    """A file name from a name someone else chose (an attachment's): the last
    part of a path only; controls, format and bidi characters replaced by ``_``;
    no leading dot, dash or space (no hidden file, no option); at most
    :data:`MAX_FILE_NAME` bytes, the extension kept; never empty."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join("_" if unicodedata.category(c) in _REPLACED_CATEGORIES else c for c in name)
    name = name.lstrip(". -\t").rstrip(" ")
    if len(name.encode("utf-8")) > MAX_FILE_NAME:
        stem, suffix = os.path.splitext(name)
        if len(suffix) > MAX_SUFFIX:
            stem, suffix = name, ""
        budget = MAX_FILE_NAME - len(suffix.encode("utf-8"))
        stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore")
        name = stem + suffix
    return name or default
