"""Setting up a drop folder shared by several Unix accounts of one group
(``securemsg drop init DIR --group G``), and repairing one.

The modes are store/drop.py's: the drop folder 3770 (group G, setgid, sticky),
each mailbox's folder 3730, files 0640. Run by the drop folder's owner (a
member of G) or by root. A drop folder used before (by one account, or made
by an older securemsg) is converted: every mailbox folder and file the caller
may change gets group G and its mode; what it may not change (another
account's, unless root; a symbolic link; anything but a folder or a regular
file) is left as it is and listed.

Every change is made through a descriptor opened without following links and
checked with fstat: a member of the group who swaps a file for a link to
``/etc/shadow`` while root repairs the folder gets nothing.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from securemsg.errors import DropPermissionError, UsageError
from securemsg.i18n import _
from securemsg.store.drop import SHARED_DROP, SHARED_FOLDER, is_fingerprint, user_name
from securemsg.store.fs import SHARED_FILE

_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK


@dataclass(frozen=True, slots=True)
class Left:
    """Something in the drop folder that was not repaired, and why."""

    path: Path
    why: str


@dataclass(frozen=True, slots=True)
class Shared:
    drop: Path
    group: str
    gid: int
    created: bool  # the drop folder was made
    changed: bool  # its group or mode was changed (False: it was set up already)
    repaired: int  # mailbox folders and files given the group and their mode
    left: tuple[Left, ...]


def resolve_group(group: str) -> tuple[str, int]:
    """A group's name and id, from its name (or its number)."""
    import grp  # lazily: Unix only

    try:
        g = grp.getgrgid(int(group)) if group.isdigit() else grp.getgrnam(group)
    except (KeyError, OverflowError) as exc:
        raise UsageError(
            _("there is no group {group}").format(group=group),
            hint=(
                _(
                    "create it (`groupadd NAME`) and add every user of the drop folder to it "
                    "(`usermod -aG NAME USER`)"
                )
            ),
        ) from exc
    return g.gr_name, g.gr_gid


def share(drop: Path, group: str) -> Shared:
    """Make ``drop`` (if needed) a drop folder shared by ``group``; repair its contents."""
    name, gid = resolve_group(group)
    created = False
    if not os.path.lexists(drop):
        if not drop.absolute().parent.is_dir():
            raise UsageError(
                _("folder {parent} does not exist").format(parent=drop.absolute().parent)
            )
        os.mkdir(drop, 0o700)
        created = True
    try:
        fd = os.open(drop, os.O_RDONLY | os.O_DIRECTORY)
    except NotADirectoryError as exc:
        raise UsageError(
            _("{drop} is not a folder").format(drop=drop), hint=_("give the drop folder's path")
        ) from exc
    try:
        changed = _give(fd, drop, gid, name, SHARED_DROP)
        repaired, left = _repair(fd, drop, gid, name)
    finally:
        os.close(fd)
    return Shared(drop, name, gid, created, changed, repaired, tuple(left))


def _give(fd: int, path: Path, gid: int, group: str, mode: int) -> bool:
    """Group ``gid`` and ``mode`` for the open ``fd``; True if anything changed."""
    st = os.fstat(fd)
    if st.st_gid == gid and stat.S_IMODE(st.st_mode) == mode:
        return False
    try:
        if st.st_gid != gid:
            os.fchown(fd, -1, gid)
        os.fchmod(fd, mode)  # after chown, which may clear the setgid bit
    except PermissionError as exc:
        raise _cannot(path, st, group) from exc
    return True


def _cannot(path: Path, st: os.stat_result, group: str) -> DropPermissionError:
    me = os.geteuid()
    owner, user = user_name(st.st_uid), user_name(me)
    if me not in (0, st.st_uid):
        return DropPermissionError(
            _("only the owner of {path} ({owner}) or root may share it; you are {user}").format(
                path=path, owner=owner, user=user
            ),
            hint=_(
                "run `securemsg drop init {path} --group {group}` as {owner}, or with sudo"
            ).format(path=path, group=group, owner=owner),
        )
    return DropPermissionError(
        _(
            "you ({user}) are not a member of the group {group}, so you cannot give {path} to it"
        ).format(user=user, group=group, path=path),
        hint=_(
            "join it (`usermod -aG {group} {user}`, then log in again), or run this with sudo"
        ).format(group=group, user=user),
    )


def _repair(dfd: int, drop: Path, gid: int, group: str) -> tuple[int, list[Left]]:
    repaired, left = 0, []
    for entry in sorted(os.scandir(dfd), key=lambda e: e.name):
        if not is_fingerprint(entry.name):
            continue  # not a mailbox folder: none of securemsg's business
        path = drop / entry.name
        try:
            fd = os.open(entry.name, _FOLDER, dir_fd=dfd)
        except OSError:
            left.append(Left(path, _("not a folder (or a symbolic link)")))
            continue
        try:
            why = _not_mine(os.fstat(fd))
            if why is not None:
                left.append(Left(path, why))
                continue
            repaired += _give(fd, path, gid, group, SHARED_FOLDER)
            n, more = _repair_files(fd, path, gid, group)
            repaired += n
            left.extend(more)
        finally:
            os.close(fd)
    return repaired, left


def _repair_files(dfd: int, folder: Path, gid: int, group: str) -> tuple[int, list[Left]]:
    repaired, left = 0, []
    for entry in sorted(os.scandir(dfd), key=lambda e: e.name):
        path = folder / entry.name
        if not entry.is_file(follow_symlinks=False):
            left.append(Left(path, _("not a regular file")))
            continue
        try:
            fd = os.open(entry.name, _FILE, dir_fd=dfd)
        except OSError as exc:
            left.append(
                Left(path, _("cannot be opened ({strerror})").format(strerror=exc.strerror))
            )
            continue
        try:
            st = os.fstat(fd)
            why = _("not a regular file") if not stat.S_ISREG(st.st_mode) else _not_mine(st)
            if why is not None:
                left.append(Left(path, why))
                continue
            repaired += _give(fd, path, gid, group, SHARED_FILE)
        finally:
            os.close(fd)
    return repaired, left


def _not_mine(st: os.stat_result) -> str | None:
    """Why this account may not change it (None: it may)."""
    me = os.geteuid()
    if me in (0, st.st_uid):
        return None
    owner = user_name(st.st_uid)
    return _("owned by {owner}: run `securemsg drop init` again as {owner} or as root").format(
        owner=owner
    )
