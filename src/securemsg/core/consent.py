"""The patient's signed consent objects: grants, revocations, objections (R1, R3, R4).

Each is a COSE_Sign1 (core.cose profile) signed with the patient's own signing
key, whose protected header names the object type (labels.COSE_CONSENT_*), over
a canonical CBOR map. docs/format-consent.md is the normative description of
every field; :func:`securemsg.core.consent_check.check_consent` is the one
verification function that sender and recipient share.

Parsing is strict: unknown fields, missing fields, wrong types, a signer other
than the patient whose card is given, or a signature that does not verify are
all refused with :class:`ConsentRefused` (rules ``malformed``,
``signer_not_patient``, ``bad_signature``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import nacl.utils

from securemsg.core import labels
from securemsg.core.card import Card
from securemsg.core.consent_base import (
    DAY,
    DEFAULT_VALIDITY,
    DIGEST_BYTES,
    GRANT_ID_BYTES,
    KIND_GRANT,
    KIND_OBJECTION,
    KIND_REVOCATION,
    KINDS,
    MAX_RECIPIENTS,
    MAX_VALIDITY,
    VERSION,
    Recipient,
    Rng,
    check_fp_hex_,
    check_signer_,
    domains_,
    fields_,
    fp_from_cbor_,
    iso_time,
    peek,
    refuse_malformed_,
    short_fp,
    sign_,
    time_,
    verify_signed,
)
from securemsg.core.domains import ALL_DOMAINS, Domain, Purpose, sorted_domains
from securemsg.core.identity import Role, SecretIdentity
from securemsg.errors import ConsentRefused, FormatError, UsageError

__all__ = [
    "DEFAULT_VALIDITY",
    "KINDS",
    "ConsentObject",
    "Grant",
    "Objection",
    "Recipient",
    "Revocation",
    "iso_time",
    "parse_any",
    "peek",
    "short_fp",
]


# -- grant ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Grant:
    """A verified consent grant. Obtain one with :meth:`create` or :meth:`parse`."""

    id: bytes
    patient_fp: str
    patient_name: str
    patient_ins: str | None
    patient_birth_date: str | None
    sender_fp: str
    recipients: tuple[Recipient, ...]
    purpose: Purpose
    domains: frozenset[Domain]
    exclude: frozenset[Domain]
    issued_at: int
    not_after: int
    letter_digest: bytes | None
    encoded: bytes = field(repr=False)

    kind = KIND_GRANT

    @property
    def id_hex(self) -> str:
        return self.id.hex()

    def to_bytes(self) -> bytes:
        return self.encoded

    def __bytes__(self) -> bytes:
        return self.encoded

    @classmethod
    def create(
        cls,
        secret: SecretIdentity,
        patient_card: Card,
        *,
        sender_fp: str,
        recipients: Iterable[Recipient],
        purpose: Purpose,
        now: int,
        domains: Iterable[Domain] | None = None,
        exclude: Iterable[Domain] = (),
        valid_for: int = DEFAULT_VALIDITY,
        letter_digest: bytes | None = None,
        rng: Rng = nacl.utils.random,
    ) -> Grant:
        """Sign a grant. ``domains`` None means all domains not excluded."""
        check_signer_(secret, patient_card)
        check_fp_hex_(sender_fp, "sender fingerprint")
        if sender_fp == patient_card.fingerprint:
            raise UsageError("the sender of a letter is a practitioner, not the patient")
        excl = frozenset(exclude)
        doms = ALL_DOMAINS - excl if domains is None else frozenset(domains)
        if doms & excl:
            both = ", ".join(sorted_domains(doms & excl))
            raise UsageError(f"a domain cannot be both allowed and excluded: {both}")
        if not doms:
            raise UsageError("the grant allows no care domain", hint="name one with --domain")
        tos = sorted(set(recipients), key=Recipient.sort_key)
        if not tos or len(tos) > MAX_RECIPIENTS:
            raise UsageError(f"a grant names 1 to {MAX_RECIPIENTS} recipients")
        if not 0 < valid_for <= MAX_VALIDITY:
            raise UsageError(f"a grant is valid for 1 second to {MAX_VALIDITY // DAY} days")
        if letter_digest is not None and len(letter_digest) != DIGEST_BYTES:
            raise UsageError("a letter digest is 32 bytes")
        profile = patient_card.profile
        patient: dict[str, Any] = {
            "fp": bytes.fromhex(patient_card.fingerprint),
            "name": profile.name,
        }
        if profile.ins is not None:
            patient["ins"] = profile.ins
        if profile.birth_date is not None:
            patient["birth_date"] = profile.birth_date
        payload: dict[str, Any] = {
            "v": VERSION,
            "id": rng(GRANT_ID_BYTES),
            "patient": patient,
            "from": bytes.fromhex(sender_fp),
            "to": [r.to_cbor() for r in tos],
            "purpose": purpose.value,
            "domains": [d.value for d in sorted_domains(doms)],
            "exclude": [d.value for d in sorted_domains(excl)],
            "issued_at": now,
            "not_after": now + valid_for,
        }
        if letter_digest is not None:
            payload["letter"] = letter_digest
        return cls.parse(
            sign_(secret, patient_card, labels.COSE_CONSENT_GRANT, payload), patient_card
        )

    @classmethod
    def parse(cls, data: bytes, patient_card: Card) -> Grant:
        """Verify type, signer and signature, then the payload, strictly."""
        what = "consent grant"
        p = verify_signed(data, patient_card, labels.COSE_CONSENT_GRANT, what)
        try:
            return cls._from_payload(p, data, patient_card, what)
        except (FormatError, UsageError) as exc:
            raise refuse_malformed_(exc) from exc

    @classmethod
    def _from_payload(cls, p: Any, data: bytes, card: Card, what: str) -> Grant:
        required = {"id", "patient", "from", "to", "purpose", "domains", "exclude"}
        p = fields_(p, required | {"issued_at", "not_after"}, {"letter"}, what)
        gid = p["id"]
        if not isinstance(gid, bytes) or len(gid) != GRANT_ID_BYTES:
            raise FormatError(f"{what}: id must be {GRANT_ID_BYTES} bytes")
        pat = fields_(p["patient"], {"fp", "name"}, {"ins", "birth_date"}, f"{what} patient", False)
        patient_fp = fp_from_cbor_(pat["fp"], f"{what} patient")
        if patient_fp != card.fingerprint:
            raise ConsentRefused(
                f"{what}: names patient key {short_fp(patient_fp)} but is signed by "
                f"{card.name} ({short_fp(card.fingerprint)})",
                rule="signer_not_patient",
                party=card.fingerprint,
            )
        for key in ("name", "ins", "birth_date"):
            if key in pat and not isinstance(pat[key], str):
                raise FormatError(f"{what}: patient {key} must be text")
        if (pat["name"], pat.get("ins"), pat.get("birth_date")) != (
            card.profile.name,
            card.profile.ins,
            card.profile.birth_date,
        ):
            raise FormatError(f"{what}: patient identifiers differ from the patient's card")
        sender = fp_from_cbor_(p["from"], f"{what} from")
        to = p["to"]
        if not isinstance(to, list) or not 0 < len(to) <= MAX_RECIPIENTS:
            raise FormatError(f"{what}: to must list 1 to {MAX_RECIPIENTS} recipients")
        recipients = tuple(Recipient.from_cbor(r, f"{what} to") for r in to)
        if list(recipients) != sorted(set(recipients), key=Recipient.sort_key):
            raise FormatError(f"{what}: recipients must be distinct and sorted")
        if not isinstance(p["purpose"], str):
            raise FormatError(f"{what}: purpose must be text")
        try:
            purpose = Purpose(p["purpose"])
        except ValueError as exc:
            raise FormatError(f"{what}: unknown purpose {p['purpose'][:40]!r}") from exc
        domains = domains_(p["domains"], f"{what} domains")
        exclude = domains_(p["exclude"], f"{what} exclude")
        if not domains or domains & exclude:
            raise FormatError(f"{what}: domains must be non-empty and disjoint from exclude")
        issued, not_after = time_(p["issued_at"], what), time_(p["not_after"], what)
        if not 0 < not_after - issued <= MAX_VALIDITY:
            raise FormatError(f"{what}: not_after must follow issued_at by at most 3 years")
        letter = p.get("letter")
        if "letter" in p and (not isinstance(letter, bytes) or len(letter) != DIGEST_BYTES):
            raise FormatError(f"{what}: letter must be a {DIGEST_BYTES}-byte digest")
        if sender == patient_fp:
            raise FormatError(f"{what}: the sender cannot be the patient")
        return cls(
            id=gid,
            patient_fp=patient_fp,
            patient_name=pat["name"],
            patient_ins=pat.get("ins"),
            patient_birth_date=pat.get("birth_date"),
            sender_fp=sender,
            recipients=recipients,
            purpose=purpose,
            domains=domains,
            exclude=exclude,
            issued_at=issued,
            not_after=not_after,
            letter_digest=letter,
            encoded=data,
        )


# -- revocation -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Revocation:
    """The patient withdraws one grant, by id, from ``date`` on."""

    patient_fp: str
    grant_id: bytes
    date: int
    encoded: bytes = field(repr=False)

    kind = KIND_REVOCATION

    def to_bytes(self) -> bytes:
        return self.encoded

    def __bytes__(self) -> bytes:
        return self.encoded

    @classmethod
    def create(
        cls, secret: SecretIdentity, patient_card: Card, grant: Grant, now: int
    ) -> Revocation:
        check_signer_(secret, patient_card)
        if grant.patient_fp != patient_card.fingerprint:
            raise ConsentRefused(
                "this grant was signed by another patient; only they can revoke it",
                rule="signer_not_patient",
                party=grant.patient_fp,
            )
        payload = {
            "v": VERSION,
            "patient": bytes.fromhex(patient_card.fingerprint),
            "grant": grant.id,
            "date": now,
        }
        data = sign_(secret, patient_card, labels.COSE_CONSENT_REVOCATION, payload)
        return cls.parse(data, patient_card)

    @classmethod
    def parse(cls, data: bytes, patient_card: Card) -> Revocation:
        what = "consent revocation"
        p = verify_signed(data, patient_card, labels.COSE_CONSENT_REVOCATION, what)
        try:
            p = fields_(p, {"patient", "grant", "date"}, set(), what)
            patient_fp = fp_from_cbor_(p["patient"], what)
            gid = p["grant"]
            if not isinstance(gid, bytes) or len(gid) != GRANT_ID_BYTES:
                raise FormatError(f"{what}: grant must be a {GRANT_ID_BYTES}-byte grant id")
            date = time_(p["date"], what)
        except FormatError as exc:
            raise refuse_malformed_(exc) from exc
        if patient_fp != patient_card.fingerprint:
            raise ConsentRefused(
                f"{what}: names another patient than its signer",
                rule="signer_not_patient",
                party=patient_card.fingerprint,
            )
        return cls(patient_fp, gid, date, data)


# -- objection -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Objection:
    """The patient refuses to have ``target`` informed (R3, R8), from ``date`` on."""

    patient_fp: str
    target: Recipient
    date: int
    encoded: bytes = field(repr=False)

    kind = KIND_OBJECTION

    def to_bytes(self) -> bytes:
        return self.encoded

    def __bytes__(self) -> bytes:
        return self.encoded

    def applies_to(self, fp: str, role: Role) -> bool:
        return self.target.matches(fp, role)

    @classmethod
    def create(
        cls, secret: SecretIdentity, patient_card: Card, target: Recipient, now: int
    ) -> Objection:
        check_signer_(secret, patient_card)
        if target.fp == patient_card.fingerprint:
            raise UsageError("a patient cannot object to themselves")
        payload = {
            "v": VERSION,
            "patient": bytes.fromhex(patient_card.fingerprint),
            "to": target.to_cbor(),
            "date": now,
        }
        data = sign_(secret, patient_card, labels.COSE_CONSENT_OBJECTION, payload)
        return cls.parse(data, patient_card)

    @classmethod
    def parse(cls, data: bytes, patient_card: Card) -> Objection:
        what = "consent objection"
        p = verify_signed(data, patient_card, labels.COSE_CONSENT_OBJECTION, what)
        try:
            p = fields_(p, {"patient", "to", "date"}, set(), what)
            patient_fp = fp_from_cbor_(p["patient"], what)
            target = Recipient.from_cbor(p["to"], what)
            date = time_(p["date"], what)
        except (FormatError, UsageError) as exc:
            raise refuse_malformed_(exc) from exc
        if patient_fp != patient_card.fingerprint:
            raise ConsentRefused(
                f"{what}: names another patient than its signer",
                rule="signer_not_patient",
                party=patient_card.fingerprint,
            )
        return cls(patient_fp, target, date, data)


ConsentObject = Grant | Revocation | Objection


def parse_any(data: bytes, patient_card: Card) -> ConsentObject:
    """Parse whichever of the three objects ``data`` is, verified."""
    kind, _ = peek(data)
    if kind == KIND_GRANT:
        return Grant.parse(data, patient_card)
    if kind == KIND_REVOCATION:
        return Revocation.parse(data, patient_card)
    return Objection.parse(data, patient_card)
