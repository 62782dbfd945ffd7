"""The basis rules of :func:`~securemsg.core.consent.check.check_consent`: what a
letter states about its patient and its legal basis, checked the same way by
the sender's tool and by every recipient's mailbox (shared/domain R4, R6, R8,
R11): which kinds of letter may be pseudonymous, that a pseudonymous letter
carries nothing that identifies the patient, that a letter names its patient
exactly as the patient's card does, and that an emergency report or a phone
follow-up gives the patient the whole letter. Pure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from securemsg.core import localnames
from securemsg.core.card import Card
from securemsg.core.consent.explain import short_fp
from securemsg.core.domains import Purpose
from securemsg.errors import ConsentRefused
from securemsg.i18n import N_, _, ngettext

if TYPE_CHECKING:  # check.py imports this module
    from securemsg.core.consent.check import LetterFacts

PSEUDONYMOUS_KINDS: Final = (Purpose.TELE_EXPERTISE, Purpose.SECOND_OPINION)  # R11
PATIENT_COPY_REQUIRED: Final = (Purpose.EMERGENCY_REPORT,)  # and phone follow-ups (R6, R8)
FIELD_NAMES: Final = {
    "name": N_("name"),
    "ins": N_("INS"),
    "birth_date": N_("birth date"),
}  # Profile.identifiers


def check_pseudonymous(facts: LetterFacts) -> None:
    """R11: a pseudonymous letter identifies no patient, and is of a kind that may be."""
    if facts.patient_fp is not None or facts.patient_identifiers_present:
        raise ConsentRefused(
            _(
                "a pseudonymous letter must carry no identifier of the patient, but this "
                "one names the patient"
            ),
            rule="pseudonym_identifies_patient",
            hint=_("remove the patient's name, INS and birth date, or send it under a consent"),
        )
    if facts.patient_card_carried:
        raise ConsentRefused(
            _(
                "a pseudonymous letter must carry no identifier of the patient, but this "
                "one carries the patient's card"
            ),
            rule="pseudonym_identifies_patient",
            party=facts.sender_fp,
        )
    if facts.purpose not in PSEUDONYMOUS_KINDS:
        raise ConsentRefused(
            _(
                "only tele-expertise and second-opinion letters may be pseudonymous, not "
                "a {purpose}"
            ).format(purpose=localnames.kind(str(facts.purpose))),
            rule="not_pseudonymous_kind",
            party=facts.sender_fp,
            hint=_("a letter of this kind names its patient and travels under a consent"),
        )


def check_patient_statements(facts: LetterFacts, card: Card) -> None:
    """A letter about an identified patient (``card``, already checked to be the
    patient's): it names them as their card does, and gives them their copy
    where it is mandatory."""
    _check_identity(facts, card)
    _check_copy(facts, card.fingerprint)


def _check_identity(facts: LetterFacts, card: Card) -> None:
    """As Grant.verify requires of a grant: what is shown and filed is the card's identity."""
    if facts.patient_ids is None:  # a query about a grant, not a letter
        return
    stated, known = dict(facts.patient_ids), dict(card.profile.identifiers())
    differ = [_(FIELD_NAMES[k]) for k in FIELD_NAMES if stated.get(k) != known.get(k)]
    if not differ:
        return
    fields = (
        differ[0]
        if len(differ) == 1
        else _("{items} and {last}").format(items=", ".join(differ[:-1]), last=differ[-1])
    )
    raise ConsentRefused(
        ngettext(
            "the letter's patient {fields} differs from the patient's card ({fingerprint})",
            "the letter's patient {fields} differ from the patient's card ({fingerprint})",
            len(differ),
        ).format(fields=fields, fingerprint=short_fp(card.fingerprint)),
        rule="patient_identity_mismatch",
        party=facts.sender_fp,
        hint=_("it could be filed under another patient; ask its author to send it again"),
    )


def _check_copy(facts: LetterFacts, patient_fp: str) -> None:
    """R6, R8: an emergency report or a phone follow-up goes to the patient, whole."""
    if facts.purpose in PATIENT_COPY_REQUIRED:
        emergency = True
    elif facts.phone_call:
        emergency = False
    else:
        return
    whole = facts.letter_domains
    if whole is None:
        whole = frozenset().union(*(d.domains for d in facts.disclosures))
    copy = next((d for d in facts.disclosures if d.recipient_fp == patient_fp), None)
    if copy is not None and whole <= copy.domains:
        return
    if emergency and copy is None:
        message = _(
            "an emergency report goes to the patient too, whole, but this letter "
            "gives the patient no copy (R6, R8)"
        )
    elif emergency:
        message = _(
            "an emergency report goes to the patient too, whole, but this letter "
            "withholds part of it from them (R6, R8)"
        )
    elif copy is None:
        message = _(
            "a phone follow-up goes to the patient too, whole, but this letter "
            "gives the patient no copy (R6, R8)"
        )
    else:
        message = _(
            "a phone follow-up goes to the patient too, whole, but this letter "
            "withholds part of it from them (R6, R8)"
        )
    raise ConsentRefused(
        message,
        rule="patient_copy_required",
        party=facts.sender_fp,
        hint=_("ask its author to send it again with the patient's copy"),
    )
