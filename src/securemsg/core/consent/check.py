"""The one consent verification function, used by sender and recipient alike.

:func:`check_consent` takes the facts of a letter (who sends, about whom, why,
which care domains go to which recipient, its digest and date), the patient's
card, the grant bytes, and the revocations and objections known here; it
returns a :class:`Decision` or raises :class:`ConsentRefused` naming the rule.
The checks run in the order of docs/format-consent.md §Verification; the first
failure is reported. Pure: no clock (``now`` is a parameter), no I/O.

The basis rules are part of it (core/consent/basis.py), so that a recipient's
mailbox enforces exactly what the sender's tool does.

Long file: the check and the values it takes and returns (written out on
core.frozen, for the start-up time of `send`, `receive` and `read`), together.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Final

from securemsg.core import localnames
from securemsg.core.card import Card
from securemsg.core.consent import basis as basis_rules
from securemsg.core.consent.explain import domain_names, iso_time, short_fp
from securemsg.core.consent.grant import Grant
from securemsg.core.consent.statements import Objection, Revocation
from securemsg.core.domains import Domain, Purpose, default_domains
from securemsg.core.frozen import Frozen, _set
from securemsg.core.identity import Role
from securemsg.errors import ConsentRefused
from securemsg.i18n import _

CLOCK_SKEW: Final = 300  # seconds of clock difference tolerated at both ends of a grant
DELIVERY_GRACE: Final = 7 * 86400  # a letter sent in time may be received this much later


class Basis(enum.StrEnum):
    CONSENT = "consent"  # R1: a grant signed by the patient
    EMERGENCY = "emergency"  # R8: emergency report, no grant, objections still apply
    PSEUDONYMOUS = "pseudonymous"  # R11: the patient is not identified at all


class Disclosure(Frozen):
    """What one recipient of a letter receives: the care domains of its sections.

    ``recipient_role`` is the role the checker knows for it (its card);
    ``stated_role`` the other role a letter states for it, if any: it may
    narrow what the recipient may receive, never widen it (every role rule
    must hold for both)."""

    __slots__ = (  # noqa: RUF023 (field order)
        "recipient_fp",
        "recipient_role",
        "domains",
        "name",
        "stated_role",
        "rpps",
    )
    recipient_fp: str
    recipient_role: Role
    domains: frozenset[Domain]
    name: str | None  # for messages only
    stated_role: Role | None
    rpps: str | None  # on the card the checker holds for it (objections by RPPS)

    def __init__(
        self,
        recipient_fp: str,
        recipient_role: Role,
        domains: frozenset[Domain],
        name: str | None = None,
        stated_role: Role | None = None,
        rpps: str | None = None,
    ) -> None:
        _set(self, "recipient_fp", recipient_fp)
        _set(self, "recipient_role", recipient_role)
        _set(self, "domains", domains)
        _set(self, "name", name)
        _set(self, "stated_role", stated_role)
        _set(self, "rpps", rpps)

    def who(self) -> str:
        label = self.name or _("key {fingerprint}").format(fingerprint=short_fp(self.recipient_fp))
        return f"{label} ({localnames.role(str(self.recipient_role))})"

    @property
    def roles(self) -> tuple[Role, ...]:
        """The verified role, then the stated one if it differs."""
        stated = self.stated_role
        if stated is None or stated is self.recipient_role:
            return (self.recipient_role,)
        return (self.recipient_role, stated)

    def role_domains(self) -> frozenset[Domain]:
        """The domains every role of this recipient may receive (R2)."""
        out = frozenset(Domain)
        for role in self.roles:
            out &= default_domains(role)
        return out


class LetterFacts(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "sender_fp",
        "patient_fp",
        "purpose",
        "disclosures",
        "letter_digest",
        "date",
        "basis",
        "patient_identifiers_present",
        "patient_ids",
        "patient_card_carried",
        "phone_call",
        "letter_domains",
        "letter_commitment",
    )
    sender_fp: str
    patient_fp: str | None
    purpose: Purpose
    disclosures: tuple[Disclosure, ...]
    letter_digest: bytes | None
    date: int
    basis: Basis
    patient_identifiers_present: bool
    # The letter's own statements, checked against the rules of its basis. None
    # (a query about a grant, not a letter): no identifiers to compare; no
    # other domain than those disclosed.
    patient_ids: tuple[tuple[str, str], ...] | None  # (field, value), as in the manifest
    patient_card_carried: bool
    phone_call: bool  # the letter confirms a phone call (R6)
    letter_domains: frozenset[Domain] | None  # the domains of all its items
    # letter_commitment (core/letter/manifest.py) of the letter as the checker
    # recomputed it: its id, kind, patient, every item and every recipient.
    letter_commitment: bytes | None

    def __init__(
        self,
        sender_fp: str,
        patient_fp: str | None,
        purpose: Purpose,
        disclosures: tuple[Disclosure, ...],
        letter_digest: bytes | None,
        date: int,
        basis: Basis = Basis.CONSENT,
        patient_identifiers_present: bool = True,
        patient_ids: tuple[tuple[str, str], ...] | None = None,
        patient_card_carried: bool = False,
        phone_call: bool = False,
        letter_domains: frozenset[Domain] | None = None,
        letter_commitment: bytes | None = None,
    ) -> None:
        _set(self, "sender_fp", sender_fp)
        _set(self, "patient_fp", patient_fp)
        _set(self, "purpose", purpose)
        _set(self, "disclosures", disclosures)
        _set(self, "letter_digest", letter_digest)
        _set(self, "date", date)
        _set(self, "basis", basis)
        _set(self, "patient_identifiers_present", patient_identifiers_present)
        _set(self, "patient_ids", patient_ids)
        _set(self, "patient_card_carried", patient_card_carried)
        _set(self, "phone_call", phone_call)
        _set(self, "letter_domains", letter_domains)
        _set(self, "letter_commitment", letter_commitment)
        self.__post_init__()

    def __post_init__(self) -> None:
        object.__setattr__(self, "basis", Basis(self.basis))
        object.__setattr__(self, "purpose", Purpose(self.purpose))
        object.__setattr__(self, "disclosures", tuple(self.disclosures))


class Decision(Frozen):
    """Accepted: on which basis, under which grant, and what each recipient may get."""

    __slots__ = (  # noqa: RUF023 (field order)
        "basis",
        "grant",
        "allowed",
    )
    basis: Basis
    grant: Grant | None
    allowed: tuple[tuple[str, frozenset[Domain]], ...]  # (recipient fp, domains)

    def __init__(
        self, basis: Basis, grant: Grant | None, allowed: tuple[tuple[str, frozenset[Domain]], ...]
    ) -> None:
        _set(self, "basis", basis)
        _set(self, "grant", grant)
        _set(self, "allowed", allowed)


def allowed_domains(
    grant: Grant | None, fp: str, role: Role, patient_fp: str | None
) -> frozenset[Domain]:
    """The most ``fp`` may receive: role table, narrowed by the grant if any."""
    if patient_fp is not None and fp == patient_fp:
        return frozenset(Domain)  # R4: the patient receives everything about themselves
    base = default_domains(role)
    if grant is None:
        return base
    return (base & grant.domains) - grant.exclude


def check_consent(
    facts: LetterFacts,
    patient_card: Card | None,
    consent: bytes | Grant | None,
    revocations: Iterable[Revocation],
    objections: Iterable[Objection],
    now: int,
) -> Decision:
    """Accept or refuse the disclosures of one letter (docs/format-consent.md).

    ``consent`` is the grant's bytes, or the grant already verified against
    ``patient_card`` (a send parses it once, to know what each recipient may
    receive); a grant of another patient is verified again, and refused as such.
    """
    if facts.basis is Basis.PSEUDONYMOUS:
        basis_rules.check_pseudonymous(facts)
        _check_roles(facts, None, None)
        return _decision(facts, None, None)

    patient_fp = facts.patient_fp
    if patient_card is None or patient_fp is None:
        raise ConsentRefused(
            _("a letter about an identified patient needs the patient's card to check consent"),
            rule="no_consent",
            hint=_("add the patient's card as a contact"),
        )
    if patient_card.fingerprint != patient_fp or not patient_card.profile.role.is_patient:
        raise ConsentRefused(
            _(
                "the consent is signed by {name} ({fingerprint}), who is not the patient "
                "of this letter ({patient_fp})"
            ).format(
                name=patient_card.name,
                fingerprint=short_fp(patient_card.fingerprint),
                patient_fp=short_fp(patient_fp),
            ),
            rule="signer_not_patient",
            party=patient_card.fingerprint,
        )
    basis_rules.check_patient_statements(facts, patient_card)
    objections = [o for o in objections if o.patient_fp == patient_fp]

    if facts.basis is Basis.EMERGENCY:
        if facts.purpose is not Purpose.EMERGENCY_REPORT:
            raise ConsentRefused(
                _(
                    "only an emergency report may travel on the emergency basis, not a {purpose}"
                ).format(purpose=localnames.kind(str(facts.purpose))),
                rule="purpose_not_allowed",
                party=facts.sender_fp,
                hint=_("ask the patient for a consent grant"),
            )
        for d in facts.disclosures:
            _check_objections(d, patient_fp, objections)
        _check_roles(facts, None, patient_fp)
        return _decision(facts, None, patient_fp)

    if consent is None:
        raise ConsentRefused(
            _("this letter names the patient but carries no consent signed by the patient"),
            rule="no_consent",
            party=patient_fp,
            hint=_("ask the patient for a grant: securemsg consent grant (on the patient's side)"),
        )
    if isinstance(consent, Grant) and _grant_of(consent, patient_card):
        grant = consent  # verified against this card (Grant.verify or Grant.sign)
    else:  # bad_signature, signer_not_patient, malformed
        grant = Grant.verify(
            consent if isinstance(consent, bytes) else consent.encoded, patient_card
        )
    for rev in revocations:
        if rev.grant_id == grant.id and rev.patient_fp == patient_fp:
            raise ConsentRefused(
                _("the patient revoked this consent (grant {id_hex}) on {date}").format(
                    id_hex=grant.id_hex[:12], date=iso_time(rev.date)
                ),
                rule="revoked",
                party=patient_fp,
                hint=_("ask the patient for a new consent"),
            )
    for instant in (facts.date, now):
        if instant < grant.issued_at - CLOCK_SKEW:
            raise ConsentRefused(
                _("the consent is not valid yet: it starts on {issued_at}").format(
                    issued_at=iso_time(grant.issued_at)
                ),
                rule="not_yet_valid",
                party=patient_fp,
                hint=_("check the computer's clock, or wait"),
            )
    if facts.date > grant.not_after + CLOCK_SKEW or now > grant.not_after + DELIVERY_GRACE:
        raise ConsentRefused(
            _("the consent expired on {not_after}").format(not_after=iso_time(grant.not_after)),
            rule="expired",
            party=patient_fp,
            hint=_("ask the patient for a new consent"),
        )
    if grant.letter_digest is not None:
        raise ConsentRefused(
            _(
                "the consent is bound only to the Markdown text of a letter, which does "
                "not cover its attachments nor its recipients; such consents are no "
                "longer accepted"
            ),
            rule="bound_to_source_only",
            party=patient_fp,
            hint=_(
                "ask the patient to review the prepared letter and sign for it "
                "(securemsg consent grant --draft)"
            ),
        )
    if grant.commitment is not None and grant.commitment != facts.letter_commitment:
        raise ConsentRefused(
            _(
                "the consent is bound to one prepared letter, and this letter's items or "
                "recipients are not the ones the patient reviewed and signed for"
            ),
            rule="bound_letter_mismatch",
            party=patient_fp,
            hint=_(
                "send exactly the prepared draft the patient signed for (securemsg send "
                "--draft DRAFT --consent GRANT)"
            ),
        )
    if facts.sender_fp != grant.sender_fp:
        raise ConsentRefused(
            _(
                "the consent lets only the practitioner with key {sender_fp} send; this "
                "letter is from key {sender_fp2}"
            ).format(sender_fp=short_fp(grant.sender_fp), sender_fp2=short_fp(facts.sender_fp)),
            rule="sender_not_allowed",
            party=facts.sender_fp,
        )
    if facts.purpose is not grant.purpose:
        raise ConsentRefused(
            _("the consent is for a {purpose}, not a {purpose2}").format(
                purpose=localnames.kind(str(grant.purpose)),
                purpose2=localnames.kind(str(facts.purpose)),
            ),
            rule="purpose_not_allowed",
            party=facts.sender_fp,
        )
    for d in facts.disclosures:
        if d.recipient_fp == patient_fp:
            continue
        _check_objections(d, patient_fp, objections)
        if not all(
            any(r.matches(d.recipient_fp, role) for r in grant.recipients) for role in d.roles
        ):
            raise ConsentRefused(
                _("the consent does not allow informing {who}").format(who=d.who()),
                rule="recipient_not_allowed",
                party=d.recipient_fp,
            )
        excluded = d.domains & grant.exclude
        if excluded:
            raise ConsentRefused(
                _(
                    "the patient excluded {excluded} information, which this letter "
                    "discloses to {who}"
                ).format(excluded=domain_names(excluded), who=d.who()),
                rule="domain_excluded",
                party=d.recipient_fp,
            )
        missing = d.domains - grant.domains
        if missing:
            raise ConsentRefused(
                _(
                    "the consent does not grant {missing} information, which this letter "
                    "discloses to {who}"
                ).format(missing=domain_names(missing), who=d.who()),
                rule="domain_not_granted",
                party=d.recipient_fp,
            )
    _check_roles(facts, grant, patient_fp)
    return _decision(facts, grant, patient_fp)


def _grant_of(grant: Grant, card: Card) -> bool:
    """Whether ``grant`` names the patient of ``card`` as Grant.verify checks it."""
    p = card.profile
    return (grant.patient_fp, grant.patient_name, grant.patient_ins, grant.patient_birth_date) == (
        card.fingerprint,
        p.name,
        p.ins,
        p.birth_date,
    )


def _check_objections(d: Disclosure, patient_fp: str, objections: list[Objection]) -> None:
    if d.recipient_fp == patient_fp:
        return
    for o in objections:
        if any(o.applies_to(d.recipient_fp, role, d.rpps) for role in d.roles):
            target = (
                "them"
                if o.target.fp
                else o.target.describe()
                if o.target.rpps
                else f"any {o.target.role}"
            )
            raise ConsentRefused(
                _(
                    "the patient objected on {date} to informing {target}; {who} may not "
                    "receive this letter"
                ).format(date=iso_time(o.date), target=target, who=d.who()),
                rule="recipient_objected",
                party=d.recipient_fp,
            )


def _check_roles(facts: LetterFacts, grant: Grant | None, patient_fp: str | None) -> None:
    """R2: each recipient receives only the domains of its own intervention."""
    for d in facts.disclosures:
        if patient_fp is not None and d.recipient_fp == patient_fp:
            continue
        outside = d.domains - d.role_domains()
        if outside:
            role = next(r for r in d.roles if outside - default_domains(r))
            if role is d.recipient_role:
                text = _(
                    "{who} may not receive {outside} information: it is outside the domain "
                    "of a {role}"
                )
            else:
                text = _(
                    "{who} may not receive {outside} information: it is outside the domain "
                    "of a {role}, as the letter states it"
                )
            raise ConsentRefused(
                text.format(
                    who=d.who(), outside=domain_names(outside), role=localnames.role(str(role))
                ),
                rule="domain_not_for_role",
                party=d.recipient_fp,
            )


def _decision(facts: LetterFacts, grant: Grant | None, patient_fp: str | None) -> Decision:
    allowed = tuple(
        (
            d.recipient_fp,
            frozenset.intersection(
                *(allowed_domains(grant, d.recipient_fp, role, patient_fp) for role in d.roles)
            ),
        )
        for d in facts.disclosures
    )
    return Decision(facts.basis, grant, allowed)


def grant_status(grant: Grant, revocations: Iterable[Revocation], now: int) -> str:
    """valid | revoked | expired | not_yet_valid (at ``now``, with CLOCK_SKEW)."""
    if any(r.grant_id == grant.id and r.patient_fp == grant.patient_fp for r in revocations):
        return "revoked"
    if now < grant.issued_at - CLOCK_SKEW:
        return "not_yet_valid"
    if now > grant.not_after + CLOCK_SKEW:
        return "expired"
    return "valid"
