"""``verify``: check a letter addressed to me, exactly as receiving would
(current author, consent rules now), without storing anything; or a stored
letter, by its id, again as when it was received."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from securemsg.app.read import OpenedLetter, read, read_file
from securemsg.core.card import Card
from securemsg.store.home import Home


@dataclass(frozen=True, slots=True)
class Verified:
    opened: OpenedLetter
    me: Card
    names: dict[str, str]  # fingerprint -> name, as `read` names people
    stored: bool = False  # a letter of the mailbox (by id), not a file


def verify(home: Home, target: str | Path, now: int) -> Verified:
    """``target``: a letter file (checked as ``receive FILE`` would: raises the error
    of a file that is not a regular file, is too large or sparse, or cannot be
    read), or the id (a unique prefix, ``latest``) of a stored letter, which is
    re-verified without being marked read."""
    if isinstance(target, Path):
        r = read_file(home, target, now)
        return Verified(r.opened, r.me, r.names)
    r = read(home, target, now, mark_read=False)
    return Verified(r.opened, r.me, r.names, stored=True)
