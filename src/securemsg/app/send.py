"""Sending a letter: check the consent here first, then encrypt one envelope
per recipient, keep the double, and record the deliveries and the log.

Who receives what, on which basis, is decided by the send rules of
core/letter/policy.py and checked against the consent (core/consent/check.py)
before anything is written, from the cards this mailbox holds; the writing
itself, envelopes, double and commit, is store/sending.py's.

Long file: the request (a letter from files, or a prepared draft's items), the
checks before anything is written, and the per-recipient copies that --dry-run
shows are one sequence that reads best in one place; the writing is elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

from securemsg.app import guidance
from securemsg.core.card import Card
from securemsg.core.consent import Basis, Grant, check_consent
from securemsg.core.consent.common import peek as peek_consent
from securemsg.core.digests import letter_digest, object_digest
from securemsg.core.domains import Domain, Purpose
from securemsg.core.frozen import Frozen, _set
from securemsg.core.letter import compose, limits, policy
from securemsg.core.letter.container import padded_size
from securemsg.core.letter.manifest import Item, PhoneCall, letter_commitment
from securemsg.core.letter.source import LetterSource
from securemsg.core.times import shown_day
from securemsg.errors import (
    ConsentRefused,
    InvalidValue,
    KeyReplaced,
    KeyRevoked,
    NotFoundError,
    UsageError,
    VerificationError,
)
from securemsg.i18n import _
from securemsg.store import sending
from securemsg.store.consents import ConsentStore
from securemsg.store.contacts import Contact, Contacts
from securemsg.store.drop import permission_errors
from securemsg.store.home import Home
from securemsg.store.mailbox import Mailbox

PIECE = 1 << 20


class AttachmentFile(Frozen):
    """An attachment on disk. A send reads it ``READS`` times: once to hash it
    (the manifest binds its digest), once to encrypt it into every envelope at
    once (core/letter/compose.py). The progress bar is sized from this."""

    __slots__ = (  # noqa: RUF023 (field order)
        "path",
        "domain",
    )
    path: Path
    domain: Domain

    def __init__(self, path: Path, domain: Domain) -> None:
        _set(self, "path", path)
        _set(self, "domain", domain)

    READS: ClassVar[int] = 2

    @property
    def name(self) -> str:
        return self.path.name

    def size(self) -> int:
        return self.path.stat().st_size

    def chunks(self) -> Iterator[bytes]:
        with self.path.open("rb") as fh:
            while data := fh.read(PIECE):
                yield data


class AttachmentData(Frozen):
    """An attachment held in memory: one of a prepared draft's (app/draft.py)."""

    __slots__ = (  # noqa: RUF023 (field order)
        "name",
        "domain",
        "data",
    )
    name: str
    domain: Domain
    data: bytes

    def __init__(self, name: str, domain: Domain, data: bytes) -> None:
        _set(self, "name", name)
        _set(self, "domain", domain)
        _set(self, "data", data)

    def size(self) -> int:
        return len(self.data)

    def chunks(self) -> Iterator[bytes]:
        yield self.data


class FromDraft(Frozen):
    """A send of a prepared draft: its fixed id and salts, and its items as the
    draft's content gives them (the letter commitment is recomputed from them)."""

    __slots__ = ("fixed", "items")
    fixed: compose.Fixed
    items: tuple[Item, ...]

    def __init__(self, fixed: compose.Fixed, items: tuple[Item, ...]) -> None:
        _set(self, "fixed", fixed)
        _set(self, "items", items)


@dataclass
class SendRequest:
    source: LetterSource
    to: list[str]
    kind: Purpose
    patient: str | None = None
    consent: bytes | None = None
    emergency: bool = False
    pseudonym: str | None = None
    attachments: list[AttachmentFile | AttachmentData] = field(default_factory=list)
    reply_to: str | None = None
    phone_call: int | None = None
    no_patient_copy: bool = False
    out_dir: Path | None = None
    drop: Path | None = None
    draft: FromDraft | None = None
    dry_run: bool = False  # check everything, write and sign nothing
    # Called with the copies about to be written, before anything is: may refuse
    # (the command line asks before sending to a key nobody verified).
    confirm: Callable[[tuple[Copy, ...]], None] | None = None


