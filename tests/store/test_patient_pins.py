"""Patient cards pinned on first use (issue 11 item 1), at the store level:
the contact record's ``pinned`` flag (an optional field of the sealed record:
rows written before it existed read as before, no schema change), the
identity a patient key is pinned by, and the checks on a carried patient card
in a real home (a public test key is refused there)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from test_contacts import DAY, NOW, card, new_home

from securemsg.app.restrictions import keys_of
from securemsg.app.trust import resolve_patient
from securemsg.core import cbor
from securemsg.core.card import Card, same_patient
from securemsg.core.identity import Profile, Role
from securemsg.core.testkeys import derive_test_identity
from securemsg.errors import ConsentRefused, FormatError
from securemsg.store.contacts import Contact, Contacts

INS = "285027512312317"


def test_an_old_record_reads_unpinned_and_a_pinned_one_round_trips(tmp_path: Path) -> None:
    c = card("Jeanne Dupont", Role.PATIENT, ins=INS, birth_date="1950-03-02")
    old = cbor.dumps({"card": c.encoded, "verified": False, "added": NOW, "state": "active"})
    assert Contact.from_cbor(old).pinned is False
    pinned = Contact(card=c, verified=False, added=NOW, pinned=True)
    back = Contact.from_cbor(pinned.to_cbor())
    assert back.pinned and back.unverified_pin
    with pytest.raises(FormatError):  # strict: a boolean is a boolean
        Contact.from_cbor(
            cbor.dumps(
                {"card": c.encoded, "verified": False, "added": NOW, "state": "active", "pinned": 1}
            )
        )


def test_pin_then_verify(tmp_path: Path) -> None:
    home = new_home(tmp_path / "me")
    book = Contacts(home)
    c = card("Jeanne Dupont", Role.PATIENT, ins=INS, birth_date="1950-03-02")
    assert book.pin_patient(c, NOW).unverified_pin
    assert book.pin_patient(c, NOW + DAY).added == NOW  # first use only
    done = book.mark_verified("Jeanne Dupont", c.fingerprint)
    assert (done.verified, done.pinned) == (True, False)


def test_same_patient_is_ins_else_name_and_birth_date() -> None:
    a = card("Jeanne Dupont", Role.PATIENT, ins=INS, birth_date="1950-03-02")
    assert same_patient(a, card("Jeanne Dupont", Role.PATIENT, ins=INS, birth_date="1950-03-02"))
    assert same_patient(a, card("Someone Else", Role.PATIENT, ins=INS))
    assert not same_patient(
        a, card("Jeanne Dupont", Role.PATIENT, ins="184127505600774", birth_date="1950-03-02")
    )
    assert same_patient(a, card("jeanne dupont", Role.PATIENT, birth_date="1950-03-02"))
    assert not same_patient(a, card("Jeanne Dupont", Role.PATIENT, birth_date="1951-03-02"))
    assert not same_patient(a, card("Jeanne Dupont", Role.GP))


def test_a_carried_test_key_patient_card_is_refused_by_a_real_home(tmp_path: Path) -> None:
    home = new_home(tmp_path / "me")
    pat = Card.sign(
        derive_test_identity("jeanne"),
        Profile("Jeanne Dupont", Role.PATIENT, birth_date="1950-03-02"),
        NOW,
        test_key=True,
    )
    box = SimpleNamespace(home=home, card=home.card())
    m = SimpleNamespace(patient_fp=pat.fingerprint)
    with pytest.raises(ConsentRefused) as info:
        resolve_patient(box, m, pat.encoded, NOW)  # type: ignore[arg-type]
    assert info.value.rule == "patient_test_key"
    assert Contacts(home).all() == []


def test_an_objection_follows_the_key_history_and_the_rpps() -> None:
    """app/restrictions.keys_of: the replacement chain both ways, and a card with
    the same RPPS number (issue 11 item 6)."""
    rpps = "10003456786"
    old = Contact(card("Dr Bob", Role.SPECIALIST, rpps=rpps), True, NOW, "replaced")
    new = Contact(card("Dr Bob", Role.SPECIALIST), False, NOW, replaces=old.fingerprint)
    old = Contact(old.card, True, NOW, "replaced", replaced_by=new.fingerprint)
    other_card = Contact(card("Dr Bob Durand", Role.SPECIALIST, rpps=rpps), False, NOW)
    stranger = Contact(card("Dr Eve", Role.SPECIALIST), False, NOW)
    everyone = [old, new, other_card, stranger]
    want = {old.fingerprint, new.fingerprint, other_card.fingerprint}
    assert keys_of(everyone, old.fingerprint) == want
    assert keys_of(everyone, new.fingerprint) == want
    assert keys_of(everyone, stranger.fingerprint) == {stranger.fingerprint}
