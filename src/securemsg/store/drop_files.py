"""The files waiting in my folder of the drop folder, one at a time
(store/drop.py opens the folder; store/dirfd.py does the I/O).

Whatever a name holds is checked when it is opened, before a byte is read: a
link, folder, FIFO, socket or device is refused unopened, so is a file larger
than the largest of its kind or a sparse one; a file I may not read is skipped
and left in place. Each problem is worded here and reported on its own: one bad
file never stops the others. A refused file is renamed ``NAME.refused`` (kept
for inspection, never collected again); a file is removed once the mailbox has
committed it; both only while its name still holds the file that was checked.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from securemsg.core.frozen import Frozen, _set
from securemsg.errors import (
    DropFolderError,
    NotAFileError,
    SecureMsgError,
    SparseFileError,
    TooLargeError,
    UnreadableError,
)
from securemsg.i18n import N_, _
from securemsg.store.checked import Ident, Opened, Problem, Unsafe
from securemsg.store.dirfd import Dir

_NAME = re.compile(r"^[0-9a-f]{32}(\.[0-9a-f]{40})?\.(smsg|receipt|refusal|statement)$")
REFUSED = ".refused"


def collect(folder: Dir) -> list[str]:
    """The names waiting in ``folder``, oldest name first; temp files, set-aside
    files and strangers ignored. What each name holds is checked when it is opened."""
    return sorted(n for n in folder.names() if _NAME.match(n))


class Bad(Frozen):
    """A name that cannot be read: why, and what it held when it was checked
    (set it aside only while it still holds that)."""

    __slots__ = ("error", "ident")
    error: SecureMsgError
    ident: Ident | None

    def __init__(self, error: SecureMsgError, ident: Ident | None) -> None:
        _set(self, "error", error)
        _set(self, "ident", ident)

    @property
    def keep(self) -> bool:
        """Leave it where it is (it may become readable), rather than set it aside."""
        return isinstance(self.error, UnreadableError)


def open_entry(folder: Dir, name: str, cap: int) -> Opened | Bad | None:
    """``name`` in ``folder``, opened and checked (``cap``: the largest file of its
    kind); a :class:`Bad` when it cannot be read; None when it is gone (another
    receiver took it)."""
    try:
        return folder.open_file(name, cap)
    except Unsafe as exc:
        if exc.problem is Problem.MISSING:
            return None
        return Bad(file_error(exc), exc.ident)


def file_error(exc: Unsafe) -> SecureMsgError:
    """A file that cannot be read, in words (a drop folder's or one the user named;
    the report gives its path, the message its name)."""
    name = exc.path.name
    if exc.problem in (Problem.LINK, Problem.NOT_FILE):
        return NotAFileError(
            _("{name} is {st}, not a letter file: not opened").format(
                name=name, st=describe(exc.st)
            ),
            hint=_(
                "a letter, receipt or refusal notice is a regular file; check who can "
                "write where it was found"
            ),
        )
    if exc.problem is Problem.TOO_LARGE and exc.st is not None:
        return TooLargeError(
            _(
                "{name} is {st_size} bytes, more than any sender writes ({cap} bytes at "
                "most): not read"
            ).format(name=name, st_size=exc.st.st_size, cap=exc.cap),
            hint=_("no sender writes such a file; check who can write where it was found"),
        )
    if exc.problem is Problem.SPARSE and exc.st is not None:
        return SparseFileError(
            _(
                "{name} is a sparse file ({st_size} bytes, with holes never written): no "
                "sender writes one; not read"
            ).format(name=name, st_size=exc.st.st_size),
            hint=_("check who can write where it was found"),
        )
    return unreadable(exc.path, exc.error)


def unreadable(path: Path, err: OSError | None) -> UnreadableError:
    why = os.strerror(err.errno) if err is not None and err.errno else _("cannot be read")
    return UnreadableError(
        _("cannot read {name}: {why}").format(name=path.name, why=why),
        hint=_(
            "check its owner and permissions; it is left where it is, and the next "
            "receive takes it once it can be read"
        ),
    )


def describe(st: os.stat_result | None) -> str:
    """What a file is, in words."""
    if st is None:
        return _("missing")
    mode = st.st_mode
    for test, words in (
        (stat.S_ISLNK, N_("a symbolic link")),
        (stat.S_ISDIR, N_("a folder")),
        (stat.S_ISFIFO, N_("a FIFO (named pipe)")),
        (stat.S_ISSOCK, N_("a socket")),
        (stat.S_ISCHR, N_("a device")),
        (stat.S_ISBLK, N_("a device")),
        (stat.S_ISREG, N_("a regular file")),
    ):
        if test(mode):
            return _(words)
    return _("not a regular file")


def remove(folder: Dir, name: str, which: Ident) -> SecureMsgError | None:
    """A file whose content the mailbox has committed, removed if its name still
    holds it (gone already, or replaced since: left alone). The problem, if any."""
    try:
        folder.remove(name, which)
    except OSError as exc:
        return _cannot(folder, name, _("remove"), exc)
    return None


def set_aside(folder: Dir, name: str, which: Ident | None) -> SecureMsgError | None:
    """A refused file, renamed ``NAME.refused`` (kept for inspection, never collected
    again) if its name still holds what was checked. The problem, if any."""
    if which is None:
        return None
    try:
        folder.rename(name, name + REFUSED, which)
    except OSError as exc:
        return _cannot(folder, name, _("set aside"), exc)
    return None


def _cannot(folder: Dir, name: str, what: str, exc: OSError) -> DropFolderError:
    return DropFolderError(
        _("cannot {what} {value}: {strerror}").format(
            what=_(what), value=folder.path / name, strerror=os.strerror(exc.errno or 0)
        ),
        hint=_("check that you may write to {path}; the next receive tries again").format(
            path=folder.path
        ),
    )


def expire_refused(folder: Dir, now: int, days: int) -> int:
    """Remove the files set aside (``NAME.refused``) more than ``days`` days ago
    (the later of their modification and status-change times: the rename that set
    one aside counts); how many. A file that cannot be removed is left for the
    next receive."""
    gone = 0
    for name in folder.names():
        if not name.endswith(REFUSED):
            continue
        st = folder.lstat(name)
        if st is None or now - int(max(st.st_mtime, st.st_ctime)) < days * 86400:
            continue
        try:
            folder.unlink(name)
            gone += 1
        except OSError:
            pass
    return gone
