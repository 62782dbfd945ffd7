"""send and reply (receive and verify: cli/receiving.py, which imports none of the
send path).

Long file: send has three forms (a letter by file, drop or mail; --prepare a
draft; --draft a prepared letter), each with its option checks; the draft's own
views and checks live in cli/drafts.py, what send and reply share in cli/compose.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from securemsg.app import draft as drafting
from securemsg.app.send import AttachmentFile, SendRequest
from securemsg.cli import complete, names
from securemsg.cli.compose import Delivery, SentView, read_consent, run_send, send_options
from securemsg.cli.drafts import PreparedView, check_draft_send
from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import emit
from securemsg.core.domains import Domain, Purpose
from securemsg.core.letter.policy import SendRule
from securemsg.core.letter.source import LetterSource, parse_letter
from securemsg.core.names import suggest
from securemsg.errors import SendRefused, UsageError
from securemsg.i18n import N_, _

# The send rules (core/letter/policy.py), in the words of send's options.
OPTION_WORDS = {
    SendRule.ONE_BASIS: N_("give exactly one of --consent FILE, --emergency or --pseudonym LABEL"),
    SendRule.PSEUDONYM_NAMES_PATIENT: N_("a pseudonymous letter names no patient: drop --patient"),
    SendRule.NO_PATIENT: N_("name the patient with --patient CONTACT"),
    SendRule.EMERGENCY_KIND: N_("--emergency is for --kind emergency-report only"),
    SendRule.PATIENT_AS_RECIPIENT: (
        N_("the patient gets their copy automatically; do not name them with --to")
    ),
    SendRule.RECIPIENT_TWICE: N_("{name} is named twice with --to"),
    SendRule.NO_RECIPIENT: N_("name at least one recipient with --to"),
}


def option_words(exc: SendRefused) -> str:
    """A send rule's refusal as the command line says it (else core's own words)."""
    words = OPTION_WORDS.get(exc.violation) if isinstance(exc.violation, SendRule) else None
    return exc.message if words is None else _(words).format(name=exc.name)


def parse_attach(spec: str) -> AttachmentFile:
    """FILE or FILE:DOMAIN. A file named ``x:y`` that exists is taken whole; else
    the part after the last colon, when it looks like a word, is the domain."""
    path, domain = spec, Domain.MEDICAL
    head, sep, tail = spec.rpartition(":")
    if sep and tail in {d.value for d in Domain}:
        path, domain = head, Domain(tail)
    elif sep and head and tail.replace("-", "").isalpha() and not Path(spec).exists():
        raise UsageError(
            _("unknown care domain {tail} in --attach {spec}").format(tail=repr(tail), spec=spec)
            + suggest(tail, DOMAIN_TAGS),
            hint=_("write FILE:DOMAIN with one of: {domains}").format(
                domains=", ".join(DOMAIN_TAGS)
            ),
        )
    p = Path(path)
    if not p.exists():
        raise UsageError(_("attachment {path} does not exist").format(path=path))
    if not p.is_file():
        raise UsageError(_("attachment {path} is not a file").format(path=path))
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
        raise UsageError(_("--phone-call takes a date and time, e.g. 2026-11-29T10:30")) from exc
    if when.tzinfo is None:
        when = when.astimezone()
    return int(when.timestamp())


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
    help="referral (the default), reply, emergency-report, hospital-report, "
    "dossier-transfer, tele-expertise, second-opinion.",
    shell_complete=complete.kinds,
    callback=names.callback(names.kind_code),
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
    letter: Path | None,
    to: tuple[str, ...],
    kind: str | None,
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
    prepare: Path | None,
    draft: Path | None,
) -> None:
    """Sign, encrypt and deliver LETTER (Markdown, docs/letters.md) to each recipient.

    With --prepare DRAFT, only prepare it for the patient's review (consent
    grant --draft); with --draft DRAFT, send that prepared letter exactly."""
    if draft is not None:
        granted = check_draft_send(
            {
                "LETTER": letter, "--to": to, "--kind": kind, "--patient": patient,
                "--emergency": emergency, "--pseudonym": pseudonym, "--attach": attach,
                "--reply-to": reply_to, "--phone-call": phone_call,
                "--no-patient-copy": no_patient_copy, "--prepare": prepare,
                "--mail": by_mail, "--dry-run": dry_run,
            },
            read_consent(consent),
        )  # fmt: skip
        result = drafting.send_draft(ctx.home(), draft, granted, out_dir, drop, ctx.now())
        emit(SentView(result), ctx.as_json)
        return
    if letter is None or not to:
        raise UsageError(_("give the LETTER and --to (or --draft DRAFT)"))
    if prepare is not None and (out_dir is not None or drop is not None or by_mail or dry_run):
        raise UsageError(_("--prepare writes a draft only; -o, --drop or --mail come with --draft"))
    req = SendRequest(
        source=read_letter(letter),
        to=list(to),
        kind=Purpose.parse(kind or "referral"),
        patient=patient,
        emergency=emergency,
        pseudonym=pseudonym,
        reply_to=reply_to,
        **_shared(consent, attach, phone_call, no_patient_copy, out_dir, drop, dry_run),
    )
    if prepare is not None:
        try:
            prepared = drafting.prepare(ctx.home(), req, prepare, ctx.now())
        except SendRefused as exc:
            raise UsageError(option_words(exc), hint=exc.hint) from exc
        emit(PreparedView(prepared), ctx.as_json)
        return
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
        pseudonym=r.pseudonym,
        reply_to=r.message_id,
        **_shared(consent, attach, phone_call, no_patient_copy, out_dir, drop, dry_run),
    )
    run_send(ctx, req, Delivery(by_mail, account, yes), option_words)


def _shared(
    consent: Path | None,
    attach: tuple[str, ...],
    phone_call: str | None,
    no_patient_copy: bool,
    out_dir: Path | None,
    drop: Path | None,
    dry_run: bool,
) -> dict[str, Any]:
    """The SendRequest fields from the options send and reply share (send_options)."""
    return {
        "consent": read_consent(consent),
        "attachments": [parse_attach(a) for a in attach],
        "phone_call": parse_when(phone_call) if phone_call else None,
        "no_patient_copy": no_patient_copy,
        "out_dir": out_dir,
        "drop": drop,
        "dry_run": dry_run,
    }
