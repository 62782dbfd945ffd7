"""The drop folder shared between practitioners (network share, synced folder,
or a folder of a server shared by several Unix accounts).

    DROP/<recipient fingerprint>/<message id>.smsg                 letters
    DROP/<sender fingerprint>/<message id>.<recipient fp>.receipt  receipts
    DROP/<sender fingerprint>/<message id>.<recipient fp>.refusal  refusal notices

Whoever can write to the drop folder can put anything there, so it is used like
a hostile directory (store/dirfd.py): a mailbox's folder is opened without
following a link and must be a folder that belongs to me, to root or to one of
my groups (:func:`accepted_owner`); the files in it are opened relative to it
and checked before a byte is read (store/drop_files.py). Every write is atomic
(a hidden temp file made with ``O_EXCL``, then renamed within the folder). A
file is removed only after the mailbox has committed what it carried, and only
while its name still holds the file that was read.

Permissions. A drop folder used by one account (or synchronised between
machines) stays private: folders 0700, letters 0600, proofs 0644. A drop folder
shared by the Unix accounts of a group is set up once by
``securemsg drop init DIR --group G`` (store/drop_share.py) and recognised by
its set-group-ID bit:

    DROP       3770  group G; setgid: every folder made in it is G's; sticky:
                     only a folder's owner (or DROP's) may rename or remove it
    DROP/<fp>  3730  made by <fp>'s own account (receive or send --drop): the
                     owner lists, reads and removes; the group may add files
                     but not list them; setgid; sticky: a member may remove
                     only the files it wrote
    files      0640  the owner of the folder, another account of the group,
                     reads them (their content is end-to-end encrypted)

In a shared drop folder a sender never makes a recipient's folder, which
would then be the sender's: the recipient makes it, once.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from securemsg.errors import (
    ConflictError,
    DropFolderError,
    DropPermissionError,
    NotFoundError,
    SecureMsgError,
    UsageError,
)
from securemsg.i18n import _
from securemsg.store.checked import Problem, Unsafe
from securemsg.store.dirfd import Dir
from securemsg.store.drop_files import describe
from securemsg.store.fs import PRIVATE_DIR, SHARED_FILE
from securemsg.store.space import is_full, no_space

_FP = re.compile(r"^[0-9a-f]{40}$")

SHARED_DROP = 0o3770
SHARED_FOLDER = 0o3730
PROOF_FILE = 0o644  # a private drop folder's proofs (a shared one's: 0640)
_DENIED = (errno.EACCES, errno.EPERM)


def is_fingerprint(name: str) -> bool:
    """A mailbox folder's name: a fingerprint, 40 lowercase hex digits."""
    return bool(_FP.match(name))


def folder_path(drop: Path, fp: str) -> Path:
    """Where ``fp``'s folder is in the drop folder (it may not exist yet)."""
    if not _FP.match(fp):
        raise UsageError(_("bad fingerprint for a drop folder"))
    return drop / fp


def is_shared(d: Dir) -> bool:
    """A folder set up for a group (its set-group-ID bit, ``drop init``)."""
    return bool(d.st.st_mode & stat.S_ISGID)


# -- folders -------------------------------------------------------------------------
def open_drop(drop: Path) -> Dir:
    """The drop folder itself (the path the user gave: links of their own allowed)."""
    try:
        return Dir.open(drop)
    except Unsafe as exc:
        if exc.problem in (Problem.MISSING, Problem.NOT_DIR):
            raise UsageError(
                (
                    _("the drop folder {drop} does not exist")
                    if exc.problem is Problem.MISSING
                    else _("the drop folder {drop} is not a folder")
                ).format(drop=drop),
                hint=_("create it, or check the path of the shared folder"),
            ) from exc
        raise folder_error(exc, drop) from exc


def accepted_owner(st: os.stat_result) -> bool:
    """A mailbox's folder must belong to me or root, or to a group I am in (a
    drop folder shared by several accounts through a group)."""
    return st.st_uid in (os.geteuid(), 0) or is_member(st.st_gid)


