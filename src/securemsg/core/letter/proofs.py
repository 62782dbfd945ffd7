"""Signed statements about one envelope: binding, receipt, refusal notice.

- Envelope binding (author): this manifest was sent in THIS age header to THIS
  recipient. A recipient who re-encrypts the letter to a third party produces
  a new header, so the binding no longer verifies (surreptitious forwarding).
- Receipt (recipient's mailbox): I accepted exactly this envelope.
- Refusal notice (recipient's mailbox): I refused this envelope, by this rule.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from securemsg.core import cbor, cose, labels
from securemsg.core.card import Card
from securemsg.core.digests import object_digest
from securemsg.core.fingerprint import FINGERPRINT_BYTES
from securemsg.core.identity import SecretIdentity
from securemsg.core.letter.manifest import ID_BYTES
from securemsg.errors import FormatError, VerificationError

VERSION = 1


def header_digest(header_bytes: bytes) -> bytes:
    return hashlib.sha256(labels.ENVELOPE_HEADER + b"\x00" + header_bytes).digest()


class EnvelopeHasher:
    """Digest of a whole envelope file, fed as it streams."""

    def __init__(self) -> None:
        self._h = hashlib.sha256(labels.ENVELOPE_FILE + b"\x00")

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._h.update(data)

    def digest(self) -> bytes:
        return self._h.digest()


def _sign(secret: SecretIdentity, otype: str, payload: dict[str, Any]) -> bytes:
    from securemsg.core.fingerprint import fingerprint

    kid = fingerprint(secret.sign_public)
    return cose.sign(secret.signing_key, otype, kid, cbor.dumps(payload))


def _open(encoded: bytes, otype: str, signer: Card, what: str, fields: set[str]) -> dict[str, Any]:
    obj = cose.parse(encoded, what)
    cose.check_type(obj, otype, what)
    if obj.kid.hex() != signer.fingerprint:
        raise VerificationError(f"{what}: signed by another key than {signer.name}'s")
    payload = cbor.loads(cose.verify(obj, otype, signer.verify_key(), what), what)
    if not isinstance(payload, dict) or payload.get("v") != VERSION or set(payload) != fields:
        raise FormatError(f"{what}: unsupported version or fields")
    return payload


def _check_bytes(value: Any, size: int, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != size:
        raise FormatError(f"{what} must be {size} bytes")
    return value


# -- binding -----------------------------------------------------------------
BINDING_FIELDS = {"v", "manifest", "header", "recipient"}


def sign_binding(
    author: SecretIdentity, manifest: bytes, header_bytes: bytes, recipient_fp: str
) -> bytes:
    return _sign(
        author,
        labels.COSE_ENVELOPE_BINDING,
        {
            "v": VERSION,
            "manifest": object_digest(manifest),
            "header": header_digest(header_bytes),
            "recipient": bytes.fromhex(recipient_fp),
        },
    )


def verify_binding(
    encoded: bytes, author: Card, manifest: bytes, header_bytes: bytes, my_fp: str
) -> None:
    p = _open(encoded, labels.COSE_ENVELOPE_BINDING, author, "envelope binding", BINDING_FIELDS)
    if p["manifest"] != object_digest(manifest):
        raise VerificationError("envelope binding: it binds another letter manifest")
    if p["recipient"] != bytes.fromhex(my_fp):
        raise VerificationError(
            "this letter was addressed by its author to someone else and re-encrypted to you",
            hint="whoever forwarded it is not its author; do not trust it as sent to you",
        )
    if p["header"] != header_digest(header_bytes):
        raise VerificationError(
            "the envelope was re-encrypted or its recipients changed after the author signed it",
            hint="ask the author to send it to you directly",
        )


# -- receipt -----------------------------------------------------------------
RECEIPT_FIELDS = {"v", "id", "manifest", "envelope", "recipient", "time", "log_seq", "log_head"}


@dataclass(frozen=True, slots=True)
class Receipt:
    message_id: bytes
    manifest_digest: bytes
    envelope_digest: bytes
    recipient: str
    time: int
    log_seq: int
    log_head: bytes
    encoded: bytes

    @classmethod
    def create(
        cls,
        secret: SecretIdentity,
        message_id: bytes,
        manifest: bytes,
        envelope_digest: bytes,
        recipient_fp: str,
        now: int,
        log_seq: int,
        log_head: bytes,
    ) -> Receipt:
        encoded = _sign(
            secret,
            labels.COSE_RECEIPT,
            {
                "v": VERSION,
                "id": message_id,
                "manifest": object_digest(manifest),
                "envelope": envelope_digest,
                "recipient": bytes.fromhex(recipient_fp),
                "time": now,
                "log_seq": log_seq,
                "log_head": log_head,
            },
        )
        return cls(
            message_id,
            object_digest(manifest),
            envelope_digest,
            recipient_fp,
            now,
            log_seq,
            log_head,
            encoded,
        )

    @classmethod
    def verify(cls, encoded: bytes, recipient: Card) -> Receipt:
        p = _open(encoded, labels.COSE_RECEIPT, recipient, "receipt", RECEIPT_FIELDS)
        if p["recipient"] != bytes.fromhex(recipient.fingerprint):
            raise FormatError("receipt: the recipient field does not match the signer")
        if type(p["time"]) is not int or type(p["log_seq"]) is not int:
            raise FormatError("receipt: bad time or log position")
        return cls(
            _check_bytes(p["id"], ID_BYTES, "receipt id"),
            _check_bytes(p["manifest"], 32, "receipt manifest digest"),
            _check_bytes(p["envelope"], 32, "receipt envelope digest"),
            recipient.fingerprint,
            p["time"],
            p["log_seq"],
            _check_bytes(p["log_head"], 32, "receipt log head"),
            encoded,
        )


def peek_signer(encoded: bytes, what: str) -> tuple[str, str]:
    """(object type, signer fingerprint) of a signed object, before verifying it."""
    obj = cose.parse(encoded, what)
    if len(obj.kid) != FINGERPRINT_BYTES:
        raise FormatError(f"{what}: bad key id")
    return obj.object_type, obj.kid.hex()


# -- refusal notice ----------------------------------------------------------
REFUSAL_FIELDS = {"v", "id", "envelope", "recipient", "time", "rule", "reason"}


@dataclass(frozen=True, slots=True)
class Refusal:
    message_id: bytes
    envelope_digest: bytes
    recipient: str
    time: int
    rule: str
    reason: str
    encoded: bytes

    @classmethod
    def create(
        cls,
        secret: SecretIdentity,
        message_id: bytes,
        envelope_digest: bytes,
        recipient_fp: str,
        now: int,
        rule: str,
        reason: str,
    ) -> Refusal:
        encoded = _sign(
            secret,
            labels.COSE_REFUSAL,
            {
                "v": VERSION,
                "id": message_id,
                "envelope": envelope_digest,
                "recipient": bytes.fromhex(recipient_fp),
                "time": now,
                "rule": rule[:80],
                "reason": reason[:500],
            },
        )
        return cls(message_id, envelope_digest, recipient_fp, now, rule[:80], reason[:500], encoded)

    @classmethod
    def verify(cls, encoded: bytes, recipient: Card) -> Refusal:
        p = _open(encoded, labels.COSE_REFUSAL, recipient, "refusal notice", REFUSAL_FIELDS)
        if not isinstance(p["rule"], str) or not isinstance(p["reason"], str):
            raise FormatError("refusal notice: bad rule")
        if p["recipient"] != bytes.fromhex(recipient.fingerprint):
            raise FormatError("refusal notice: the recipient field does not match the signer")
        if type(p["time"]) is not int:
            raise FormatError("refusal notice: bad time")
        return cls(
            _check_bytes(p["id"], ID_BYTES, "refusal id"),
            _check_bytes(p["envelope"], 32, "refusal envelope digest"),
            recipient.fingerprint,
            p["time"],
            p["rule"][:80],
            p["reason"][:500],
            encoded,
        )
