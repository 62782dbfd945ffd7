"""`log verify` and `log checkpoint`: the mailbox's tamper-evident log (apart
from cli/mail.py, whose listings build none of these classes at start-up)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from securemsg.app import logcheck
from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit
from securemsg.core.times import iso_time, rfc3339
from securemsg.errors import VerificationError
from securemsg.i18n import N_, _, ngettext

# the log's events (codes in the log and JSON), as `log verify --show` names them
EVENTS = {"send": N_("send"), "accept": N_("accept"), "receipt": N_("receipt"),
          "refusal": N_("refusal"), "consent": N_("consent")}  # fmt: skip


@dataclass
class LogReport:
    entries: int
    head: str
    problem: str | None
    rows: list[dict[str, Any]]
    stray_files_removed: int = 0
    problem_code: str | None = None
    schema: str = "securemsg.log/2"

    def to_json(self) -> dict[str, Any]:
        return {
            "entries": self.entries,
            "head": self.head,
            "ok": self.problem is None,
            "problem": self.problem,
            "problem_code": self.problem_code,
            "stray_files_removed": self.stray_files_removed,
            "log": [{**r, "time": rfc3339(r["time"])} for r in self.rows],
        }

    def render(self, out: Printer) -> None:
        if self.stray_files_removed:
            out.line(
                _(
                    "Removed {n} file(s) left in mail/ by an interrupted "
                    "send or receive (no letter: the database named none of them)"
                ).format(n=self.stray_files_removed)
            )
        if self.rows:
            out.table(
                _("Log"),
                ["#", _("Time"), _("Event"), _("Message"), _("Peer")],
                [
                    [
                        str(r["seq"]),
                        iso_time(r["time"]),
                        _(EVENTS[r["event"]]) if r["event"] in EVENTS else r["event"],
                        r["message_id"] or "",
                        r["peer"] or "",
                    ]
                    for r in self.rows
                ],
            )
        if self.problem is None:
            out.line(
                ngettext(
                    "Log verified: {n} entries, chain and signatures intact (head {head})",
                    "Log verified: {n} entries, chain and signatures intact (head {head})",
                    self.entries,
                ).format(n=self.entries, head=self.head[:16]),
                "green",
            )
        else:
            out.line(_("LOG INCONSISTENT: {problem}").format(problem=self.problem), "bold red")


@click.group()
def log() -> None:
    """The mailbox's tamper-evident log."""


@log.command("verify")
@click.option("--show", is_flag=True, help="List the entries too.")
@pass_ctx
def log_verify(ctx: Ctx, show: bool) -> None:
    """Recompute the hash chain and every signature; report the first inconsistency."""
    check = logcheck.verify_log(ctx.home(), show)
    rows = [
        {
            "seq": e.seq,
            "time": e.time,
            "event": e.event,
            "message_id": e.message_id,
            "peer": e.peer,
        }
        for e in check.lines
    ]
    report = LogReport(
        check.entries,
        check.head,
        check.problem,
        rows,
        check.stray_files_removed,
        problem_code=check.problem_code,
    )
    emit(report, ctx.as_json)
    if check.status is logcheck.LogStatus.INCONSISTENT:
        from securemsg.core.log import LogProblem

        missing = check.problem_code == LogProblem.CHECKPOINT_MISSING.value
        raise VerificationError(
            _("the log is inconsistent: {problem}").format(problem=check.problem),
            hint=(
                _(
                    "if this home was upgraded from an older securemsg, check the entries with "
                    "`securemsg log verify --show`, then sign a checkpoint with "
                    "`securemsg log checkpoint`"
                )
                if missing
                else _("the mailbox database was edited outside securemsg")
            ),
        )


@dataclass
class CheckpointReport:
    signed: logcheck.CheckpointSigned
    schema: str = "securemsg.log-checkpoint/1"

    def to_json(self) -> dict[str, Any]:
        last = self.signed.last_time
        return {
            "entries": self.signed.entries,
            "head": self.signed.head,
            "last_entry_time": rfc3339(last) if last is not None else None,
        }

    def render(self, out: Printer) -> None:
        s = self.signed
        if self.signed.last_time is not None:
            text = _(
                "Checkpoint signed over {n} entries (head {head}); the last entry is of {time}"
            ).format(n=s.entries, head=s.head[:16], time=iso_time(self.signed.last_time))
        else:
            text = ngettext(
                "Checkpoint signed over {n} entries (head {head})",
                "Checkpoint signed over {n} entries (head {head})",
                s.entries,
            ).format(n=s.entries, head=s.head[:16])
        out.line(text, "green")


@log.command("checkpoint")
@pass_ctx
def log_checkpoint(ctx: Ctx) -> None:
    """Sign a checkpoint over the log as it is now, for a home left without one.

    A home upgraded by securemsg before this version by a command that did not
    open the mailbox has no signed checkpoint, and `log verify` says so. Run this
    once, after `log verify --show` lists the entries you expect: from then on a
    cut tail is reported. Refused when a checkpoint exists or the chain is broken.
    """
    emit(CheckpointReport(logcheck.sign_missing_checkpoint(ctx.home())), ctx.as_json)