def make_mine(root: Dir, fp: str) -> Dir:
    """My own folder (``fp`` is mine), checked, made if needed: 0700, or 3730 in a
    shared drop folder, where an existing one must be my account's (one made by
    a sender, as an older securemsg did, is not: its owner could remove what
    others wrote)."""
    folder_path(root.path, fp)
    try:
        d = root.sub(fp, create=PRIVATE_DIR, accept=accepted_owner)
        if is_shared(root) and d.made:
            d.chmod(SHARED_FOLDER)  # mkdir's mode loses setgid and sticky to umask rules
    except Unsafe as exc:
        raise folder_error(exc, root.path) from exc
    me = os.geteuid()
    if is_shared(root) and me not in (0, d.st.st_uid):
        owner = user_name(d.st.st_uid)
        d.close()
        raise DropPermissionError(
            _(
                "your folder {path} in the shared drop folder was made by {owner}, not "
                "by you ({me})"
            ).format(path=d.path, owner=owner, me=user_name(me)),
            hint=(
                _(
                    "ask an administrator to move it aside (`mv {path} {path}.old`), then "
                    "run `securemsg receive --drop {path2}` again: it makes your own folder; "
                    "the letters left in the old one can be received with `securemsg receive "
                    "FILE`"
                ).format(path=d.path, path2=root.path)
            ),
        )
    return d


def open_theirs(root: Dir, fp: str, who: str | None = None) -> Dir | None:
    """Another mailbox's folder (a recipient's, or an author's for a proof),
    checked; None if it does not exist yet in a private drop folder (it is made
    when written to: :func:`make_theirs`); in a shared one it must exist, made by
    its owner's own account (:class:`NotFoundError`)."""
    folder_path(root.path, fp)
    try:
        return root.sub(fp, accept=accepted_owner)
    except Unsafe as exc:
        if exc.problem is not Problem.MISSING:
            raise folder_error(exc, root.path) from exc
        if not is_shared(root):
            return None
        name = who or _("the mailbox {fp}").format(fp=fp[:16])
        raise NotFoundError(
            _("{name} has no folder in the shared drop folder {path} yet").format(
                name=name, path=root.path
            ),
            hint=(
                _(
                    "ask them to run `securemsg receive --drop {path}` once: it makes their "
                    "own folder (a folder made by anyone else would not be theirs)"
                ).format(path=root.path)
            ),
        ) from None


def make_theirs(root: Dir, fp: str, who: str | None = None) -> Dir:
    """:func:`open_theirs`, made (0700) if it does not exist in a private drop folder."""
    d = open_theirs(root, fp, who)
    if d is not None:
        return d
    try:
        return root.sub(fp, create=PRIVATE_DIR, accept=accepted_owner)
    except Unsafe as exc:
        raise folder_error(exc, root.path) from exc


def folder_error(exc: Unsafe, drop: Path) -> SecureMsgError:
    """A folder of the drop folder that cannot be used, in words."""
    path = exc.path
    if exc.problem is Problem.LINK:
        return DropFolderError(
            _(
                "{path} is a symbolic link, not a folder: securemsg does not follow "
                "links in the drop folder"
            ).format(path=path),
            hint=_(
                "someone who can write to the drop folder put it there; remove the link "
                "itself (rm {path}, without a trailing slash) and run again"
            ).format(path=path),
        )
    if exc.problem is Problem.NOT_DIR:
        return DropFolderError(
            _("{path} is not a folder: it is {st}").format(path=path, st=describe(exc.st)),
            hint=_(
                "move it out of the drop folder (it holds no letter); the folder is made "
                "again by the next send or receive"
            ),
        )
    err = exc.error
    if exc.problem is Problem.NOT_OURS or (err is not None and err.errno in _DENIED):
        # someone else's folder, or one closed to me: what the drop folder's set-up says
        return denied(PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path)), drop)
    if err is not None and is_full(err):
        return no_space(path, err)
    why = os.strerror(err.errno) if err is not None and err.errno else _("not usable")
    doing = _("write to") if exc.problem is Problem.UNWRITABLE else _("use")
    return DropFolderError(
        _("cannot {doing} {path}: {why}").format(doing=doing, path=path, why=why),
        hint=_("check that you may read and write it (its owner, group and mode)"),
    )


# -- writing -----------------------------------------------------------------------------
def write_into(folder: Dir, name: str, data: bytes, mode: int) -> Path:
    """``data`` as ``folder/name`` (replacing it): a hidden temp file (``O_EXCL``),
    fsync'ed, renamed within the folder."""
    with folder.writing(f".{name[:32]}.", mode) as (tmp, fh):
        fh.write(data)
    try:
        folder.replace(tmp, name)
    except BaseException:
        folder.unlink(tmp)
        raise
    folder.fsync()
    return folder.path / name


