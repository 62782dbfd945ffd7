"""send, receive, verify."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from securemsg.app import receive as receiving
from securemsg.app.receive import LetterReceived, Outcome, Received
from securemsg.app.send import AttachmentFile, SendRequest
from securemsg.cli import complete
from securemsg.cli.compose import Delivery, read_consent, run_send, send_options
from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit, message
from securemsg.cli.view import LetterView
from securemsg.core.domains import Domain, Purpose
from securemsg.core.letter.policy import SendRule
from securemsg.core.letter.source import LetterSource, parse_letter
from securemsg.core.names import suggest
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
    """FILE or FILE:DOMAIN. A file named ``x:y`` that exists is taken whole; else
    the part after the last colon, when it looks like a word, is the domain."""
    path, domain = spec, Domain.MEDICAL
    head, sep, tail = spec.rpartition(":")
    if sep and tail in {d.value for d in Domain}:
        path, domain = head, Domain(tail)
    elif sep and head and tail.replace("-", "").isalpha() and not Path(spec).exists():
        raise UsageError(
            f"unknown care domain {tail!r} in --attach {spec}" + suggest(tail, DOMAIN_TAGS),
            hint=f"write FILE:DOMAIN with one of: {', '.join(DOMAIN_TAGS)}",
        )
    p = Path(path)
    if not p.exists():
        raise UsageError(f"attachment {path} does not exist")
    if not p.is_file():
        raise UsageError(f"attachment {path} is not a file")
    return AttachmentFile(p, domain)


DOMAIN_TAGS = tuple(d.value for d in Domain)


def read_letter(letter: Path, default_subject: str | None = None) -> LetterSource:
    """The letter's source; a file of another kind is named, with its command."""
    from securemsg.cli.sniff import refuse_other_kind

    raw = letter.read_bytes()
    refuse_other_kind(letter, raw[:1024], "letter")
    return parse_letter(raw, default_subject=default_subject or letter.stem)


def parse_when(value: str) -> int:
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise UsageError("--phone-call takes a date and time, e.g. 2026-11-29T10:30") from exc
    if when.tzinfo is None:
        when = when.astimezone()
    return int(when.timestamp())


@click.command()
@click.argument("letter", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--to",
    "to",
    multiple=True,
    required=True,
    help="Recipient contact (repeat).",
    shell_complete=complete.contacts,
)
@click.option(
    "--kind",
    default="referral",
    show_default=True,
    help="referral, reply, emergency-report, hospital-report, "
    "dossier-transfer, tele-expertise, second-opinion.",
    shell_complete=complete.kinds,
)
@click.option(
    "--patient",
    help="The patient (a contact; default: the one the consent names).",
    shell_complete=complete.contacts,
)
@click.option("--emergency", is_flag=True, help="Emergency report without prior consent (R8).")
@click.option("--pseudonym", help="Name the patient only by this label (tele-expertise, R11).")
@click.option(
    "--reply-to",
    metavar="MESSAGE_ID",
    help="The letter this one answers.",
    shell_complete=complete.message_ids,
)
@send_options
@pass_ctx
def send(
    ctx: Ctx,
    letter: Path,
    to: tuple[str, ...],
    kind: str,
    patient: str | None,
    emergency: bool,
    pseudonym: str | None,
    reply_to: str | None,
    consent: Path | None,
    attach: tuple[str, ...],
    phone_call: str | None,
    no_patient_copy: bool,
    out_dir: Path | None,
    drop: Path | None,
    by_mail: bool,
    account: str | None,
    dry_run: bool,
    yes: bool,
) -> None:
    """Sign, encrypt and deliver LETTER (Markdown, docs/letters.md) to each recipient."""
    req = SendRequest(
        source=read_letter(letter),
        to=list(to),
        kind=Purpose.parse(kind),
        patient=patient,
        consent=read_consent(consent),
        emergency=emergency,
        pseudonym=pseudonym,
        attachments=[parse_attach(a) for a in attach],
        reply_to=reply_to,
        phone_call=parse_when(phone_call) if phone_call else None,
        no_patient_copy=no_patient_copy,
        out_dir=out_dir,
        drop=drop,
        dry_run=dry_run,
    )
    run_send(ctx, req, Delivery(by_mail, account, yes), option_words)


@click.command()
@click.argument("message_id", metavar="ID", shell_complete=complete.message_ids)
@click.argument("letter", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--all", "everyone", is_flag=True, help="Also reply to the other recipients.")
@click.option(
    "--to",
    "to",
    multiple=True,
    help="Another recipient (a contact; repeat).",
    shell_complete=complete.contacts,
)
@send_options
@pass_ctx
def reply(
    ctx: Ctx,
    message_id: str,
    letter: Path,
    everyone: bool,
    to: tuple[str, ...],
    consent: Path | None,
    attach: tuple[str, ...],
    phone_call: str | None,
    no_patient_copy: bool,
    out_dir: Path | None,
    drop: Path | None,
    by_mail: bool,
    account: str | None,
    dry_run: bool,
    yes: bool,
) -> None:
    """Answer the letter ID (an id prefix, or `latest`) with LETTER: to its author
    (--all: and its other recipients), about the same patient, in its thread."""
    from securemsg.app.reply import reply_to

    home = ctx.home()
    r = reply_to(home, message_id, everyone, ctx.now())
    req = SendRequest(
        source=read_letter(letter, f"Re: {r.subject}"),
        to=[*r.to, *to],
        kind=r.kind,
        patient=r.patient,
        consent=read_consent(consent),
        pseudonym=r.pseudonym,
        attachments=[parse_attach(a) for a in attach],
        reply_to=r.message_id,
        phone_call=parse_when(phone_call) if phone_call else None,
        no_patient_copy=no_patient_copy,
        out_dir=out_dir,
        drop=drop,
        dry_run=dry_run,
    )
    run_send(ctx, req, Delivery(by_mail, account, yes), option_words)


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
    from securemsg.cli.sniff import refuse_other_kind

    for f in files:  # a consent, a card, a letter's source: say which command takes it
        refuse_other_kind(f, None, "receive")
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
