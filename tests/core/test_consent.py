"""core.consent (grant, statements, check, explain): objects, strict parsing, every rule."""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securemsg.core import cbor, cose, labels
from securemsg.core.card import Card
from securemsg.core.consent import (
    CLOCK_SKEW,
    DELIVERY_GRACE,
    Basis,
    Disclosure,
    Grant,
    LetterFacts,
    Objection,
    Recipient,
    Revocation,
    check_consent,
    explain,
    grant_status,
    peek,
    verify_any,
)
from securemsg.core.digests import letter_digest
from securemsg.core.domains import ALL_DOMAINS, Domain, Purpose, default_domains
from securemsg.core.frozen import replace
from securemsg.core.identity import Profile, Role, SecretIdentity
from securemsg.core.letter.manifest import Item, item_digest, letter_commitment
from securemsg.core.testkeys import derive_test_identity
from securemsg.errors import ConsentRefused, InvalidValue, SignatureError

NOW = 1_800_000_000
DAY = 86400
D = Domain


def _ident(label: str) -> SecretIdentity:
    return derive_test_identity(f"core-consent/{label}")


def _card(label: str, name: str, role: Role, **kw: str) -> Card:
    return Card.sign(_ident(label), Profile(name=name, role=role, **kw), NOW - 1000)


PATIENT = _card(
    "patient", "Paul Durand", Role.PATIENT, ins="170017512345665", birth_date="1970-01-01"
)
OTHER = _card("other", "Eve Moreau", Role.PATIENT)
GP = _card("gp", "Dr Alice Martin", Role.GP)
SPEC = _card("spec", "Dr Bob Bernard", Role.SPECIALIST)
NURSE = _card("nurse", "Nina Petit", Role.NURSE)
PHYSIO = _card("physio", "Kim Leroy", Role.PHYSIOTHERAPIST)
ADVISER = _card("adviser", "Dr Conseil", Role.MEDICAL_ADVISER)
SECRET = _ident("patient")


def counter_rng() -> Any:
    c = itertools.count()
    return lambda n: bytes((next(c) + i) % 256 for i in range(n))


def make_grant(**kw: Any) -> Grant:
    args: dict[str, Any] = {
        "sender_fp": GP.fingerprint,
        "recipients": [Recipient(fp=SPEC.fingerprint), Recipient(role=Role.NURSE)],
        "purpose": Purpose.REFERRAL,
        "now": NOW,
        "exclude": [D.INSURANCE],
    }
    args.update(kw)
    return Grant.sign(SECRET, PATIENT, **args)


def disc(card: Card, *domains: Domain) -> Disclosure:
    return Disclosure(card.fingerprint, card.profile.role, frozenset(domains), card.name)


def facts(*disclosures: Disclosure, **kw: Any) -> LetterFacts:
    args: dict[str, Any] = {
        "sender_fp": GP.fingerprint,
        "patient_fp": PATIENT.fingerprint,
        "purpose": Purpose.REFERRAL,
        "disclosures": disclosures or (disc(SPEC, D.MEDICAL), disc(NURSE, D.NURSING)),
        "letter_digest": None,
        "date": NOW + 60,
    }
    args.update(kw)
    return LetterFacts(**args)


def check(f: LetterFacts, grant: Grant | bytes | None = None, **kw: Any) -> Any:
    g = make_grant() if grant is None else grant
    data = g.encoded if isinstance(g, Grant) else g
    return check_consent(
        f,
        kw.get("card", PATIENT),
        data,
        kw.get("revocations", ()),
        kw.get("objections", ()),
        kw.get("now", f.date),
    )


def refused(rule: str, f: LetterFacts, grant: Any = None, **kw: Any) -> ConsentRefused:
    with pytest.raises(ConsentRefused) as info:
        check(f, grant, **kw)
    assert info.value.rule == rule, info.value.message
    assert info.value.exit_code == 3
    return info.value


