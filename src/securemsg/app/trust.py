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

from securemsg.app.restrictions import restrictions
from securemsg.core.card import Card, same_patient
from securemsg.core.consent import Decision, check_consent
from securemsg.core.letter import policy
from securemsg.core.letter.manifest import Manifest
from securemsg.core.times import shown_day
from securemsg.errors import (
    ConsentRefused,
    KeyRevoked,
    SecureMsgError,
    UnknownSender,
    UsageError,
    VerificationError,
)
from securemsg.i18n import _
from securemsg.store.contacts import Contacts
from securemsg.store.mailbox import Mailbox


def resolve_patient(
    box: Mailbox, m: Manifest, carried: bytes | None, now: int | None = None
) -> Card | None:
    """The patient's card: mine, a contact's (added or pinned), or the one the
    author carried, checked here (docs/format-consent.md, "Patient keys") when a
    letter is being received (``now``): current, self-signed, not a public test
    key in a real home, and naming no patient known here (me included) under
    another key."""
    if m.patient_fp is None:
        return None
    if m.patient_fp == box.card.fingerprint:
        return box.card
    book = Contacts(box.home)
    contact = book.get(m.patient_fp)
    if contact is not None:
        if contact.state != "active":
            raise ConsentRefused(
                _("the patient's key named in this letter was replaced"),
                rule="patient_key_replaced",
                party=m.patient_fp,
            )
        return contact.card
    if carried is None:
        return None
    card = policy.carried_patient(m, carried)
    if now is None:
        return card  # a stored letter: its card was checked when it was received
    try:
        card.check_current(now)
    except SecureMsgError as exc:
        raise ConsentRefused(
            _("the patient card in this letter is not current: {exc}").format(exc=exc),
            rule="patient_card_expired",
            party=card.fingerprint,
            hint=_("ask the author to send it again with the patient's current card"),
        ) from exc
    if card.test_key and not box.card.test_key:
        raise ConsentRefused(
            _("the patient card in this letter belongs to a PUBLIC TEST KEY"),
            rule="patient_test_key",
            party=card.fingerprint,
            hint=_("anyone can sign with a test key; ask the author which card the patient holds"),
        )
    if card.profile.role.is_patient:
        check_patient_key(box, book, card)
    return card


def check_patient_key(box: Mailbox, book: Contacts, card: Card) -> None:
    """A patient known here (me, a contact, a pinned card) has one key: a card
    naming them under another is refused, and said so in my own mailbox."""
    if same_patient(box.card, card):
        raise ConsentRefused(
            _(
                "this letter names you as its patient, but under another key "
                "({display_fingerprint}) than yours: someone made a key in your name"
            ).format(display_fingerprint=card.display_fingerprint),
            rule="patient_key_mismatch",
            party=card.fingerprint,
            hint=_(
                "you did not sign this consent; keep the letter and tell its author and "
                "your doctor at once"
            ),
        )
    for other in book.all(include_replaced=True):
        if other.fingerprint != card.fingerprint and same_patient(other.card, card):
            raise ConsentRefused(
                _(
                    "the patient of this letter is known here with another key "
                    "({display_fingerprint}) than the card it carries "
                    "({display_fingerprint2})"
                ).format(
                    display_fingerprint=other.card.display_fingerprint,
                    display_fingerprint2=card.display_fingerprint,
                ),
                rule="patient_key_mismatch",
                party=card.fingerprint,
                hint=_(
                    "the letter may carry a forged patient key; ask the author and the "
                    "patient which key is the patient's"
                ),
            )


def pin_patient(box: Mailbox, m: Manifest, patient: Card | None, now: int) -> None:
    """After a letter was accepted: keep the patient card it carried (first use)."""
    if patient is None or patient.fingerprint == box.card.fingerprint:
        return
    if patient.profile.role.is_patient and m.patient_fp == patient.fingerprint:
        Contacts(box.home).pin_patient(patient, now)


def patient_key_state(box: Mailbox, patient_fp: str | None) -> str | None:
    """ "yours", "verified", "not_verified" (a contact you added but did not
    verify), "pinned" (learnt from a letter: patient key not verified by you),
    or None (no patient)."""
    if patient_fp is None:
        return None
    if patient_fp == box.card.fingerprint:
        return "yours"
    contact = Contacts(box.home).get(patient_fp)
    if contact is None:
        return "pinned"  # stored before patient cards were pinned
    if contact.verified:
        return "verified"
    return "pinned" if contact.pinned else "not_verified"


def check_basis(
    box: Mailbox, m: Manifest, consent: bytes | None, carried: bytes | None, now: int
) -> tuple[Decision, Card | None]:
    """The consent rules (core/consent/check.py) on the manifest's facts, with the
    revocations and objections known here for this patient, whatever key they
    were signed with (app/restrictions.py)."""
    policy.check_carried_consent(m, consent)
    patient = resolve_patient(box, m, carried, now)
    facts = policy.received_facts(
        m, box.card, recipient_cards(box, m, patient), carried is not None
    )
    revs, objs = restrictions(box, m.patient_fp, patient)
    return check_consent(facts, patient, consent, revs, objs, now), patient


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
            _("the letter's author (key {author_fp}) is not one of your contacts").format(
                author_fp=author_fp[:16]
            ),
            hint=_(
                "ask the author for their card, check it with them, then: securemsg "
                "contacts add FILE"
            ),
            author_fp=author_fp,
        )
    if contact.revoked:
        raise KeyRevoked(
            _(
                "the letter is signed with a key of {name} revoked as of {iso_day}: "
                "whoever holds the key may date a letter as they like, so no letter "
                "signed by it is accepted any more"
            ).format(name=contact.name, iso_day=shown_day(contact.revoked_as_of or 0)),
            hint=_("ask them to send it again with their new key"),
            rule="key_revoked",
            party=contact.fingerprint,
        )
    if contact.state != "active":
        raise VerificationError(
            _("the letter is signed with a key of {name} that was replaced on your side").format(
                name=contact.name
            ),
            hint=_("it may be an old or stolen key; ask them to send it again"),
        )
    contact.card.check_current(now)
    return contact.card


def known_author(box: Mailbox, fp: str) -> Card:
    """For stored letters: the author's card even if replaced or expired since
    (my own, of a key I rotated away from, too)."""
    for mine in box.cards:
        if fp == mine.fingerprint:
            return mine
    contact = Contacts(box.home).get(fp)
    if contact is None:
        raise UsageError(_("the author of this stored letter is no longer a contact"))
    return contact.card
