"""The mailbox's own views: inbox, sent (with each recipient's proof) and a
thread (the check of the tamper-evident log: app/logcheck.py, which the
listings do not import)."""

from __future__ import annotations

from securemsg.core.frozen import Frozen, _set
from securemsg.store.contacts import Contact, Contacts
from securemsg.store.home import Home
from securemsg.store.mailbox import LetterRow, Mailbox

__all__ = ["LetterRow", "Listing", "listing", "names_of"]

Deliveries = dict[str, list[tuple[str, str, int | None]]]  # id -> (recipient, status, at)


def names_of(box: Mailbox, book: list[Contact] | None = None) -> dict[str, str]:
    """Every key this mailbox knows (replaced ones too), by fingerprint, mine too:
    names as their cards give them (the display marks mine, "you", by fingerprint).
    ``book``: every contact, replaced ones too, if the caller has read them."""
    if book is None:
        book = Contacts(box.home).all(include_replaced=True)
    out = {c.fingerprint: c.name for c in book}
    for mine in box.cards[1:]:  # my previous keys (issue 16): named as my card names me
        out[mine.fingerprint] = mine.name
    out[box.card.fingerprint] = box.card.name
    return out


class Listing(Frozen):
    """One page of a folder or a thread (a frozen value, core.frozen: inbox and
    sent build this class at start-up)."""

    __slots__ = (  # noqa: RUF023 (field order)
        "rows",
        "folder",
        "deliveries",
        "names",
        "patient_view",
        "me",
        "unverified_patients",
        "reads",
        "revoked",
    )
    rows: list[LetterRow]
    folder: str  # in | sent | thread
    deliveries: Deliveries  # for the doubles among the rows
    names: dict[str, str]
    patient_view: bool  # the reader is a patient (the inbox says who else got it)
    me: str | None  # the reader's fingerprint
    # Patient keys learnt from a letter and not verified here (app/trust.py, pinned).
    unverified_patients: frozenset[str]
    reads: dict[tuple[str, str], int]  # (id, folder) -> read at
    # Authors' keys revoked since (issue 16): fingerprint -> revocation time T
    revoked: dict[str, int] | None

    def __init__(
        self,
        rows: list[LetterRow],
        folder: str,
        deliveries: Deliveries,
        names: dict[str, str],
        patient_view: bool = False,
        me: str | None = None,
        unverified_patients: frozenset[str] = frozenset(),
        reads: dict[tuple[str, str], int] | None = None,
        revoked: dict[str, int] | None = None,
    ) -> None:
        _set(self, "rows", rows)
        _set(self, "folder", folder)
        _set(self, "deliveries", deliveries)
        _set(self, "names", names)
        _set(self, "patient_view", patient_view)
        _set(self, "me", me)
        _set(self, "unverified_patients", unverified_patients)
        _set(self, "reads", {} if reads is None else reads)
        _set(self, "revoked", revoked)


def revoked_keys(box: Mailbox, book: list[Contact] | None = None) -> dict[str, int]:
    """The contacts' keys revoked, with their revocation time (``book`` as in names_of)."""
    if book is None:
        book = Contacts(box.home).all(include_replaced=True)
    return {c.fingerprint: c.revoked_as_of for c in book if c.revoked_as_of is not None}


def unverified_patients(box: Mailbox, book: list[Contact] | None = None) -> frozenset[str]:
    """The patient cards pinned from letters that the user has not verified (among
    the active contacts; ``book`` as in names_of)."""
    if book is None:
        book = Contacts(box.home).all(include_replaced=True)
    return frozenset(c.fingerprint for c in book if c.state == "active" and c.unverified_pin)


def listing(home: Home, folder: str, limit: int, page: int, patient: str | None = None) -> Listing:
    """One page of a folder (``in`` or ``sent``), newest first, maybe of one patient's letters."""
    box = Mailbox(home)
    patient_fp = None
    if patient is not None:
        patient_fp = Contacts(box.home).find(patient, include_replaced=True).fingerprint
    rows = box.listing(folder, limit=limit, offset=(page - 1) * limit, patient_fp=patient_fp)
    deliveries = {r.id: box.deliveries(r.id) for r in rows} if folder == "sent" else {}
    patient_view = box.card.profile.role.is_patient
    book = Contacts(box.home).all(include_replaced=True)  # read (and verified) once
    return Listing(
        rows,
        folder,
        deliveries,
        names_of(box, book),
        patient_view,
        box.card.fingerprint,
        unverified_patients(box, book),
        box.read_times(r.id for r in rows),
        revoked_keys(box, book),
    )


def thread(home: Home, message_id: str) -> Listing:
    """The conversation a letter belongs to, oldest first."""
    box = Mailbox(home)
    root = box.latest("in") if message_id.strip().lower() == "latest" else box.find(message_id)
    rows = box.thread(root.id)
    deliveries = {r.id: box.deliveries(r.id) for r in rows if r.folder == "sent"}
    book = Contacts(box.home).all(include_replaced=True)
    return Listing(
        rows,
        "thread",
        deliveries,
        names_of(box, book),
        box.card.profile.role.is_patient,
        box.card.fingerprint,
        unverified_patients(box, book),
        box.read_times(r.id for r in rows),
        revoked_keys(box, book),
    )
