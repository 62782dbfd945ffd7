"""Who may receive a letter, what each may receive, and on which legal basis:
the send and receive rules, as pure code (shared/domain R1-R12).

Sending: a letter has exactly one legal basis (the patient's consent, an
emergency report without prior consent, or a pseudonym that identifies no
patient, R1, R8, R11); the patient gets their own copy (R4), which only some
letters may go without (R6, R8); each recipient receives only the care domains
of its role, narrowed by the consent (R2): the rest is withheld from it. The
consent itself is then checked by core/consent/check.py, as the recipient will.

Receiving: the facts a recipient's mailbox checks the consent against come
from the signed manifest, with the roles the mailbox verified itself (its own
card's for itself, a pinned card's for a contact; a role the manifest states
only narrows); the consent and patient card a letter carries must be the ones
its author signed for. The basis rules themselves (pseudonymous kinds, the
patient's identity and copy) are in the one consent check both sides run
(core/consent/check.py).

Every refusal names its rule in domain terms (:class:`SendRule`); the command
line words it for its own options (cli/letters.py). Pure: no I/O, no clock.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

from securemsg.core.card import Card
from securemsg.core.consent import Basis, Disclosure, Grant, LetterFacts, allowed_domains
from securemsg.core.consent.basis import PATIENT_COPY_REQUIRED, PSEUDONYMOUS_KINDS
from securemsg.core.digests import object_digest
from securemsg.core.domains import Domain, Purpose
from securemsg.core.identity import Role
from securemsg.core.letter.manifest import Manifest
from securemsg.errors import (
    ConsentRefused,
    SecureMsgError,
    SendRefused,
    VerificationError,
)
from securemsg.i18n import _


class SendRule(enum.Enum):
    """Why a letter may not be sent as asked."""

    ONE_BASIS = "one_basis"  # not exactly one legal basis
    PSEUDONYM_NAMES_PATIENT = "pseudonym_names_patient"
    NOT_PSEUDONYMOUS_KIND = "not_pseudonymous_kind"
    NO_PATIENT = "no_patient"  # consent or emergency, and no patient named
    NOT_A_PATIENT = "not_a_patient"  # the patient named is not one
    EMERGENCY_KIND = "emergency_kind"  # the emergency basis for another kind of letter
    PATIENT_COPY_REQUIRED = "patient_copy_required"
    PATIENT_AS_RECIPIENT = "patient_as_recipient"
    TO_MYSELF = "to_myself"
    RECIPIENT_TWICE = "recipient_twice"
    NO_RECIPIENT = "no_recipient"
    NOTHING_TO_DISCLOSE = "nothing_to_disclose"  # nothing in the letter may go to a recipient


# -- sending: the legal basis -------------------------------------------------------
def choose_basis(
    *, consent: bool, emergency: bool, pseudonym: bool, patient_named: bool, kind: Purpose
) -> Basis:
    """The one legal basis asked for. The emergency basis is checked against
    the kind of letter once the patient is known (:func:`check_emergency`)."""
    if sum([consent, emergency, pseudonym]) != 1:
        raise SendRefused(
            SendRule.ONE_BASIS,
            _(
                "a letter has exactly one legal basis: the patient's consent, an "
                "emergency report, or a pseudonym"
            ),
        )
    if pseudonym:
        if patient_named:
            raise SendRefused(
                SendRule.PSEUDONYM_NAMES_PATIENT, _("a pseudonymous letter names no patient")
            )
        if kind not in PSEUDONYMOUS_KINDS:
            raise SendRefused(
                SendRule.NOT_PSEUDONYMOUS_KIND,
                _("only tele-expertise and second-opinion letters may be pseudonymous"),
            )
        return Basis.PSEUDONYMOUS
    if not patient_named:
        raise SendRefused(
            SendRule.NO_PATIENT, _("a letter on the consent or emergency basis names its patient")
        )
    return Basis.EMERGENCY if emergency else Basis.CONSENT


def check_patient(card: Card) -> None:
    if not card.profile.role.is_patient:
        raise SendRefused(
            SendRule.NOT_A_PATIENT,
            _("{name} is a {value}, not a patient").format(
                name=card.name, value=card.profile.role.value
            ),
            name=card.name,
        )


def check_emergency(basis: Basis, kind: Purpose) -> None:
    if basis is Basis.EMERGENCY and kind is not Purpose.EMERGENCY_REPORT:
        raise SendRefused(
            SendRule.EMERGENCY_KIND, _("the emergency basis is for emergency reports only")
        )


# -- sending: the recipients --------------------------------------------------------
def check_recipient(card: Card, me: Card, chosen: Sequence[Card]) -> None:
    """One more recipient named, after ``chosen``."""
    if card.fingerprint == me.fingerprint:
        raise SendRefused(
            SendRule.TO_MYSELF,
            _("you cannot send a letter to yourself (your double is kept anyway)"),
        )
    if any(x.fingerprint == card.fingerprint for x in chosen):
        raise SendRefused(
            SendRule.RECIPIENT_TWICE,
            _("{name} is named twice").format(name=card.name),
            name=card.name,
        )


def check_some_recipient(chosen: Sequence[Card]) -> None:
    if not chosen:
        raise SendRefused(SendRule.NO_RECIPIENT, _("a letter has at least one recipient"))


def check_patient_copy(kind: Purpose, phone_call: bool, without_copy: bool) -> None:
    if without_copy and (kind in PATIENT_COPY_REQUIRED or phone_call):
        raise SendRefused(
            SendRule.PATIENT_COPY_REQUIRED,
            _(
                "the patient's copy is mandatory for emergency reports and phone "
                "follow-ups (R6, R8)"
            ),
        )


def all_recipients(named: list[Card], patient: Card | None, without_copy: bool) -> list[Card]:
    """The named recipients, then the patient's copy (R4) unless left out."""
    if patient is not None and any(c.fingerprint == patient.fingerprint for c in named):
        raise SendRefused(
            SendRule.PATIENT_AS_RECIPIENT,
            _("the patient gets their copy automatically, not as one of the recipients"),
        )
    if patient is not None and not without_copy:
        return [*named, patient]
    return list(named)


