"""The mailbox's own views: inbox, sent (with each recipient's proof), a
thread, and the check of the tamper-evident log."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from securemsg.store.contacts import Contacts
from securemsg.store.home import Home
from securemsg.store.mailbox import LetterRow, Mailbox

__all__ = ["LetterRow", "Listing", "LogCheck", "LogLine", "LogStatus", "listing", "names_of"]

Deliveries = dict[str, list[tuple[str, str, int | None]]]  # id -> (recipient, status, at)


def names_of(box: Mailbox) -> dict[str, str]:
    """Every key this mailbox knows (replaced ones too), by fingerprint, mine too:
    names as their cards give them (the display marks mine, "you", by fingerprint)."""
    out = {c.fingerprint: c.name for c in Contacts(box.home).all(include_replaced=True)}
    for mine in box.cards[1:]:  # my previous keys (issue 16): named as my card names me
        out[mine.fingerprint] = mine.name
    out[box.card.fingerprint] = box.card.name
    return out


@dataclass(frozen=True, slots=True)
class Listing:
    rows: list[LetterRow]
    folder: str  # in | sent | thread
    deliveries: Deliveries  # for the doubles among the rows
    names: dict[str, str]
    patient_view: bool = False  # the reader is a patient (the inbox says who else got it)
    me: str | None = None  # the reader's fingerprint
    # Patient keys learnt from a letter and not verified here (app/trust.py, pinned).
    unverified_patients: frozenset[str] = frozenset()
    reads: dict[tuple[str, str], int] = field(default_factory=dict)  # (id, folder) -> read at
    # Authors' keys revoked since (issue 16): fingerprint -> revocation time T
    revoked: dict[str, int] | None = None


def revoked_keys(box: Mailbox) -> dict[str, int]:
    """The contacts' keys revoked, with their revocation time."""
    book = Contacts(box.home).all(include_replaced=True)
    return {c.fingerprint: c.revoked_as_of for c in book if c.revoked_as_of is not None}


def unverified_patients(box: Mailbox) -> frozenset[str]:
    """The patient cards pinned from letters that the user has not verified."""
    return frozenset(c.fingerprint for c in Contacts(box.home).all() if c.unverified_pin)


def listing(home: Home, folder: str, limit: int, page: int, patient: str | None = None) -> Listing:
    """One page of a folder (``in`` or ``sent``), newest first, maybe of one patient's letters."""
    box = Mailbox(home)
    patient_fp = None
    if patient is not None:
        patient_fp = Contacts(box.home).find(patient, include_replaced=True).fingerprint
    rows = box.listing(folder, limit=limit, offset=(page - 1) * limit, patient_fp=patient_fp)
    deliveries = {r.id: box.deliveries(r.id) for r in rows} if folder == "sent" else {}
    patient_view = box.card.profile.role.is_patient
    return Listing(
        rows,
        folder,
        deliveries,
        names_of(box),
        patient_view,
        box.card.fingerprint,
        unverified_patients(box),
        box.read_times(r.id for r in rows),
        revoked_keys(box),
    )


def thread(home: Home, message_id: str) -> Listing:
    """The conversation a letter belongs to, oldest first."""
    box = Mailbox(home)
    root = box.latest("in") if message_id.strip().lower() == "latest" else box.find(message_id)
    rows = box.thread(root.id)
    deliveries = {r.id: box.deliveries(r.id) for r in rows if r.folder == "sent"}
    return Listing(
        rows,
        "thread",
        deliveries,
        names_of(box),
        box.card.profile.role.is_patient,
        box.card.fingerprint,
        unverified_patients(box),
        box.read_times(r.id for r in rows),
        revoked_keys(box),
    )


class LogStatus(enum.Enum):
    INTACT = "intact"
    INCONSISTENT = "inconsistent"


@dataclass(frozen=True, slots=True)
class LogLine:
    seq: int
    time: int
    event: str
    message_id: str | None
    peer: str | None  # the peer's name when known, else its fingerprint


@dataclass(frozen=True, slots=True)
class LogCheck:
    status: LogStatus
    entries: int
    head: str  # hex
    problem: str | None  # the first inconsistency
    lines: list[LogLine]  # when asked for, and only if the log is intact
    stray_files_removed: int = 0  # files no row names, left by crashes (Mailbox.sweep)
    problem_code: str | None = None  # core.log.LogProblem's value: what callers match on


def verify_log(home: Home, show: bool = False) -> LogCheck:
    """Remove the files crashed runs left in the mail folders (the full sweep,
    proportional to the mailbox: send and receive only clean ``mail/tmp``),
    then recompute the hash chain and every signature."""
    box = Mailbox(home)
    stray = box.sweep()
    report = box.verify_log()
    lines: list[LogLine] = []
    if show and report.problem is None:
        from securemsg.core.log import LogEntry  # here: the listings need none of the log

        names = names_of(box)
        for _seq, encoded in box.log_rows():
            e = LogEntry.verify(encoded, box.cards)
            peer = names.get(e.peer or "", e.peer)
            mid = e.message_id.hex() if e.message_id else None
            lines.append(LogLine(e.seq, e.time, e.event, mid, peer))
    status = LogStatus.INTACT if report.problem is None else LogStatus.INCONSISTENT
    code = None if report.issue is None else report.issue.code.value
    return LogCheck(status, report.entries, report.head.hex(), report.problem, lines, stray, code)


@dataclass(frozen=True)
class CheckpointSigned:
    entries: int
    head: str  # hex
    last_time: int | None  # time of the last entry, None for an empty log


def sign_missing_checkpoint(home: Home) -> CheckpointSigned:
    """Sign a checkpoint over the log as it is now; only where none exists."""
    box = Mailbox(home)
    from securemsg.core.log import LogEntry

    report = box.sign_missing_checkpoint()
    rows = box.log_rows()
    last = LogEntry.verify(rows[-1][1], box.cards).time if rows else None
    return CheckpointSigned(report.entries, report.head.hex(), last)
