"""The drop folder shared between practitioners (network share, synced folder).

    DROP/<recipient fingerprint>/<message id>.smsg                 letters
    DROP/<sender fingerprint>/<message id>.<recipient fp>.receipt  receipts
    DROP/<sender fingerprint>/<message id>.<recipient fp>.refusal  refusal notices

Every write is atomic (hidden temp name, then rename). A file is removed only
after the mailbox has committed what it carried.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from securemsg.errors import UsageError
from securemsg.store.fs import atomic_write

_FP = re.compile(r"^[0-9a-f]{40}$")
_NAME = re.compile(r"^[0-9a-f]{32}(\.[0-9a-f]{40})?\.(smsg|receipt|refusal)$")


def folder_path(drop: Path, fp: str) -> Path:
    """Where ``fp``'s folder is in the drop folder (it may not exist yet)."""
    if not _FP.match(fp):
        raise UsageError("bad fingerprint for a drop folder")
    return drop / fp


def folder(drop: Path, fp: str) -> Path:
    """``fp``'s folder in the drop folder, made if needed."""
    d = folder_path(drop, fp)
    if not drop.is_dir():
        raise UsageError(
            f"the drop folder {drop} does not exist",
            hint="create it, or check the path of the shared folder",
        )
    d.mkdir(mode=0o700, exist_ok=True)
    return d


def letter_path(drop: Path, recipient_fp: str, message_id: str) -> Path:
    return folder(drop, recipient_fp) / f"{message_id}.smsg"


def proof_path(drop: Path, sender_fp: str, message_id: str, recipient_fp: str, kind: str) -> Path:
    return folder(drop, sender_fp) / f"{message_id}.{recipient_fp}.{kind}"


def put_proof(
    drop: Path, sender_fp: str, message_id: str, recipient_fp: str, kind: str, data: bytes
) -> Path:
    path = proof_path(drop, sender_fp, message_id, recipient_fp, kind)
    atomic_write(path, data, mode=0o644)
    return path


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