class Copy(Frozen):
    """What one recipient gets of the letter (and what is withheld from them)."""

    __slots__ = (  # noqa: RUF023 (field order)
        "name",
        "fp",
        "role",
        "verified",
        "patient_copy",
        "sections",
        "attachments",
        "withheld_sections",
        "withheld_attachments",
    )
    name: str
    fp: str
    role: str
    verified: bool  # its key compared with its holder (contacts verify)
    patient_copy: bool
    sections: tuple[tuple[str, str], ...]  # (title, domain); "" is untitled text
    attachments: tuple[tuple[str, str], ...]  # (file name, domain)
    withheld_sections: tuple[tuple[str, str], ...]
    withheld_attachments: tuple[tuple[str, str], ...]

    def __init__(
        self,
        name: str,
        fp: str,
        role: str,
        verified: bool,
        patient_copy: bool,
        sections: tuple[tuple[str, str], ...],
        attachments: tuple[tuple[str, str], ...],
        withheld_sections: tuple[tuple[str, str], ...],
        withheld_attachments: tuple[tuple[str, str], ...],
    ) -> None:
        _set(self, "name", name)
        _set(self, "fp", fp)
        _set(self, "role", role)
        _set(self, "verified", verified)
        _set(self, "patient_copy", patient_copy)
        _set(self, "sections", sections)
        _set(self, "attachments", attachments)
        _set(self, "withheld_sections", withheld_sections)
        _set(self, "withheld_attachments", withheld_attachments)


class Output(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "name",
        "fp",
        "role",
        "domains",
        "path",
        "patient_copy",
    )
    name: str
    fp: str
    role: str
    domains: tuple[str, ...]
    path: Path
    patient_copy: bool

    def __init__(
        self,
        name: str,
        fp: str,
        role: str,
        domains: tuple[str, ...],
        path: Path,
        patient_copy: bool,
    ) -> None:
        _set(self, "name", name)
        _set(self, "fp", fp)
        _set(self, "role", role)
        _set(self, "domains", domains)
        _set(self, "path", path)
        _set(self, "patient_copy", patient_copy)


class SendResult(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "message_id",
        "subject",
        "basis",
        "outputs",
        "withheld",
        "double",
        "copies",
        "dry_run",
    )
    message_id: str
    subject: str
    basis: str
    outputs: tuple[Output, ...]
    withheld: tuple[tuple[str, tuple[str, ...]], ...]  # (recipient name, domains withheld)
    double: Path | None  # None on a dry run
    copies: tuple[Copy, ...]
    dry_run: bool

    def __init__(
        self,
        message_id: str,
        subject: str,
        basis: str,
        outputs: tuple[Output, ...],
        withheld: tuple[tuple[str, tuple[str, ...]], ...],
        double: Path | None,
        copies: tuple[Copy, ...] = (),
        dry_run: bool = False,
    ) -> None:
        _set(self, "message_id", message_id)
        _set(self, "subject", subject)
        _set(self, "basis", basis)
        _set(self, "outputs", outputs)
        _set(self, "withheld", withheld)
        _set(self, "double", double)
        _set(self, "copies", copies)
        _set(self, "dry_run", dry_run)


def send(home: Home, req: SendRequest, now: int) -> SendResult:
    """``send``: the temp files of a send that was killed are cleaned first."""
    box = Mailbox(home)
    if not req.dry_run:
        box.cleanup_in_flight()  # mail/tmp only: never the whole mailbox
    with permission_errors(req.drop):  # this account may not write there: say why
        return send_letter(box, req, now)


def _recipients(contacts: Contacts, queries: list[str], me: Card, now: int) -> list[Card]:
    cards: list[Card] = []
    for q in queries:
        c = current_key(contacts, q)
        c.card.check_current(now)
        policy.check_recipient(c.card, me, cards)
        cards.append(c.card)
    policy.check_some_recipient(cards)
    return cards


