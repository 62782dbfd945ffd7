"""The check of the mailbox's tamper-evident log (`log verify`) and the signing
of a missing checkpoint (`log checkpoint`): apart from app/mailbox.py, so that
the listings build none of these classes at start-up."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from securemsg.app.mailbox import names_of
from securemsg.store.home import Home
from securemsg.store.mailbox import Mailbox


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
