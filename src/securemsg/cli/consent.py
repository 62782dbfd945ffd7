"""consent grant / revoke / object / show / import / list (docs/cli.md, "Consent").

Long file: six commands and their one renderer; grant has two forms (by options,
or for a prepared draft, whose review lives in cli/drafts.py), and the
confirmation before a grant is signed lives here too (issue 13)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from securemsg.app import consent as consenting
from securemsg.app.consent import ConsentInfo, Imported, Lookup
from securemsg.app.home import Home
from securemsg.cli import account, complete, names, sniff
from securemsg.cli.drafts import grant_draft
from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit, message
from securemsg.core.card import Card
from securemsg.core.consent import (
    ConsentObject,
    Decision,
    Grant,
    Objection,
    Recipient,
    Revocation,
    explain,
    iso_time,
    short_fp,
)
from securemsg.core.digests import object_digest
from securemsg.core.domains import Domain, Purpose, sorted_domains
from securemsg.core.times import rfc3339
from securemsg.errors import UsageError
from securemsg.i18n import N_, _

STATUS_TEXT = {
    "valid": N_("valid"),
    "expired": N_("EXPIRED"),
    "not_yet_valid": N_("NOT YET VALID"),
    "revoked": N_("REVOKED (a revocation signed by the patient is recorded here)"),
}
KIND_TEXT = {"grant": N_("grant"), "revocation": N_("revocation"), "objection": N_("objection")}


def kind_text(kind: str) -> str:
    """A consent object's kind in the language (the code in JSON)."""
    return _(KIND_TEXT[kind]) if kind in KIND_TEXT else kind


# -- JSON and text views ------------------------------------------------------------
iso_json = rfc3339


def party_json(fp: str, lookup: Lookup) -> dict[str, Any]:
    return {"fingerprint": fp, "name": lookup(fp)}


def recipient_json(r: Recipient, lookup: Lookup) -> dict[str, Any]:
    if r.fp is not None:
        return party_json(r.fp, lookup)
    if r.rpps is not None:  # an objection of version 2: the patient's words, not a key
        return {"rpps": r.rpps, "name": r.name}
    return {"role": str(r.role)}


def consent_json(
    obj: ConsentObject, card: Card, status: str, recorded: bool, lookup: Lookup
) -> dict[str, Any]:
    p = card.profile
    doc: dict[str, Any] = {
        "kind": obj.kind,
        "digest": object_digest(obj.encoded).hex(),
        "status": status,
        "recorded_here": recorded,
        "patient": {
            "fingerprint": card.fingerprint,
            "name": p.name,
            "ins": p.ins,
            "birth_date": p.birth_date,
        },
    }
    if isinstance(obj, Grant):
        doc.update(
            {
                "id": obj.id_hex,
                "from": party_json(obj.sender_fp, lookup),
                "to": [recipient_json(r, lookup) for r in obj.recipients],
                "purpose": str(obj.purpose),
                "domains": [str(d) for d in sorted_domains(obj.domains)],
                "exclude": [str(d) for d in sorted_domains(obj.exclude)],
                "issued_at": iso_json(obj.issued_at),
                "not_after": iso_json(obj.not_after),
                "letter_digest": obj.letter_digest.hex() if obj.letter_digest else None,
                "commitment": obj.commitment.hex() if obj.commitment else None,
                "explanation": explain(obj, lookup),
            }
        )
    elif isinstance(obj, Revocation):
        doc.update({"grant_id": obj.grant_id.hex(), "date": iso_json(obj.date)})
        doc["explanation"] = revocation_text(obj, card)
    else:
        doc.update({"to": recipient_json(obj.target, lookup), "date": iso_json(obj.date)})
        doc["explanation"] = objection_text(obj, card, lookup)
    return doc


