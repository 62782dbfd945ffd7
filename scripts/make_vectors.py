#!/usr/bin/env python3
"""Generate the known-answer vectors of securemsg's own formats (tests/vectors/).

    PYTHONPATH=src python scripts/make_vectors.py [OUT_DIR]

Everything is fixed: the keys are PUBLIC TEST KEYS derived from labels
(``core.testkeys.derive_test_identity("vector-gp")`` ...), randomness comes from
:func:`fixed_rng` (a SHA-256 counter stream, one stream per vector), and the
clock is :data:`NOW`. Running the script twice gives byte-identical files;
tests/vectors_test/test_known_answers.py checks that, and replays every file
through the real parsers and verifiers. File format: docs/format.md §Test vectors.
"""

from __future__ import annotations

import base64
import hashlib
import io
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cbor2

from securemsg.core import age, cbor, cose, frozen, labels
from securemsg.core.age.hazmat import x25519
from securemsg.core.age.hazmat.file import build_header, new_file_key, read_header
from securemsg.core.age.hazmat.header import Header, compute_mac, encode_without_mac
from securemsg.core.card import Card
from securemsg.core.consent import Grant, Objection, Recipient, Revocation
from securemsg.core.digests import object_digest
from securemsg.core.domains import Domain, Purpose
from securemsg.core.identity import Profile, Role, SecretIdentity
from securemsg.core.keychange import KeyRevocation, Reason, Succession
from securemsg.core.letter import compose
from securemsg.core.letter.container import PADDING, OutItem, padding_length, record_head
from securemsg.core.letter.doubles import DoubleRecord
from securemsg.core.letter.proofs import Binding, EnvelopeHasher, Receipt, Refusal
from securemsg.core.letter.source import parse_letter
from securemsg.core.log import GENESIS, LogEntry
from securemsg.core.testkeys import derive_test_identity

# The one-envelope writer (with the attack knobs) is test code: tests/reference.py.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from reference import encrypt_stream, envelope, items_for, write_envelope

Rng = Callable[[int], bytes]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "tests" / "vectors"
SUFFIX = ".vector"

DAY = 86400
NOW = 1768208400  # 2026-01-12T09:00:00Z: the verifier's clock in every vector
CARD_CREATED = NOW - 30 * DAY
LETTER_DATE = NOW - 2 * 3600
WRAP = 64  # hex / base64 body lines


class _CounterStream:
    def __init__(self, seed: str) -> None:
        self._prefix = b"securemsg/vector-rng/v1\x00" + seed.encode()
        self._buf = b""
        self._counter = 0

    def __call__(self, n: int) -> bytes:
        while len(self._buf) < n:
            block = self._prefix + self._counter.to_bytes(8, "big")
            self._buf += hashlib.sha256(block).digest()
            self._counter += 1
        out, self._buf = self._buf[:n], self._buf[n:]
        return out


def fixed_rng(seed: str) -> Rng:
    """Deterministic stand-in for ``nacl.utils.random``. NOT random: vectors only.

    The stream is the concatenation of SHA-256("securemsg/vector-rng/v1" || 0x00 ||
    UTF-8(seed) || counter) for counter = 0, 1, 2, ... (64-bit big-endian); each
    call takes the next ``n`` bytes of the stream.
    """
    return _CounterStream(seed)


# -- the cast: public test identities -------------------------------------------------
@dataclass(frozen=True)
class Person:
    label: str
    secret: SecretIdentity
    card: Card

    @property
    def fp(self) -> str:
        return self.card.fingerprint

    @property
    def fp_bytes(self) -> bytes:
        return bytes.fromhex(self.card.fingerprint)


def person(label: str, profile: Profile, created: int = CARD_CREATED, days: int = 730) -> Person:
    secret = derive_test_identity(label)
    card = Card.sign(secret, profile, now=created, validity_days=days, test_key=True)
    return Person(label, secret, card)


GP = person("vector-gp", Profile("Dr Alice Martin", Role.GP, rpps="10001234567"))
CARDIO = person(
    "vector-cardiologist",
    Profile("Dr Bruno Roche", Role.SPECIALIST, rpps="10007654321", specialty="cardiology"),
)
NURSE = person("vector-nurse", Profile("Claire Petit", Role.NURSE))
NURSE2 = person("vector-nurse-2", Profile("Denis Moreau", Role.NURSE))
PATIENT = person(
    "vector-patient",
    Profile("Eva Laurent", Role.PATIENT, ins="261047512345619", birth_date="1961-04-12"),
)
PATIENT2 = person("vector-patient-2", Profile("Farid Benali", Role.PATIENT))


# -- output ---------------------------------------------------------------------------
@dataclass
class Vector:
    name: str
    expect: str
    object: str
    comment: str
    body: bytes
    encoding: str = "hex"  # hex | base64 | text | hex-list
    inputs: list[tuple[str, str]] = field(default_factory=list)
    decoded: list[tuple[str, str]] = field(default_factory=list)

    def render(self) -> bytes:
        lines = [
            f"expect: {self.expect}",
            f"object: {self.object}",
            f"comment: {self.comment}",
            f"encoding: {self.encoding}",
            *(f"{k}: {v}" for k, v in self.inputs),
            *(f"decoded.{k}: {v}" for k, v in self.decoded),
            "",
        ]
        if self.encoding == "text":
            text = self.body.decode()
            return ("\n".join(lines) + "\n" + text).encode()
        if self.encoding == "hex-list":  # objects separated by a line "--"
            for i, part in enumerate(unpack_list(self.body)):
                lines += ["--"] if i else []
                lines += wrap(part.hex())
        else:
            enc = (
                self.body.hex() if self.encoding == "hex" else base64.b64encode(self.body).decode()
            )
            lines += wrap(enc)
        return ("\n".join(lines) + "\n").encode()


def wrap(text: str) -> list[str]:
    return [text[i : i + WRAP] for i in range(0, len(text), WRAP)]


def pack_list(parts: list[bytes]) -> bytes:
    """Several objects in one Vector.body (rendered as hex-list)."""
    return cbor2.dumps(parts)


def unpack_list(body: bytes) -> list[bytes]:
    parts = cbor2.loads(body)
    assert isinstance(parts, list)
    return parts


def signer_inputs(who: Person, now: int = NOW) -> list[tuple[str, str]]:
    return [
        ("now", str(now)),
        ("signer-test-key", who.label),
        ("signer-key", who.card.sign_public.hex()),
        ("signer-card", who.card.encoded.hex()),
    ]


# -- helpers to forge objects ----------------------------------------------------------
def sign_payload(who: Person, otype: str, payload: Any, kid: bytes | None = None) -> bytes:
    kid = who.fp_bytes if kid is None else kid
    return cose.sign(who.secret.signing_key, otype, kid, cbor.dumps(payload))


def cose_parts(encoded: bytes) -> list[Any]:
    tag = cbor2.loads(encoded)
    return list(tag.value)


def with_payload(encoded: bytes, payload: Any) -> bytes:
    """The same COSE_Sign1 (protected header and signature kept), another payload."""
    protected, unprotected, _, signature = cose_parts(encoded)
    return cbor.dumps(
        cbor2.CBORTag(cose.COSE_SIGN1_TAG, [protected, unprotected, cbor.dumps(payload), signature])
    )


def payload_of(encoded: bytes) -> dict[str, Any]:
    value = cbor2.loads(cose_parts(encoded)[2])
    assert isinstance(value, dict)
    return value


def flip_signature(encoded: bytes) -> bytes:
    protected, unprotected, payload, signature = cose_parts(encoded)
    bad = bytes([signature[0] ^ 0x01]) + signature[1:]
    return cbor.dumps(cbor2.CBORTag(cose.COSE_SIGN1_TAG, [protected, unprotected, payload, bad]))


