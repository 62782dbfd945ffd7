"""A letter refused only because its author is not one of my contacts, kept
aside in the home (store/quarantine.py) so that it can be received once its
author is added: ``contacts add`` retries it, so does ``receive --retry``
(app/retry.py)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from securemsg.core.frozen import replace
from securemsg.errors import UnknownSender
from securemsg.i18n import N_, _
from securemsg.store import quarantine
from securemsg.store.drop_files import unreadable
from securemsg.store.home import Home
from securemsg.store.receiving import file_digest

if TYPE_CHECKING:
    from securemsg.app.receive import LetterReceived
    from securemsg.store.checked import Opened

RETRY_HINT = N_(
    "it is kept aside and received automatically once you add its author "
    "(securemsg contacts add THEIR-CARD, after checking it with them), or with "
    "securemsg receive --retry"
)


def keep_aside(
    home: Home,
    src: Opened,
    exc: UnknownSender,
    origin: dict[str, str],
    row: LetterReceived,
) -> LetterReceived:
    """Copy the refused letter aside; the row says so (or that the quarantine is full)."""
    if exc.author_fp is None:
        return row
    digest = file_digest(src.reader(functools.partial(unreadable, src.path)))
    fresh = src.reader(functools.partial(unreadable, src.path))
    where = quarantine.keep(home, fresh, src.size, exc.author_fp, digest, origin)
    if where is None:
        full = UnknownSender(
            exc.message,
            hint=_(
                "{hint}; it could not be kept aside (the home's quarantine holds "
                "{MAX_FILES} letters or {value} MiB at most): ask for it again once the "
                "author is a contact"
            ).format(
                hint=exc.hint, MAX_FILES=quarantine.MAX_FILES, value=quarantine.MAX_BYTES >> 20
            ),
            author_fp=exc.author_fp,
        )
        return replace(row, error=full)
    kept = UnknownSender(exc.message, hint=_(RETRY_HINT), author_fp=exc.author_fp)
    return replace(row, error=kept, kept=True)