def revocation_text(rev: Revocation, card: Card) -> list[str]:
    return [
        _("{name} withdraws consent grant {grant} from {date} on.").format(
            name=card.name, grant=rev.grant_id.hex(), date=iso_time(rev.date)
        ),
        _("No letter may be sent or accepted under that grant any more."),
    ]


def objection_text(obj: Objection, card: Card, lookup: Lookup) -> list[str]:
    return [
        _("{name} objects to informing {target} (signed {date}).").format(
            name=card.name, target=obj.target.describe(lookup), date=iso_time(obj.date)
        ),
        _("No letter about them may go to that recipient, even on the emergency basis."),
    ]


@dataclass
class ConsentView:
    obj: ConsentObject
    card: Card
    status: str
    recorded: bool
    lookup: Lookup
    file: Path | None = None
    decision: Decision | None = None
    schema: str = "securemsg.consent/1"

    @classmethod
    def of(cls, info: ConsentInfo) -> ConsentView:
        return cls(
            info.obj,
            info.card,
            info.status.value,
            info.recorded,
            info.lookup,
            info.file,
            info.decision,
        )

    def to_json(self) -> dict[str, Any]:
        doc = consent_json(self.obj, self.card, self.status, self.recorded, self.lookup)
        if self.file is not None:
            doc["file"] = str(self.file)
        if self.decision is not None:
            doc["check"] = decision_json(self.decision)
        return doc

    def render(self, out: Printer) -> None:
        doc = consent_json(self.obj, self.card, self.status, self.recorded, self.lookup)
        signed = _("{kind}, signed by the patient {name}").format(
            kind=kind_text(self.obj.kind), name=self.card.name
        )
        out.field(_("Consent"), signed)
        out.field(_("Patient key"), self.card.display_fingerprint, "cyan")
        if isinstance(self.obj, Grant):
            style = "green" if self.status == "valid" else "bold red"
            status = STATUS_TEXT.get(self.status)
            out.field(_("Status"), _(status) if status else self.status, style)
        for line in doc["explanation"]:
            out.line(line)
        if self.file is not None:
            out.field(_("Written to"), str(self.file))
        if self.decision is not None:
            out.field(_("Check"), _("this letter is allowed"), "green")
            for fp, domains in self.decision.allowed:
                name = self.lookup(fp) or short_fp(fp)
                shown = ", ".join(names.domain(str(d)) for d in sorted_domains(domains))
                said = _("{name} may receive: {domains}").format(
                    name=name, domains=shown or _("nothing")
                )
                out.line("  " + said)


def decision_json(decision: Decision) -> dict[str, Any]:
    return {
        "decision": "accept",
        "basis": str(decision.basis),
        "grant_id": decision.grant.id_hex if decision.grant else None,
        "allowed": [
            {"fingerprint": fp, "domains": [str(d) for d in sorted_domains(doms)]}
            for fp, doms in decision.allowed
        ],
    }


@dataclass
class ImportView:
    view: ConsentView
    status: str
    schema: str = "securemsg.consent-import/1"

    @classmethod
    def of(cls, imported: Imported) -> ImportView:
        return cls(ConsentView.of(imported.info), imported.status.value)

    def to_json(self) -> dict[str, Any]:
        return {"import": self.status, "consent": self.view.to_json()}

    def render(self, out: Printer) -> None:
        if self.status == "added":
            text = _("Recorded: {kind} signed by {name}")
        else:
            text = _("Already recorded: {kind} signed by {name}")
        kind = kind_text(self.view.obj.kind)
        out.line(text.format(kind=kind, name=self.view.card.name), "green")
        self.view.render(out)


