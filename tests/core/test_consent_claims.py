"""check_consent's rules on what a letter states (issue 11, items 4, 5, 7), pure:
a stated role only narrows, the patient named as the card names them, the
basis rules (core/consent/basis.py); and policy.received_facts, which gives
each recipient the role the mailbox verified."""

from __future__ import annotations

from typing import Any

import pytest

from securemsg.core.card import Card
from securemsg.core.consent import (
    Basis,
    Disclosure,
    Grant,
    LetterFacts,
    Objection,
    Recipient,
    check_consent,
)
from securemsg.core.domains import Domain, Purpose
from securemsg.core.frozen import replace
from securemsg.core.identity import Profile, Role
from securemsg.core.letter import policy
from securemsg.core.letter.manifest import Item, Manifest, RecipientEntry
from securemsg.core.testkeys import derive_test_identity
from securemsg.errors import ConsentRefused

NOW = 1_800_000_000
M, N, A = Domain.MEDICAL, Domain.NURSING, Domain.ADMINISTRATIVE


def _card(label: str, name: str, role: Role, **kw: str) -> Card:
    return Card.sign(derive_test_identity(f"claims/{label}"), Profile(name, role, **kw), NOW - 99)


PAT = _card("pat", "Paul Durand", Role.PATIENT, ins="170017512345665", birth_date="1970-01-01")
GP = _card("gp", "Dr Alice Martin", Role.GP)
SPEC = _card("spec", "Dr Bob Bernard", Role.SPECIALIST)
NURSE = _card("nurse", "Nina Petit", Role.NURSE)
PAT_IDS = PAT.profile.identifiers()


def grant(*to: Recipient) -> Grant:
    return Grant.sign(
        derive_test_identity("claims/pat"),
        PAT,
        sender_fp=GP.fingerprint,
        recipients=list(to) or [Recipient(fp=SPEC.fingerprint), Recipient(fp=NURSE.fingerprint)],
        purpose=Purpose.REFERRAL,
        now=NOW,
    )


def disc(card: Card, *domains: Domain, stated: Role | None = None) -> Disclosure:
    return Disclosure(card.fingerprint, card.profile.role, frozenset(domains), card.name, stated)


def facts(*disclosures: Disclosure, **kw: Any) -> LetterFacts:
    args: dict[str, Any] = {
        "sender_fp": GP.fingerprint,
        "patient_fp": PAT.fingerprint,
        "purpose": Purpose.REFERRAL,
        "disclosures": disclosures or (disc(SPEC, M), disc(NURSE, N)),
        "letter_digest": None,
        "date": NOW + 60,
        "patient_ids": PAT_IDS,
    }
    return LetterFacts(**{**args, **kw})


def refused(rule: str, f: LetterFacts, g: Grant | None = None, **kw: Any) -> str:
    with pytest.raises(ConsentRefused) as info:
        check_consent(f, kw.get("card", PAT), g, (), kw.get("objections", ()), NOW + 60)
    assert info.value.rule == rule, info.value.message
    return info.value.message


# -- item 4: a stated role narrows, never widens ------------------------------------------
def test_a_stated_role_never_widens_the_role_table() -> None:
    msg = refused("domain_not_for_role", facts(disc(NURSE, M, N, stated=Role.SPECIALIST)), grant())
    assert "Nina Petit (nurse) may not receive medical" in msg


def test_a_stated_role_narrows_the_role_table() -> None:
    f = facts(disc(SPEC, M, stated=Role.NURSE))
    assert "a nurse, as the letter states it" in refused("domain_not_for_role", f, grant())
    d = check_consent(facts(disc(SPEC, N, stated=Role.NURSE)), PAT, grant(), (), (), NOW + 60)
    assert d.allowed == ((SPEC.fingerprint, frozenset({N, A})),)  # the nurse's, not more


def test_a_role_scoped_grant_must_match_the_verified_role() -> None:
    anyone_specialist = grant(Recipient(role=Role.SPECIALIST))
    refused(
        "recipient_not_allowed", facts(disc(NURSE, N, stated=Role.SPECIALIST)), anyone_specialist
    )
    refused("recipient_not_allowed", facts(disc(SPEC, N, stated=Role.NURSE)), anyone_specialist)
    check_consent(facts(disc(SPEC, N)), PAT, anyone_specialist, (), (), NOW + 60)


@pytest.mark.parametrize("stated", [Role.GP, None])
def test_a_role_scoped_objection_applies_to_either_role(stated: Role | None) -> None:
    no_nurse = Objection.sign(
        derive_test_identity("claims/pat"), PAT, Recipient(role=Role.NURSE), NOW
    )
    f = facts(disc(NURSE, N, stated=stated))
    refused("recipient_objected", f, grant(), objections=[no_nurse])
    # and a specialist stated as a nurse is objected to as one
    f = facts(disc(SPEC, N, stated=Role.NURSE))
    refused("recipient_objected", f, grant(), objections=[no_nurse])


def _manifest(*entries: RecipientEntry, **kw: Any) -> Manifest:
    args: dict[str, Any] = {
        "message_id": bytes(16), "kind": Purpose.REFERRAL, "date": NOW, "author": GP.fingerprint,
        "recipients": entries, "subject": "s", "items": (Item(0, "section", M, bytes(32)),),
        "basis": "consent", "letter_digest": bytes(32), "patient_fp": PAT.fingerprint,
        "patient_ids": PAT_IDS, "consent_digest": bytes(32),
    }  # fmt: skip
    return Manifest(**{**args, **kw})