# -- cards ----------------------------------------------------------------------------
def card_payload(who: Person, created: int = CARD_CREATED, days: int = 730) -> dict[str, Any]:
    return {
        "v": 1,
        "profile": who.card.profile.to_cbor(),
        "sign_key": who.card.sign_public,
        "enc_key": who.card.enc_public,
        "created": created,
        "expires": created + days * DAY,
        "test_key": True,
    }


def card_decoded(card: Card) -> list[tuple[str, str]]:
    return [
        ("name", card.name),
        ("role", card.profile.role.value),
        ("fingerprint", card.fingerprint),
        ("enc-key", card.enc_public.hex()),
        ("expires", str(card.expires)),
        ("test-key", "true" if card.test_key else "false"),
    ]


def card_vectors() -> list[Vector]:
    out: list[Vector] = []
    now = [("now", str(NOW))]
    out.append(
        Vector(
            "card-valid",
            "success",
            "card",
            "GP card, binary form (COSE_Sign1, self-signed), marked as a public test key",
            GP.card.encoded,
            inputs=now,
            decoded=card_decoded(GP.card),
        )
    )
    out.append(
        Vector(
            "card-valid-patient",
            "success",
            "card",
            "patient card with INS and birth date",
            PATIENT.card.encoded,
            inputs=now,
            decoded=[*card_decoded(PATIENT.card), ("ins", "261047512345619")],
        )
    )
    out.append(
        Vector(
            "card-text-form",
            "success",
            "card",
            "specialist card in the text form (as mailed or pasted)",
            CARDIO.card.to_text().encode(),
            encoding="text",
            inputs=now,
            decoded=card_decoded(CARDIO.card),
        )
    )
    text = CARDIO.card.to_text().replace("Name: Dr Bruno Roche", "Name: Dr Bruno Rocher")
    out.append(
        Vector(
            "card-text-name-mismatch",
            "FormatError",
            "card",
            "text form whose informational Name line differs from the signed profile",
            text.encode(),
            encoding="text",
            inputs=now,
        )
    )
    old = person("vector-gp", Profile("Dr Alice Martin", Role.GP), created=NOW - 800 * DAY)
    out.append(
        Vector(
            "card-expired",
            "ExpiredError",
            "card",
            "well-signed card whose expiry (created + 730 days) is before now",
            old.card.encoded,
            inputs=now,
        )
    )
    future = person("vector-gp", Profile("Dr Alice Martin", Role.GP), created=NOW + 10 * DAY)
    out.append(
        Vector(
            "card-future",
            "ExpiredError",
            "card",
            "well-signed card created 10 days after now (more than 300 s of clock skew)",
            future.card.encoded,
            inputs=now,
        )
    )
    out.append(
        Vector(
            "card-bad-signature",
            "SignatureError",
            "card",
            "GP card with the first signature byte flipped",
            flip_signature(GP.card.encoded),
            inputs=now,
        )
    )
    p = card_payload(NURSE)
    p["profile"] = {**p["profile"], "name": "Claire Petit-Durand"}
    out.append(
        Vector(
            "card-tampered-name",
            "SignatureError",
            "card",
            "nurse card whose payload name was edited, signature kept",
            with_payload(NURSE.card.encoded, p),
            inputs=now,
        )
    )
    out.append(
        Vector(
            "card-wrong-type",
            "SignatureError",
            "card",
            "a card payload validly signed under the consent-grant object type",
            sign_payload(GP, labels.COSE_CONSENT_GRANT, card_payload(GP)),
            inputs=now,
        )
    )
    ordered = card_payload(GP)
    ordered = {k: ordered[k] for k in ["profile", "sign_key", "enc_key", "created", "expires"]}
    ordered["test_key"] = True
    ordered["v"] = 1  # "v" last: not the canonical (length-first) key order
    raw = cbor2.dumps(ordered)
    assert raw != cbor.dumps(ordered)
    protected = cose.protected_header(labels.COSE_CARD, GP.fp_bytes)
    sig = GP.secret.signing_key.sign(cose.sig_structure(protected, raw)).signature
    out.append(
        Vector(
            "card-noncanonical-payload",
            "FormatError",
            "card",
            "validly signed card whose payload map keys are not in canonical order",
            cbor.dumps(cbor2.CBORTag(18, [protected, {}, raw, bytes(sig)])),
            inputs=now,
        )
    )
    # Outer COSE array: the payload byte string announced with a 2-byte length
    # (0x59) although it fits a 1-byte length (0x58). Signature still valid.
    good = GP.card.encoded
    payload = cose_parts(good)[2]
    assert len(payload) < 256
    head = b"\x58" + bytes([len(payload)])
    i = good.index(head + payload)
    noncanon = good[:i] + b"\x59" + len(payload).to_bytes(2, "big") + good[i + 2 :]
    out.append(
        Vector(
            "card-noncanonical-cose",
            "FormatError",
            "card",
            "GP card whose COSE payload length uses a longer encoding than needed",
            noncanon,
            inputs=now,
        )
    )
    p = card_payload(GP)
    p["nickname"] = "Alice"
    out.append(
        Vector(
            "card-unknown-field",
            "FormatError",
            "card",
            "validly signed card payload with an unknown top-level field",
            sign_payload(GP, labels.COSE_CARD, p),
            inputs=now,
        )
    )
    p = card_payload(GP)
    p["test_key"] = False
    out.append(
        Vector(
            "card-test-key-false",
            "FormatError",
            "card",
            "test_key present but false: the flag is either true or absent",
            sign_payload(GP, labels.COSE_CARD, p),
            inputs=now,
        )
    )
    out.append(
        Vector(
            "card-kid-mismatch",
            "FormatError",
            "card",
            "GP card signed by the GP, but the kid is the nurse's fingerprint",
            sign_payload(GP, labels.COSE_CARD, card_payload(GP), kid=NURSE.fp_bytes),
            inputs=now,
        )
    )
    return out


# -- consent ---------------------------------------------------------------------------
GRANT_ISSUED = NOW - 3 * DAY


def make_grant(seed: str, issued: int = GRANT_ISSUED, commitment: bytes | None = None) -> Grant:
    return Grant.sign(
        PATIENT.secret,
        PATIENT.card,
        sender_fp=GP.fp,
        recipients=[Recipient(fp=CARDIO.fp), Recipient(role=Role.NURSE)],
        purpose=Purpose.REFERRAL,
        now=issued,
        exclude=[Domain.INSURANCE],
        commitment=commitment,
        rng=fixed_rng(seed),
    )


GRANT = make_grant("consent-grant")
REVOCATION = Revocation.sign(PATIENT.secret, PATIENT.card, GRANT, now=NOW - DAY)
OBJECTION = Objection.sign(PATIENT.secret, PATIENT.card, Recipient(fp=NURSE2.fp), now=NOW - DAY)
OBJECTED_RPPS = "10007654329"  # a practitioner whose card the patient does not hold


def grant_decoded(g: Grant) -> list[tuple[str, str]]:
    return [
        ("id", g.id.hex()),
        ("patient", g.patient_fp),
        ("sender", g.sender_fp),
        ("recipients", f"fp:{CARDIO.fp},role:nurse"),
        ("purpose", g.purpose.value),
        ("domains", "medical,nursing,physiotherapy,administrative"),
        ("exclude", "insurance"),
        ("issued-at", str(g.issued_at)),
        ("not-after", str(g.not_after)),
    ]


def check_inputs(to: Person, domains: str, date: int = LETTER_DATE) -> list[tuple[str, str]]:
    return [
        ("check-sender", GP.fp),
        ("check-purpose", "referral"),
        ("check-recipient", f"{to.fp} {to.card.profile.role.value} {domains}"),
        ("check-date", str(date)),
    ]