@dataclass
class ConsentList:
    views: list[ConsentView] = field(default_factory=list)
    schema: str = "securemsg.consents/1"

    def to_json(self) -> dict[str, Any]:
        return {"consents": [v.to_json() for v in self.views]}

    def render(self, out: Printer) -> None:
        if not self.views:
            out.line(_("No grants, revocations or objections recorded here."))
            return
        rows = []
        for v in self.views:
            o = v.obj
            ident = ""
            if isinstance(o, Grant):
                to = ", ".join(r.describe(v.lookup) for r in o.recipients)
                what = _("{purpose} from {sender} to {to}").format(
                    purpose=names.kind(str(o.purpose)),
                    sender=v.lookup(o.sender_fp) or short_fp(o.sender_fp),
                    to=to,
                )
                until, ident = iso_time(o.not_after)[:10], o.id_hex
            elif isinstance(o, Revocation):
                what = _("revokes grant {grant}").format(grant=o.grant_id.hex())
                until = iso_time(o.date)[:10]
            else:
                what = _("objects to {target}").format(target=o.target.describe(v.lookup))
                until = iso_time(o.date)[:10]
            status = STATUS_TEXT.get(v.status)
            shown = _(status) if status else v.status
            rows.append([ident, kind_text(o.kind), v.card.name, what, shown, until])
        cols = [_("Grant id"), _("Kind"), _("Patient"), _("What"), _("Status"), _("Until / date")]
        out.table(_("Consent"), cols, rows)


# -- option values ------------------------------------------------------------------
def parse_duration(text: str) -> int:
    m = re.fullmatch(r"\s*(\d{1,5})\s*([dwh]?)\s*", text.lower())
    if m is None or int(m.group(1)) == 0:
        raise UsageError(
            _("bad duration {text}").format(text=repr(text)), hint=_("write e.g. 90d, 12w or 48h")
        )
    unit = {"": 86400, "d": 86400, "w": 7 * 86400, "h": 3600}[m.group(2)]
    return int(m.group(1)) * unit


def _signed(ctx: Ctx, info: ConsentInfo, home: Home | None = None) -> None:
    if not ctx.as_json:
        people = consenting.concerned(home, info.obj) if home is not None else []
        if isinstance(info.obj, Grant):
            who = _("the practitioner who sends (they attach it to the letter)")
        elif people and isinstance(info.obj, Revocation):
            who = _(
                "each of: {people} (every practitioner who might send or receive under that grant)"
            ).format(people="; ".join(people))
        elif people:
            who = _("each of: {people}").format(people="; ".join(people))
        else:
            who = _("every practitioner who might send or receive under it")
        said = _("Signed {kind} written to {file}; give it to {who}.").format(
            kind=kind_text(info.obj.kind), file=info.file, who=who
        )
        message(said, "green")
    emit(ConsentView.of(info), ctx.as_json)


def confirm_before_signing(view: ConsentView, yes: bool) -> None:
    """The whole summary of what the patient is about to sign, on stderr, then her
    confirmation on the terminal; without one, ``--yes`` (scripts)."""
    import sys

    out = Printer(sys.stderr)
    out.line(_("You are about to sign this consent:"), "bold")
    for line in consent_json(view.obj, view.card, "valid", False, view.lookup)["explanation"]:
        out.line(f"  {line}")
    if yes:
        return
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UsageError(
            _(
                "consent grant asks you to confirm what you sign, and there is no terminal "
                "to ask on: nothing was signed"
            ),
            hint=_(
                "read the summary above; to sign it from a script, run the same command with --yes"
            ),
        )
    if not click.confirm(_("Sign it?"), default=False, err=True):
        raise UsageError(_("nothing was signed"), hint=_("change the options and run it again"))


# -- commands -----------------------------------------------------------------------
@click.group()
def consent() -> None:
    """The patient's signed consent: grants, revocations, objections."""


OUTPUT = click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the signed object to FILE (never overwritten).",
)


@consent.command("grant")
@click.option("--from", "sender", metavar="CONTACT", help="Who may send.",
              shell_complete=complete.contacts)  # fmt: skip
@click.option("--to", "to", multiple=True, metavar="CONTACT|ROLE",
              help="Who may receive.", shell_complete=complete.contacts_or_roles,
              callback=names.callback(names.role_code))  # fmt: skip
