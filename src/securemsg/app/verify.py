"""``verify``: check a letter addressed to me, exactly as receiving would
(current author, consent rules now), without storing anything."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from securemsg.app.read import OpenedLetter, open_letter
from securemsg.core.card import Card
from securemsg.core.letter.limits import MAX_ENVELOPE
from securemsg.store.checked import Unsafe, open_path
from securemsg.store.drop_files import file_error, unreadable
from securemsg.store.home import Home
from securemsg.store.mailbox import Mailbox


@dataclass(frozen=True, slots=True)
class Verified:
    opened: OpenedLetter
    me: Card


def verify(home: Home, file: Path, now: int) -> Verified:
    """Raises the error of a file that is not a regular file, is too large or
    sparse, or cannot be read, as ``receive FILE`` reports it (store/dirfd.py)."""
    box = Mailbox(home)
    try:
        checked = open_path(file, MAX_ENVELOPE)
    except Unsafe as exc:
        raise file_error(exc) from exc
    with checked, checked.reader(functools.partial(unreadable, file)) as fh:
        opened = open_letter(box, fh, now)
    return Verified(opened, box.card)
