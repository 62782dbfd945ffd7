"""consent grant / revoke / object / show / import / list (docs/cli.md, "Consent")."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit, message
from securemsg.core.card import Card
from securemsg.core.consent import (
    Basis,
    ConsentObject,
    Decision,
    Disclosure,
    Grant,
    LetterFacts,
    Objection,
    Recipient,
    Revocation,
    allowed_domains,
    check_consent,
    explain,
    grant_status,
    iso_time,
    short_fp,
)
from securemsg.core.digests import letter_digest, object_digest
from securemsg.core.domains import Domain, Purpose, sorted_domains
from securemsg.core.identity import Role
from securemsg.core.times import rfc3339
from securemsg.errors import ConsentRefused, FormatError, UsageError
from securemsg.store.consents import ConsentStore
from securemsg.store.fs import atomic_writer
from securemsg.store.home import Home

MAX_CONSENT_FILE = 64 * 1024
MAX_LETTER_FILE = 16 * 1024 * 1024
Lookup = Callable[[str], str | None]

STATUS_TEXT = {
    "valid": "valid",
    "expired": "EXPIRED",
    "not_yet_valid": "NOT YET VALID",
    "revoked": "REVOKED (a revocation signed by the patient is recorded here)",
}


# -- JSON and text views ------------------------------------------------------------
iso_json = rfc3339


def party_json(fp: str, lookup: Lookup) -> dict[str, Any]:
    return {"fingerprint": fp, "name": lookup(fp)}


def recipient_json(r: Recipient, lookup: Lookup) -> dict[str, Any]:
    if r.fp is not None:
        return party_json(r.fp, lookup)
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
        f"{card.name} withdraws consent grant {rev.grant_id.hex()} from {iso_time(rev.date)} on.",
        "No letter may be sent or accepted under that grant any more.",
    ]


def objection_text(obj: Objection, card: Card, lookup: Lookup) -> list[str]:
    return [
        f"{card.name} objects to informing {obj.target.describe(lookup)} "
        f"(signed {iso_time(obj.date)}).",
        "No letter about them may go to that recipient, even on the emergency basis.",
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

    def to_json(self) -> dict[str, Any]:
        doc = consent_json(self.obj, self.card, self.status, self.recorded, self.lookup)
        if self.file is not None:
            doc["file"] = str(self.file)
        if self.decision is not None:
            doc["check"] = decision_json(self.decision)
        return doc

    def render(self, out: Printer) -> None:
        doc = consent_json(self.obj, self.card, self.status, self.recorded, self.lookup)
        out.field("Consent", f"{self.obj.kind}, signed by the patient {self.card.name}")
        out.field("Patient key", self.card.display_fingerprint, "cyan")
        if isinstance(self.obj, Grant):
            style = "green" if self.status == "valid" else "bold red"
            out.field("Status", STATUS_TEXT.get(self.status, self.status), style)
        for line in doc["explanation"]:
            out.line(line)
        if self.file is not None:
            out.field("Written to", str(self.file))
        if self.decision is not None:
            out.field("Check", "this letter is allowed", "green")
            for fp, domains in self.decision.allowed:
                name = self.lookup(fp) or short_fp(fp)
                out.line(f"  {name} may receive: {', '.join(sorted_domains(domains)) or 'nothing'}")


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

    def to_json(self) -> dict[str, Any]:
        return {"import": self.status, "consent": self.view.to_json()}

    def render(self, out: Printer) -> None:
        verb = "Recorded" if self.status == "added" else "Already recorded"
        out.line(f"{verb}: {self.view.obj.kind} signed by {self.view.card.name}", "green")
        self.view.render(out)


@dataclass
class ConsentList:
    views: list[ConsentView] = field(default_factory=list)
    schema: str = "securemsg.consents/1"

    def to_json(self) -> dict[str, Any]:
        return {"consents": [v.to_json() for v in self.views]}

    def render(self, out: Printer) -> None:
        if not self.views:
            out.line("No grants, revocations or objections recorded here.")
            return
        rows = []
        for v in self.views:
            o = v.obj
            if isinstance(o, Grant):
                to = ", ".join(r.describe(v.lookup) for r in o.recipients)
                what = f"{o.purpose} from {v.lookup(o.sender_fp) or short_fp(o.sender_fp)} to {to}"
                until = iso_time(o.not_after)[:10]
            elif isinstance(o, Revocation):
                what, until = f"revokes grant {o.grant_id.hex()[:12]}", iso_time(o.date)[:10]
            else:
                what, until = f"objects to {o.target.describe(v.lookup)}", iso_time(o.date)[:10]
            rows.append([o.kind, v.card.name, what, v.status, until])
        out.table("Consent", ["Kind", "Patient", "What", "Status", "Until / date"], rows)


# -- helpers ------------------------------------------------------------------------
def make_lookup(home: Home) -> Lookup:
    from securemsg.store.contacts import Contacts

    me = home.card()
    names = {c.fingerprint: c.name for c in Contacts(home).all(include_replaced=True)}
    names[me.fingerprint] = me.name
    return names.get


def require_patient(home: Home) -> Card:
    me = home.card()
    if not me.profile.role.is_patient:
        raise ConsentRefused(
            f"only a patient can grant, revoke or object to consent; you are registered as a "
            f"{me.profile.role} ({me.name})",
            rule="not_a_patient",
            party=me.fingerprint,
            hint="the patient does this with their own securemsg identity",
        )
    return me


def check_output(path: Path) -> None:
    if path.exists() or path.is_symlink():
        raise UsageError(
            f"{path} exists; refusing to overwrite it", hint="choose another file name"
        )
    if not path.parent.is_dir():
        raise UsageError(f"folder {path.parent} does not exist")


def write_output(path: Path, data: bytes) -> None:
    check_output(path)
    with atomic_writer(path) as fh:
        fh.write(data)


def read_limited(path: Path, limit: int, what: str) -> bytes:
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise FormatError(f"{path} is too large to be a {what}")
    return data


def resolve_recipient(home: Home, value: str) -> Recipient:
    from securemsg.store.contacts import Contacts

    if value.strip().lower() in {r.value for r in Role}:
        return Recipient(role=Role.parse(value))
    contact = Contacts(home).find(value)
    if contact.card.profile.role.is_patient:
        raise UsageError(f"{contact.name} is a patient; a consent names practitioners")
    return Recipient(fp=contact.fingerprint)


def parse_duration(text: str) -> int:
    m = re.fullmatch(r"\s*(\d{1,5})\s*([dwh]?)\s*", text.lower())
    if m is None or int(m.group(1)) == 0:
        raise UsageError(f"bad duration {text!r}", hint="write e.g. 90d, 12w or 48h")
    unit = {"": 86400, "d": 86400, "w": 7 * 86400, "h": 3600}[m.group(2)]
    return int(m.group(1)) * unit


def status_of(store: ConsentStore, obj: ConsentObject, now: int) -> str:
    if isinstance(obj, Grant):
        return grant_status(obj, store.revocations_for(obj.patient_fp), now)
    return "valid"


def refuse_unusable(grant: Grant, status: str, store: ConsentStore) -> None:
    if status == "revoked":
        rev = store.revocation_of(grant)
        when = f" on {iso_time(rev.date)}" if rev else ""
        raise ConsentRefused(
            f"the patient revoked this consent{when}: it allows nothing any more",
            rule="revoked",
            party=grant.patient_fp,
            hint="ask the patient for a new consent",
        )
    if status == "expired":
        raise ConsentRefused(
            f"this consent expired on {iso_time(grant.not_after)}",
            rule="expired",
            party=grant.patient_fp,
            hint="ask the patient for a new consent",
        )
    if status == "not_yet_valid":
        raise ConsentRefused(
            f"this consent is not valid yet: it starts on {iso_time(grant.issued_at)}",
            rule="not_yet_valid",
            party=grant.patient_fp,
            hint="check the computer's clock, or wait",
        )


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
@click.option("--from", "sender", required=True, metavar="CONTACT", help="Who may send.")
@click.option(
    "--to", "to", required=True, multiple=True, metavar="CONTACT|ROLE", help="Who may receive."
)
@click.option("--purpose", required=True, help=", ".join(p.value for p in Purpose))
@click.option("--domain", "domains", multiple=True, metavar="D", help="Allowed care domain.")
@click.option("--exclude", "excludes", multiple=True, metavar="D", help="Excluded care domain.")
@click.option("--valid-for", default="90d", show_default=True, help="e.g. 90d, 12w, 48h.")
@click.option(
    "--letter",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Bind the grant to this exact letter (Markdown), after reading it.",
)
@OUTPUT
@pass_ctx
def consent_grant(
    ctx: Ctx,
    sender: str,
    to: tuple[str, ...],
    purpose: str,
    domains: tuple[str, ...],
    excludes: tuple[str, ...],
    valid_for: str,
    letter: Path | None,
    output: Path,
) -> None:
    """Sign a consent grant: who may tell whom what, for which purpose, until when."""
    from securemsg.store.contacts import Contacts

    home = ctx.home()
    me = require_patient(home)
    check_output(output)
    the_purpose = Purpose.parse(purpose)
    doms = [Domain.parse(d) for d in domains] or None
    excl = [Domain.parse(d) for d in excludes]
    seconds = parse_duration(valid_for)
    digest = letter_digest(read_limited(letter, MAX_LETTER_FILE, "letter")) if letter else None
    secret = home.unlock()
    sender_contact = Contacts(home).find(sender)
    if sender_contact.card.profile.role.is_patient:
        raise UsageError(f"{sender_contact.name} is a patient; the sender is a practitioner")
    recipients = [resolve_recipient(home, t) for t in to]
    grant = Grant.sign(
        secret,
        me,
        sender_fp=sender_contact.fingerprint,
        recipients=recipients,
        purpose=the_purpose,
        domains=doms,
        exclude=excl,
        now=ctx.now(),
        valid_for=seconds,
        letter_digest=digest,
    )
    _write_and_keep(ctx, home, grant, output)


def _write_and_keep(ctx: Ctx, home: Home, obj: ConsentObject, output: Path) -> None:
    write_output(output, obj.encoded)
    store = ConsentStore(home)
    store.record(obj.encoded, ctx.now(), origin="signed")
    if not ctx.as_json:
        message(f"Signed {obj.kind} written to {output}; give it to the practitioner.", "green")
    view = ConsentView(obj, home.card(), status_of(store, obj, ctx.now()), True, make_lookup(home))
    view.file = output
    emit(view, ctx.as_json)


@consent.command("revoke")
@click.argument("grant_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@OUTPUT
@pass_ctx
def consent_revoke(ctx: Ctx, grant_file: Path, output: Path) -> None:
    """Withdraw a grant I signed; give the revocation to the practitioners concerned."""
    home = ctx.home()
    me = require_patient(home)
    check_output(output)
    grant = Grant.verify(read_limited(grant_file, MAX_CONSENT_FILE, "consent grant"), me)
    secret = home.unlock()
    store = ConsentStore(home)
    store.record(grant.encoded, ctx.now(), origin="signed")
    _write_and_keep(ctx, home, Revocation.sign(secret, me, grant, ctx.now()), output)


@consent.command("object")
@click.option("--to", "to", required=True, metavar="CONTACT|ROLE", help="Who must not be told.")
@OUTPUT
@pass_ctx
def consent_object(ctx: Ctx, to: str, output: Path) -> None:
    """Object to a recipient being informed about me, even in an emergency."""
    home = ctx.home()
    me = require_patient(home)
    check_output(output)
    secret = home.unlock()
    target = resolve_recipient(home, to)
    _write_and_keep(ctx, home, Objection.sign(secret, me, target, ctx.now()), output)


@consent.command("show")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sender", metavar="CONTACT", help="Check for this sender (default: me).")
@click.option(
    "--recipient", "recipients", multiple=True, metavar="CONTACT", help="Check a recipient."
)
@click.option("--purpose", help="Check for this purpose (default: the grant's).")
@click.option("--domain", "domains", multiple=True, metavar="D", help="Check disclosing D.")
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
    store = ConsentStore(home)
    obj, card = store.verify(read_limited(file, MAX_CONSENT_FILE, "consent object"))
    now = ctx.now()
    status = status_of(store, obj, now)
    view = ConsentView(obj, card, status, store.is_recorded(obj), make_lookup(home))
    checking = bool(sender or recipients or purpose or domains or letter)
    if checking:
        if not isinstance(obj, Grant):
            raise UsageError("only a grant can be checked against a letter")
        view.decision = _check(
            home, obj, card, store, now, sender, recipients, purpose, domains, letter
        )
    emit(view, ctx.as_json)
    if isinstance(obj, Grant) and not checking:
        refuse_unusable(obj, status, store)


def _check(
    home: Home,
    grant: Grant,
    card: Card,
    store: ConsentStore,
    now: int,
    sender: str | None,
    recipients: tuple[str, ...],
    purpose: str | None,
    domains: tuple[str, ...],
    letter: Path | None,
) -> Decision:
    from securemsg.store.contacts import Contacts

    book = Contacts(home)
    sender_fp = book.find(sender).fingerprint if sender else home.card().fingerprint
    disclosures = []
    for query in recipients:
        c = book.find(query)
        role = c.card.profile.role
        doms = frozenset(Domain.parse(d) for d in domains) or allowed_domains(
            grant, c.fingerprint, role, grant.patient_fp
        )
        disclosures.append(Disclosure(c.fingerprint, role, doms, c.name))
    facts = LetterFacts(
        sender_fp=sender_fp,
        patient_fp=card.fingerprint,
        purpose=Purpose.parse(purpose) if purpose else grant.purpose,
        disclosures=tuple(disclosures),
        letter_digest=letter_digest(read_limited(letter, MAX_LETTER_FILE, "letter"))
        if letter
        else None,
        date=now,
        basis=Basis.CONSENT,
        patient_identifiers_present=True,
    )
    return check_consent(
        facts,
        card,
        grant.encoded,
        store.revocations_for(card.fingerprint),
        store.objections_for(card.fingerprint),
        now,
    )


@consent.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def consent_import(ctx: Ctx, file: Path) -> None:
    """Record a revocation, objection or grant signed by a patient who is a contact."""
    home = ctx.home()
    store = ConsentStore(home)
    result = store.record(read_limited(file, MAX_CONSENT_FILE, "consent object"), ctx.now())
    s = result.stored
    view = ConsentView(
        s.obj, s.patient_card, status_of(store, s.obj, ctx.now()), True, make_lookup(home)
    )
    emit(ImportView(view, result.status), ctx.as_json)


@consent.command("list")
@pass_ctx
def consent_list(ctx: Ctx) -> None:
    """Grants, revocations and objections known here."""
    home = ctx.home()
    store = ConsentStore(home)
    lookup = make_lookup(home)
    now = ctx.now()
    views = [
        ConsentView(s.obj, s.patient_card, status_of(store, s.obj, now), True, lookup)
        for s in store.all()
    ]
    emit(ConsentList(views), ctx.as_json)