# -- objects --------------------------------------------------------------------------
def test_grant_round_trip() -> None:
    g = make_grant(letter_digest=letter_digest(b"# Letter\n"))
    again = Grant.verify(bytes(g), PATIENT)
    assert again == g
    assert g.patient_ins == "170017512345665" and g.patient_name == "Paul Durand"
    assert g.not_after - g.issued_at == 90 * DAY
    assert g.domains == ALL_DOMAINS - {D.INSURANCE}
    assert len(g.id) == 16
    assert peek(g.encoded) == ("grant", PATIENT.fingerprint)
    assert "Paul" not in repr(g.recipients)


def test_grant_id_from_rng() -> None:
    g = make_grant(rng=lambda n: b"\x07" * n)
    assert g.id == b"\x07" * 16


def test_revocation_and_objection_round_trip() -> None:
    g = make_grant()
    r = Revocation.sign(SECRET, PATIENT, g, NOW + 10)
    assert Revocation.verify(r.encoded, PATIENT) == r and r.grant_id == g.id
    for target in (Recipient(fp=NURSE.fingerprint), Recipient(role=Role.MEDICAL_ADVISER)):
        o = Objection.sign(SECRET, PATIENT, target, NOW)
        assert Objection.verify(o.encoded, PATIENT) == o and o.target == target
        assert verify_any(o.encoded, PATIENT) == o


def test_practitioner_cannot_sign_consent() -> None:
    for make in (
        lambda: Grant.sign(
            _ident("gp"), GP, sender_fp=SPEC.fingerprint, recipients=[Recipient(role=Role.NURSE)],
            purpose=Purpose.REFERRAL, now=NOW,
        ),
        lambda: Objection.sign(_ident("gp"), GP, Recipient(role=Role.NURSE), NOW),
    ):  # fmt: skip
        with pytest.raises(ConsentRefused) as info:
            make()
        assert info.value.rule == "not_a_patient"


def test_create_validates() -> None:
    with pytest.raises(InvalidValue):
        make_grant(domains=[D.NURSING], exclude=[D.NURSING])
    with pytest.raises(InvalidValue):
        make_grant(recipients=[])
    with pytest.raises(InvalidValue):
        make_grant(valid_for=5 * 365 * DAY)
    with pytest.raises(InvalidValue):
        Recipient(role=Role.PATIENT)
    with pytest.raises(InvalidValue):
        Recipient(fp="zz")


# -- strict schema ----------------------------------------------------------------------
def _resign(payload: Any, otype: str = labels.COSE_CONSENT_GRANT, key: str = "patient") -> bytes:
    card = {"patient": PATIENT, "gp": GP}[key]
    return cose.sign(
        _ident(key).signing_key, otype, bytes.fromhex(card.fingerprint), cbor.dumps(payload)
    )


def _payload(g: Grant) -> dict[str, Any]:
    return dict(cbor.loads(cose.parse(g.encoded).payload, "p"))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.update(extra=1),
        lambda p: p.pop("not_after"),
        lambda p: p.update(v=2),
        lambda p: p.update(id=b"short"),
        lambda p: p.update(purpose="gossip"),
        lambda p: p.update(domains=["medical", "medical"]),
        lambda p: p.update(domains=["nursing", "medical"]),
        lambda p: p.update(domains=["dentistry"]),
        lambda p: p.update(domains=[]),
        lambda p: p.update(exclude=["medical"]),
        lambda p: p.update(to=[]),
        lambda p: p.update(to=[{"role": "patient"}]),
        lambda p: p.update(to=[{"role": "nurse", "fp": b"x" * 20}]),
        lambda p: p.update(to=[{"role": "nurse"}, {"role": "nurse"}]),
        lambda p: p.update(issued_at=True),
        lambda p: p.update(not_after=p["issued_at"]),
        lambda p: p.update(letter=b"1234"),
        lambda p: p.update(patient={**p["patient"], "extra": "x"}),
        lambda p: p.update(patient={**p["patient"], "name": "Someone Else"}),
        lambda p: p.update(**{"from": p["patient"]["fp"]}),
    ],
)
def test_grant_schema_strict(mutate: Any) -> None:
    p = _payload(make_grant())
    mutate(p)
    with pytest.raises(ConsentRefused) as info:
        Grant.verify(_resign(p), PATIENT)
    assert info.value.rule in {"malformed", "signer_not_patient"}


