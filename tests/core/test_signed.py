"""core.signed: the one reader of every signed object, and the strict field reader.

Each of the object types is read through it; the order of its checks, the
error of each step (the step-3 error is the object's own, docs/format.md), the
strict version and field set, and the typed getters are pinned here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from securemsg.core import cbor, cose, labels, signed
from securemsg.core.card import CARD, Card
from securemsg.core.consent import Grant, Objection, Recipient, Revocation
from securemsg.core.consent.common import GRANT, OBJECTION, REVOCATION
from securemsg.core.domains import Domain, Purpose
from securemsg.core.fingerprint import fingerprint
from securemsg.core.identity import Profile, Role, SecretIdentity
from securemsg.core.keychange import (
    ACCEPTANCE,
    SUCCESSION,
    KeyRevocation,
    Reason,
    Succession,
    read_acceptance,
)
from securemsg.core.keychange import REVOCATION as KEY_REVOCATION
from securemsg.core.letter.doubles import DOUBLE_RECORD, DoubleRecord
from securemsg.core.letter.manifest import MANIFEST, Item, Manifest, RecipientEntry
from securemsg.core.letter.proofs import BINDING, RECEIPT, REFUSAL, Binding, Receipt, Refusal
from securemsg.core.log import LOG_CHECKPOINT, LOG_ENTRY, Checkpoint, LogEntry
from securemsg.core.testkeys import derive_test_identity
from securemsg.errors import (
    ConsentRefused,
    FormatError,
    SecureMsgError,
    SignatureError,
    VerificationError,
)

NOW = 1_800_000_000
GP_SECRET = derive_test_identity("core-signed/gp")
PAT_SECRET = derive_test_identity("core-signed/patient")
OTHER_SECRET = derive_test_identity("core-signed/other")
GP = Card.sign(GP_SECRET, Profile("Dr Alice Martin", Role.GP), NOW)
PATIENT = Card.sign(PAT_SECRET, Profile("Paul Durand", Role.PATIENT), NOW)
OTHER = Card.sign(OTHER_SECRET, Profile("Dr Eve Moreau", Role.GP), NOW)

KINDS = (
    CARD,
    GRANT,
    REVOCATION,
    OBJECTION,
    MANIFEST,
    BINDING,
    RECEIPT,
    REFUSAL,
    LOG_ENTRY,
    LOG_CHECKPOINT,
    SUCCESSION,
    ACCEPTANCE,
    KEY_REVOCATION,
    DOUBLE_RECORD,
)
NEW_SECRET = derive_test_identity("core-signed/gp-new")
GP_NEW = Card.sign(NEW_SECRET, Profile("Dr Alice Martin", Role.GP), NOW + 60)
SUCCESSION_OBJ = Succession.sign(GP_SECRET, NEW_SECRET, GP_NEW, NOW + 60)


def _manifest() -> Manifest:
    return Manifest(
        message_id=bytes(range(16)),
        kind=Purpose.EMERGENCY_REPORT,
        date=NOW,
        author=GP.fingerprint,
        recipients=(RecipientEntry(OTHER.fingerprint, Role.GP, frozenset({Domain.MEDICAL})),),
        subject="Chest pain",
        items=(Item(0, "section", Domain.MEDICAL, bytes(32)),),
        basis="emergency",
        letter_digest=bytes(32),
        patient_fp=PATIENT.fingerprint,
    ).sign(GP_SECRET)


def payload_of_raw(data: bytes) -> dict[str, Any]:
    return dict(cbor.loads(cose.parse(data).payload, "test"))


GRANT_OBJ = Grant.sign(
    PAT_SECRET,
    PATIENT,
    sender_fp=GP.fingerprint,
    recipients=[Recipient(role=Role.NURSE)],
    purpose=Purpose.REFERRAL,
    now=NOW,
)


# kind -> (a valid object's bytes, its secret, the verifier with the expected signer)
OBJECTS: dict[str, tuple[bytes, SecretIdentity, Callable[[bytes], Any]]] = {
    "card": (GP.encoded, GP_SECRET, Card.verify),
    "consent grant": (bytes(GRANT_OBJ), PAT_SECRET, lambda d: Grant.verify(d, PATIENT)),
    "consent revocation": (
        bytes(Revocation.sign(PAT_SECRET, PATIENT, GRANT_OBJ, NOW)),
        PAT_SECRET,
        lambda d: Revocation.verify(d, PATIENT),
    ),
    "consent objection": (
        bytes(Objection.sign(PAT_SECRET, PATIENT, Recipient(role=Role.NURSE), NOW)),
        PAT_SECRET,
        lambda d: Objection.verify(d, PATIENT),
    ),
    "letter manifest": (bytes(_manifest()), GP_SECRET, lambda d: Manifest.verify(d, GP)),
    "envelope binding": (
        bytes(Binding.sign(GP_SECRET, b"manifest", b"header", OTHER.fingerprint)),
        GP_SECRET,
        lambda d: Binding.verify(d, GP),
    ),
    "receipt": (
        bytes(
            Receipt.sign(GP_SECRET, bytes(16), b"m", bytes(32), GP.fingerprint, NOW, 0, bytes(32))
        ),
        GP_SECRET,
        lambda d: Receipt.verify(d, GP),
    ),
    "refusal notice": (
        bytes(Refusal.sign(GP_SECRET, bytes(16), bytes(32), GP.fingerprint, NOW, "r", "why")),
        GP_SECRET,
        lambda d: Refusal.verify(d, GP),
    ),
    "log entry": (
        bytes(LogEntry.sign(GP_SECRET, 0, bytes(32), NOW, "send")),
        GP_SECRET,
        lambda d: LogEntry.verify(d, GP),
    ),
    "log checkpoint": (
        bytes(Checkpoint.sign(GP_SECRET, 3, bytes(range(32)))),
        GP_SECRET,
        lambda d: Checkpoint.verify(d, GP),
    ),
    "key succession": (SUCCESSION_OBJ.encoded, GP_SECRET, lambda d: Succession.verify(d, GP)),
    "key succession acceptance": (
        payload_of_raw(SUCCESSION_OBJ.encoded)["acceptance"],
        NEW_SECRET,
        lambda d: (read_acceptance(d, GP_NEW), d)[1],
    ),
    "key revocation": (
        bytes(KeyRevocation.sign(GP_SECRET, Reason.COMPROMISED, NOW, None)),
        GP_SECRET,
        lambda d: KeyRevocation.verify(d, GP),
    ),
    "double record": (
        bytes(
            DoubleRecord.sign(
                GP_SECRET, bytes(16), bytes(32), [(OTHER.fingerprint, bytes(32))], NOW
            )
        ),
        GP_SECRET,
        lambda d: DoubleRecord.verify(d, GP),
    ),
}


def payload_of(data: bytes) -> dict[str, Any]:
    return dict(cbor.loads(cose.parse(data).payload, "test"))


def resign(
    data: bytes,
    secret: SecretIdentity,
    *,
    otype: str | None = None,
    kid: bytes | None = None,
    payload: Any = None,
) -> bytes:
    """``data``'s payload (or ``payload``), signed by ``secret`` with the given header."""
    obj = cose.parse(data)
    raw = obj.payload if payload is None else cbor.dumps(payload)
    kid = fingerprint(secret.sign_public) if kid is None else kid
    return cose.sign(secret.signing_key, otype or obj.object_type, kid, raw)


