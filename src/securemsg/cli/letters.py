"""send, receive, verify.

Long file: send has three forms (a letter by file, drop or mail; --prepare a
draft; --draft a prepared letter), each with its option checks; the draft's own
views and checks live in cli/drafts.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from securemsg.app import draft as drafting
from securemsg.app import receive as receiving
from securemsg.app import send as sending
from securemsg.app.receive import LetterReceived, Outcome, Received
from securemsg.app.send import AttachmentFile, SendRequest, SendResult
from securemsg.cli import complete
from securemsg.cli.drafts import PreparedView, check_draft_send, read_consent
from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit, message
from securemsg.cli.view import LetterView
from securemsg.core.domains import Domain, Purpose
from securemsg.core.letter.policy import SendRule
from securemsg.core.letter.source import parse_letter
from securemsg.errors import EXIT_ERROR, EXIT_REFUSED, SendRefused, UsageError

# The send rules (core/letter/policy.py), in the words of send's options.
OPTION_WORDS = {
    SendRule.ONE_BASIS: "give exactly one of --consent FILE, --emergency or --pseudonym LABEL",
    SendRule.PSEUDONYM_NAMES_PATIENT: "a pseudonymous letter names no patient: drop --patient",
    SendRule.NO_PATIENT: "name the patient with --patient CONTACT",
    SendRule.EMERGENCY_KIND: "--emergency is for --kind emergency-report only",
    SendRule.PATIENT_AS_RECIPIENT: (
        "the patient gets their copy automatically; do not name them with --to"
    ),
    SendRule.RECIPIENT_TWICE: "{name} is named twice with --to",
    SendRule.NO_RECIPIENT: "name at least one recipient with --to",
}


def option_words(exc: SendRefused) -> str:
    """A send rule's refusal as the command line says it (else core's own words)."""
    words = OPTION_WORDS.get(exc.violation) if isinstance(exc.violation, SendRule) else None
    return exc.message if words is None else words.format(name=exc.name)


def parse_attach(spec: str) -> AttachmentFile:
    path, domain = spec, Domain.MEDICAL
    head, sep, tail = spec.rpartition(":")
    if sep and tail in {d.value for d in Domain}:
        path, domain = head, Domain(tail)
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"attachment {path} is not a readable file")
    return AttachmentFile(p, domain)


def parse_when(value: str) -> int:
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise UsageError("--phone-call takes a date and time, e.g. 2026-11-29T10:30") from exc
    if when.tzinfo is None:
        when = when.astimezone()
    return int(when.timestamp())


@dataclass
class SentView:
    result: SendResult
    schema: str = "securemsg.send/1"

    def to_json(self) -> dict[str, Any]:
        r = self.result
        return {
            "message_id": r.message_id,
            "basis": r.basis,
            "outputs": [
                {
                    "recipient": o.name,
                    "fingerprint": o.fp,
                    "role": o.role,
                    "domains": list(o.domains),
                    "file": str(o.path),
                    "patient_copy": o.patient_copy,
                }
                for o in r.outputs
            ],
            "withheld": [{"recipient": n, "domains": list(d)} for n, d in r.withheld],
            "double": str(r.double),
        }

    def render(self, out: Printer) -> None:
        r = self.result
        out.field("Message id", r.message_id, "cyan")
        out.field("Legal basis", r.basis)
        rows = [
            [
                o.name + (" (patient's copy)" if o.patient_copy else ""),
                o.role,
                ", ".join(o.domains),
                str(o.path),
            ]
            for o in r.outputs
        ]
        out.table("Sent", ["Recipient", "Role", "Receives", "File"], rows)
        for name, doms in r.withheld:
            out.line(
                f"Withheld from {name}: {', '.join(doms)} (not their care domain or not consented)"
            )
        out.field("Double kept", str(r.double))


@click.command()
@click.argument(
    "letter", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--to",
    "to",
    multiple=True,
    help="Recipient contact (repeat).",
    shell_complete=complete.contacts,
)
@click.option(
    "--kind",
    help="referral, reply, emergency-report, hospital-report, "
    "dossier-transfer, tele-expertise, second-opinion.",
    shell_complete=complete.kinds,
)
@click.option("--patient", help="The patient (a contact).", shell_complete=complete.contacts)
@click.option(
    "--consent",
    "consent",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The patient's signed consent grant.",
)
@click.option("--emergency", is_flag=True, help="Emergency report without prior consent (R8).")
@click.option("--pseudonym", help="Name the patient only by this label (tele-expertise, R11).")
@click.option("--attach", multiple=True, metavar="FILE[:DOMAIN]", help="Attach a file (repeat).")
@click.option(
    "--reply-to",
    metavar="MESSAGE_ID",
    help="The letter this one answers.",
    shell_complete=complete.message_ids,
)
@click.option("--phone-call", metavar="ISO-DATETIME", help="The phone call this letter confirms.")
@click.option("--no-patient-copy", is_flag=True, help="Do not send the patient a copy.")
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one .smsg file per recipient into DIR.",
)
@click.option(
    "--drop",
    type=click.Path(file_okay=False, readable=False, path_type=Path),  # app/send explains
    help="Deliver into a shared drop folder.",
)
@click.option("--mail", "by_mail", is_flag=True, help="Send by mail (docs/cli.md).")
@click.option("--account", metavar="NAME", help="The mail account to send from.")
@click.option(
    "--prepare",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="DRAFT",
    help="Prepare the letter for the patient to review and consent to (no send).",
)
@click.option(
    "--draft",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="DRAFT",
    help="Send exactly this prepared letter, under the consent signed for it.",
)
@pass_ctx
def send(
    ctx: Ctx,
    letter: Path,
    to: tuple[str, ...],
    kind: str,
    patient: str | None,
    consent: Path | None,
    emergency: bool,
    pseudonym: str | None,
    attach: tuple[str, ...],
    reply_to: str | None,
    phone_call: str | None,
    no_patient_copy: bool,
    out_dir: Path | None,
    drop: Path | None,
    by_mail: bool,
    account: str | None,
    prepare: Path | None,
    draft: Path | None,
) -> None:
    """Sign, encrypt and deliver LETTER (Markdown) to each recipient.

    With --prepare DRAFT, only prepare it for the patient's review (consent
    grant --draft); with --draft DRAFT, send that prepared letter exactly."""
    if by_mail and (out_dir is not None or drop is not None):
        raise UsageError("give one of -o DIR, --drop DIR or --mail")
    consent_bytes = read_consent(consent)
    if draft is not None:
        granted = check_draft_send(
            {
                "LETTER": letter, "--to": to, "--kind": kind, "--patient": patient,
                "--emergency": emergency, "--pseudonym": pseudonym, "--attach": attach,
                "--reply-to": reply_to, "--phone-call": phone_call,
                "--no-patient-copy": no_patient_copy, "--prepare": prepare, "--mail": by_mail,
            },
            consent_bytes,
        )  # fmt: skip
        result = drafting.send_draft(ctx.home(), draft, granted, out_dir, drop, ctx.now())
        emit(SentView(result), ctx.as_json)
        return
    if letter is None or not to or kind is None:
        raise UsageError("give the LETTER, --to and --kind (or --draft DRAFT)")
    if prepare is not None and (out_dir is not None or drop is not None):
        raise UsageError("--prepare writes a draft only; -o or --drop come with --draft")
    req = SendRequest(
        source=parse_letter(letter.read_bytes(), default_subject=letter.stem),
        to=list(to),
        kind=Purpose.parse(kind),
        patient=patient,
        consent=consent_bytes,
        emergency=emergency,
        pseudonym=pseudonym,
        attachments=[parse_attach(a) for a in attach],
        reply_to=reply_to,
        phone_call=parse_when(phone_call) if phone_call else None,
        no_patient_copy=no_patient_copy,
        out_dir=out_dir,
        drop=drop,
    )
    if prepare is not None:
        try:
            prepared = drafting.prepare(ctx.home(), req, prepare, ctx.now())
        except SendRefused as exc:
            raise UsageError(option_words(exc), hint=exc.hint) from exc
        emit(PreparedView(prepared), ctx.as_json)
        return
    from securemsg.cli.progress import with_progress

    files = [a for a in req.attachments if isinstance(a, AttachmentFile)]
    shown, bar = with_progress(files)
    req.attachments = list(shown)
    try:
        if by_mail or (out_dir is None and drop is None):  # by mail: the home's default
            from securemsg.cli.account import send_mail

            view: Any = send_mail(ctx, req, account, by_mail)
        else:
            view = SentView(sending.send(ctx.home(), req, ctx.now()))
    except SendRefused as exc:
        raise UsageError(option_words(exc), hint=exc.hint) from exc
    finally:
        bar.close()
    emit(view, ctx.as_json)


PROOF_STATUS = {
    Outcome.DELIVERED: "receipt: delivered",
    Outcome.REFUSED_BY_RECIPIENT: "notice: refused by recipient",
    Outcome.UNVERIFIED_REPORT: "notice: unverified report",
}


def received_row(r: Received) -> dict[str, Any]:
    """One line of the receive report (securemsg.receive/1)."""
    row: dict[str, Any] = {"file": str(r.file)}
    exc = r.error  # set exactly when the outcome is REFUSED or SKIPPED
    if exc is not None:
        skipped = r.outcome is Outcome.SKIPPED
        row.update({"status": "skipped" if skipped else "refused", "error": exc.code})
        if isinstance(r, LetterReceived):
            row["rule"] = getattr(exc, "rule", None)
        row.update({"detail": exc.message, "hint": exc.hint})
        if isinstance(r, LetterReceived):
            row["notice"] = r.notice
            if r.notice:
                row["message_id"] = r.message_id
    elif isinstance(r, LetterReceived):
        row.update(
            {
                "status": r.outcome.value,
                "message_id": r.message_id,
                "from": r.author,
                "kind": r.kind,
                "domains": list(r.domains),
                "detail": r.subject,
            }
        )
    else:
        done = {Outcome.RECORDED: "recorded", Outcome.OFFERED: "offered"}  # by mail
        status = (
            PROOF_STATUS.get(r.outcome) or f"{r.kind}: {done.get(r.outcome, 'already recorded')}"
        )
        row.update(
            {
                "status": status,
                "message_id": r.message_id,
                "from": r.recipient,
                "detail": r.reason or "",
            }
        )
        if r.outcome is Outcome.UNVERIFIED_REPORT:
            # signed by a contact who was never sent this letter: only their word
            row["unverified"] = True
            row["detail"] = (
                f"{r.recipient} was not a recipient of this letter: their report that "
                "it reached them and was refused is unverified (nothing recorded)"
            )
    if isinstance(r, LetterReceived) and r.proof_file is not None:
        row["proof_file"] = str(r.proof_file)
    if r.problem is not None:
        p = r.problem
        row["problem"] = {"error": p.code, "detail": p.message, "hint": p.hint}
    return row


@dataclass
class ReceiveReport:
    rows: list[dict[str, Any]]
    schema: str = "securemsg.receive/1"

    def to_json(self) -> dict[str, Any]:
        return {"results": self.rows}

    def render(self, out: Printer) -> None:
        if not self.rows:
            out.line("Nothing to receive.")
            return
        table = []
        for r in self.rows:
            what = r.get("message_id") or ""
            table.append(
                [
                    Path(r["file"]).name,
                    r["status"],
                    what[:16],
                    r.get("from", ""),
                    r.get("detail", ""),
                ]
            )
        out.table("Received", ["File", "Status", "Message", "From", "Detail"], table)


@click.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--drop",
    # readable=False: a folder this account may not read is app/receive's to
    # explain (drop_permission, with the group to join), not click's
    type=click.Path(exists=True, file_okay=False, readable=False, path_type=Path),
    help="Collect what waits for me in a shared drop folder.",
)
@click.option(
    "--receipt-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the receipt (one FILE only).",
)
@click.option("--mail", "by_mail", is_flag=True, help="Fetch securemsg mail by IMAP.")
@click.option("--account", metavar="NAME", help="The mail account (with --mail).")
@click.option("--folder", metavar="FOLDER", help="The IMAP folder (with --mail; default INBOX).")
@click.option(
    "--batch",
    type=click.IntRange(1, 1000),
    default=100,
    show_default=True,
    help="Mails fetched, recorded and flagged together (with --mail).",
)
@pass_ctx
def receive(
    ctx: Ctx,
    files: tuple[Path, ...],
    drop: Path | None,
    receipt_out: Path | None,
    by_mail: bool,
    account: str | None,
    folder: str | None,
    batch: int,
) -> None:
    """Verify letters (and receipts) addressed to me, and accept them into my mailbox."""
    if (bool(files) + bool(drop) + by_mail) != 1:
        raise UsageError("give letter FILEs, --drop DIR or --mail")
    if (account or folder) and not by_mail:
        raise UsageError("--account and --folder go with --mail")
    if receipt_out is not None and len(files) != 1:
        raise UsageError("--receipt-out works with one FILE")
    if by_mail:
        from securemsg.app.mail import receive_mail

        results = receive_mail(ctx.home(), account, folder, ctx.now(), batch)
    elif drop is not None:
        results = receiving.receive_drop(ctx.home(), drop, ctx.now())
    else:
        results = receiving.receive_files(ctx.home(), list(files), receipt_out, ctx.now())
    finish_report(results, ctx.as_json)


def finish_report(results: Sequence[Received], as_json: bool) -> None:
    """Print the report; explain each refusal, skipped file and problem on stderr.
    Exit 3 if something was refused, else 1 if a file was skipped, its receipt,
    notice or removal failed, or a notice is an unverified report."""
    rows = [received_row(r) for r in results]
    emit(ReceiveReport(rows), as_json)
    for r in rows:
        if r["status"] in ("refused", "skipped"):
            message(f"{r['status']} {r['file']}: {r['detail']}", "red")
            if r.get("hint"):
                message(f"  hint: {r['hint']}")
        if "problem" in r:
            message(f"{r['file']}: {r['problem']['detail']}", "red")
            if r["problem"].get("hint"):
                message(f"  hint: {r['problem']['hint']}")
    if any(r["status"] == "refused" for r in rows):
        raise click.exceptions.Exit(EXIT_REFUSED)
    for r in rows:
        if r.get("unverified"):
            message(f"unverified report {r['file']}: {r['detail']}", "yellow")
    if any(r["status"] == "skipped" or "problem" in r or r.get("unverified") for r in rows):
        raise click.exceptions.Exit(EXIT_ERROR)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def verify(ctx: Ctx, file: Path) -> None:
    """Check a letter addressed to me, without storing it."""
    from securemsg.app.verify import verify as verify_letter

    v = verify_letter(ctx.home(), file, ctx.now())
    emit(LetterView(v.opened, v.me, show_body=False, status="verified"), ctx.as_json)