def test_grant_naming_another_patient() -> None:
    p = _payload(make_grant())
    p["patient"] = {**p["patient"], "fp": bytes.fromhex(OTHER.fingerprint)}
    with pytest.raises(ConsentRefused) as info:
        Grant.verify(_resign(p), PATIENT)
    assert info.value.rule == "signer_not_patient"


# -- tamper and type confusion -----------------------------------------------------------
@pytest.mark.parametrize("kind", ["grant", "revocation", "objection"])
def test_any_single_byte_tamper_refused(kind: str) -> None:
    g = make_grant()
    obj: Any = {
        "grant": g,
        "revocation": Revocation.sign(SECRET, PATIENT, g, NOW),
        "objection": Objection.sign(SECRET, PATIENT, Recipient(role=Role.NURSE), NOW),
    }[kind]
    data = obj.encoded
    for i in range(len(data)):
        for flip in (0x01, 0x80):
            bad = bytearray(data)
            bad[i] ^= flip
            with pytest.raises(ConsentRefused):
                type(obj).verify(bytes(bad), PATIENT)
    # truncation and extension too
    for bad in (data[:-1], data + b"\x00", data[1:]):
        with pytest.raises(ConsentRefused):
            type(obj).verify(bad, PATIENT)


def test_cross_type_confusion() -> None:
    g = make_grant()
    objs: dict[str, Any] = {
        labels.COSE_CONSENT_GRANT: g,
        labels.COSE_CONSENT_REVOCATION: Revocation.sign(SECRET, PATIENT, g, NOW),
        labels.COSE_CONSENT_OBJECTION: Objection.sign(
            SECRET, PATIENT, Recipient(role=Role.NURSE), NOW
        ),
    }
    parsers = {labels.COSE_CONSENT_GRANT: Grant, labels.COSE_CONSENT_REVOCATION: Revocation,
               labels.COSE_CONSENT_OBJECTION: Objection}  # fmt: skip
    for (t1, obj), (t2, parser) in itertools.product(objs.items(), parsers.items()):
        if t1 != t2:
            with pytest.raises(ConsentRefused) as info:
                parser.verify(obj.encoded, PATIENT)
            assert info.value.rule == "bad_signature"
    # a card never parses as a consent object, nor a consent as a card
    for parser in parsers.values():
        with pytest.raises(ConsentRefused):
            parser.verify(PATIENT.encoded, PATIENT)  # type: ignore[attr-defined]
    with pytest.raises(SignatureError):
        Card.verify(g.encoded)


@pytest.mark.parametrize(
    "other_type", [t for t in labels.COSE_TYPES if t != labels.COSE_CONSENT_GRANT]
)
def test_signature_bound_to_type(other_type: str) -> None:
    """Relabel a grant's protected header (keeping the signature): never verifies."""
    g = make_grant()
    obj = cose.parse(g.encoded)
    protected = cose.protected_header(other_type, obj.kid)
    relabelled = cbor.dumps(cbor.cbor2.CBORTag(18, [protected, {}, obj.payload, obj.signature]))
    for parser in (Grant, Revocation, Objection):
        with pytest.raises(ConsentRefused):
            parser.verify(relabelled, PATIENT)  # type: ignore[attr-defined]
    # and the grant payload, honestly signed as another consent type, is refused too
    for parser, otype in (
        (Revocation, labels.COSE_CONSENT_REVOCATION),
        (Objection, labels.COSE_CONSENT_OBJECTION),
    ):
        with pytest.raises(ConsentRefused) as info:
            parser.verify(_resign(_payload(g), otype), PATIENT)  # type: ignore[attr-defined]
        assert info.value.rule == "malformed"