def current_key(contacts: Contacts, query: str) -> Contact:
    """A recipient: an active contact whose key is not revoked. A query that only
    names a key its holder replaced (a key succession, --replace) or revoked is
    refused with the way out (issue 16)."""
    try:
        c = contacts.find(query)
    except NotFoundError:
        old = contacts.find(query, include_replaced=True)  # NotFoundError if none at all
        new = contacts.get(old.replaced_by) if old.replaced_by else None
        facts = {
            "key": old.card.display_fingerprint,
            "name": old.name,
            "day": shown_day(old.replaced_at or 0),
        }
        if new:
            raise KeyReplaced(
                _(
                    "the key {key} of {name} was replaced by {new_key} on {day}: "
                    "nothing is encrypted to it any more"
                ).format(new_key=new.card.display_fingerprint, **facts),
                hint=_("send to their current key: --to {fingerprint}").format(
                    fingerprint=new.fingerprint[:16]
                ),
            ) from None
        raise KeyReplaced(
            _(
                "the key {key} of {name} was replaced on {day}: nothing is encrypted to it any more"
            ).format(**facts),
            hint=_("ask them for their current card"),
        ) from None
    if c.revoked:
        raise KeyRevoked(
            _(
                "the key {display_fingerprint} of {name} was revoked as of {iso_day}: "
                "nothing is encrypted to it any more"
            ).format(
                display_fingerprint=c.card.display_fingerprint,
                name=c.name,
                iso_day=shown_day(c.revoked_as_of or 0),
            ),
            hint=_(
                "ask them for their new key (securemsg key rotate on their side), add it "
                "with --replace and verify it by safety number"
            ),
        )
    return c


def patient_of_consent(contacts: Contacts, consent: bytes) -> str:
    """The patient a consent names (its signer, checked when the grant is verified),
    as a contact query: the fingerprint of a contact's card."""
    kind, signer = peek_consent(consent)
    if kind != "grant":
        raise UsageError(
            _("the file given with --consent is a consent {kind}, not a grant").format(kind=kind),
            hint=_("give the grant the patient signed (securemsg consent grant)"),
        )
    known = contacts.get(signer)
    if known is None:
        raise NotFoundError(
            _(
                "the consent is signed by a patient whose card you do not hold (key {signer})"
            ).format(signer=signer[:16]),
            hint=_(
                "add the patient's card (securemsg contacts add FILE), or name them with --patient"
            ),
        )
    return known.fingerprint


def _basis(
    req: SendRequest, contacts: Contacts, now: int
) -> tuple[Basis, Card | None, Grant | None]:
    """The legal basis, the patient's card and the grant (parsed here, once)."""
    if req.patient is None and req.consent is not None and req.pseudonym is None:
        req.patient = patient_of_consent(contacts, req.consent)
    basis = policy.choose_basis(
        consent=req.consent is not None,
        emergency=req.emergency,
        pseudonym=req.pseudonym is not None,
        patient_named=req.patient is not None,
        kind=req.kind,
    )
    if req.patient is None:
        return basis, None, None
    pc = contacts.find(req.patient)
    policy.check_patient(pc.card)
    pc.card.check_current(now)
    policy.check_emergency(basis, req.kind)
    try:
        grant = Grant.verify(req.consent, pc.card) if req.consent is not None else None
    except ConsentRefused as exc:  # another patient's consent: say whose, by name
        message = guidance.with_names(exc.message, contacts, contacts.home.card())
        raise ConsentRefused(message, rule=exc.rule, party=exc.party, hint=exc.hint) from exc
    return basis, pc.card, grant


