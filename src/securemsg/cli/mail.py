"""inbox, sent, read, thread, receipts import, log verify."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from securemsg.app import mailbox
from securemsg.cli import complete
from securemsg.cli.listview import ListView
from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit, page
from securemsg.core.times import iso_time, rfc3339
from securemsg.errors import VerificationError
from securemsg.i18n import N_, _, ngettext


def _listing(ctx: Ctx, folder: str, limit: int, page: int, patient: str | None) -> None:
    emit(ListView.of(mailbox.listing(ctx.home(), folder, limit, page, patient)), ctx.as_json)


@click.command()
@click.option(
    "--patient",
    help="Only letters about this patient (a contact).",
    shell_complete=complete.contacts,
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--page", default=1, show_default=True, type=click.IntRange(1))
@pass_ctx
def inbox(ctx: Ctx, patient: str | None, limit: int, page: int) -> None:
    """Received letters, newest first."""
    _listing(ctx, "in", limit, page, patient)


@click.command()
@click.option(
    "--patient",
    help="Only letters about this patient (a contact).",
    shell_complete=complete.contacts,
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--page", default=1, show_default=True, type=click.IntRange(1))
@pass_ctx
def sent(ctx: Ctx, patient: str | None, limit: int, page: int) -> None:
    """My doubles, with each recipient's receipt status."""
    _listing(ctx, "sent", limit, page, patient)


def is_letter_file(ref: str) -> bool:
    """``read``/``verify`` take a message id (a prefix, ``latest``) or a letter file:
    a file is named by a path that exists, or that has a folder or ``.smsg`` in it."""
    return Path(ref).is_file() or "/" in ref or ref.endswith(".smsg")


@click.command()
@click.argument("message_id", metavar="ID|latest|FILE", shell_complete=complete.message_ids)
@click.option(
    "--save-attachments",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the attachments into DIR.",
)
@click.option("--plain", "style", flag_value="plain", help="Plain text: no frame, no layout.")
@click.option("--markdown", "style", flag_value="markdown", help="One Markdown document.")
@click.option("--no-pager", is_flag=True, help="Never page a long letter on a terminal.")
@pass_ctx
def read(
    ctx: Ctx, message_id: str, save_attachments: Path | None, style: str | None, no_pager: bool
) -> None:
    """Show a letter under its verification panel: a stored one by its id (32 hex
    digits, or a unique prefix of 6 or more) or `latest` (the one received last),
    or a letter FILE addressed to me, checked as `receive` would, not stored."""
    import sys

    from securemsg.app.read import read as read_letter
    from securemsg.app.read import read_file
    from securemsg.cli.view import LetterView

    if is_letter_file(message_id):
        r = read_file(ctx.home(), Path(message_id), ctx.now(), save_dir=save_attachments)
    else:
        r = read_letter(ctx.home(), message_id, ctx.now(), save_dir=save_attachments)
    view = LetterView(
        r.opened,
        r.me,
        names=r.names,
        folder=r.folder,
        replied_to=r.replied_to,
        received_at=r.received_at,
        first_read_at=r.first_read_at,
        status="read" if r.folder is not None else "verified",
    )
    if ctx.as_json:
        emit(view, True)
    elif style == "markdown":
        sys.stdout.write(view.to_markdown())
    elif style == "plain":
        view.render(Printer(force_plain=True))
    elif not no_pager and sys.stdout.isatty() and sys.stdin.isatty():
        page(view)
    else:
        emit(view, False)


@click.command()
@click.argument("message_id", metavar="ID|latest", shell_complete=complete.message_ids)
@pass_ctx
def thread(ctx: Ctx, message_id: str) -> None:
    """A letter's whole conversation, as a tree of who answered whom."""
    view = ListView.of(mailbox.thread(ctx.home(), message_id))
    view.schema = "securemsg.thread/3"
    emit(view, ctx.as_json)


@click.group()
def receipts() -> None:
    """Receipts and refusal notices for letters I sent."""


@receipts.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@pass_ctx
def receipts_import(ctx: Ctx, files: tuple[Path, ...]) -> None:
    """Match receipts (or refusal notices) to the doubles they prove."""
    from securemsg.app.receive import import_proofs
    from securemsg.cli.receiving import finish_report

    finish_report(import_proofs(ctx.home(), list(files), ctx.now()), ctx.as_json)


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
    check = mailbox.verify_log(ctx.home(), show)
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
    if check.status is mailbox.LogStatus.INCONSISTENT:
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
    signed: mailbox.CheckpointSigned
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
    emit(CheckpointReport(mailbox.sign_missing_checkpoint(ctx.home())), ctx.as_json)