# -- check_consent: accept --------------------------------------------------------------
def test_accept() -> None:
    d = check(facts())
    assert d.basis is Basis.CONSENT and d.grant is not None
    assert dict(d.allowed)[NURSE.fingerprint] == {D.NURSING, D.ADMINISTRATIVE}
    assert dict(d.allowed)[SPEC.fingerprint] == default_domains(Role.SPECIALIST)


def test_patient_recipient_always_allowed() -> None:
    me = Disclosure(PATIENT.fingerprint, Role.PATIENT, ALL_DOMAINS)
    g = make_grant(domains=[D.ADMINISTRATIVE], exclude=[D.MEDICAL])
    d = check(facts(me), g)
    assert dict(d.allowed)[PATIENT.fingerprint] == ALL_DOMAINS
    o = Objection.sign(SECRET, PATIENT, Recipient(role=Role.NURSE), NOW)
    assert check(facts(me, basis=Basis.EMERGENCY, purpose=Purpose.EMERGENCY_REPORT), objections=[o])


def test_clock_skew_tolerated() -> None:
    g = make_grant()
    assert check(facts(date=NOW - CLOCK_SKEW), g)
    assert check(facts(date=g.not_after + CLOCK_SKEW), g)
    assert check(facts(date=g.not_after), g, now=g.not_after + DELIVERY_GRACE)


# -- check_consent: every refusal --------------------------------------------------------
def test_no_consent() -> None:
    with pytest.raises(ConsentRefused) as info:
        check_consent(facts(), PATIENT, None, (), (), NOW)
    assert info.value.rule == "no_consent"
    with pytest.raises(ConsentRefused) as info:
        check_consent(facts(), None, make_grant().encoded, (), (), NOW)
    assert info.value.rule == "no_consent"


def test_bad_signature() -> None:
    data = bytearray(make_grant().encoded)
    data[-1] ^= 1
    refused("bad_signature", facts(), bytes(data))
    refused(
        "bad_signature",
        facts(),
        Objection.sign(SECRET, PATIENT, Recipient(role=Role.NURSE), NOW).encoded,
    )


def test_signer_not_patient() -> None:
    other_secret = _ident("other")
    g = Grant.sign(
        other_secret,
        OTHER,
        sender_fp=GP.fingerprint,
        recipients=[Recipient(role=Role.NURSE)],
        purpose=Purpose.REFERRAL,
        now=NOW,
    )
    e = refused("signer_not_patient", facts(), g, card=OTHER)  # card of another patient
    assert e.party == OTHER.fingerprint
    refused("signer_not_patient", facts(), g)  # right card, wrong signer
    refused("signer_not_patient", facts(), make_grant(), card=GP)


def test_sender_not_allowed() -> None:
    e = refused("sender_not_allowed", facts(sender_fp=SPEC.fingerprint))
    assert e.party == SPEC.fingerprint


def test_recipient_not_allowed() -> None:
    e = refused("recipient_not_allowed", facts(disc(PHYSIO, D.PHYSIOTHERAPY)))
    assert e.party == PHYSIO.fingerprint and "Kim Leroy" in e.message


def test_purpose_not_allowed() -> None:
    refused("purpose_not_allowed", facts(purpose=Purpose.SECOND_OPINION))


def test_domain_excluded() -> None:
    g = make_grant(recipients=[Recipient(fp=GP.fingerprint), Recipient(role=Role.MEDICAL_ADVISER)],
                   sender_fp=SPEC.fingerprint)  # fmt: skip
    e = refused("domain_excluded", facts(disc(ADVISER, D.INSURANCE), sender_fp=SPEC.fingerprint), g)
    assert "insurance" in e.message and e.party == ADVISER.fingerprint


def test_domain_not_granted() -> None:
    g = make_grant(domains=[D.MEDICAL, D.ADMINISTRATIVE], exclude=[])
    e = refused("domain_not_granted", facts(disc(NURSE, D.NURSING)), g)
    assert "nursing" in e.message


