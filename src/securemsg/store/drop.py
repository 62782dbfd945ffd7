"""The drop folder shared between practitioners (network share, synced folder,
or a folder of a server shared by several Unix accounts).

    DROP/<recipient fingerprint>/<message id>.smsg                 letters
    DROP/<sender fingerprint>/<message id>.<recipient fp>.receipt  receipts
    DROP/<sender fingerprint>/<message id>.<recipient fp>.refusal  refusal notices

Every write is atomic (hidden temp name, then rename). A file is removed only
after the mailbox has committed what it carried.

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
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from securemsg.errors import ConflictError, DropPermissionError, NotFoundError, UsageError
from securemsg.store.fs import PRIVATE_DIR, atomic_write, file_mode_in, is_group_shared

_FP = re.compile(r"^[0-9a-f]{40}$")
_NAME = re.compile(r"^[0-9a-f]{32}(\.[0-9a-f]{40})?\.(smsg|receipt|refusal)$")

SHARED_DROP = 0o3770
SHARED_FOLDER = 0o3730
PROOF_FILE = 0o644  # a private drop folder's proofs (a shared one's: 0640)


def is_fingerprint(name: str) -> bool:
    """A mailbox folder's name: a fingerprint, 40 lowercase hex digits."""
    return bool(_FP.match(name))


def folder_path(drop: Path, fp: str) -> Path:
    """Where ``fp``'s folder is in the drop folder (it may not exist yet)."""
    if not _FP.match(fp):
        raise UsageError("bad fingerprint for a drop folder")
    return drop / fp


def check_drop(drop: Path) -> None:
    """The drop folder exists (a usage error otherwise)."""
    if not drop.is_dir():
        raise UsageError(
            f"the drop folder {drop} does not exist",
            hint="create it, or check the path of the shared folder",
        )


def folder(drop: Path, fp: str) -> Path:
    """My own folder (``fp`` is mine) in the drop folder, made if needed: 0700,
    or 3730 in a shared drop folder."""
    d = folder_path(drop, fp)
    check_drop(drop)
    if not is_group_shared(drop):
        d.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        return d
    try:
        os.mkdir(d, PRIVATE_DIR)
    except FileExistsError:
        _check_mine(d, drop)
        return d
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        os.fchmod(fd, SHARED_FOLDER)  # mkdir's mode loses setgid and sticky to umask rules
    finally:
        os.close(fd)
    return d


def _check_mine(d: Path, drop: Path) -> None:
    """In a shared drop folder, my folder is my account's: one made by a sender
    (an older securemsg did) is not, and its owner could remove what others wrote."""
    st = os.lstat(d)
    me = os.geteuid()
    if stat.S_ISDIR(st.st_mode) and me not in (0, st.st_uid):
        owner = user_name(st.st_uid)
        raise DropPermissionError(
            f"your folder {d} in the shared drop folder was made by {owner}, not by you "
            f"({user_name(me)})",
            hint=(
                f"ask an administrator to move it aside (`mv {d} {d}.old`), then run "
                f"`securemsg receive --drop {drop}` again: it makes your own folder; the "
                f"letters left in the old one can be received with `securemsg receive FILE`"
            ),
        )


def their_folder(drop: Path, fp: str, who: str | None = None) -> Path:
    """Another mailbox's folder (a recipient's, or an author's for a proof): made
    if needed in a private drop folder; in a shared one it must exist already,
    made by its owner's own account."""
    d = folder_path(drop, fp)
    check_drop(drop)
    if not is_group_shared(drop):
        d.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        return d
    try:
        os.lstat(d)  # (os.path.lexists would hide a permission error)
    except FileNotFoundError:
        name = who or f"the mailbox {fp[:16]}"
        raise NotFoundError(
            f"{name} has no folder in the shared drop folder {drop} yet",
            hint=(
                f"ask them to run `securemsg receive --drop {drop}` once: it makes their "
                "own folder (a folder made by anyone else would not be theirs)"
            ),
        ) from None
    return d


def letter_path(drop: Path, recipient_fp: str, message_id: str, who: str | None = None) -> Path:
    return their_folder(drop, recipient_fp, who) / f"{message_id}.smsg"


def proof_path(drop: Path, sender_fp: str, message_id: str, recipient_fp: str, kind: str) -> Path:
    return their_folder(drop, sender_fp) / f"{message_id}.{recipient_fp}.{kind}"


def put_proof(
    drop: Path, sender_fp: str, message_id: str, recipient_fp: str, kind: str, data: bytes
) -> Path:
    path = proof_path(drop, sender_fp, message_id, recipient_fp, kind)
    try:
        atomic_write(path, data, mode=file_mode_in(path.parent, PROOF_FILE))
    except PermissionError as exc:
        # In a shared drop folder (sticky) no account replaces a file another
        # wrote: a correspondent of the same letter may have put one there first.
        owner = _other_owner(path)
        if owner is None:
            raise
        raise ConflictError(
            f"the {kind} for letter {message_id} cannot be put in its author's folder: "
            f"{path} holds a file written by {owner}",
            hint=(
                "the letter stays in your folder and its proof is put there again at your "
                "next `receive --drop`, once the author's mailbox has set that file aside"
            ),
        ) from exc
    return path


def _other_owner(path: Path) -> str | None:
    """The account owning ``path``, if it exists and is not mine."""
    try:
        uid = os.lstat(path).st_uid
    except OSError:
        return None
    return None if uid == os.geteuid() else user_name(uid)


def collect(drop: Path, my_fp: str) -> list[Path]:
    """What waits for me, oldest name first; temp files and strangers ignored."""
    d = folder(drop, my_fp)
    return sorted(p for p in d.iterdir() if _NAME.match(p.name) and p.is_file())


def remove(path: Path) -> None:
    """A file whose content the mailbox has committed (gone already: fine)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def set_aside(path: Path) -> None:
    """A refused file: renamed ``NAME.refused``, kept for inspection, never collected again."""
    with contextlib.suppress(FileNotFoundError):
        os.replace(path, path.with_name(path.name + ".refused"))


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
            f"permission denied: {where} (in the drop folder {drop}, which is not set up "
            "for several Unix accounts)",
            hint=(
                "a drop folder shared by several Unix accounts is set up once, by its owner "
                f"or root: `securemsg drop init {drop} --group GROUP`, every user a member "
                "of GROUP"
            ),
        )
    group, user = group_name(st.st_gid), user_name(os.geteuid())
    if not is_member(st.st_gid):
        return DropPermissionError(
            f"you ({user}) are not a member of the group {group}, which shares the drop "
            f"folder {drop}",
            hint=f"ask an administrator to add you (`usermod -aG {group} {user}`), then log in "
            "again",
        )
    return DropPermissionError(
        f"permission denied: {where} (in the shared drop folder {drop}): it was made "
        f"without access for the group {group}",
        hint=(
            f"repair the permissions: `securemsg drop init {drop} --group {group}`, run by "
            "root (or by the owner of what was refused)"
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
