"""core.letter.policy: the send and receive rules, pure, in domain terms."""

from __future__ import annotations

import time

import pytest

from securemsg.core.card import Card
from securemsg.core.consent import Basis, Grant, Recipient, check_consent
from securemsg.core.domains import Domain, Purpose
from securemsg.core.identity import Profile, Role
from securemsg.core.letter import policy
from securemsg.core.letter.policy import SendRule
from securemsg.core.testkeys import derive_test_identity
from securemsg.errors import (
    EXIT_USAGE,
    ConsentRefused,
    InvalidValue,
    NotFoundError,
    SecureMsgError,
    SendRefused,
    VerificationError,
)

NOW = int(time.time())
M, N, A = Domain.MEDICAL, Domain.NURSING, Domain.ADMINISTRATIVE


def card(label: str, name: str, role: Role, **kw: str) -> Card:
    secret = derive_test_identity(f"policy/{label}")
    return Card.sign(secret, Profile(name=name, role=role, **kw), NOW - 60, test_key=True)


GP = card("gp", "Dr Alice Martin", Role.GP)
SPEC = card("spec", "Dr Bob Durand", Role.SPECIALIST)
NURSE = card("nurse", "Nina Petit", Role.NURSE)
PAT = card("pat", "Paul Durand", Role.PATIENT, birth_date="1950-01-01")


def refused(rule: SendRule, fn: object, *args: object, **kw: object) -> SendRefused:
    with pytest.raises(SendRefused) as info:
        fn(*args, **kw)  # type: ignore[operator]
    assert info.value.violation is rule
    assert isinstance(info.value, InvalidValue) and info.value.exit_code == EXIT_USAGE
    assert not hasattr(info.value, "rule")  # not a consent rule: never in the JSON error
    return info.value


def basis(**kw: object) -> Basis:
    args: dict[str, object] = {
        "consent": False, "emergency": False, "pseudonym": False, "patient_named": True,
        "kind": Purpose.REFERRAL,
    }  # fmt: skip
    return policy.choose_basis(**{**args, **kw})  # type: ignore[arg-type]


def test_one_legal_basis() -> None:
    assert basis(consent=True) is Basis.CONSENT
    assert basis(emergency=True) is Basis.EMERGENCY
    tele = Purpose.TELE_EXPERTISE
    assert basis(pseudonym=True, patient_named=False, kind=tele) is Basis.PSEUDONYMOUS
    for kw in ({}, {"consent": True, "emergency": True}, {"consent": True, "pseudonym": True}):
        refused(SendRule.ONE_BASIS, basis, **kw)
    refused(SendRule.PSEUDONYM_NAMES_PATIENT, basis, pseudonym=True, kind=tele)
    refused(SendRule.NOT_PSEUDONYMOUS_KIND, basis, pseudonym=True, patient_named=False)
    refused(SendRule.NO_PATIENT, basis, consent=True, patient_named=False)
    refused(SendRule.NO_PATIENT, basis, emergency=True, patient_named=False)


def test_patient_and_emergency() -> None:
    policy.check_patient(PAT)
    assert refused(SendRule.NOT_A_PATIENT, policy.check_patient, SPEC).name == SPEC.name
    policy.check_emergency(Basis.EMERGENCY, Purpose.EMERGENCY_REPORT)
    policy.check_emergency(Basis.CONSENT, Purpose.REFERRAL)
    refused(SendRule.EMERGENCY_KIND, policy.check_emergency, Basis.EMERGENCY, Purpose.REFERRAL)


