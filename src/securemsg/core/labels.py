"""Every domain-separation label securemsg uses, in one table.

docs/format.md lists the same table; tests check the two agree and that no
label is used twice.
"""

from __future__ import annotations

from typing import Final

# Hash / KDF labels (bytes fed into SHA-2 or HKDF "info").
FINGERPRINT: Final = b"securemsg/fingerprint/v1"
SAFETY_NUMBER: Final = b"securemsg/safety-number/v1"
STORAGE_KEY: Final = b"securemsg/storage-key/v1"
BLIND_INDEX_KEY: Final = b"securemsg/blind-index-key/v1"
SECTION_DIGEST: Final = b"securemsg/section-digest/v1"
ATTACHMENT_DIGEST: Final = b"securemsg/attachment-digest/v1"
LETTER_DIGEST: Final = b"securemsg/letter-digest/v1"
OBJECT_DIGEST: Final = b"securemsg/object-digest/v1"
LOG_CHAIN: Final = b"securemsg/log-chain/v1"
ENVELOPE_HEADER: Final = b"securemsg/envelope-header/v1"
ENVELOPE_FILE: Final = b"securemsg/envelope-file/v1"
LETTER_COMMITMENT: Final = b"securemsg/letter-commitment/v1"

# COSE_Sign1 object types: the content type (label 3) of the protected header.
# A signature made for one type never verifies as another.
COSE_CARD: Final = "application/vnd.securemsg.card.v1+cbor"
COSE_CONSENT_GRANT: Final = "application/vnd.securemsg.consent-grant.v1+cbor"
COSE_CONSENT_REVOCATION: Final = "application/vnd.securemsg.consent-revocation.v1+cbor"
COSE_CONSENT_OBJECTION: Final = "application/vnd.securemsg.consent-objection.v1+cbor"
COSE_LETTER_MANIFEST: Final = "application/vnd.securemsg.letter-manifest.v1+cbor"
COSE_ENVELOPE_BINDING: Final = "application/vnd.securemsg.envelope-binding.v1+cbor"
COSE_RECEIPT: Final = "application/vnd.securemsg.receipt.v1+cbor"
COSE_REFUSAL: Final = "application/vnd.securemsg.refusal.v1+cbor"
COSE_LOG_ENTRY: Final = "application/vnd.securemsg.log-entry.v1+cbor"
COSE_LOG_CHECKPOINT: Final = "application/vnd.securemsg.log-checkpoint.v1+cbor"
COSE_KEY_SUCCESSION: Final = "application/vnd.securemsg.key-succession.v1+cbor"
COSE_KEY_ACCEPTANCE: Final = "application/vnd.securemsg.key-acceptance.v1+cbor"
COSE_KEY_REVOCATION: Final = "application/vnd.securemsg.key-revocation.v1+cbor"
COSE_DOUBLE_RECORD: Final = "application/vnd.securemsg.double-record.v1+cbor"

HASH_LABELS: Final = (
    FINGERPRINT,
    SAFETY_NUMBER,
    STORAGE_KEY,
    BLIND_INDEX_KEY,
    SECTION_DIGEST,
    ATTACHMENT_DIGEST,
    LETTER_DIGEST,
    OBJECT_DIGEST,
    LOG_CHAIN,
    ENVELOPE_HEADER,
    ENVELOPE_FILE,
    LETTER_COMMITMENT,
)
COSE_TYPES: Final = (
    COSE_CARD,
    COSE_CONSENT_GRANT,
    COSE_CONSENT_REVOCATION,
    COSE_CONSENT_OBJECTION,
    COSE_LETTER_MANIFEST,
    COSE_ENVELOPE_BINDING,
    COSE_RECEIPT,
    COSE_REFUSAL,
    COSE_LOG_ENTRY,
    COSE_LOG_CHECKPOINT,
    COSE_KEY_SUCCESSION,
    COSE_KEY_ACCEPTANCE,
    COSE_KEY_REVOCATION,
    COSE_DOUBLE_RECORD,
)
