"""send (receive and verify: cli/receiving.py, which imports none of the send path).

Long file: send has three forms (a letter by file, drop or mail; --prepare a
draft; --draft a prepared letter), each with its option checks; the draft's own
views and checks live in cli/drafts.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from securemsg.app import draft as drafting
from securemsg.app import send as sending
from securemsg.app.send import AttachmentFile, SendRequest, SendResult
from securemsg.cli import complete
from securemsg.cli.drafts import PreparedView, check_draft_send, read_consent
from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit
from securemsg.core.domains import Domain, Purpose
from securemsg.core.letter.policy import SendRule
from securemsg.core.letter.source import parse_letter
from securemsg.errors import SendRefused, UsageError

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
