"""``drop init``: a drop folder shared by several Unix accounts of one group
(the permission model is store/drop.py's; the setting up, store/drop_share.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from securemsg.store.drop import SHARED_DROP, SHARED_FOLDER
from securemsg.store.drop_share import share
from securemsg.store.fs import SHARED_FILE


@dataclass(frozen=True, slots=True)
class DropSetup:
    drop: Path
    group: str
    created: bool  # the folder was made
    changed: bool  # its group or mode was set now (False: it was set up already)
    repaired: int  # mailbox folders and files given the group and their mode
    left: tuple[tuple[Path, str], ...]  # what was not repaired, and why
    drop_mode: int = SHARED_DROP
    folder_mode: int = SHARED_FOLDER
    file_mode: int = SHARED_FILE


def init(drop: Path, group: str) -> DropSetup:
    """Make ``drop`` (if needed) a drop folder shared by ``group``: run by its
    owner (a member of the group) or root. Needs no identity."""
    s = share(drop, group)
    left = tuple((x.path, x.why) for x in s.left)
    return DropSetup(s.drop, s.group, s.created, s.changed, s.repaired, left)
