"""How a letter signed by a key revoked since is marked (issue 16): in `read`'s
panel, and beside its author in `inbox` and `thread` (docs/cli.md, "Keys")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from securemsg.core.times import iso_time
from securemsg.i18n import N_, _

if TYPE_CHECKING:
    from securemsg.app.read import OpenedLetter


def revoked_before(o: OpenedLetter) -> bool | None:
    """Whether a letter signed by a key revoked since was accepted before the
    revocation time (None: the key is not revoked, or not a stored letter)."""
    if o.author_revoked_as_of is None or o.accepted_at is None:
        return None
    return o.accepted_at < o.author_revoked_as_of


def revocation_note(o: OpenedLetter) -> str:
    day = iso_time(o.author_revoked_as_of or 0)
    if revoked_before(o):
        return _("REVOKED as of {day}; this letter was accepted before that, and kept").format(
            day=day
        )
    return _(
        "REVOKED as of {day}; this letter was accepted after that time: it may have been "
        "written by whoever stole the key"
    ).format(day=day)


REVOKED_MARKS: dict[str, str] = {
    "accepted_before": N_("(key revoked since)"),
    "accepted_after": N_("(KEY REVOKED: accepted after)"),
}


def author_mark(mark: str | None) -> str:
    """What `inbox` adds to an author's name (ListView.revoked_mark)."""
    text = REVOKED_MARKS.get(mark or "")
    return " " + _(text) if text else ""