def test_domain_not_for_role() -> None:
    refused("domain_not_for_role", facts(disc(NURSE, D.MEDICAL)))
    refused("domain_not_for_role", facts(disc(PHYSIO, D.MEDICAL), disc(PATIENT, D.MEDICAL),
                                          basis=Basis.EMERGENCY,
                                          purpose=Purpose.EMERGENCY_REPORT))  # fmt: skip


def test_expired() -> None:
    g = make_grant(now=NOW - 100 * DAY)
    e = refused("expired", facts(), g)
    assert "expired on" in e.message
    # sent in time but received after the delivery grace
    g2 = make_grant()
    refused("expired", facts(date=g2.not_after), g2, now=g2.not_after + DELIVERY_GRACE + 1)
    refused("expired", facts(date=g2.not_after + CLOCK_SKEW + 1), g2)


def test_not_yet_valid() -> None:
    g = make_grant(now=NOW + 10 * DAY)
    refused("not_yet_valid", facts(), g)
    refused("not_yet_valid", facts(date=NOW + 11 * DAY), g, now=NOW)  # clock of the checker


def test_bound_letter_mismatch() -> None:
    reviewed, other = hashlib.sha256(b"reviewed").digest(), hashlib.sha256(b"other").digest()
    g = make_grant(commitment=reviewed)
    assert check(facts(letter_commitment=reviewed), g)
    refused("bound_letter_mismatch", facts(letter_commitment=other), g)
    refused("bound_letter_mismatch", facts(letter_commitment=None), g)
    assert check(facts(letter_commitment=other))  # a grant bound to no letter


def test_bound_to_source_only() -> None:
    """The old binding to a Markdown source's digest covers no attachment: refused."""
    digest = letter_digest(b"the letter the patient read")
    g = make_grant(letter_digest=digest)
    refused("bound_to_source_only", facts(letter_digest=digest), g)


def test_grant_bound_twice_is_malformed() -> None:
    with pytest.raises(ConsentRefused) as info:
        make_grant(letter_digest=bytes(32), commitment=bytes(32))
    assert info.value.rule == "malformed"


def test_revoked() -> None:
    g = make_grant()
    r = Revocation.sign(SECRET, PATIENT, g, NOW + 30)
    e = refused("revoked", facts(), g, revocations=[r])
    assert "revoked" in e.message
    other = Revocation.sign(SECRET, PATIENT, make_grant(), NOW)  # another grant: no effect
    assert check(facts(), g, revocations=[other])
    assert grant_status(g, [r], NOW) == "revoked"


@pytest.mark.parametrize("target", [Recipient(fp=NURSE.fingerprint), Recipient(role=Role.NURSE)])
def test_recipient_objected(target: Recipient) -> None:
    o = Objection.sign(SECRET, PATIENT, target, NOW)
    e = refused("recipient_objected", facts(), objections=[o])
    assert e.party == NURSE.fingerprint
    # an objection of another patient does not count
    oo = replace(o, patient_fp=OTHER.fingerprint)
    assert check(facts(), objections=[oo])


def test_emergency_basis() -> None:
    f = facts(disc(GP, D.MEDICAL), disc(PATIENT, D.MEDICAL), sender_fp=SPEC.fingerprint,
              basis=Basis.EMERGENCY, purpose=Purpose.EMERGENCY_REPORT)  # fmt: skip
    d = check_consent(f, PATIENT, None, (), (), NOW)
    assert d.basis is Basis.EMERGENCY and d.grant is None
    o = Objection.sign(SECRET, PATIENT, Recipient(role=Role.GP), NOW)
    with pytest.raises(ConsentRefused) as info:
        check_consent(f, PATIENT, None, (), [o], NOW)
    assert info.value.rule == "recipient_objected"
    with pytest.raises(ConsentRefused) as info:
        check_consent(replace(f, purpose=Purpose.REFERRAL), PATIENT, None, (), (), NOW)
    assert info.value.rule == "purpose_not_allowed"


