"""Whose cards verify a letter, and whether its legal basis holds here.

Shared by receive, read and verify. Every fact comes from this mailbox's own
records (conventions.md, Untrusted input): the author is me or an active,
current contact; the patient is me, a contact, or the card the author carried
(checked against the fingerprint the signed manifest names), and the letter
must name the patient as that card does; each recipient's role is the one of
the card held here (mine, the patient's, a contact's), the manifest's only
narrowing it; the consent and basis rules run against the revocations and
objections known here.
"""

from __future__ import annotations

from securemsg.core.card import Card
from securemsg.core.consent import Decision, check_consent
from securemsg.core.letter import policy
from securemsg.core.letter.manifest import Manifest
from securemsg.errors import ConsentRefused, UnknownSender, UsageError, VerificationError
from securemsg.store.consents import ConsentStore
from securemsg.store.contacts import Contacts
from securemsg.store.mailbox import Mailbox


def resolve_patient(box: Mailbox, m: Manifest, carried: bytes | None) -> Card | None:
    """The patient's card: mine, a contact's, or the one the author carried."""
    if m.patient_fp is None:
        return None
    if m.patient_fp == box.card.fingerprint:
        return box.card
    contact = Contacts(box.home).get(m.patient_fp)
    if contact is not None:
        if contact.state != "active":
            raise ConsentRefused(
                "the patient's key named in this letter was replaced",
                rule="patient_key_replaced",
                party=m.patient_fp,
            )
        return contact.card
    return None if carried is None else policy.carried_patient(m, carried)


def check_basis(
    box: Mailbox, m: Manifest, consent: bytes | None, carried: bytes | None, now: int
) -> Decision:
    """The consent rules (core/consent/check.py) on the manifest's facts, with the
    revocations and objections known here."""
    policy.check_carried_consent(m, consent)
    patient = resolve_patient(box, m, carried)
    facts = policy.received_facts(
        m, box.card, recipient_cards(box, m, patient), carried is not None
    )
    store = ConsentStore(box.home)
    revs = store.revocations_for(m.patient_fp) if m.patient_fp else []
    objs = store.objections_for(m.patient_fp) if m.patient_fp else []
    return check_consent(facts, patient, consent, revs, objs, now)


def recipient_cards(box: Mailbox, m: Manifest, patient: Card | None) -> dict[str, Card]:
    """The cards this mailbox holds for the letter's recipients (its own, the
    patient's, its contacts'): their roles are checked, not the manifest's."""
    book = Contacts(box.home)
    cards: dict[str, Card] = {box.card.fingerprint: box.card}
    if patient is not None:
        cards[patient.fingerprint] = patient
    for r in m.recipients:
        if r.fp not in cards and (contact := book.get(r.fp)) is not None:
            cards[r.fp] = contact.card
    return cards


def author_card(box: Mailbox, author_fp: str, now: int) -> Card:
    """The author of a letter being received: me, or an active, current contact."""
    if author_fp == box.card.fingerprint:
        return box.card
    contact = Contacts(box.home).get(author_fp)
    if contact is None:
        raise UnknownSender(
            f"the letter's author (key {author_fp[:16]}) is not one of your contacts",
            hint="ask the author for their card, check it with them, then: "
            "securemsg contacts add FILE",
        )
    if contact.state != "active":
        raise VerificationError(
            f"the letter is signed with a key of {contact.name} that was replaced on your side",
            hint="it may be an old or stolen key; ask them to send it again",
        )
    contact.card.check_current(now)
    return contact.card


def known_author(box: Mailbox, fp: str) -> Card:
    """For stored letters: the author's card even if replaced or expired since."""
    if fp == box.card.fingerprint:
        return box.card
    contact = Contacts(box.home).get(fp)
    if contact is None:
        raise UsageError("the author of this stored letter is no longer a contact")
    return contact.card