def consent_vectors() -> list[Vector]:
    out: list[Vector] = []
    pin = signer_inputs(PATIENT)
    out.append(
        Vector(
            "consent-grant-valid",
            "success",
            "consent-grant",
            "patient allows the GP to refer to the cardiologist and any nurse, no insurance; "
            "checked with check_consent for a nursing disclosure to a nurse",
            GRANT.encoded,
            inputs=[*pin, *check_inputs(NURSE, "nursing")],
            decoded=grant_decoded(GRANT),
        )
    )
    p = payload_of(GRANT.encoded)
    p["not_after"] += 365 * DAY
    out.append(
        Vector(
            "consent-grant-tampered",
            "consent:bad_signature",
            "consent-grant",
            "the grant's not_after pushed a year later, signature kept",
            with_payload(GRANT.encoded, p),
            inputs=pin,
        )
    )
    forged = sign_payload(GP, labels.COSE_CONSENT_GRANT, payload_of(GRANT.encoded))
    out.append(
        Vector(
            "consent-grant-signed-by-gp",
            "consent:signer_not_patient",
            "consent-grant",
            "the grant payload naming the patient, signed by the GP with the GP's kid; "
            "verified against the patient's card",
            forged,
            inputs=pin,
        )
    )
    out.append(
        Vector(
            "consent-grant-gp-card-as-patient",
            "consent:signer_not_patient",
            "consent-grant",
            "the same GP-signed grant verified against the GP's own card (not a patient)",
            forged,
            inputs=signer_inputs(GP),
        )
    )
    other = sign_payload(PATIENT2, labels.COSE_CONSENT_GRANT, payload_of(GRANT.encoded))
    out.append(
        Vector(
            "consent-grant-other-patient",
            "consent:signer_not_patient",
            "consent-grant",
            "a grant naming patient Eva Laurent, validly signed by another patient",
            other,
            inputs=signer_inputs(PATIENT2),
        )
    )
    out.append(
        Vector(
            "consent-grant-card-as-consent",
            "consent:bad_signature",
            "consent-grant",
            "the patient's own card (a valid signature of the card type) presented as a grant",
            PATIENT.card.encoded,
            inputs=pin,
        )
    )
    out.append(
        Vector(
            "consent-grant-revoked",
            "consent:revoked",
            "consent-grant",
            "valid grant, but a revocation of it signed by the patient is known",
            GRANT.encoded,
            inputs=[
                *pin,
                *check_inputs(NURSE, "nursing"),
                ("revocation", REVOCATION.encoded.hex()),
            ],
        )
    )
    out.append(
        Vector(
            "consent-grant-objected",
            "consent:recipient_objected",
            "consent-grant",
            "valid grant to any nurse, but the patient objected to this nurse",
            GRANT.encoded,
            inputs=[*pin, *check_inputs(NURSE2, "nursing"), ("objection", OBJECTION.encoded.hex())],
        )
    )
    expired = make_grant("consent-grant-expired", issued=NOW - 120 * DAY)
    out.append(
        Vector(
            "consent-grant-expired",
            "consent:expired",
            "consent-grant",
            "grant issued 120 days before now, valid 90 days",
            expired.encoded,
            inputs=[*pin, *check_inputs(NURSE, "nursing")],
        )
    )
    out.append(
        Vector(
            "consent-grant-domain-not-for-role",
            "consent:domain_not_for_role",
            "consent-grant",
            "valid grant, but the letter would disclose a medical section to a nurse",
            GRANT.encoded,
            inputs=[*pin, *check_inputs(NURSE, "medical,nursing")],
        )
    )
    # letter-bound grants (format-consent.md §3.1): bound to the letter
    # commitment of the referral of the manifest and envelope vectors
    bound = make_grant("consent-grant-bound", commitment=MANIFEST.commitment())
    out.append(
        Vector(
            "consent-grant-bound-valid",
            "success",
            "consent-grant",
            "grant bound to the letter commitment of manifest-valid's referral; checked "
            "with check_consent for that letter (the commitment the recipient recomputes)",
            bound.encoded,
            inputs=[
                *pin,
                *check_inputs(NURSE, "nursing"),
                ("check-commitment", MANIFEST.commitment().hex()),
            ],
            decoded=[*grant_decoded(bound), ("commitment", MANIFEST.commitment().hex())],
        )
    )
    other = frozen.replace(MANIFEST, message_id=bytes(16)).commitment()
    out.append(
        Vector(
            "consent-grant-bound-mismatch",
            "consent:bound_letter_mismatch",
            "consent-grant",
            "the same bound grant checked for the same items under another message id",
            bound.encoded,
            inputs=[*pin, *check_inputs(NURSE, "nursing"), ("check-commitment", other.hex())],
        )
    )
    # revocations
    out.append(
        Vector(
            "consent-revocation-valid",
            "success",
            "consent-revocation",
            "the patient revokes the grant of consent-grant-valid",
            REVOCATION.encoded,
            inputs=pin,
            decoded=[("grant", GRANT.id.hex()), ("date", str(REVOCATION.date))],
        )
    )
    p = payload_of(REVOCATION.encoded)
    p["grant"] = bytes(16)
    out.append(
        Vector(
            "consent-revocation-tampered",
            "consent:bad_signature",
            "consent-revocation",
            "revocation whose grant id was replaced, signature kept",
            with_payload(REVOCATION.encoded, p),
            inputs=pin,
        )
    )
    out.append(
        Vector(
            "consent-revocation-signed-by-gp",
            "consent:signer_not_patient",
            "consent-revocation",
            "a revocation naming the patient, signed by the GP (GP kid)",
            sign_payload(GP, labels.COSE_CONSENT_REVOCATION, payload_of(REVOCATION.encoded)),
            inputs=pin,
        )
    )
    out.append(
        Vector(
            "consent-revocation-grant-as-revocation",
            "consent:bad_signature",
            "consent-revocation",
            "a valid grant presented as a revocation (type confusion)",
            GRANT.encoded,
            inputs=pin,
        )
    )
    # objections
    out.append(
        Vector(
            "consent-objection-valid",
            "success",
            "consent-objection",
            "the patient objects to one nurse (by fingerprint)",
            OBJECTION.encoded,
            inputs=pin,
            decoded=[("target", f"fp:{NURSE2.fp}"), ("date", str(OBJECTION.date))],
        )
    )
    p = payload_of(OBJECTION.encoded)
    p["to"] = {"fp": NURSE.fp_bytes}
    out.append(
        Vector(
            "consent-objection-tampered",
            "consent:bad_signature",
            "consent-objection",
            "objection whose target was swapped for another nurse, signature kept",
            with_payload(OBJECTION.encoded, p),
            inputs=pin,
        )
    )
    out.append(
        Vector(
            "consent-objection-signed-by-gp",
            "consent:signer_not_patient",
            "consent-objection",
            "an objection naming the patient, signed by the GP (GP kid)",
            sign_payload(GP, labels.COSE_CONSENT_OBJECTION, payload_of(OBJECTION.encoded)),
            inputs=pin,
        )
    )
    # objections by RPPS number and name (payload version 2, issue 13)
    by_rpps = Recipient(rpps=OBJECTED_RPPS, name="Dr Eve Morel")
    rpps_obj = Objection.sign(PATIENT.secret, PATIENT.card, by_rpps, now=NOW - DAY)
    out.append(
        Vector(
            "consent-objection-rpps-valid",
            "success",
            "consent-objection",
            "the patient objects to a practitioner she knows by name and RPPS number "
            "(version 2; matched against the RPPS on the cards each checker holds)",
            rpps_obj.encoded,
            inputs=pin,
            decoded=[
                ("target", f"rpps:{OBJECTED_RPPS} Dr Eve Morel"),
                ("date", str(rpps_obj.date)),
            ],
        )
    )
    p = payload_of(rpps_obj.encoded)
    p["v"] = 1
    out.append(
        Vector(
            "consent-objection-rpps-as-version-1",
            "consent:malformed",
            "consent-objection",
            "a target by RPPS number in a version-1 objection (signed by the patient)",
            sign_payload(PATIENT, labels.COSE_CONSENT_OBJECTION, p),
            inputs=pin,
        )
    )
    p = payload_of(OBJECTION.encoded)
    p["v"] = 2
    out.append(
        Vector(
            "consent-objection-version-2-by-fingerprint",
            "consent:malformed",
            "consent-objection",
            "a version-2 objection whose target is a fingerprint (signed by the patient)",
            sign_payload(PATIENT, labels.COSE_CONSENT_OBJECTION, p),
            inputs=pin,
        )
    )
    out.append(
        Vector(
            "consent-objection-card-as-objection",
            "consent:bad_signature",
            "consent-objection",
            "the patient's card presented as an objection",
            PATIENT.card.encoded,
            inputs=pin,
        )
    )
    return out