# -- sending: what each recipient receives ------------------------------------------
Withheld = tuple[str, tuple[str, ...]]  # (recipient name, care domains withheld)


def disclosures(
    present: frozenset[Domain],
    recipients: Sequence[Card],
    grant: Grant | None,
    patient_fp: str | None,
) -> tuple[list[tuple[Card, frozenset[Domain]]], list[Withheld]]:
    """Each recipient with the domains of the letter it may receive (its role's,
    narrowed by the grant; the patient: everything, R4), and what is withheld
    from whom. A recipient that may receive nothing of it is refused."""
    plan: list[tuple[Card, frozenset[Domain]]] = []
    withheld: list[Withheld] = []
    for card in recipients:
        allowed = allowed_domains(grant, card.fingerprint, card.profile.role, patient_fp)
        gets = frozenset(present & allowed)
        if not gets:
            raise SendRefused(
                SendRule.NOTHING_TO_DISCLOSE,
                _(
                    "nothing in this letter may go to {name} ({value}): it may receive {value2}"
                ).format(
                    name=card.name,
                    value=card.profile.role.value,
                    value2=", ".join(sorted(d.value for d in allowed)) or "nothing",
                ),
                name=card.name,
                hint=_("tag the sections for their care domain, e.g. '## Dressing care {nursing}'"),
            )
        if present - gets:
            withheld.append((card.name, tuple(sorted(d.value for d in present - gets))))
        plan.append((card, gets))
    return plan, withheld


