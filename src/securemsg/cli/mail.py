"""inbox, sent, read, thread, receipts import, log verify."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit
from securemsg.cli.view import LetterView, ListView
from securemsg.core.consent import iso_time
from securemsg.core.times import rfc3339
from securemsg.errors import VerificationError
from securemsg.store.contacts import Contacts
from securemsg.store.mailbox import Mailbox


def _names(box: Mailbox) -> dict[str, str]:
    out = {c.fingerprint: c.name for c in Contacts(box.home).all(include_replaced=True)}
    out[box.card.fingerprint] = f"{box.card.name} (you)"
    return out


def _listing(ctx: Ctx, folder: str, limit: int, page: int, patient: str | None) -> None:
    box = Mailbox(ctx.home())
    patient_fp = None
    if patient is not None:
        patient_fp = Contacts(box.home).find(patient, include_replaced=True).fingerprint
    rows = box.listing(folder, limit=limit, offset=(page - 1) * limit, patient_fp=patient_fp)
    deliveries = {r.id: box.deliveries(r.id) for r in rows} if folder == "sent" else {}
    view = ListView(rows, folder, deliveries, _names(box), box.card.profile.role.is_patient)
    view.me = box.card.fingerprint
    emit(view, ctx.as_json)


@click.command()
@click.option("--patient", help="Only letters about this patient (a contact).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--page", default=1, show_default=True, type=click.IntRange(1))
@pass_ctx
def inbox(ctx: Ctx, patient: str | None, limit: int, page: int) -> None:
    """Received letters, newest first."""
    _listing(ctx, "in", limit, page, patient)


@click.command()
@click.option("--patient", help="Only letters about this patient (a contact).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--page", default=1, show_default=True, type=click.IntRange(1))
@pass_ctx
def sent(ctx: Ctx, patient: str | None, limit: int, page: int) -> None:
    """My doubles, with each recipient's receipt status."""
    _listing(ctx, "sent", limit, page, patient)


@click.command()
@click.argument("message_id")
@click.option(
    "--save-attachments",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the attachments into DIR.",
)
@pass_ctx
def read(ctx: Ctx, message_id: str, save_attachments: Path | None) -> None:
    """Show a received letter or a double, under its verification panel."""
    from securemsg.store.reading import open_letter

    box = Mailbox(ctx.home())
    row = box.find(message_id)
    with (box.home.path / row.path).open("rb") as fh:
        opened = open_letter(box, fh, ctx.now(), save_dir=save_attachments, check_consent_now=False)
    if opened.manifest.id_hex != row.id:
        raise VerificationError("the stored letter does not match its mailbox record")
    emit(LetterView(opened, box.card, names=_names(box)), ctx.as_json)


@click.command()
@click.argument("message_id")
@pass_ctx
def thread(ctx: Ctx, message_id: str) -> None:
    """A letter and its replies."""
    box = Mailbox(ctx.home())
    root = box.find(message_id)
    rows = box.thread(root.id)
    deliveries = {r.id: box.deliveries(r.id) for r in rows if r.folder == "sent"}
    view = ListView(rows, "thread", deliveries, _names(box))
    view.schema = "securemsg.thread/2"
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
    from securemsg.cli.letters import finish_report
    from securemsg.cli.receiving import import_file

    box = Mailbox(ctx.home())
    finish_report([import_file(box, f, ctx.now()) for f in files], ctx.as_json)


@dataclass
class LogReport:
    entries: int
    head: str
    problem: str | None
    rows: list[dict[str, Any]]
    schema: str = "securemsg.log/2"

    def to_json(self) -> dict[str, Any]:
        return {
            "entries": self.entries,
            "head": self.head,
            "ok": self.problem is None,
            "problem": self.problem,
            "log": [{**r, "time": rfc3339(r["time"])} for r in self.rows],
        }

    def render(self, out: Printer) -> None:
        if self.rows:
            out.table(
                "Log",
                ["#", "Time", "Event", "Message", "Peer"],
                [
                    [
                        str(r["seq"]),
                        iso_time(r["time"]),
                        r["event"],
                        (r["message_id"] or "")[:12],
                        r["peer"] or "",
                    ]
                    for r in self.rows
                ],
            )
        if self.problem is None:
            out.line(
                f"Log verified: {self.entries} entries, chain and signatures intact "
                f"(head {self.head[:16]})",
                "green",
            )
        else:
            out.line(f"LOG INCONSISTENT: {self.problem}", "bold red")


@click.group()
def log() -> None:
    """The mailbox's tamper-evident log."""


@log.command("verify")
@click.option("--show", is_flag=True, help="List the entries too.")
@pass_ctx
def log_verify(ctx: Ctx, show: bool) -> None:
    """Recompute the hash chain and every signature; report the first inconsistency."""
    from securemsg.core.log import LogEntry

    box = Mailbox(ctx.home())
    report = box.verify_log()
    rows: list[dict[str, Any]] = []
    if show and report.problem is None:
        names = _names(box)
        for _seq, encoded in box.log_rows():
            e = LogEntry.verify(encoded, box.card)
            rows.append(
                {
                    "seq": e.seq,
                    "time": e.time,
                    "event": e.event,
                    "message_id": e.message_id.hex() if e.message_id else None,
                    "peer": names.get(e.peer or "", e.peer),
                }
            )
    emit(LogReport(report.entries, report.head.hex(), report.problem, rows), ctx.as_json)
    if report.problem is not None:
        raise VerificationError(
            f"the log is inconsistent: {report.problem}",
            hint="the mailbox database was edited outside securemsg",
        )