def outcome(what: str, data: bytes) -> tuple[str, str | None]:
    try:
        OBJECTS[what][2](data)
    except ConsentRefused as exc:
        return "ConsentRefused", exc.rule
    except SecureMsgError as exc:
        return type(exc).__name__, None
    return "accepted", None


# -- one reader for all ---------------------------------------------------------------
def test_one_kind_per_object_type() -> None:
    assert sorted(k.object_type for k in KINDS) == sorted(labels.COSE_TYPES)
    assert [k.what for k in KINDS] == list(OBJECTS)
    for kind in KINDS:
        assert "v" not in kind.required | kind.optional
        assert not kind.required & kind.optional


@pytest.mark.parametrize("what", list(OBJECTS))
def test_valid_objects_verify_and_give_back_their_bytes(what: str) -> None:
    data, _, verify = OBJECTS[what]
    assert bytes(verify(data)) == data


# The step-3 error of each object, as docs/format.md gives it and the vectors pin it.
WRONG_SIGNER = {
    "card": ("FormatError", None),
    "consent grant": ("ConsentRefused", "signer_not_patient"),
    "consent revocation": ("ConsentRefused", "signer_not_patient"),
    "consent objection": ("ConsentRefused", "signer_not_patient"),
    "letter manifest": ("FormatError", None),
    "envelope binding": ("VerificationError", None),
    "receipt": ("VerificationError", None),
    "refusal notice": ("VerificationError", None),
    "log entry": ("VerificationError", None),
    "log checkpoint": ("VerificationError", None),
    "key succession": ("VerificationError", None),
    "key succession acceptance": ("VerificationError", None),
    "key revocation": ("VerificationError", None),
    "double record": ("VerificationError", None),
}