def test_recipients_and_patient_copy() -> None:
    policy.check_recipient(SPEC, GP, [NURSE])
    refused(SendRule.TO_MYSELF, policy.check_recipient, GP, GP, [])
    assert refused(SendRule.RECIPIENT_TWICE, policy.check_recipient, SPEC, GP, [SPEC]).name == (
        SPEC.name
    )
    refused(SendRule.NO_RECIPIENT, policy.check_some_recipient, [])
    assert policy.all_recipients([SPEC], PAT, without_copy=False) == [SPEC, PAT]
    assert policy.all_recipients([SPEC], PAT, without_copy=True) == [SPEC]
    assert policy.all_recipients([SPEC], None, without_copy=False) == [SPEC]
    refused(SendRule.PATIENT_AS_RECIPIENT, policy.all_recipients, [SPEC, PAT], PAT, False)
    policy.check_patient_copy(Purpose.REFERRAL, phone_call=False, without_copy=True)
    policy.check_patient_copy(Purpose.EMERGENCY_REPORT, phone_call=True, without_copy=False)
    for kind, phone in ((Purpose.EMERGENCY_REPORT, False), (Purpose.REPLY, True)):
        refused(SendRule.PATIENT_COPY_REQUIRED, policy.check_patient_copy, kind, phone, True)


def grant(**kw: object) -> Grant:
    args: dict[str, object] = {
        "sender_fp": GP.fingerprint,
        "recipients": [Recipient(fp=SPEC.fingerprint), Recipient(role=Role.NURSE)],
        "purpose": Purpose.REFERRAL,
        "now": NOW,
    }
    return Grant.sign(derive_test_identity("policy/pat"), PAT, **{**args, **kw})  # type: ignore[arg-type]


def test_each_recipient_gets_its_domains_and_the_rest_is_withheld() -> None:
    present = frozenset({M, N})
    plan, withheld = policy.disclosures(present, [SPEC, NURSE, PAT], grant(), PAT.fingerprint)
    assert plan == [(SPEC, present), (NURSE, frozenset({N})), (PAT, present)]
    assert withheld == [(NURSE.name, ("medical",))]
    narrowed = grant(exclude=[N])
    plan, withheld = policy.disclosures(present, [SPEC], narrowed, PAT.fingerprint)
    assert plan == [(SPEC, frozenset({M}))] and withheld == [(SPEC.name, ("nursing",))]
    err = refused(
        SendRule.NOTHING_TO_DISCLOSE,
        policy.disclosures,
        frozenset({M}),
        [NURSE],
        grant(),
        PAT.fingerprint,
    )
    assert err.name == NURSE.name and err.hint is not None and "{nursing}" in err.hint
    assert "Nina Petit (nurse)" in err.message


def test_send_facts_are_what_the_consent_check_reads() -> None:
    g = grant()
    plan, _ = policy.disclosures(frozenset({M, N}), [SPEC, PAT], g, PAT.fingerprint)
    facts = policy.send_facts(GP, PAT, Purpose.REFERRAL, plan, b"d" * 32, Basis.CONSENT, NOW)
    assert facts.patient_identifiers_present and facts.patient_fp == PAT.fingerprint
    assert [d.recipient_fp for d in facts.disclosures] == [SPEC.fingerprint, PAT.fingerprint]
    decision = check_consent(facts, PAT, g, [], [], NOW)  # the parsed grant, not re-parsed
    assert decision.grant is g
    assert check_consent(facts, PAT, g.encoded, [], [], NOW).grant == g


def test_a_parsed_grant_of_another_patient_is_refused_as_bytes_would_be() -> None:
    other = card("other", "Eve Moreau", Role.PATIENT)
    g = grant()
    plan, _ = policy.disclosures(frozenset({M}), [SPEC], g, other.fingerprint)
    facts = policy.send_facts(GP, other, Purpose.REFERRAL, plan, b"d" * 32, Basis.CONSENT, NOW)
    for consent in (g, g.encoded):
        with pytest.raises(ConsentRefused) as info:
            check_consent(facts, other, consent, [], [], NOW)
        assert info.value.rule == "signer_not_patient"


def test_refusal_notice_names_the_rule_only() -> None:
    consent = ConsentRefused("Paul Durand revoked it", rule="revoked", party="ab")
    assert policy.refusal_rule(consent) == "revoked"
    assert "Paul" not in policy.refusal_reason(consent)
    assert "consent rule revoked" in policy.refusal_reason(consent)
    other: SecureMsgError = VerificationError("item 2 of Paul's letter was altered")
    assert policy.refusal_rule(other) == "refused"
    assert policy.refusal_reason(other).endswith("(refused)")
    assert policy.refusal_rule(NotFoundError("x")) == "not_found"
