"""Receiving a letter: verify everything, then commit it once, with a receipt.

Order (docs/format.md §Receiving): age header addressed to me; author is an
active, current contact; manifest signature; envelope binding (this header,
this recipient); my place among the recipients; consent rules against the
revocations and objections known here; then every item against its digest,
streamed and discarded. Only then: the envelope file is moved into the
mailbox and one transaction stores the row, a log entry and the receipt.
Any refusal leaves the mailbox exactly as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from securemsg.core.card import Card
from securemsg.core.consent import Basis, Disclosure, LetterFacts, check_consent
from securemsg.core.digests import object_digest
from securemsg.core.letter.manifest import Manifest
from securemsg.core.letter.opening import Opening
from securemsg.core.letter.proofs import EnvelopeHasher, Receipt, Refusal
from securemsg.errors import ConsentRefused, FormatError, SecureMsgError, VerificationError
from securemsg.store.consents import ConsentStore
from securemsg.store.contacts import Contacts
from securemsg.store.mailbox import LetterRow, Mailbox
from securemsg.store.pipeline import TeeAhead

MAX_ENVELOPE = 1 << 40


class UnknownSender(VerificationError):
    code = "unknown_sender"


class Replayed(VerificationError):
    code = "replayed"


class TeeReader:
    """Reads ``src``, copying every byte to ``sink`` and into a digest."""

    def __init__(self, src: BinaryIO, sink: BinaryIO) -> None:
        self.src, self.sink, self.hasher, self.size = src, sink, EnvelopeHasher(), 0

    def _seen(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > MAX_ENVELOPE:
            raise FormatError("the letter file is absurdly large")
        self.sink.write(data)
        self.hasher.update(data)
        return data

    def read(self, size: int = -1, /) -> bytes:
        return self._seen(self.src.read(size))

    def readline(self, size: int = -1, /) -> bytes:
        return self._seen(self.src.readline(size))

    def drain(self) -> None:
        while self.read(1 << 16):
            pass


def _too_large() -> FormatError:
    return FormatError("the letter file is absurdly large")


@dataclass(frozen=True, slots=True)
class Accepted:
    manifest: Manifest
    author: Card
    receipt: Receipt
    duplicate: bool
    domains: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Refused:
    error: SecureMsgError
    notice: Refusal | None
    author_fp: str | None


def facts_of(m: Manifest) -> LetterFacts:
    return LetterFacts(
        sender_fp=m.author,
        patient_fp=m.patient_fp,
        purpose=m.kind,
        disclosures=tuple(Disclosure(r.fp, r.role, r.domains) for r in m.recipients),
        letter_digest=m.letter_digest,
        date=m.date,
        basis=Basis(m.basis),
        patient_identifiers_present=bool(m.patient_ids) or m.patient_fp is not None,
    )


def resolve_patient(box: Mailbox, m: Manifest, carried: bytes | None) -> Card | None:
    """The patient's card: mine, a contact's, or the one the author carried."""
    if m.patient_fp is None:
        return None
    if m.patient_fp == box.card.fingerprint:
        return box.card
    contact = Contacts(box.home).get(m.patient_fp)
    if contact is not None:
        if contact.state != "active":
            raise ConsentRefused(
                "the patient's key named in this letter was replaced",
                rule="patient_key_replaced",
                party=m.patient_fp,
            )
        return contact.card
    if carried is None:
        return None
    card = Card.verify(carried)
    if card.fingerprint != m.patient_fp:
        raise VerificationError("the patient card in the letter is not the patient's it names")
    return card


def check_basis(
    box: Mailbox, m: Manifest, consent: bytes | None, carried: bytes | None, now: int
) -> None:
    if m.basis == "consent":
        if consent is None or m.consent_digest != object_digest(consent):
            raise ConsentRefused(
                "the consent in the letter is not the one its author signed for",
                rule="bad_signature",
            )
    elif consent is not None:
        raise VerificationError("a letter on the emergency or pseudonymous basis carries a consent")
    patient = resolve_patient(box, m, carried)
    store = ConsentStore(box.home)
    revs = store.revocations_for(m.patient_fp) if m.patient_fp else []
    objs = store.objections_for(m.patient_fp) if m.patient_fp else []
    check_consent(facts_of(m), patient, consent, revs, objs, now)


def author_card(box: Mailbox, author_fp: str, now: int) -> Card:
    if author_fp == box.card.fingerprint:
        return box.card
    contact = Contacts(box.home).get(author_fp)
    if contact is None:
        raise UnknownSender(
            f"the letter's author (key {author_fp[:16]}) is not one of your contacts",
            hint="ask the author for their card, check it with them, then: "
            "securemsg contacts add FILE",
        )
    if contact.state != "active":
        raise VerificationError(
            f"the letter is signed with a key of {contact.name} that was replaced on your side",
            hint="it may be an old or stolen key; ask them to send it again",
        )
    contact.card.check_current(now)
    return contact.card


def receive(box: Mailbox, src: BinaryIO, now: int) -> Accepted:
    """Verify ``src`` completely, then commit. Raises on any refusal."""
    folder = "in"
    fd, tmp = tempfile.mkstemp(prefix=".recv-", suffix=".tmp", dir=box.temp_dir(folder))
    try:
        with os.fdopen(fd, "wb") as sink:
            # The file is read, copied and hashed on a worker thread while this
            # one decrypts and checks the digests (store/pipeline.py).
            tee = TeeAhead(src, sink, EnvelopeHasher(), MAX_ENVELOPE, _too_large)
            try:
                env = Opening(tee, box.secret, box.card.fingerprint)  # type: ignore[arg-type]
                author = author_card(box, env.author_fp, now)
                manifest = env.verify(author)
                consent, carried = env.basis_records()
                check_basis(box, manifest, consent, carried, now)
                for _head, _item, chunks in env.items():
                    for _ in chunks:  # digests are checked as it streams; nothing is kept
                        pass
                env.finish()
                tee.drain()
            finally:
                tee.close()
            sink.flush()
            os.fsync(sink.fileno())
        digest = tee.hasher.digest()  # type: ignore[attr-defined]
        entry = manifest.entry_for(box.card.fingerprint)
        domains = tuple(sorted(d.value for d in entry.domains)) if entry else ()
        return _commit(box, manifest, author, Path(tmp), digest, domains, now)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _commit(
    box: Mailbox,
    m: Manifest,
    author: Card,
    tmp: Path,
    digest: bytes,
    domains: tuple[str, ...],
    now: int,
) -> Accepted:
    final = box.letter_path("in", m.id_hex)
    with box.transaction():
        existing = box.get(m.id_hex, "in")
        if existing is not None:
            if existing.envelope_digest != digest or existing.receipt is None:
                raise Replayed(
                    f"letter {m.id_hex} was already received with different content",
                    hint="a replayed or altered copy; the first one is kept",
                )
            return Accepted(m, author, Receipt.verify(existing.receipt, box.card), True, domains)
        os.replace(tmp, final)
        entry = box.append_log(now, "accept", m.message_id, m.author, digest)
        receipt = Receipt.sign(
            box.secret,
            m.message_id,
            m.encoded,
            digest,
            box.card.fingerprint,
            now,
            entry.seq,
            entry.hash,
        )
        path = str(final.relative_to(box.home.path))
        row = LetterRow.of(m, "in", now, digest, path, author.name, domains, receipt.encoded)
        box.insert_letter(row, m.patient_fp)
    return Accepted(m, author, receipt, False, domains)


def refusal_notice(box: Mailbox, src_path: Path, error: SecureMsgError, now: int) -> Refused:
    """After a refusal: a signed notice for the author, if we know who it is."""
    author_fp, message_id = None, bytes(16)
    try:
        with src_path.open("rb") as fh:
            env = Opening(fh, box.secret, box.card.fingerprint)
            author_fp = env.author_fp
            message_id = bytes.fromhex(_peek_id(env))
    except SecureMsgError:
        pass
    if author_fp is None or Contacts(box.home).get(author_fp) is None:
        return Refused(error, None, author_fp)
    hasher = EnvelopeHasher()
    with src_path.open("rb") as fh:
        while data := fh.read(1 << 16):
            hasher.update(data)
    rule = getattr(error, "rule", None) or error.code
    notice = Refusal.sign(
        box.secret,
        message_id,
        hasher.digest(),
        box.card.fingerprint,
        now,
        str(rule),
        _reason(error),
    )
    return Refused(error, notice, author_fp)


def _reason(error: SecureMsgError) -> str:
    """The notice's reason: the rule only, never the error message. A notice is
    signed, not encrypted, and travels through shared folders; messages may name
    the patient (e.g. signer_not_patient names the card's holder)."""
    if isinstance(error, ConsentRefused):
        return f"the recipient's mailbox refused the letter under the consent rule {error.rule}"
    return f"the recipient's mailbox could not verify the letter ({error.code})"


def _peek_id(env: Opening) -> str:
    from securemsg.core import cbor, cose

    payload = cbor.loads(cose.parse(env.manifest_bytes).payload, "manifest")
    value = payload.get("id") if isinstance(payload, dict) else None
    return value.hex() if isinstance(value, bytes) and len(value) == 16 else "00" * 16