@click.option("--purpose", help=", ".join(p.value for p in Purpose),
              shell_complete=complete.kinds, callback=names.callback(names.kind_code))  # fmt: skip
@click.option("--domain", "domains", multiple=True, metavar="D",
              help="Allowed care domain (default: all but insurance, which is only shared "
              "when named).", shell_complete=complete.domains,
              callback=names.callback(names.domain_code))  # fmt: skip
@click.option("--exclude", "excludes", multiple=True, metavar="D", help="Excluded care domain.",
              shell_complete=complete.domains,
              callback=names.callback(names.domain_code))  # fmt: skip
@click.option("--valid-for", default="90d", show_default=True, help="e.g. 90d, 12w, 48h.")
@click.option(
    "--draft",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Review this prepared letter and consent to exactly it (send --prepare).",
)
@click.option(
    "--yes", is_flag=True, help="Sign without asking (the summary or review is still shown)."
)
@click.option("--letter", hidden=True, help="Replaced by --draft.")
@OUTPUT
@pass_ctx
def consent_grant(
    ctx: Ctx,
    sender: str | None,
    to: tuple[str, ...],
    purpose: str | None,
    domains: tuple[str, ...],
    excludes: tuple[str, ...],
    valid_for: str,
    draft: Path | None,
    yes: bool,
    letter: str | None,
    output: Path,
) -> None:
    """Sign a consent grant: who may tell whom what, for which purpose, until when.
    The summary is shown first, and signing asks for confirmation (--yes: not).

    With --draft, the grant is for exactly one prepared letter, after reviewing it."""
    if letter is not None:
        raise UsageError(
            _(
                "--letter is no longer supported: it bound only the letter's Markdown text, "
                "not its attachments nor its recipients"
            ),
            hint=_("ask the practitioner for a prepared draft (send --prepare) and use --draft"),
        )
    seconds = parse_duration(valid_for)
    if draft is not None:
        if sender or to or purpose or domains or excludes:
            raise UsageError(
                _("--from, --to, --purpose, --domain and --exclude come from the draft"),
                hint=_("give only --draft DRAFT, --valid-for and -o FILE"),
            )
        _signed(ctx, grant_draft(ctx, draft, seconds, yes, output))
        return
    if sender is None or not to or purpose is None:
        raise UsageError(_("give --from, --to and --purpose (or --draft DRAFT)"))
    what, allowed = Purpose.parse(purpose), [Domain.parse(d) for d in domains] or None
    excluded = [Domain.parse(d) for d in excludes]
    home = ctx.home()
    me = consenting.require_patient(home)
    consenting.check_new_file(output)
    now = ctx.now()
    drafted = consenting.draft_grant(
        home,
        me,
        sender=sender,
        to=to,
        purpose=what,
        domains=allowed,
        exclude=excluded,
        valid_for=seconds,
        now=now,
    )
    confirm_before_signing(ConsentView.of(consenting.explain_draft(home, drafted)), yes)
    _signed(ctx, consenting.write_and_keep(home, drafted, output, now), home)


def _patient_signs(ctx: Ctx, output: Path, sign: Callable[[Home, Card, int], ConsentInfo]) -> None:
    """The patient's home, a new output file, then ``sign`` and report what was signed."""
    home = ctx.home()
    me = consenting.require_patient(home)
    consenting.check_new_file(output)
    _signed(ctx, sign(home, me, ctx.now()), home)


@consent.command("revoke")
@click.argument("grant", metavar="GRANT_ID|GRANT_FILE")
@OUTPUT
@pass_ctx
def consent_revoke(ctx: Ctx, grant: str, output: Path) -> None:
    """Withdraw a grant I signed (its id, as `consent list` shows it, or its file);
    give the revocation to the practitioners named."""
    _patient_signs(
        ctx, output, lambda home, me, now: consenting.revoke(home, me, grant, output, now)
    )


