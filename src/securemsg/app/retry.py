"""Letters kept aside (app/aside.py, store/quarantine.py), received again: after
``contacts add`` of their author, or with ``receive --retry``.

Each is received exactly as it would have been (every check of receiving, the
author now a contact); its receipt, or refusal notice, goes where the author
finds it: into the author's folder of the drop folder it came from, or beside
the file it came from (or the file or folder named with ``--receipt-out``).
A letter whose author is still unknown stays aside; any other outcome takes it
out of the quarantine.
"""

from __future__ import annotations

from pathlib import Path

from securemsg.app.aside import RETRY_HINT
from securemsg.app.receive import (
    LETTER_CAP,
    LetterReceived,
    NoticeCap,
    Outcome,
    _accept,
    _proof_kind,
    write_proof,
)
from securemsg.core.frozen import replace
from securemsg.errors import SecureMsgError, UnknownSender
from securemsg.i18n import _
from securemsg.store import drop as dropfolder
from securemsg.store import quarantine
from securemsg.store.checked import Unsafe, open_path
from securemsg.store.drop_files import file_error
from securemsg.store.home import Home
from securemsg.store.mailbox import Mailbox


def waiting(home: Home, author_fp: str | None = None) -> int:
    """How many letters are kept aside (from one author)."""
    return len(quarantine.kept(home, author_fp))


def retry(home: Home, now: int, author_fp: str | None = None) -> list[LetterReceived]:
    """Receive again the letters kept aside (those of one author)."""
    rows: list[LetterReceived] = []
    kept = quarantine.kept(home, author_fp)
    if not kept:
        return rows
    box = Mailbox(home)
    cap = NoticeCap()
    for k in kept:
        try:
            opened = open_path(k.path, LETTER_CAP)
        except Unsafe as exc:
            rows.append(LetterReceived(k.path, Outcome.SKIPPED, error=file_error(exc)))
            continue
        with opened:
            row, proof, author = _accept(box, opened, now, cap)
        shown = _shown_path(k)
        row = replace(row, file=shown)
        if row.outcome is Outcome.SKIPPED:
            rows.append(row)
            continue
        if isinstance(row.error, UnknownSender):  # still a stranger: stays aside
            still = UnknownSender(row.error.message, hint=_(RETRY_HINT), author_fp=k.author_fp)
            rows.append(replace(row, error=still, kept=True))
            continue
        if proof is not None and author is not None:
            try:
                row = _deliver(row, k, author, box.card.fingerprint, proof)
            except SecureMsgError as exc:
                rows.append(replace(row, problem=exc))
                continue
        quarantine.release(k)
        rows.append(row)
    return rows


def _shown_path(k: quarantine.Kept) -> Path:
    """The letter as the user knew it: its drop folder or its file."""
    if "name" in k.origin and "dir" in k.origin:
        return Path(k.origin["dir"]) / k.origin["name"]
    return k.path


def _deliver(
    row: LetterReceived, k: quarantine.Kept, author: str, me: str, proof: bytes
) -> LetterReceived:
    kind = _proof_kind(row)
    if "drop" in k.origin:
        drop = Path(k.origin["drop"])
        mid = row.message_id or k.path.name.split(".")[1]
        with dropfolder.permission_errors(drop), dropfolder.open_drop(drop) as root:
            dropfolder.put_proof(root, author, mid, me, kind, proof)
        return row
    if "dir" in k.origin:
        return replace(row, proof_file=write_proof(k.origin, kind, proof))
    return row