def entry(card: Card, role: Role, *domains: Domain) -> RecipientEntry:
    return RecipientEntry(card.fingerprint, role, frozenset(domains))


def test_received_facts_my_own_role_is_my_cards() -> None:
    m = _manifest(entry(NURSE, Role.SPECIALIST, M, N))
    with pytest.raises(ConsentRefused) as info:
        policy.received_facts(m, NURSE, {}, True)
    assert info.value.rule == "not_my_role" and info.value.party == GP.fingerprint
    assert "lists you as a specialist, but your card says you are a nurse" in info.value.message
    # the same letter at another recipient that does not know her: the stated role
    (d,) = policy.received_facts(m, SPEC, {}, True).disclosures
    assert (d.recipient_role, d.roles) == (Role.SPECIALIST, (Role.SPECIALIST,))


def test_received_facts_use_the_cards_held_and_keep_the_stated_role() -> None:
    m = _manifest(entry(SPEC, Role.SPECIALIST, M), entry(NURSE, Role.SPECIALIST, M))
    f = policy.received_facts(m, SPEC, {NURSE.fingerprint: NURSE}, True)
    me, nurse = f.disclosures
    assert me.roles == (Role.SPECIALIST,)
    assert nurse.roles == (Role.NURSE, Role.SPECIALIST) and nurse.name == NURSE.name
    assert f.patient_ids == PAT_IDS and f.letter_domains == frozenset({M})
    assert f.patient_card_carried and not f.phone_call


# -- item 5: the patient as the card names them ------------------------------------------
@pytest.mark.parametrize(
    ("ids", "differ"),
    [
        ((("name", "Eve Moreau"), *PAT_IDS[1:]), "patient name differs from"),
        (PAT_IDS[:1], "patient INS and birth date differ from"),
        ((*PAT_IDS[:2], ("birth_date", "1971-01-01")), "patient birth date differs from"),
    ],
)
def test_the_letter_names_its_patient_as_the_card_does(
    ids: tuple[tuple[str, str], ...], differ: str
) -> None:
    msg = refused("patient_identity_mismatch", facts(patient_ids=ids), grant())
    assert differ in msg and "Eve" not in msg
    emergency = facts(
        disc(SPEC, M), disc(PAT, M), patient_ids=ids, basis=Basis.EMERGENCY,
        purpose=Purpose.EMERGENCY_REPORT,
    )  # fmt: skip
    refused("patient_identity_mismatch", emergency)


def test_a_grant_query_states_no_identity() -> None:
    assert check_consent(facts(patient_ids=None), PAT, grant(), (), (), NOW + 60).grant


# -- item 7: the basis rules ---------------------------------------------------------------
def pseudonymous(**kw: Any) -> LetterFacts:
    args: dict[str, Any] = {
        "basis": Basis.PSEUDONYMOUS, "patient_fp": None, "patient_ids": (),
        "patient_identifiers_present": False, "purpose": Purpose.TELE_EXPERTISE,
    }  # fmt: skip
    return facts(disc(SPEC, M), **{**args, **kw})


def test_pseudonymous_kinds_and_no_patient_card() -> None:
    for kind in (Purpose.TELE_EXPERTISE, Purpose.SECOND_OPINION):
        assert check_consent(pseudonymous(purpose=kind), None, None, (), (), NOW).grant is None
    for kind in set(Purpose) - {Purpose.TELE_EXPERTISE, Purpose.SECOND_OPINION}:
        refused("not_pseudonymous_kind", pseudonymous(purpose=kind), card=None)
    msg = refused(
        "pseudonym_identifies_patient", pseudonymous(patient_card_carried=True), card=None
    )
    assert "carries the patient's card" in msg


@pytest.mark.parametrize(
    ("kw", "copy", "match"),
    [
        (
            {"purpose": Purpose.EMERGENCY_REPORT, "basis": Basis.EMERGENCY},
            None,
            "gives the patient no copy",
        ),
        ({"purpose": Purpose.EMERGENCY_REPORT, "basis": Basis.EMERGENCY}, {N}, "withholds part"),
        ({"phone_call": True}, None, "a phone follow-up goes to the patient"),
        ({"phone_call": True, "letter_domains": frozenset({M, N})}, {M}, "withholds part"),
    ],
)
def test_patient_copy_required(kw: dict[str, Any], copy: set[Domain] | None, match: str) -> None:
    ds = [disc(SPEC, M)] + ([disc(PAT, *copy)] if copy is not None else [])
    g = grant() if kw.get("basis") is None else None
    assert match in refused("patient_copy_required", facts(*ds, **kw), g)
    whole = replace(facts(disc(SPEC, M), disc(PAT, M, N), **kw), letter_domains=frozenset({M, N}))
    check_consent(whole, PAT, g, (), (), NOW + 60)


def test_a_referral_may_go_without_the_patient_copy() -> None:
    f = facts(disc(SPEC, M), letter_domains=frozenset({M, N}))
    assert check_consent(f, PAT, grant(), (), (), NOW + 60).basis is Basis.CONSENT