@pytest.mark.parametrize("what", list(OBJECTS))
def test_signed_by_someone_else(what: str) -> None:
    """The same payload signed by another key, under that key's kid."""
    data, _, _ = OBJECTS[what]
    forged = resign(data, OTHER_SECRET)
    assert outcome(what, forged) == WRONG_SIGNER[what]


@pytest.mark.parametrize("what", list(OBJECTS))
def test_kid_of_someone_else(what: str) -> None:
    """Signed by the right key, but the kid names another: refused at step 3."""
    data, secret, _ = OBJECTS[what]
    relabelled = resign(data, secret, kid=bytes.fromhex(OTHER.fingerprint))
    assert outcome(what, relabelled) == WRONG_SIGNER[what]


@pytest.mark.parametrize("what", [w for w in OBJECTS if w != "card"])
def test_type_is_checked_before_the_signer(what: str) -> None:
    """Another object type AND another signer: the type is reported (step 2 before 3)."""
    data, _, _ = OBJECTS[what]
    otype = labels.COSE_CARD
    got = outcome(what, resign(data, OTHER_SECRET, otype=otype))
    assert got in {("SignatureError", None), ("ConsentRefused", "bad_signature")}


@pytest.mark.parametrize("what", [w for w in OBJECTS if w != "card"])
def test_signer_is_checked_before_the_payload(what: str) -> None:
    """Another signer AND a payload that is not even a map: step 3 is reported."""
    data, _, _ = OBJECTS[what]
    assert outcome(what, resign(data, OTHER_SECRET, payload=[1, 2])) == WRONG_SIGNER[what]


@pytest.mark.parametrize("what", list(OBJECTS))
def test_signature_is_checked_before_the_payload(what: str) -> None:
    """A broken signature over a payload that is not a map: SignatureError, not the payload."""
    data, secret, _ = OBJECTS[what]
    obj = cose.parse(resign(data, secret, payload=[1, 2]))
    import cbor2

    bad = cbor.dumps(cbor2.CBORTag(18, [obj.protected, {}, obj.payload, bytes(64)]))
    if what == "card":  # a card reads its payload first (it names its own key)
        assert outcome(what, bad) == ("FormatError", None)
    else:
        assert outcome(what, bad) in {("SignatureError", None), ("ConsentRefused", "bad_signature")}


@pytest.mark.parametrize("what", list(OBJECTS))
@pytest.mark.parametrize("version", [True, 1.0, 2, 0, None, "1"])
def test_version_is_the_integer_one(what: str, version: Any) -> None:
    """(The letter manifest reads formats 1 and 2: 3 stands for 2 there.)"""
    data, secret, _ = OBJECTS[what]
    if what == "letter manifest" and version == 2:
        version = 3
    p = payload_of(data)
    p["v"] = version
    assert outcome(what, resign(data, secret, payload=p))[0] in {"FormatError", "ConsentRefused"}
    p.pop("v")
    assert outcome(what, resign(data, secret, payload=p))[0] in {"FormatError", "ConsentRefused"}


@pytest.mark.parametrize("what", list(OBJECTS))
def test_closed_field_set(what: str) -> None:
    data, secret, _ = OBJECTS[what]
    p = payload_of(data)
    assert outcome(what, resign(data, secret, payload={**p, "extra": 1}))[0] in {
        "FormatError",
        "ConsentRefused",
    }
    for key in sorted(set(p) - {"v"}):
        kind = next(k for k in KINDS if k.what == what)
        if key in kind.optional:
            continue
        less = {k: v for k, v in p.items() if k != key}
        got = outcome(what, resign(data, secret, payload=less))
        assert got in {("FormatError", None), ("ConsentRefused", "malformed")}, key