# -- the letter ------------------------------------------------------------------------
LETTER_SOURCE = b"""---
subject: Referral for exertional chest pain
---
Dear colleague,

Thank you for seeing Mrs Laurent about chest pain on exertion.

## History
Two episodes of retrosternal pain while climbing stairs, each under 5 minutes.
Blood pressure 150/90 mmHg.

## Dressing care {nursing}
Dressing of the left forearm wound every two days until the stitches are removed.
"""
ATTACHMENT = b"ECG 2026-01-09: sinus rhythm 72/min, no ST changes.\n"
SOURCE = parse_letter(LETTER_SOURCE, "Referral")
MEDICAL_NURSING = frozenset({Domain.MEDICAL, Domain.NURSING})
NURSING = frozenset({Domain.NURSING})

PLANNED = compose.plan(
    source=SOURCE,
    attachments=[
        compose.Attachment("ecg.txt", Domain.MEDICAL, len(ATTACHMENT), lambda: (ATTACHMENT,))
    ],
    kind=Purpose.REFERRAL,
    author=GP.secret,
    author_card=GP.card,
    recipients=[
        (CARDIO.card, MEDICAL_NURSING),
        (NURSE.card, NURSING),
        (PATIENT.card, MEDICAL_NURSING),  # the patient: every domain present (R4)
    ],
    basis="consent",
    now=LETTER_DATE,
    patient=PATIENT.card,
    consent=GRANT.encoded,
    consent_digest=object_digest(GRANT.encoded),
    rng=fixed_rng("letter-manifest"),
)
MANIFEST = PLANNED.manifest


def manifest_decoded() -> list[tuple[str, str]]:
    return [
        ("id", MANIFEST.id_hex),
        ("kind", "referral"),
        ("author", GP.fp),
        ("subject", MANIFEST.subject),
        ("basis", "consent"),
        ("consent", object_digest(GRANT.encoded).hex()),
        (
            "recipients",
            f"{CARDIO.fp}:medical,nursing;{NURSE.fp}:nursing;{PATIENT.fp}:medical,nursing",
        ),
        ("items", "0:section:medical;1:section:medical;2:section:nursing;3:attachment:medical"),
    ]


def manifest_vectors() -> list[Vector]:
    out: list[Vector] = []
    gin = signer_inputs(GP)
    out.append(
        Vector(
            "manifest-valid",
            "success",
            "manifest",
            "GP's referral: 3 sections and 1 attachment, to a cardiologist, a nurse and the "
            "patient, on the basis of consent-grant-valid",
            MANIFEST.encoded,
            inputs=gin,
            decoded=manifest_decoded(),
        )
    )
    p = payload_of(MANIFEST.encoded)
    p["items"][3]["digest"] = p["items"][2]["digest"]
    out.append(
        Vector(
            "manifest-duplicate-digests",
            "FormatError",
            "manifest",
            "validly signed manifest in which items 2 and 3 carry the same digest",
            sign_payload(GP, labels.COSE_LETTER_MANIFEST, p),
            inputs=gin,
        )
    )
    out.append(
        Vector(
            "manifest-bad-kid",
            "FormatError",
            "manifest",
            "manifest signed by the GP whose kid names the cardiologist",
            sign_payload(
                GP, labels.COSE_LETTER_MANIFEST, payload_of(MANIFEST.encoded), CARDIO.fp_bytes
            ),
            inputs=gin,
        )
    )
    out.append(
        Vector(
            "manifest-wrong-type",
            "SignatureError",
            "manifest",
            "the GP's envelope binding (another object type) presented as a manifest",
            BINDING_NURSE,
            inputs=gin,
        )
    )
    p = payload_of(MANIFEST.encoded)
    p["recipients"][1]["domains"] = ["medical", "nursing"]
    out.append(
        Vector(
            "manifest-tampered",
            "SignatureError",
            "manifest",
            "the nurse's domains widened to medical in the payload, signature kept",
            with_payload(MANIFEST.encoded, p),
            inputs=gin,
        )
    )
    p = payload_of(MANIFEST.encoded)
    p["items"][0], p["items"][1] = p["items"][1], p["items"][0]
    out.append(
        Vector(
            "manifest-items-misnumbered",
            "FormatError",
            "manifest",
            "validly signed manifest whose items are not numbered 0, 1, 2, ... in order",
            sign_payload(GP, labels.COSE_LETTER_MANIFEST, p),
            inputs=gin,
        )
    )
    p = payload_of(MANIFEST.encoded)
    p["basis"] = "pseudonymous"
    p["pseudonym"] = "case 4711"
    del p["consent"]
    out.append(
        Vector(
            "manifest-pseudonym-with-patient",
            "FormatError",
            "manifest",
            "validly signed pseudonymous manifest that still names the patient",
            sign_payload(GP, labels.COSE_LETTER_MANIFEST, p),
            inputs=gin,
        )
    )
    return out


# -- envelopes ------------------------------------------------------------------------
def envelope_bytes(chunks: Iterable[bytes | bytearray]) -> bytes:
    return b"".join(chunks)


def real_envelope(to: Person, domains: frozenset[Domain], seed: str) -> bytes:
    return envelope_bytes(
        envelope(
            PLANNED,
            GP.secret,
            to.card,
            domains,
            GRANT.encoded,
            PATIENT.card.encoded,
            fixed_rng(seed),
        )
    )


def custom_envelope(
    seed: str,
    to: list[Person],
    binding_for: Person,
    items: list[OutItem],
    trailing: bytes = b"",
    padding: Callable[[int], bytes] | None = None,
) -> bytes:
    """Like ``envelope``, with the attack knobs ``envelope`` does not have."""
    rng = fixed_rng(seed)
    file_key = new_file_key(rng)
    keys = [age.X25519Recipient.from_bytes(p.card.enc_public) for p in to]
    header = build_header(file_key, keys, rng)
    binding = bytes(Binding.sign(GP.secret, MANIFEST.encoded, header, binding_for.fp))
    records = envelope_bytes(
        write_envelope(
            MANIFEST.encoded, binding, GRANT.encoded, PATIENT.card.encoded, items, padding
        )
    )
    return header + envelope_bytes(encrypt_stream(file_key, [records + trailing], rng))