def test_pseudonymous_basis() -> None:
    f = facts(disc(SPEC, D.MEDICAL), basis="pseudonymous", patient_fp=None,
              patient_identifiers_present=False, purpose=Purpose.TELE_EXPERTISE)  # fmt: skip
    assert f.basis is Basis.PSEUDONYMOUS
    assert check_consent(f, None, None, (), (), NOW).basis is Basis.PSEUDONYMOUS
    for bad in (
        replace(f, patient_fp=PATIENT.fingerprint),
        replace(f, patient_identifiers_present=True),
    ):
        with pytest.raises(ConsentRefused) as info:
            check_consent(bad, None, None, (), (), NOW)
        assert info.value.rule == "pseudonym_identifies_patient"


def test_explain_and_status() -> None:
    g = make_grant()
    names = {GP.fingerprint: GP.name, SPEC.fingerprint: SPEC.name}
    lines = explain(g, names.get)
    text = "\n".join(lines)
    assert "Paul Durand allows Dr Alice Martin" in text
    assert "Dr Bob Bernard" in text and "any nurse" in text and "never: insurance" in text
    assert grant_status(g, (), NOW) == "valid"
    assert grant_status(g, (), g.not_after + CLOCK_SKEW + 1) == "expired"
    assert grant_status(g, (), NOW - CLOCK_SKEW - 1) == "not_yet_valid"


def test_default_domain_table() -> None:
    for role in (Role.GP, Role.SPECIALIST, Role.EMERGENCY, Role.HOSPITAL, Role.EXPERT):
        assert D.MEDICAL in default_domains(role)
    for role in (Role.NURSE, Role.PHYSIOTHERAPIST, Role.MEDICAL_ADVISER):
        assert D.MEDICAL not in default_domains(role)
    assert default_domains(Role.NURSE) == {D.NURSING, D.ADMINISTRATIVE}
    assert default_domains(Role.MEDICAL_ADVISER) == {D.INSURANCE, D.ADMINISTRATIVE}
    assert D.INSURANCE in default_domains(Role.GP)
    assert default_domains(Role.PATIENT) == ALL_DOMAINS
    assert all(D.ADMINISTRATIVE in default_domains(r) for r in Role)


# -- properties -------------------------------------------------------------------------
RECIPIENTS = [Recipient(fp=c.fingerprint) for c in (SPEC, NURSE, PHYSIO)] + [
    Recipient(role=r) for r in Role if r is not Role.PATIENT
]


@settings(max_examples=60, deadline=None)
@given(
    tos=st.sets(st.sampled_from(RECIPIENTS), min_size=1),
    purpose=st.sampled_from(list(Purpose)),
    doms=st.sets(st.sampled_from(list(Domain)), min_size=1),
    excl=st.sets(st.sampled_from(list(Domain))),
    valid_for=st.integers(1, 3 * 365 * DAY),
    now=st.integers(1, 2**39),
    letter=st.none() | st.binary(min_size=32, max_size=32),
    seed=st.binary(min_size=16, max_size=16),
)
def test_grant_round_trip_property(
    tos: set[Recipient], purpose: Purpose, doms: set[Domain], excl: set[Domain],
    valid_for: int, now: int, letter: bytes | None, seed: bytes,
) -> None:  # fmt: skip
    excl -= doms
    g = Grant.sign(SECRET, PATIENT, sender_fp=GP.fingerprint, recipients=tos, purpose=purpose,
                     now=now, domains=doms, exclude=excl, valid_for=valid_for,
                     letter_digest=letter, rng=lambda n: seed[:n])  # fmt: skip
    again = Grant.verify(g.encoded, PATIENT)
    assert again == g
    assert set(again.recipients) == tos and again.domains == doms and again.exclude == excl
    assert again.letter_digest == letter and again.id == seed
    assert cbor.dumps(cbor.loads(g.encoded, "g")) == g.encoded


