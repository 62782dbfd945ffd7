"""``verify``: check a letter addressed to me, exactly as receiving would
(current author, consent rules now), without storing anything."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from securemsg.app.read import OpenedLetter, open_letter
from securemsg.core.card import Card
from securemsg.store.home import Home
from securemsg.store.mailbox import Mailbox


@dataclass(frozen=True, slots=True)
class Verified:
    opened: OpenedLetter
    me: Card


def verify(home: Home, file: Path, now: int) -> Verified:
    box = Mailbox(home)
    with file.open("rb") as fh:
        opened = open_letter(box, fh, now)
    return Verified(opened, box.card)