def bad_padding(kind: str) -> Callable[[int], bytes]:
    """A PADDING record (head included) after ``before`` bytes, spoiled: one
    non-zero byte, one byte too long, or none at all (an unpadded envelope)."""

    def pad(before: int) -> bytes:
        length = padding_length(before)
        if kind == "missing":
            return b""
        if kind == "long":
            return record_head(PADDING, length + 1) + bytes(length + 1)
        return record_head(PADDING, length) + bytes(length - 1) + b"\x01"

    return pad


def header_of(env: bytes) -> bytes:
    return read_header(io.BytesIO(env))[1]


def out_items(domains: frozenset[Domain]) -> list[OutItem]:
    return items_for(PLANNED, domains)


ENV_NURSE = real_envelope(NURSE, NURSING, "envelope-nurse")
ENV_CARDIO = real_envelope(CARDIO, MEDICAL_NURSING, "envelope-cardiologist")
ENV_PATIENT = real_envelope(PATIENT, MEDICAL_NURSING, "envelope-patient")
HEADER_NURSE = header_of(ENV_NURSE)
BINDING_NURSE = bytes(Binding.sign(GP.secret, MANIFEST.encoded, HEADER_NURSE, NURSE.fp))


def digest_of(env: bytes) -> bytes:
    h = EnvelopeHasher()
    h.update(env)
    return h.digest()


def item_line(items: Iterable[tuple[int, Domain, str, bytes]]) -> str:
    return ";".join(
        f"{n}:{d.value}:{name}:{hashlib.sha256(data).hexdigest()[:16]}"
        for n, d, name, data in items
    )


def planned_items(domains: frozenset[Domain]) -> list[tuple[int, Domain, str, bytes]]:
    out = []
    for item, oi in PLANNED.items:
        if item.domain in domains:
            out.append((item.n, item.domain, oi.name, b"".join(oi.content())))
    return out


def envelope_inputs(to: Person) -> list[tuple[str, str]]:
    return [
        *signer_inputs(GP),
        ("recipient-test-key", to.label),
        ("recipient-secret", (to.secret.sign_seed + to.secret.enc_secret).hex()),
        ("recipient-fp", to.fp),
    ]


def envelope_vectors() -> list[Vector]:
    out: list[Vector] = []

    def env(name: str, expect: str, comment: str, body: bytes, to: Person, **kw: Any) -> None:
        out.append(
            Vector(name, expect, "envelope", comment, body, "base64", envelope_inputs(to), **kw)
        )

    common = [("id", MANIFEST.id_hex), ("author", GP.fp), ("consent", "present")]
    env(
        "envelope-nurse-valid",
        "success",
        "the nurse's .smsg: manifest, binding, consent, patient card, the nursing section only",
        ENV_NURSE,
        NURSE,
        decoded=[
            *common,
            ("digest", digest_of(ENV_NURSE).hex()),
            ("items", item_line(planned_items(NURSING))),
        ],
    )
    env(
        "envelope-patient-valid",
        "success",
        "the patient's copy: every section and the attachment (R4)",
        ENV_PATIENT,
        PATIENT,
        decoded=[*common, ("items", item_line(planned_items(MEDICAL_NURSING)))],
    )
    # A stanza for a third party added after the author signed the binding: the
    # nurse knows the file key, so can recompute the header MAC.
    header, _ = read_header(io.BytesIO(ENV_NURSE))
    file_key = fixed_rng("envelope-nurse")(16)
    extra = x25519.wrap(
        file_key, age.X25519Recipient.from_bytes(NURSE2.card.enc_public), fixed_rng("extra-stanza")
    )
    stanzas = (*header.stanzas, extra)
    new_header = Header(stanzas, compute_mac(file_key, encode_without_mac(stanzas))).encode()
    env(
        "envelope-stanza-added",
        "VerificationError",
        "the nurse's envelope with an X25519 stanza for another nurse added after signing "
        "(MAC recomputed with the file key); the binding's header digest no longer matches",
        new_header + ENV_NURSE[len(HEADER_NURSE) :],
        NURSE,
    )
    reenc_rng = fixed_rng("envelope-reencrypted")
    plaintext = envelope_bytes(
        write_envelope(
            MANIFEST.encoded, BINDING_NURSE, GRANT.encoded, PATIENT.card.encoded, out_items(NURSING)
        )
    )
    buf = io.BytesIO()
    age.encrypt([age.X25519Recipient.from_bytes(NURSE2.card.enc_public)], plaintext, buf, reenc_rng)
    env(
        "envelope-reencrypted",
        "VerificationError",
        "the nurse decrypted her envelope and re-encrypted it to another nurse "
        "(surreptitious forwarding): the binding names the first nurse",
        buf.getvalue(),
        NURSE2,
    )
    tampered = [
        OutItem(
            o.n,
            o.salt,
            o.name,
            o.size,
            lambda o=o: (b"".join(o.content()).replace(b"two", b"six"),),
        )
        for o in out_items(NURSING)
    ]
    env(
        "envelope-item-digest-mismatch",
        "VerificationError",
        "valid manifest and binding, but the nursing section's text differs from its signed digest",
        custom_envelope("envelope-digest-mismatch", [NURSE], NURSE, tampered),
        NURSE,
    )
    env(
        "envelope-not-intended",
        "VerificationError",
        "author-signed binding for a nurse who is not among the manifest's recipients",
        custom_envelope("envelope-not-intended", [NURSE2], NURSE2, out_items(NURSING)),
        NURSE2,
    )
    env(
        "envelope-domain-not-granted",
        "VerificationError",
        "the nurse's envelope also holds a medical section the manifest does not grant her",
        custom_envelope("envelope-medical-to-nurse", [NURSE], NURSE, out_items(MEDICAL_NURSING)),
        NURSE,
    )
    env(
        "envelope-missing-item",
        "VerificationError",
        "the nurse's envelope without the nursing section signed for her",
        custom_envelope("envelope-missing-item", [NURSE], NURSE, []),
        NURSE,
    )
    env(
        "envelope-trailing-data",
        "FormatError",
        "a record after the END record of the nurse's envelope",
        custom_envelope(
            "envelope-trailing", [NURSE], NURSE, out_items(NURSING), trailing=b"\x05" + bytes(8)
        ),
        NURSE,
    )
    for kind, comment in (
        ("nonzero", "the nurse's envelope whose padding ends with a 0x01 byte"),
        ("long", "the nurse's envelope with one byte more padding than its size calls for"),
        (
            "missing",
            "the nurse's envelope without its PADDING record, as earlier versions wrote it",
        ),
    ):
        env(
            f"envelope-padding-{kind}",
            "PaddingError",
            comment,
            custom_envelope(
                f"envelope-padding-{kind}",
                [NURSE],
                NURSE,
                out_items(NURSING),
                padding=bad_padding(kind),
            ),
            NURSE,
        )
    env(
        "envelope-not-for-me",
        "NotForMe",
        "the cardiologist's envelope opened with the nurse's key",
        ENV_CARDIO,
        NURSE,
    )
    return out


# -- binding ----------------------------------------------------------------------------
def binding_inputs(header: bytes, to: Person, manifest: bytes = b"") -> list[tuple[str, str]]:
    return [
        *signer_inputs(GP),
        ("manifest", (manifest or MANIFEST.encoded).hex()),
        ("header", header.hex()),
        ("recipient-fp", to.fp),
    ]