# -- Fields -------------------------------------------------------------------------------
def fields(**values: Any) -> signed.Fields:
    return signed.Fields(values, "thing", required=set(values))


def test_fields_map_checks() -> None:
    with pytest.raises(FormatError, match="thing: must be a map with text keys"):
        signed.Fields([1], "thing", ())
    with pytest.raises(FormatError, match="text keys"):
        signed.Fields({1: 2}, "thing", (), ("1",))
    with pytest.raises(FormatError, match=r"unknown field\(s\) b"):
        signed.Fields({"a": 1, "b": 2}, "thing", ("a",))
    with pytest.raises(FormatError, match=r"missing field\(s\) a"):
        signed.Fields({}, "thing", ("a",), ("b",))
    with pytest.raises(FormatError, match="unsupported version"):
        signed.Fields({"v": True}, "thing", (), versioned=True)
    assert "v" in signed.Fields({"v": 1}, "thing", (), versioned=True)


@pytest.mark.parametrize(
    ("getter", "value", "ok"),
    [
        (lambda f: f.bstr("x", 2), b"ab", True),
        (lambda f: f.bstr("x", 2), b"abc", False),
        (lambda f: f.bstr("x", 2), "ab", False),
        (lambda f: f.fp("x"), bytes(20), True),
        (lambda f: f.fp("x"), bytes(19), False),
        (lambda f: f.tstr("x", 3), "abc", True),
        (lambda f: f.tstr("x", 3), "abcd", False),
        (lambda f: f.tstr("x"), b"abc", False),
        (lambda f: f.integer("x"), -5, True),
        (lambda f: f.integer("x"), True, False),
        (lambda f: f.integer("x", 0), -1, False),
        (lambda f: f.integer("x", 0, 10), 10, False),
        (lambda f: f.time("x"), 1, True),
        (lambda f: f.time("x"), 0, False),
        (lambda f: f.time("x"), 2**40, False),
        (lambda f: f.time("x"), float(NOW), False),
        (lambda f: f.enum("x", Domain), "medical", True),
        (lambda f: f.enum("x", Domain), "dentistry", False),
        (lambda f: f.enum("x", Domain), ["medical"], False),
        (lambda f: f.array("x", 1, 2), [1], True),
        (lambda f: f.array("x", 1, 2), [], False),
        (lambda f: f.array("x", 1, 2), (1,), False),
        (lambda f: f.map("x", {"a"}), {"a": 1}, True),
        (lambda f: f.map("x", {"a"}), {"a": 1, "b": 2}, False),
    ],
)
def test_field_getters(getter: Callable[[signed.Fields], Any], value: Any, ok: bool) -> None:
    f = fields(x=value)
    if ok:
        getter(f)
    else:
        with pytest.raises(FormatError, match=r"^thing"):
            getter(f)


def test_peek_does_not_verify() -> None:
    data = resign(GP.encoded, OTHER_SECRET, kid=bytes(20))
    assert signed.peek(data, "card") == (labels.COSE_CARD, bytes(20).hex())
    with pytest.raises(FormatError, match="key id is not a fingerprint"):
        signed.peek(resign(GP.encoded, GP_SECRET, kid=bytes(19)), "card")


def test_manifest_with_a_map_among_domains_is_refused_not_a_crash() -> None:
    """Found while moving the manifest to core.signed: set() over a decoded map raised
    TypeError (an unhandled crash) instead of a refusal."""
    data, secret, _ = OBJECTS["letter manifest"]
    p = payload_of(data)
    p["recipients"] = [{**p["recipients"][0], "domains": [{}]}]
    with pytest.raises(FormatError, match="domain"):
        Manifest.verify(resign(data, secret, payload=p), GP)


def test_wrong_signer_errors_are_verification_errors() -> None:
    """Every step-3 error refuses (exit 3), whatever its class."""
    for kind in KINDS:
        exc = kind.wrong_signer(kind, bytes(20), GP)
        assert isinstance(exc, VerificationError) and exc.exit_code == 3
        assert not isinstance(exc, SignatureError)