def send_facts(
    me: Card,
    patient: Card | None,
    kind: Purpose,
    plan: Sequence[tuple[Card, frozenset[Domain]]],
    digest: bytes,
    basis: Basis,
    now: int,
    *,
    phone_call: bool = False,
    letter_domains: frozenset[Domain] | None = None,
    commitment: bytes | None = None,
) -> LetterFacts:
    """What the consent is checked against before sending (core/consent/check.py)."""
    return LetterFacts(
        sender_fp=me.fingerprint,
        patient_fp=patient.fingerprint if patient else None,
        purpose=kind,
        disclosures=tuple(
            Disclosure(c.fingerprint, c.profile.role, d, c.name, rpps=c.profile.rpps)
            for c, d in plan
        ),
        letter_digest=digest,
        date=now,
        basis=basis,
        patient_identifiers_present=patient is not None,
        patient_ids=patient.profile.identifiers() if patient else (),
        patient_card_carried=patient is not None,
        phone_call=phone_call,
        letter_domains=letter_domains,
        letter_commitment=commitment,
    )


# -- receiving ------------------------------------------------------------------------
def received_facts(
    m: Manifest, me: Card, known: Mapping[str, Card], patient_card_carried: bool
) -> LetterFacts:
    """What a recipient checks the consent against: the signed manifest's facts,
    with the roles it verified itself. Its own role is its card's: a manifest
    that states another one is refused. A recipient whose card it holds
    (``known``: fingerprint to card) is checked under that card's role, the role
    the manifest states narrowing only; any other under the stated role."""
    mine = m.entry_for(me.fingerprint)
    if mine is not None and mine.role is not me.profile.role:
        raise ConsentRefused(
            _("the letter lists you as a {role}, but your card says you are a {role2}").format(
                role=mine.role, role2=me.profile.role
            ),
            rule="not_my_role",
            party=m.author,
            hint=_("its author holds a wrong card for you: ask them to check it"),
        )
    cards = {**known, me.fingerprint: me}

    def disclosure(fp: str, stated: Role, domains: frozenset[Domain]) -> Disclosure:
        card = cards.get(fp)
        if card is None:
            return Disclosure(fp, stated, domains)
        return Disclosure(
            fp, card.profile.role, domains, card.name, stated_role=stated, rpps=card.profile.rpps
        )

    return LetterFacts(
        sender_fp=m.author,
        patient_fp=m.patient_fp,
        purpose=m.kind,
        disclosures=tuple(disclosure(r.fp, r.role, r.domains) for r in m.recipients),
        letter_digest=m.letter_digest,
        date=m.date,
        basis=Basis(m.basis),
        patient_identifiers_present=bool(m.patient_ids) or m.patient_fp is not None,
        patient_ids=m.patient_ids,
        patient_card_carried=patient_card_carried,
        phone_call=m.phone_call is not None,
        letter_domains=frozenset(i.domain for i in m.items),
        letter_commitment=m.commitment(),
    )


def check_carried_consent(m: Manifest, consent: bytes | None) -> None:
    """A letter on the consent basis carries the very consent its author signed
    for (by digest); a letter on another basis carries none."""
    if m.basis == Basis.CONSENT.value:
        if consent is None or m.consent_digest != object_digest(consent):
            raise ConsentRefused(
                _("the consent in the letter is not the one its author signed for"),
                rule="bad_signature",
            )
    elif consent is not None:
        raise VerificationError(
            _("a letter on the emergency or pseudonymous basis carries a consent")
        )


def carried_patient(m: Manifest, carried: bytes) -> Card:
    """The patient card a letter carries: the card of the patient its manifest names."""
    card = Card.verify(carried)
    if card.fingerprint != m.patient_fp:
        raise VerificationError(_("the patient card in the letter is not the patient's it names"))
    return card


def refusal_rule(error: SecureMsgError) -> str:
    """The rule a refusal notice names: the consent rule, else the error code."""
    return str(getattr(error, "rule", None) or error.code)


def refusal_reason(error: SecureMsgError) -> str:
    """A refusal notice's reason: the rule only, never the error message. A
    notice is signed, not encrypted, and travels through shared folders;
    messages may name the patient (e.g. signer_not_patient names the card's holder)."""
    if isinstance(error, ConsentRefused):
        return f"the recipient's mailbox refused the letter under the consent rule {error.rule}"
    return f"the recipient's mailbox could not verify the letter ({error.code})"