def send_letter(box: Mailbox, req: SendRequest, now: int) -> SendResult:
    """The send itself, on an open mailbox. Refusals of the send rules are
    :class:`~securemsg.errors.SendRefused`, of the consent rules
    :class:`~securemsg.errors.ConsentRefused`."""
    if (req.out_dir is None) == (req.drop is None) and not req.dry_run:
        raise UsageError(_("give exactly one of -o DIR or --drop DIR"))
    if req.out_dir is not None and not req.out_dir.is_dir():
        if not req.out_dir.exists():
            raise UsageError(
                _("the folder {out_dir} does not exist").format(out_dir=req.out_dir),
                hint=_("create it first (mkdir {out_dir}), or give another folder").format(
                    out_dir=req.out_dir
                ),
            )
        raise UsageError(_("{out_dir} is not a folder").format(out_dir=req.out_dir))
    req = _checked_text(req)
    contacts = Contacts(box.home)
    me = box.card
    named = _recipients(contacts, req.to, me, now)
    guidance.need_basis(req, contacts, me, named)
    basis, patient, grant = _basis(req, contacts, now)
    phone = PhoneCall(req.phone_call, named[0].fingerprint) if req.phone_call else None
    policy.check_patient_copy(req.kind, phone is not None, req.no_patient_copy)
    recipients = policy.all_recipients(named, patient, req.no_patient_copy)
    in_reply_to = _reply_to(box, req.reply_to)
    present = frozenset(
        {s.domain for s in req.source.sections} | {a.domain for a in req.attachments}
    )
    patient_fp = patient.fingerprint if patient else None
    plan_recipients, withheld = policy.disclosures(present, recipients, grant, patient_fp)
    digest = letter_digest(req.source.raw)
    commitment = _commitment(req, patient_fp, plan_recipients)
    facts = policy.send_facts(
        me,
        patient,
        req.kind,
        plan_recipients,
        digest,
        basis,
        now,
        phone_call=phone is not None,
        letter_domains=present,
        commitment=commitment,
    )
    store = ConsentStore(box.home)
    try:
        check_consent(
            facts,
            patient,
            grant,
            store.revocations_for(patient_fp) if patient_fp else [],
            store.objections_for(patient_fp) if patient_fp else [],
            now,
        )
    except ConsentRefused as exc:
        raise guidance.named(exc, contacts, me, patient, req.kind, plan_recipients) from exc
    copies = _copies(req, contacts, plan_recipients, patient)
    if req.dry_run:
        subject = req.source.subject
        return SendResult("", subject, basis.value, (), tuple(withheld), None, copies, True)
    if req.confirm is not None:
        req.confirm(copies)
    dest = sending.Destination(req.out_dir, req.drop)
    sizes = [(a.domain, a.size()) for a in req.attachments]
    _check_size(len(req.source.raw), sizes)
    # Every folder is opened and checked now, before anything is written (a drop
    # folder's mailbox folder that is a link, not a folder, someone else's, or
    # missing in a shared drop folder, fails the send here).
    with sending.Folders(box, dest, plan_recipients) as folders:
        # The envelopes' temp files are made now and their space reserved on a
        # worker while plan() hashes the attachments (store/space.py).
        # (A full disk met later is reported as no_space by cli/main, for every command.)
        reserved = sending.reserve(folders, len(req.source.raw), sizes, plan_recipients)
        try:
            planned = _plan(box, req, plan_recipients, basis, now, patient, in_reply_to, phone)
            if commitment is not None and planned.manifest.commitment() != commitment:
                raise VerificationError(
                    _(
                        "the letter built from the draft differs from the draft the patient "
                        "reviewed"
                    ),
                    hint=_("prepare the letter again (send --prepare) and ask for a new consent"),
                )
            written = sending.write(
                box, planned, plan_recipients, folders, req.consent, patient, now, reserved
            )
        finally:
            reserved.close()
    outputs = tuple(
        Output(
            card.name,
            card.fingerprint,
            card.profile.role.value,
            tuple(sorted(d.value for d in domains)),
            path,
            patient is not None and card.fingerprint == patient.fingerprint,
        )
        for (card, domains), path in zip(plan_recipients, written.envelopes, strict=True)
    )
    m = planned.manifest
    return SendResult(
        m.id_hex, m.subject, m.basis, outputs, tuple(withheld), written.double, copies
    )


def _name(a: AttachmentFile | AttachmentData) -> str:
    return a.path.name if isinstance(a, AttachmentFile) else a.name


