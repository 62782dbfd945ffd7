"""``reply``: a letter answering another, its recipients, patient, kind and
thread filled in from the letter it answers (R5: the specialist's reply goes
back to the referring doctor; R4: the patient gets their copy).

The letter answered is one of this mailbox's (a received letter, or a double for
a follow-up of one's own letter), by id prefix or ``latest`` (the newest
received). What is filled in is only the mailbox's own record of it: the author
and recipients its signed manifest named, by fingerprint; each must be a
contact, so the reply goes to the cards this mailbox holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from securemsg.core.domains import Purpose
from securemsg.errors import NotFoundError, UsageError
from securemsg.i18n import _
from securemsg.store.contacts import Contacts
from securemsg.store.home import Home
from securemsg.store.mailbox import LetterRow, Mailbox

LATEST = "latest"


@dataclass(frozen=True, slots=True)
class ReplyTo:
    """What a reply to the letter ``message_id`` fills in."""

    message_id: str
    subject: str
    to: tuple[str, ...]  # contact fingerprints
    patient: str | None  # contact fingerprint, None when pseudonymous
    pseudonym: str | None
    kind: Purpose


def _letter(box: Mailbox, ref: str) -> LetterRow:
    if ref.strip().lower() != LATEST:
        return box.find(ref)
    rows = box.listing("in", limit=1)
    if not rows:
        raise NotFoundError(
            _("there is no received letter to reply to"),
            hint=_("see `securemsg inbox`; receive letters with `securemsg receive`"),
        )
    return rows[0]


def reply_to(home: Home, ref: str, everyone: bool, now: int) -> ReplyTo:
    """The reply's recipients: the author (or, for a follow-up of my own letter,
    its recipients); with ``everyone``, the other recipients too. Never me, never
    the patient (who gets their copy anyway)."""
    del now
    box = Mailbox(home)
    row = _letter(box, ref)
    me = box.card.fingerprint
    patient = row.summary.get("patient_fp") or None
    others = [fp for fp in row.summary.get("recipients", []) if fp not in (me, patient)]
    # a follow-up to my own letter goes to its recipients
    wanted = others if row.author == me else [row.author, *(others if everyone else [])]
    contacts = Contacts(home)
    missing = [fp for fp in dict.fromkeys(wanted) if contacts.get(fp) is None]
    if missing:
        raise NotFoundError(
            _(
                "{count} of the people this letter went to are not among your contacts "
                "(keys {join})"
            ).format(count=len(missing), join=", ".join(fp[:16] for fp in missing)),
            hint=_("add their cards (securemsg contacts add FILE), or reply without --all"),
        )
    to = tuple(dict.fromkeys(wanted))
    if not to:
        raise UsageError(_("this letter has no one to reply to but you and the patient"))
    if patient is not None and contacts.get(patient) is None:
        raise NotFoundError(
            _("the patient of this letter is not among your contacts"),
            hint=_("add the patient's card (securemsg contacts add FILE)"),
        )
    pseudonym = row.summary.get("pseudonym") or None
    kind = Purpose(row.kind) if pseudonym else Purpose.REPLY
    return ReplyTo(row.id, str(row.summary.get("subject", "")), to, patient, pseudonym, kind)