@settings(max_examples=40, deadline=None)
@given(target=st.sampled_from(RECIPIENTS), now=st.integers(1, 2**39))
def test_objection_revocation_round_trip_property(target: Recipient, now: int) -> None:
    o = Objection.sign(SECRET, PATIENT, target, now)
    assert Objection.verify(o.encoded, PATIENT) == o
    r = Revocation.sign(SECRET, PATIENT, make_grant(), now)
    assert Revocation.verify(r.encoded, PATIENT) == r


@settings(max_examples=200, deadline=None)
@given(pos=st.integers(0, 10_000), byte=st.integers(1, 255))
def test_any_mutation_property(pos: int, byte: int) -> None:
    data = bytearray(GRANT_FOR_MUTATION.encoded)
    data[pos % len(data)] ^= byte
    with pytest.raises(ConsentRefused):
        Grant.verify(bytes(data), PATIENT)


GRANT_FOR_MUTATION = make_grant(rng=counter_rng())


# -- known-answer vectors of docs/format-consent.md --------------------------------------
VT = 1_800_000_000


def vector_commitment(patient: Card, specialist: Card) -> bytes:
    """The letter of the doc vectors: id 16 zero bytes, a referral whose one
    section ``# Referral`` (salt 16 zero bytes) goes to the specialist."""
    text = b"# Referral\n"
    digest = item_digest(0, "section", D.MEDICAL, "", bytes(16), (text,), len(text))
    return letter_commitment(
        bytes(16),
        Purpose.REFERRAL,
        patient.fingerprint,
        [Item(0, "section", D.MEDICAL, digest)],
        [(specialist.fingerprint, frozenset({D.MEDICAL}))],
    )


def doc_vectors() -> dict[str, bytes]:
    p = derive_test_identity("consent-vector/patient")
    prof = Profile(
        name="Paul Durand", role=Role.PATIENT, ins="170017512345665", birth_date="1970-01-01"
    )
    pc = Card.sign(p, prof, VT)
    gc = Card.sign(
        derive_test_identity("consent-vector/gp"), Profile(name="Dr Alice Martin", role=Role.GP), VT
    )
    sc = Card.sign(
        derive_test_identity("consent-vector/specialist"),
        Profile(name="Dr Bob Bernard", role=Role.SPECIALIST),
        VT,
    )
    g = Grant.sign(
        p,
        pc,
        sender_fp=gc.fingerprint,
        recipients=[Recipient(fp=sc.fingerprint), Recipient(role=Role.NURSE)],
        purpose=Purpose.REFERRAL,
        now=VT,
        exclude=[D.INSURANCE],
        commitment=vector_commitment(pc, sc),
        rng=lambda n: bytes(range(n)),
    )
    r = Revocation.sign(p, pc, g, VT + DAY)
    o = Objection.sign(p, pc, Recipient(role=Role.MEDICAL_ADVISER), VT + DAY)
    return {
        "patient-card": pc.encoded,
        "grant": g.encoded,
        "revocation": r.encoded,
        "objection": o.encoded,
    }


def test_vectors_in_doc() -> None:
    import re
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "format-consent.md").read_text("utf-8")
    blocks = {
        name: bytes.fromhex("".join(body.split()))
        for name, body in re.findall(r"```vector ([a-z-]+)\n(.*?)```", doc, re.S)
    }
    expected = doc_vectors()
    assert blocks == expected
    card = Card.verify(blocks["patient-card"])
    assert card.fingerprint == "e7fedacc9ed710ba3c5ca266ba1e1e67a5800c27"
    g = Grant.verify(blocks["grant"], card)
    assert g.id == bytes(range(16)) and g.not_after == VT + 90 * DAY
    assert Revocation.verify(blocks["revocation"], card).grant_id == g.id
    assert Objection.verify(blocks["objection"], card).target == Recipient(
        role=Role.MEDICAL_ADVISER
    )