def _copies(
    req: SendRequest,
    contacts: Contacts,
    plan: list[tuple[Card, frozenset[Domain]]],
    patient: Card | None,
) -> tuple[Copy, ...]:
    """Per recipient, the sections and attachments it gets and those withheld."""
    out = []
    for card, domains in plan:
        contact = contacts.get(card.fingerprint)
        secs = [(s.title, s.domain.value, s.domain in domains) for s in req.source.sections]
        atts = [(_name(a), a.domain.value, a.domain in domains) for a in req.attachments]
        out.append(
            Copy(
                card.name,
                card.fingerprint,
                card.profile.role.value,
                contact is not None and contact.verified,
                patient is not None and card.fingerprint == patient.fingerprint,
                tuple((t, d) for t, d, got in secs if got),
                tuple((n, d) for n, d, got in atts if got),
                tuple((t, d) for t, d, got in secs if not got),
                tuple((n, d) for n, d, got in atts if not got),
            )
        )
    return tuple(out)


# Room for what an envelope holds besides the text and the attachments: the age
# header, the manifest, the binding, the consent, the patient's card and the item
# heads (each record at most 1 MiB, core/letter/container.py; in practice a few kB).
ENVELOPE_MARGIN = 64 << 20


def _check_size(text: int, sizes: list[tuple[Domain, int]]) -> None:
    """Refuse a letter whose largest envelope (the double holds everything) could
    exceed what a recipient accepts (MAX_ENVELOPE, 1 TiB; a larger file is
    refused by its size at receive): before any attachment is read."""
    n = text + sum(size for _domain, size in sizes)
    padded = padded_size(n + ENVELOPE_MARGIN)  # docs/format.md §11: at most 12 % more
    if padded + padded // 4096 > limits.MAX_ENVELOPE:
        raise InvalidValue(
            _(
                "the letter and its attachments come to {n} bytes: more than a recipient "
                "accepts ({value} TiB per envelope, with its encryption)"
            ).format(n=n, value=limits.MAX_ENVELOPE >> 40),
            hint=_("send the largest attachments another way, or over several letters"),
        )


def _commitment(
    req: SendRequest,
    patient_fp: str | None,
    plan_recipients: list[tuple[Card, frozenset[Domain]]],
) -> bytes | None:
    """The letter commitment of a send from a prepared draft: its id, kind,
    patient, items, and the recipients with the domains this send gives them.
    A letter that is not a draft has none: a letter-bound grant refuses it."""
    if req.draft is None:
        return None
    return letter_commitment(
        req.draft.fixed.message_id,
        req.kind,
        patient_fp,
        req.draft.items,
        [(card.fingerprint, domains) for card, domains in plan_recipients],
    )


def _checked_text(req: SendRequest) -> SendRequest:
    """The rules a recipient holds the letter to (core/letter/limits.py): the
    pseudonym cleaned like a subject, attachment names and the item count."""
    for a in req.attachments:
        limits.item_name(a.name, "attachment")
    limits.item_count(len(req.source.sections), len(req.source.sections) + len(req.attachments))
    if req.pseudonym is None:
        return req
    return replace(req, pseudonym=limits.pseudonym(req.pseudonym))


def _plan(
    box: Mailbox,
    req: SendRequest,
    plan_recipients: list[tuple[Card, frozenset[Domain]]],
    basis: Basis,
    now: int,
    patient: Card | None,
    in_reply_to: bytes | None,
    phone: PhoneCall | None,
) -> compose.Planned:
    return compose.plan(
        source=req.source,
        attachments=[
            compose.Attachment(a.name, a.domain, a.size(), a.chunks) for a in req.attachments
        ],
        kind=req.kind,
        author=box.secret,
        author_card=box.card,
        recipients=plan_recipients,
        basis=basis.value,
        now=now,
        patient=patient,
        pseudonym=req.pseudonym,
        consent=req.consent,
        consent_digest=object_digest(req.consent) if req.consent else None,
        in_reply_to=in_reply_to,
        phone_call=phone,
        fixed=req.draft.fixed if req.draft is not None else None,
    )


def _reply_to(box: Mailbox, ref: str | None) -> bytes | None:
    if ref is None:
        return None
    return bytes.fromhex(box.find(ref).id)