def binding_vectors() -> list[Vector]:
    out: list[Vector] = []
    out.append(
        Vector(
            "binding-valid",
            "success",
            "binding",
            "the GP binds the manifest to the nurse's age header and the nurse's fingerprint",
            BINDING_NURSE,
            inputs=binding_inputs(HEADER_NURSE, NURSE),
            decoded=[
                ("manifest", object_digest(MANIFEST.encoded).hex()),
                (
                    "header",
                    hashlib.sha256(labels.ENVELOPE_HEADER + b"\x00" + HEADER_NURSE).hexdigest(),
                ),
            ],
        )
    )
    out.append(
        Vector(
            "binding-wrong-recipient",
            "VerificationError",
            "binding",
            "the nurse's binding checked by the cardiologist (with the nurse's header)",
            BINDING_NURSE,
            inputs=binding_inputs(HEADER_NURSE, CARDIO),
        )
    )
    out.append(
        Vector(
            "binding-wrong-header",
            "VerificationError",
            "binding",
            "the nurse's binding checked against the header of the cardiologist's envelope",
            BINDING_NURSE,
            inputs=binding_inputs(header_of(ENV_CARDIO), NURSE),
        )
    )
    other = payload_of(MANIFEST.encoded)
    other["subject"] = "Another letter"
    other_manifest = sign_payload(GP, labels.COSE_LETTER_MANIFEST, other)
    out.append(
        Vector(
            "binding-wrong-manifest",
            "VerificationError",
            "binding",
            "the nurse's binding checked against another manifest of the same author",
            BINDING_NURSE,
            inputs=binding_inputs(HEADER_NURSE, NURSE, other_manifest),
        )
    )
    out.append(
        Vector(
            "binding-other-signer",
            "VerificationError",
            "binding",
            "a binding with the same fields signed by the cardiologist, not the author",
            sign_payload(CARDIO, labels.COSE_ENVELOPE_BINDING, payload_of(BINDING_NURSE)),
            inputs=binding_inputs(HEADER_NURSE, NURSE),
        )
    )
    out.append(
        Vector(
            "binding-manifest-as-binding",
            "SignatureError",
            "binding",
            "the GP's manifest presented as a binding (type confusion)",
            MANIFEST.encoded,
            inputs=binding_inputs(HEADER_NURSE, NURSE),
        )
    )
    return out


# -- log, receipt, refusal ------------------------------------------------------------------
def gp_log() -> list[LogEntry]:
    d_cardio, d_nurse = digest_of(ENV_CARDIO), digest_of(ENV_NURSE)
    e0 = LogEntry.sign(
        GP.secret, 0, GENESIS, LETTER_DATE, "send", MANIFEST.message_id, CARDIO.fp, d_cardio
    )
    e1 = LogEntry.sign(
        GP.secret, 1, e0.hash, LETTER_DATE, "send", MANIFEST.message_id, NURSE.fp, d_nurse
    )
    e2 = LogEntry.sign(
        GP.secret, 2, e1.hash, NOW, "receipt", MANIFEST.message_id, NURSE.fp, d_nurse
    )
    return [e0, e1, e2]


NURSE_ACCEPT = LogEntry.sign(
    NURSE.secret, 0, GENESIS, NOW - 3600, "accept", MANIFEST.message_id, GP.fp, digest_of(ENV_NURSE)
)
RECEIPT = Receipt.sign(
    NURSE.secret,
    MANIFEST.message_id,
    MANIFEST.encoded,
    digest_of(ENV_NURSE),
    NURSE.fp,
    NOW - 3600,
    NURSE_ACCEPT.seq,
    NURSE_ACCEPT.hash,
)
REFUSAL = Refusal.sign(
    CARDIO.secret,
    MANIFEST.message_id,
    digest_of(ENV_CARDIO),
    CARDIO.fp,
    NOW - 1800,
    "revoked",
    "the patient revoked this consent",
)


def log_vector(name: str, expect: str, comment: str, entries: list[bytes], head: bytes) -> Vector:
    v = Vector(
        name, expect, "log-entry", comment, pack_list(entries), "hex-list", signer_inputs(GP)
    )
    v.inputs.append(("head", head.hex()))
    return v


def proof_vectors() -> list[Vector]:
    out: list[Vector] = []
    nin = signer_inputs(NURSE)
    out.append(
        Vector(
            "receipt-valid",
            "success",
            "receipt",
            "the nurse's mailbox accepted her envelope: log entry 0",
            RECEIPT.encoded,
            inputs=nin,
            decoded=[
                ("id", MANIFEST.id_hex),
                ("manifest", object_digest(MANIFEST.encoded).hex()),
                ("envelope", digest_of(ENV_NURSE).hex()),
                ("time", str(RECEIPT.time)),
                ("log-seq", "0"),
                ("log-head", NURSE_ACCEPT.hash.hex()),
            ],
        )
    )
    second = Receipt.sign(
        NURSE.secret, MANIFEST.message_id, MANIFEST.encoded, digest_of(ENV_NURSE), NURSE.fp,
        NOW - 3600, 0, NURSE_ACCEPT.hash, bytes(range(0xC0, 0xD0)),
    )  # fmt: skip
    out.append(
        Vector(
            "receipt-second-device-valid",
            "success",
            "receipt",
            "signed by the nurse's second device: log entry 0 of its own chain (field chain)",
            second.encoded,
            inputs=nin,
            decoded=[
                ("id", MANIFEST.id_hex),
                ("log-seq", "0"),
                ("chain", bytes(range(0xC0, 0xD0)).hex()),
            ],
        )
    )
    p = payload_of(second.encoded)
    p["chain"] = bytes(15)
    out.append(
        Vector(
            "receipt-chain-wrong-size",
            "FormatError",
            "receipt",
            "a chain id of 15 bytes (re-signed by the nurse: only the size is wrong)",
            sign_payload(NURSE, labels.COSE_RECEIPT, p),
            inputs=nin,
        )
    )
    p = payload_of(RECEIPT.encoded)
    p["time"] += 86400
    out.append(
        Vector(
            "receipt-tampered",
            "SignatureError",
            "receipt",
            "the receipt's time moved a day later, signature kept",
            with_payload(RECEIPT.encoded, p),
            inputs=nin,
        )
    )
    out.append(
        Vector(
            "receipt-manifest-as-receipt",
            "SignatureError",
            "receipt",
            "a letter manifest presented as a receipt (type confusion)",
            MANIFEST.encoded,
            inputs=signer_inputs(GP),
        )
    )
    out.append(
        Vector(
            "receipt-other-signer",
            "VerificationError",
            "receipt",
            "the same receipt fields signed by another nurse, checked with the nurse's card",
            sign_payload(NURSE2, labels.COSE_RECEIPT, payload_of(RECEIPT.encoded)),
            inputs=nin,
        )
    )
    p = payload_of(RECEIPT.encoded)
    p["recipient"] = CARDIO.fp_bytes
    out.append(
        Vector(
            "receipt-recipient-mismatch",
            "FormatError",
            "receipt",
            "validly signed by the nurse, but the recipient field names the cardiologist",
            sign_payload(NURSE, labels.COSE_RECEIPT, p),
            inputs=nin,
        )
    )
    cin = signer_inputs(CARDIO)
    out.append(
        Vector(
            "refusal-valid",
            "success",
            "refusal",
            "the cardiologist's mailbox refused its envelope under rule revoked",
            REFUSAL.encoded,
            inputs=cin,
            decoded=[
                ("id", MANIFEST.id_hex),
                ("envelope", digest_of(ENV_CARDIO).hex()),
                ("time", str(REFUSAL.time)),
                ("rule", "revoked"),
                ("reason", REFUSAL.reason),
            ],
        )
    )
    p = payload_of(REFUSAL.encoded)
    p["rule"] = "bad_signature"
    out.append(
        Vector(
            "refusal-tampered",
            "SignatureError",
            "refusal",
            "the refusal's rule changed, signature kept",
            with_payload(REFUSAL.encoded, p),
            inputs=cin,
        )
    )
    out.append(
        Vector(
            "refusal-receipt-as-refusal",
            "SignatureError",
            "refusal",
            "the nurse's receipt presented as a refusal notice (type confusion)",
            RECEIPT.encoded,
            inputs=nin,
        )
    )
    out.append(
        Vector(
            "refusal-manifest-as-refusal",
            "SignatureError",
            "refusal",
            "a letter manifest presented as a refusal notice (type confusion)",
            MANIFEST.encoded,
            inputs=signer_inputs(GP),
        )
    )
    # log
    e0, e1, e2 = gp_log()
    chain = [e0.encoded, e1.encoded, e2.encoded]
    v = log_vector(
        "log-chain-valid",
        "success",
        "the GP's log: two sends and one receipt, hash-chained from 32 zero bytes",
        chain,
        e2.hash,
    )
    v.decoded = [("entries", "3"), ("head", e2.hash.hex()), ("events", "send,send,receipt")]
    out.append(v)
    p = payload_of(e1.encoded)
    p["time"] += 60
    out.append(
        log_vector(
            "log-entry-edited",
            "log:1",
            "entry 1's time edited, signature kept: its signature fails",
            [e0.encoded, with_payload(e1.encoded, p), e2.encoded],
            e2.hash,
        )
    )
    edited = LogEntry.sign(
        GP.secret,
        1,
        e0.hash,
        LETTER_DATE + 60,
        "send",
        MANIFEST.message_id,
        NURSE.fp,
        digest_of(ENV_NURSE),
    )
    out.append(
        log_vector(
            "log-entry-edited-resigned",
            "log:2",
            "entry 1 edited and re-signed by the owner: entry 2 no longer follows it",
            [e0.encoded, edited.encoded, e2.encoded],
            e2.hash,
        )
    )
    out.append(
        log_vector(
            "log-entry-deleted",
            "log:1",
            "entry 1 deleted: the entry at position 1 says seq 2",
            [e0.encoded, e2.encoded],
            e2.hash,
        )
    )
    out.append(
        log_vector(
            "log-entries-reordered",
            "log:0",
            "entries 0 and 1 swapped",
            [e1.encoded, e0.encoded, e2.encoded],
            e2.hash,
        )
    )
    out.append(
        log_vector(
            "log-tail-removed",
            "log:2",
            "the last entry removed; the stored head still names it",
            [e0.encoded, e1.encoded],
            e2.hash,
        )
    )
    forged = LogEntry.sign(
        NURSE.secret,
        1,
        e0.hash,
        LETTER_DATE,
        "send",
        MANIFEST.message_id,
        NURSE.fp,
        digest_of(ENV_NURSE),
    )
    out.append(
        log_vector(
            "log-entry-forged",
            "log:1",
            "entry 1 replaced by one signed with another key",
            [e0.encoded, forged.encoded, e2.encoded],
            e2.hash,
        )
    )
    return out


