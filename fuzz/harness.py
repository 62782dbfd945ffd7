"""One entry point per parser, shared by the atheris targets (fuzz/fuzz_*.py) and the
hypothesis property tests (tests/hostile/test_parser_properties.py).

Each target takes arbitrary bytes and runs one parser of securemsg on them. The
only exception allowed to escape is ``SecureMsgError`` (``run`` swallows it);
anything else is a bug. The ``signed_*`` targets sign the fuzzed bytes as the
payload with the right key and object type first, so the payload parsers behind
the signature check are reached too (a forger cannot do that, the key holder can).
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from securemsg.core import age, cbor, cose, labels
from securemsg.core.age.hazmat.armor import ArmorReader
from securemsg.core.age.hazmat.file import read_header
from securemsg.core.card import Card
from securemsg.core.consent import verify_any
from securemsg.core.domains import Domain, Purpose
from securemsg.core.fingerprint import fingerprint
from securemsg.core.identity import Profile, Role, SecretIdentity
from securemsg.core.keyfile import KeyFile
from securemsg.core.letter.container import MANIFEST, EnvelopeReader
from securemsg.core.letter.draft import Draft, DraftAttachment, review
from securemsg.core.letter.manifest import Manifest
from securemsg.core.letter.proofs import Binding, Receipt, Refusal
from securemsg.core.letter.source import parse_letter
from securemsg.core.log import LogEntry
from securemsg.core.testkeys import derive_test_identity, parse_test_key
from securemsg.errors import SecureMsgError

NOW = 1_800_000_000
DOCTOR = derive_test_identity("fuzz/doctor")
PATIENT = derive_test_identity("fuzz/patient")
DOCTOR_CARD = Card.sign(DOCTOR, Profile("Dr Fuzz", Role.GP), NOW, test_key=True)
PATIENT_CARD = Card.sign(
    PATIENT, Profile("Pat Fuzz", Role.PATIENT, birth_date="1950-01-01"), NOW, test_key=True
)
AGE_IDENTITY = age.X25519Identity.from_bytes(DOCTOR.enc_secret)
CONSENT_TYPES = (
    labels.COSE_CONSENT_GRANT,
    labels.COSE_CONSENT_REVOCATION,
    labels.COSE_CONSENT_OBJECTION,
)


def _sign(secret: SecretIdentity, otype: str, payload: bytes) -> bytes:
    return cose.sign(secret.signing_key, otype, fingerprint(secret.sign_public), payload)


def _chunks(data: bytes) -> list[bytes]:
    """Split ``data`` into chunks whose sizes come from its first byte."""
    step = (data[0] % 17) + 1 if data else 1
    return [data[i : i + step] for i in range(0, len(data), step)]


def _envelope_reader(data: bytes) -> None:
    r = EnvelopeReader(iter(_chunks(data)))
    r.small(MANIFEST, "manifest")
    r.optional(2, "binding")
    r.optional(3, "consent")
    r.optional(4, "patient card")
    for _ in range(64):
        head = r.next_item()
        if head is None:
            return
        for _piece in r.body(min(head.size, 1 << 20)):
            pass


def _draft(data: bytes) -> None:
    review(Draft.parse(data))


def _draft_seed() -> bytes:
    return Draft(
        message_id=bytes(16),
        kind=Purpose.REFERRAL,
        author=DOCTOR_CARD,
        patient=PATIENT_CARD,
        recipients=((PATIENT_CARD, frozenset({Domain.MEDICAL, Domain.NURSING})),),
        default_subject="fuzz",
        source=b"hello\n\n## Care {nursing}\ntext\n",
        attachments=(DraftAttachment("scan.pdf", Domain.MEDICAL, b"%PDF"),),
        salts=(bytes(16), bytes(range(16)), bytes(range(1, 17))),
    ).to_bytes()


def _age_decrypt(data: bytes) -> None:
    age.decrypt([AGE_IDENTITY], io.BytesIO(data), io.BytesIO())


def _manifest_payload(data: bytes) -> None:
    Manifest.from_payload(cbor.loads(data, "manifest"), b"")


def _binding(data: bytes) -> None:
    Binding.verify(data, DOCTOR_CARD).check(b"manifest", b"header", DOCTOR_CARD.fingerprint)


def _signed_consent(data: bytes) -> None:
    otype = CONSENT_TYPES[data[0] % 3] if data else CONSENT_TYPES[0]
    verify_any(_sign(PATIENT, otype, data[1:]), PATIENT_CARD)


TARGETS: dict[str, Callable[[bytes], object]] = {
    "card_bytes": lambda d: Card.parse(d),
    "card_text": lambda d: Card.parse(d.decode("utf-8", "replace")),
    "cose": lambda d: cose.parse(d),
    "cbor": lambda d: cbor.loads(d, "fuzz"),
    "consent": lambda d: verify_any(d, PATIENT_CARD),
    "manifest": lambda d: Manifest.verify(d, DOCTOR_CARD),
    "manifest_payload": _manifest_payload,
    "envelope_reader": _envelope_reader,
    "receipt": lambda d: Receipt.verify(d, DOCTOR_CARD),
    "refusal": lambda d: Refusal.verify(d, DOCTOR_CARD),
    "binding": _binding,
    "log_entry": lambda d: LogEntry.verify(d, DOCTOR_CARD),
    "age_header": lambda d: read_header(io.BytesIO(d)),
    "age_decrypt": _age_decrypt,
    "armor": lambda d: ArmorReader(io.BytesIO(d)).read(),
    "keyfile": lambda d: KeyFile.parse(d),
    "letter_source": lambda d: parse_letter(d, "fuzz"),
    "draft": _draft,
    "test_key": lambda d: parse_test_key(d.decode("utf-8", "replace")),
    # behind the signature: the fuzzed bytes are the signed payload
    "signed_card": lambda d: Card.verify(_sign(DOCTOR, labels.COSE_CARD, d)),
    "signed_consent": _signed_consent,
    "signed_manifest": lambda d: Manifest.verify(
        _sign(DOCTOR, labels.COSE_LETTER_MANIFEST, d), DOCTOR_CARD
    ),
    "signed_receipt": lambda d: Receipt.verify(_sign(DOCTOR, labels.COSE_RECEIPT, d), DOCTOR_CARD),
    "signed_refusal": lambda d: Refusal.verify(_sign(DOCTOR, labels.COSE_REFUSAL, d), DOCTOR_CARD),
    "signed_log_entry": lambda d: LogEntry.verify(
        _sign(DOCTOR, labels.COSE_LOG_ENTRY, d), DOCTOR_CARD
    ),
    "signed_binding": lambda d: _binding(_sign(DOCTOR, labels.COSE_ENVELOPE_BINDING, d)),
}


def run(name: str, data: bytes) -> None:
    """Run one target; a SecureMsgError is a clean refusal, anything else escapes."""
    with contextlib.suppress(SecureMsgError):
        TARGETS[name](data)


def seeds(name: str) -> list[bytes]:
    """Valid inputs to start from (the fuzzers mutate them)."""
    card, pcard = DOCTOR_CARD.encoded, PATIENT_CARD.encoded
    receipt = Receipt.sign(
        DOCTOR, bytes(16), card, bytes(32), DOCTOR_CARD.fingerprint, NOW, 0, bytes(32)
    )
    payload = cbor.loads(cose.parse(receipt.encoded).payload, "receipt")
    out = {
        "card_bytes": [card],
        "card_text": [DOCTOR_CARD.to_text().encode()],
        "cose": [card, receipt.encoded],
        "cbor": [cose.parse(card).payload, cbor.dumps(payload)],
        "receipt": [receipt.encoded],
        "signed_receipt": [cbor.dumps(payload)],
        "signed_card": [cose.parse(card).payload],
        "consent": [pcard],
        "letter_source": [b"---\nsubject: s\n---\nhello\n\n## A {nursing}\ntext\n"],
        "draft": [_draft_seed()],
        "armor": [b"-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n"],
        # an scrypt stanza alone (no match), and beside an X25519 one (a header failure)
        "age_header": [
            b"age-encryption.org/v1\n-> scrypt AAAAAAAAAAAAAAAAAAAAAA 10\n"
            + b"A" * 43
            + b"\n--- "
            + b"A" * 43
            + b"\n",
            b"age-encryption.org/v1\n-> X25519 "
            + b"A" * 43
            + b"\n"
            + b"A" * 43
            + b"\n-> scrypt AAAAAAAAAAAAAAAAAAAAAA 10\n"
            + b"A" * 43
            + b"\n--- "
            + b"A" * 43
            + b"\n",
        ],
    }
    return out.get(name, [b""])