def put_proof(
    root: Dir, sender_fp: str, message_id: str, recipient_fp: str, kind: str, data: bytes
) -> Path:
    """A receipt or refusal notice into its sender's folder. Raises a
    :class:`SecureMsgError` if it cannot be put there (the caller keeps the
    letter, so the next receive puts it there again)."""
    name = f"{message_id}.{recipient_fp}.{kind}"
    with make_theirs(root, sender_fp) as folder:
        mode = SHARED_FILE if is_shared(folder) else PROOF_FILE
        try:
            return write_into(folder, name, data, mode)
        except Unsafe as exc:
            raise folder_error(exc, root.path) from exc
        except PermissionError as exc:
            # In a shared drop folder (sticky) no account replaces a file another
            # wrote: a correspondent of the same letter may have put one there first.
            st = folder.lstat(name)
            if st is None or st.st_uid == os.geteuid():
                unsafe = Unsafe(Problem.UNWRITABLE, folder.path, error=exc)
                raise folder_error(unsafe, root.path) from exc
            raise ConflictError(
                _(
                    "the {kind} for letter {message_id} cannot be put in its author's "
                    "folder: {value} holds a file written by {st_uid}"
                ).format(
                    kind=kind,
                    message_id=message_id,
                    value=folder.path / name,
                    st_uid=user_name(st.st_uid),
                ),
                hint=(
                    _(
                        "the letter stays in your folder and its proof is put there again at "
                        "your next `receive --drop`, once the author's mailbox has set that file "
                        "aside"
                    )
                ),
            ) from exc
        except OSError as exc:
            unsafe = Unsafe(Problem.UNWRITABLE, folder.path, error=exc)
            raise folder_error(unsafe, root.path) from exc


def put_statement(root: Dir, fp: str, name: str, data: bytes, who: str) -> Path:
    """A key statement (``key announce``) into a contact's folder, made if needed
    in a private drop folder; the same name again replaces the same content."""
    with make_theirs(root, fp, who) as folder:
        mode = SHARED_FILE if is_shared(folder) else PROOF_FILE
        try:
            return write_into(folder, name, data, mode)
        except Unsafe as exc:
            raise folder_error(exc, root.path) from exc
        except OSError as exc:
            unsafe = Unsafe(Problem.UNWRITABLE, folder.path, error=exc)
            raise folder_error(unsafe, root.path) from exc


# -- permission errors ----------------------------------------------------------------
@contextlib.contextmanager
def permission_errors(drop: Path | None) -> Iterator[None]:
    """Inside: the system's refusal to let this account into the drop folder
    becomes a :class:`DropPermissionError` that says why and what to do."""
    try:
        yield
    except PermissionError as exc:
        if drop is None or not _inside(exc, drop):
            raise
        raise denied(exc, drop) from exc


def _inside(exc: OSError, drop: Path) -> bool:
    top = os.path.abspath(drop)
    for name in (exc.filename, exc.filename2):
        if isinstance(name, str | bytes):
            where = os.path.abspath(os.fsdecode(name))
            if where == top or where.startswith(top + os.sep):
                return True
    return False


def denied(exc: OSError, drop: Path) -> DropPermissionError:
    """Why this account may not do what it tried in ``drop``, and what to do."""
    where = os.fsdecode(exc.filename) if exc.filename is not None else str(drop)
    try:
        st = os.stat(drop)
    except OSError:
        st = None
    if st is None or not st.st_mode & stat.S_ISGID:
        return DropPermissionError(
            _(
                "permission denied: {where} (in the drop folder {drop}, which is not set "
                "up for several Unix accounts)"
            ).format(where=where, drop=drop),
            hint=(
                _(
                    "a drop folder shared by several Unix accounts is set up once, by its "
                    "owner or root: `securemsg drop init {drop} --group GROUP`, every user a "
                    "member of GROUP"
                ).format(drop=drop)
            ),
        )
    group, user = group_name(st.st_gid), user_name(os.geteuid())
    if not is_member(st.st_gid):
        return DropPermissionError(
            _(
                "you ({user}) are not a member of the group {group}, which shares the "
                "drop folder {drop}"
            ).format(user=user, group=group, drop=drop),
            hint=_(
                "ask an administrator to add you (`usermod -aG {group} {user}`), then log in again"
            ).format(group=group, user=user),
        )
    return DropPermissionError(
        _(
            "permission denied: {where} (in the shared drop folder {drop}): it was "
            "made without access for the group {group}"
        ).format(where=where, drop=drop, group=group),
        hint=(
            _(
                "repair the permissions: `securemsg drop init {drop} --group {group}`, "
                "run by root (or by the owner of what was refused)"
            ).format(drop=drop, group=group)
        ),
    )


def group_name(gid: int) -> str:
    import grp  # lazily: Unix only

    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def user_name(uid: int) -> str:
    import pwd  # lazily: Unix only

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def is_member(gid: int) -> bool:
    return gid == os.getegid() or gid in os.getgroups()
