"""Building a letter: the signed manifest, then one age envelope per recipient.

Pure: attachments arrive as re-readable byte iterators, randomness and time are
parameters. The caller decides who receives which domains (consent + role
table) and checks the consent before calling :func:`plan`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import nacl.utils

from securemsg.core import age
from securemsg.core.card import Card
from securemsg.core.digests import letter_digest
from securemsg.core.domains import Domain, Purpose
from securemsg.core.identity import SecretIdentity
from securemsg.core.letter.container import OutItem, write_envelope, write_envelopes
from securemsg.core.letter.manifest import (
    ID_BYTES,
    SALT_BYTES,
    Item,
    Manifest,
    PhoneCall,
    RecipientEntry,
    item_digest,
)
from securemsg.core.letter.proofs import Binding
from securemsg.core.letter.source import LetterSource

Rng = Callable[[int], bytes]


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    domain: Domain
    size: int
    content: Callable[[], Iterable[bytes]]


@dataclass(frozen=True, slots=True)
class Planned:
    manifest: Manifest
    items: tuple[tuple[Item, OutItem], ...]

    def items_for(self, domains: frozenset[Domain]) -> list[OutItem]:
        return [out for item, out in self.items if item.domain in domains]


def plan(
    *,
    source: LetterSource,
    attachments: Sequence[Attachment],
    kind: Purpose,
    author: SecretIdentity,
    author_card: Card,
    recipients: Sequence[tuple[Card, frozenset[Domain]]],
    basis: str,
    now: int,
    patient: Card | None = None,
    pseudonym: str | None = None,
    consent: bytes | None = None,
    consent_digest: bytes | None = None,
    in_reply_to: bytes | None = None,
    phone_call: PhoneCall | None = None,
    rng: Rng = nacl.utils.random,
) -> Planned:
    """Number and digest every item (hashing attachments once), sign the manifest."""
    del consent  # carried in the envelopes; its digest is what the manifest names
    pairs: list[tuple[Item, OutItem]] = []
    for section in source.sections:
        n, salt, data = len(pairs), rng(SALT_BYTES), section.data

        def content(data: bytes = data) -> Iterable[bytes]:
            return (data,)

        digest = item_digest(
            n, "section", section.domain, section.title, salt, content(), len(data)
        )
        pairs.append(
            (
                Item(n, "section", section.domain, digest),
                OutItem(n, salt, section.title, len(data), content),
            )
        )
    for att in attachments:
        n, salt = len(pairs), rng(SALT_BYTES)
        digest = item_digest(n, "attachment", att.domain, att.name, salt, att.content(), att.size)
        pairs.append(
            (
                Item(n, "attachment", att.domain, digest),
                OutItem(n, salt, att.name, att.size, att.content),
            )
        )
    patient_ids: tuple[tuple[str, str], ...] = ()
    if patient is not None:
        prof = patient.profile
        patient_ids = tuple(
            (k, v)
            for k, v in (("name", prof.name), ("ins", prof.ins), ("birth_date", prof.birth_date))
            if v
        )
    manifest = Manifest(
        message_id=rng(ID_BYTES),
        kind=kind,
        date=now,
        author=author_card.fingerprint,
        recipients=tuple(
            RecipientEntry(card.fingerprint, card.profile.role, doms) for card, doms in recipients
        ),
        subject=source.subject,
        items=tuple(item for item, _ in pairs),
        basis=basis,
        letter_digest=letter_digest(source.raw),
        patient_fp=patient.fingerprint if patient is not None else None,
        patient_ids=patient_ids,
        pseudonym=pseudonym,
        consent_digest=consent_digest,
        in_reply_to=in_reply_to,
        phone_call=phone_call,
    ).sign(author)
    return Planned(manifest, tuple(pairs))


def envelope(
    planned: Planned,
    author: SecretIdentity,
    recipient: Card,
    domains: frozenset[Domain],
    consent: bytes | None,
    patient_card: bytes | None,
    rng: Rng = nacl.utils.random,
    extra_recipients: Mapping[str, bytes] | None = None,
) -> Iterator[bytes | bytearray]:
    """The bytes of one recipient's .smsg file, streamed: age header, then payload.

    ``extra_recipients`` exists for the attack tests only (a stanza added
    before signing); securemsg itself never passes it.
    """
    keys = [age.X25519Recipient.from_bytes(recipient.enc_public)]
    for public in (extra_recipients or {}).values():
        keys.append(age.X25519Recipient.from_bytes(public))
    file_key = age.new_file_key(rng)
    header = age.build_header(file_key, keys, rng)
    binding = bytes(Binding.sign(author, planned.manifest.encoded, header, recipient.fingerprint))
    records = write_envelope(
        planned.manifest.encoded, binding, consent, patient_card, planned.items_for(domains)
    )
    yield header
    yield from age.encrypt_stream(file_key, records, rng)


@dataclass(frozen=True, slots=True)
class Sealing:
    """The start of one envelope written by :func:`envelopes`: write ``header``,
    then ``nonce``, then the plaintext sealed by ``encryptor``, then its final chunk."""

    header: bytes
    nonce: bytes
    encryptor: age.StreamEncryptor


def envelopes(
    planned: Planned,
    author: SecretIdentity,
    targets: Sequence[tuple[Card, frozenset[Domain]]],
    consent: bytes | None,
    patient_card: bytes | None,
    rng: Rng = nacl.utils.random,
) -> tuple[list[Sealing], Iterator[tuple[tuple[int, ...], bytes]]]:
    """All envelopes of a letter at once, reading each attachment once.

    Returns one :class:`Sealing` per target (its own file key, header and payload
    nonce) and the plaintext as ``(envelope indexes, bytes)`` pairs, in order: feed
    each piece to the encryptor of every envelope it names. Each envelope comes out
    byte for byte as :func:`envelope` writes it (with the same ``rng`` draws, target
    after target: file key, header, nonce).
    """
    sealings: list[Sealing] = []
    bindings: list[bytes] = []
    for card, _domains in targets:
        file_key = age.new_file_key(rng)
        header = age.build_header(file_key, [age.X25519Recipient.from_bytes(card.enc_public)], rng)
        binding = Binding.sign(author, planned.manifest.encoded, header, card.fingerprint)
        bindings.append(bytes(binding))
        nonce = bytes(rng(age.NONCE_SIZE))
        if len(nonce) != age.NONCE_SIZE:
            raise ValueError("rng returned the wrong number of bytes")
        sealings.append(Sealing(header, nonce, age.StreamEncryptor(file_key, nonce)))
    domain_of = {out.n: item.domain for item, out in planned.items}

    def includes(domains: frozenset[Domain]) -> Callable[[OutItem], bool]:
        return lambda out: domain_of[out.n] in domains

    plaintext = write_envelopes(
        planned.manifest.encoded,
        bindings,
        consent,
        patient_card,
        [out for _item, out in planned.items],
        [includes(domains) for _card, domains in targets],
    )
    return sealings, plaintext