@consent.command("object")
@click.option("--to", "to", metavar="CONTACT|ROLE", help="Who must not be told.",
              shell_complete=complete.contacts_or_roles,
              callback=names.callback(names.role_code))  # fmt: skip
@click.option("--name", metavar="NAME", help="With --rpps: a practitioner whose card you lack.")
@click.option("--rpps", metavar="NUMBER", help="With --name: their RPPS number (11 digits).")
@OUTPUT
@pass_ctx
def consent_object(
    ctx: Ctx, to: str | None, name: str | None, rpps: str | None, output: Path
) -> None:
    """Object to a recipient being informed about me, even in an emergency: a
    contact or a role (--to), or a practitioner by name and RPPS number."""
    if (to is None) == (name is None and rpps is None) or (name is None) != (rpps is None):
        raise UsageError(
            _("name who must not be told: --to CONTACT|ROLE, or --name NAME --rpps NUMBER"),
            hint=_(
                'e.g. securemsg consent object --name "Dr Eve Morel" --rpps 10003456789 '
                "-o object.cose"
            ),
        )
    by_rpps = (name, rpps) if name is not None and rpps is not None else None
    _patient_signs(
        ctx,
        output,
        lambda home, me, now: consenting.object_to(home, me, to, output, now, by_rpps),
    )


@consent.command("show")
@click.argument("file", type=sniff.FileOf("consent"))  # a card, a letter: which command
@click.option("--sender", metavar="CONTACT", help="Check for this sender (default: me).",
              shell_complete=complete.contacts)  # fmt: skip
@click.option("--recipient", "recipients", multiple=True, metavar="CONTACT",
              help="Check a recipient.", shell_complete=complete.contacts)  # fmt: skip
@click.option("--purpose", help="Check for this purpose (default: the grant's).",
              shell_complete=complete.kinds, callback=names.callback(names.kind_code))  # fmt: skip
@click.option("--domain", "domains", multiple=True, metavar="D", help="Check disclosing D.",
              shell_complete=complete.domains,
              callback=names.callback(names.domain_code))  # fmt: skip
@click.option(
    "--letter",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check for this exact letter.",
)
@pass_ctx
def consent_show(
    ctx: Ctx,
    file: Path,
    sender: str | None,
    recipients: tuple[str, ...],
    purpose: str | None,
    domains: tuple[str, ...],
    letter: Path | None,
) -> None:
    """Verify FILE and explain what it allows, and whether it is still valid here.

    With --sender/--recipient/--purpose/--domain/--letter, also check whether a
    letter with these facts would be allowed, exactly as sending would.
    """
    home = ctx.home()
    now = ctx.now()
    checking = bool(sender or recipients or purpose or domains or letter)
    query = consenting.LetterQuery(sender, recipients, purpose, domains, letter)
    info = consenting.show(home, file, now, query if checking else None)
    emit(ConsentView.of(info), ctx.as_json)
    if not checking:
        consenting.refuse_unusable(home, info, now)


@consent.command("import")
@click.argument("file", type=sniff.FileOf("consent"))  # a card, a letter: which command
@click.option(
    "--card",
    "card_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the patient's card, for a revocation or objection of a patient "
    "who is not one of your contacts",
)
@pass_ctx
def consent_import(ctx: Ctx, file: Path, card_file: Path | None) -> None:
    """Record a revocation, objection or grant signed by a patient who is a contact
    (a revocation or objection: by any patient, with --card)."""
    result = consenting.record(ctx.home(), file, ctx.now(), card_file)
    emit(ImportView.of(result), ctx.as_json)


@consent.command("list")
@pass_ctx
def consent_list(ctx: Ctx) -> None:
    """Grants, revocations and objections known here."""
    views = [ConsentView.of(info) for info in consenting.list_all(ctx.home(), ctx.now())]
    emit(ConsentList(views), ctx.as_json)


consent.add_command(account.consent_send)  # cli/account.py: consent objects by mail