# -- backups (docs/format-backup.md) ---------------------------------------------------
BACKUP_PASSPHRASE = "vector backup passphrase"  # noqa: S105 (a public test vector)
BACKUP_FILES = (
    ("config.json", b'{"schema": 1}\n'),
    ("card.txt", b"(a card)\n"),
    ("keys/identity.key", bytes(range(48))),
    ("mail/in/00ff.smsg", b"(an envelope)"),
)


def backup_bytes(entries: list[tuple[str, bytes | None]], seed: str) -> bytes:
    """A backup with these entries (None: a folder), manifest first, scrypt 2^10."""
    import tarfile

    from securemsg.store.backup import MANIFEST, Manifest, entry_info

    files = [(n, d) for n, d in entries if d is not None]
    manifest = Manifest(NOW, GP.fp, len(files), sum(len(d) for _, d in files), "key file")
    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w", format=tarfile.PAX_FORMAT) as tar:
        body = manifest.to_json()
        tar.addfile(entry_info(MANIFEST, len(body), NOW), io.BytesIO(body))
        for name, data in entries:
            if data is None:
                tar.addfile(entry_info(name, 0, NOW, directory=True))
            else:
                tar.addfile(entry_info(name, len(data), NOW), io.BytesIO(data))
    out = io.BytesIO()
    recipient = age.ScryptRecipient(BACKUP_PASSPHRASE.encode(), 10)
    age.encrypt([recipient], plain.getvalue(), out, rng=fixed_rng(seed))
    return out.getvalue()


def backup_vectors() -> list[Vector]:
    genuine: list[tuple[str, bytes | None]] = [
        ("keys", None), ("mail", None), ("mail/in", None), *BACKUP_FILES
    ]  # fmt: skip
    good = backup_bytes(genuine, "backup-valid")
    entries = ";".join(f"{n}:{hashlib.sha256(d).hexdigest()[:16]}" for n, d in BACKUP_FILES)
    inputs = [("passphrase", BACKUP_PASSPHRASE), ("scrypt-work-factor", "10")]
    decoded = [("created", str(NOW)), ("fingerprint", GP.fp), ("entries", entries)]

    def vector(name: str, expect: str, comment: str, body: bytes, passphrase: str = "") -> Vector:
        given = [("passphrase", passphrase), *inputs[1:]] if passphrase else inputs
        return Vector(name, expect, "backup", comment, body, "base64", given,
                      decoded if expect == "success" else [])  # fmt: skip

    traversal = backup_bytes([*genuine, ("../evil", b"x")], "backup-traversal")
    return [
        vector("backup-valid", "success", "a small backup: manifest, folders, four files", good),
        vector("backup-wrong-passphrase", "BackupPassphraseError",
               "the same file, another passphrase", good, "not the passphrase"),
        vector("backup-truncated", "BackupDamaged",
               "the last 20 bytes cut off (the last STREAM chunk)", good[:-20]),
        vector("backup-traversal", "BackupUnsafeEntry",
               "an entry named ../evil after the genuine ones", traversal),
    ]  # fmt: skip


# -- key succession and key revocation (docs/format-keys.md) ----------------------------
GP_NEW = person("vector-gp-new", GP.card.profile, created=NOW - DAY)
SUCCESSION_AT = NOW - DAY


def key_inputs(who: Person) -> list[tuple[str, str]]:
    return signer_inputs(who)


def succession_decoded(s: Succession) -> list[tuple[str, str]]:
    return [
        ("old-fingerprint", s.old_fingerprint),
        ("new-fingerprint", s.new_card.fingerprint),
        ("at", str(s.at)),
    ]


def key_vectors() -> list[Vector]:
    succ = Succession.sign(GP.secret, GP_NEW.secret, GP_NEW.card, SUCCESSION_AT)
    out = [
        Vector(
            "key-succession-valid",
            "success",
            "key-succession",
            "the GP's old key names its successor; the new key accepts",
            succ.encoded,
            inputs=key_inputs(GP),
            decoded=succession_decoded(succ),
        )
    ]
    p = payload_of(succ.encoded)
    out.append(
        Vector(
            "key-succession-signed-by-new-key-only",
            "VerificationError",
            "key-succession",
            "the same payload signed by the new key alone (kid: the new key), not by the old",
            sign_payload(GP_NEW, labels.COSE_KEY_SUCCESSION, p),
            inputs=key_inputs(GP),
        )
    )
    other_acceptance = sign_payload(
        NURSE,
        labels.COSE_KEY_ACCEPTANCE,
        {"v": 1, "old_key": GP.card.sign_public, "new_key": GP_NEW.card.sign_public, "at": p["at"]},
    )
    out.append(
        Vector(
            "key-succession-acceptance-by-other-key",
            "VerificationError",
            "key-succession",
            "signed by the old key, but the acceptance is signed by another key than the new card's",
            sign_payload(GP, labels.COSE_KEY_SUCCESSION, {**p, "acceptance": other_acceptance}),
            inputs=key_inputs(GP),
        )
    )
    out.append(
        Vector(
            "key-succession-at-mismatch",
            "FormatError",
            "key-succession",
            "the acceptance names another time than the succession",
            sign_payload(GP, labels.COSE_KEY_SUCCESSION, {**p, "at": p["at"] + 1}),
            inputs=key_inputs(GP),
        )
    )
    out.append(
        Vector(
            "key-succession-bad-signature",
            "SignatureError",
            "key-succession",
            "the old key's signature altered",
            flip_signature(succ.encoded),
            inputs=key_inputs(GP),
        )
    )
    prepared = KeyRevocation.sign(GP.secret, Reason.COMPROMISED, CARD_CREATED, None)
    stated = KeyRevocation.sign(GP.secret, Reason.SUPERSEDED, NOW, SUCCESSION_AT)
    for name, rev, comment in (
        ("key-revocation-prepared", prepared, "prepared at init: no as_of (T = import time)"),
        ("key-revocation-as-of", stated, "key revoke --reason superseded --as-of T"),
    ):
        out.append(
            Vector(
                name,
                "success",
                "key-revocation",
                comment,
                rev.encoded,
                inputs=key_inputs(GP),
                decoded=[
                    ("fingerprint", rev.fingerprint),
                    ("reason", rev.reason.value),
                    ("as-of", "" if rev.as_of is None else str(rev.as_of)),
                ],
            )
        )
    rp = payload_of(prepared.encoded)
    out.append(
        Vector(
            "key-revocation-other-signer",
            "VerificationError",
            "key-revocation",
            "the GP's revocation payload signed by the nurse",
            sign_payload(NURSE, labels.COSE_KEY_REVOCATION, rp),
            inputs=key_inputs(GP),
        )
    )
    out.append(
        Vector(
            "key-revocation-unknown-reason",
            "FormatError",
            "key-revocation",
            "a reason outside compromised, superseded, retired",
            sign_payload(GP, labels.COSE_KEY_REVOCATION, {**rp, "reason": "lost"}),
            inputs=key_inputs(GP),
        )
    )
    return out


def double_vectors() -> list[Vector]:
    """The double record (docs/format.md §18.2): the GP's letter, sent from her
    second device, told to her other devices."""
    out: list[Vector] = []
    gin = signer_inputs(GP)
    double = digest_of(real_envelope(GP, MEDICAL_NURSING, "envelope-double"))
    deliveries = [(p.fp, digest_of(e)) for p, e in
                  ((NURSE, ENV_NURSE), (CARDIO, ENV_CARDIO), (PATIENT, ENV_PATIENT))]  # fmt: skip
    chain = bytes(range(0xC0, 0xD0))
    rec = DoubleRecord.sign(GP.secret, MANIFEST.message_id, double, deliveries, NOW, chain)
    listed = ",".join(f"{fp}:{d.hex()}" for fp, d in sorted(deliveries))
    out.append(
        Vector(
            "double-record-valid",
            "success",
            "double-record",
            "the GP's second device tells her other devices about a letter it sent",
            rec.encoded,
            inputs=gin,
            decoded=[
                ("id", MANIFEST.id_hex),
                ("double", double.hex()),
                ("deliveries", listed),
                ("time", str(NOW)),
                ("chain", chain.hex()),
            ],
        )
    )
    out.append(
        Vector(
            "double-record-other-signer",
            "VerificationError",
            "double-record",
            "the same record signed by the cardiologist, checked with the GP's card",
            sign_payload(CARDIO, labels.COSE_DOUBLE_RECORD, payload_of(rec.encoded)),
            inputs=gin,
        )
    )
    p = payload_of(rec.encoded)
    p["deliveries"] = list(reversed(p["deliveries"]))
    out.append(
        Vector(
            "double-record-unsorted",
            "FormatError",
            "double-record",
            "deliveries out of order (re-signed by the GP: only the order is wrong)",
            sign_payload(GP, labels.COSE_DOUBLE_RECORD, p),
            inputs=gin,
        )
    )
    p = payload_of(rec.encoded)
    p["double"] = bytes(32)
    out.append(
        Vector(
            "double-record-tampered",
            "SignatureError",
            "double-record",
            "the double's digest changed after signing",
            with_payload(rec.encoded, p),
            inputs=gin,
        )
    )
    return out


def sync_bytes(entries: list[tuple[str, Path | bytes]], to: Person, seed: str) -> bytes:
    """A device sync file (docs/format-backup.md §8) of the GP, encrypted to ``to``."""
    import tempfile

    from securemsg.store.devicesync import SyncManifest, write_sync

    manifest = SyncManifest(NOW, GP.fp, NOW - DAY, len(entries))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sync.age"
        write_sync(out, to.card.enc_public, manifest, entries, NOW, rng=fixed_rng(seed))
        return out.read_bytes()


def sync_vectors() -> list[Vector]:
    mid = MANIFEST.id_hex
    record = DoubleRecord.sign(GP.secret, MANIFEST.message_id, digest_of(ENV_CARDIO),
                               [(NURSE.fp, digest_of(ENV_NURSE))], NOW)  # fmt: skip
    # The container only: the envelopes are short stand-ins (real ones are 64 KiB
    # each, padded); the record and the receipt are real.
    entries: list[tuple[str, Path | bytes]] = [
        (f"in/{'ab' * 16}.smsg", b"a letter received, as received"),
        (f"sent/{mid}.double", record.encoded),
        (f"sent/{mid}.smsg", b"the double the record names"),
        (f"proofs/{mid}.{NURSE.fp}.receipt", RECEIPT.encoded),
    ]
    good = sync_bytes(entries, GP, "device-sync-valid")
    listed = ";".join(
        f"{n}:{hashlib.sha256(d).hexdigest()[:16]}" for n, d in entries if isinstance(d, bytes)
    )
    inputs = [("recipient-test-key", "vector-gp")]
    decoded = [("created", str(NOW)), ("fingerprint", GP.fp), ("since", str(NOW - DAY)),
               ("entries", listed)]  # fmt: skip

    def vector(name: str, expect: str, comment: str, body: bytes) -> Vector:
        return Vector(name, expect, "device-sync", comment, body, "base64", inputs,
                      decoded if expect == "success" else [])  # fmt: skip

    return [
        vector("device-sync-valid", "success",
               "the GP's sync file: a letter received, a double and its record, a receipt", good),
        vector("device-sync-other-recipient", "DeviceSyncInvalid",
               "the same entries encrypted to the nurse's key, not the GP's",
               sync_bytes(entries, NURSE, "device-sync-other")),
        vector("device-sync-bad-entry", "DeviceSyncInvalid", "an entry named in/../evil.smsg",
               sync_bytes([*entries, ("in/../evil.smsg", b"x")], GP, "device-sync-bad")),
        vector("device-sync-truncated", "DeviceSyncInvalid",
               "the last 20 bytes cut off (the last STREAM chunk)", good[:-20]),
    ]  # fmt: skip


def all_vectors() -> list[Vector]:
    vectors = [
        *card_vectors(),
        *consent_vectors(),
        *manifest_vectors(),
        *binding_vectors(),
        *envelope_vectors(),
        *proof_vectors(),
        *backup_vectors(),
        *key_vectors(),
        *double_vectors(),
        *sync_vectors(),
    ]
    names = [v.name for v in vectors]
    assert len(names) == len(set(names)), "vector names must be unique"
    return vectors


def write_all(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for v in all_vectors():
        path = out_dir / f"{v.name}{SUFFIX}"
        path.write_bytes(v.render())
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    paths = write_all(out_dir)
    for stale in sorted(out_dir.glob(f"*{SUFFIX}")):
        if stale not in paths:
            print(f"warning: {stale.name} is not generated any more", file=sys.stderr)
    print(f"{len(paths)} vectors written to {out_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
