"""Building a letter: the signed manifest, then one age envelope per recipient.

Pure: attachments arrive as re-readable byte iterators, randomness and time are
parameters. The caller decides who receives which domains (consent + role
table) and checks the consent before calling :func:`plan`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import nacl.utils

from securemsg.core.age import X25519Recipient
from securemsg.core.age.hazmat.file import build_header, new_file_key, new_payload_nonce
from securemsg.core.age.hazmat.stream import StreamEncryptor
from securemsg.core.card import Card
from securemsg.core.digests import letter_digest
from securemsg.core.domains import Domain, Purpose
from securemsg.core.frozen import Frozen, _set
from securemsg.core.identity import KeyHolder
from securemsg.core.letter.container import OutItem, write_envelopes
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
from securemsg.i18n import _

Rng = Callable[[int], bytes]


class Attachment(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "name",
        "domain",
        "size",
        "content",
    )
    name: str
    domain: Domain
    size: int
    content: Callable[[], Iterable[bytes]]

    def __init__(
        self, name: str, domain: Domain, size: int, content: Callable[[], Iterable[bytes]]
    ) -> None:
        _set(self, "name", name)
        _set(self, "domain", domain)
        _set(self, "size", size)
        _set(self, "content", content)


class Planned(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "manifest",
        "items",
    )
    manifest: Manifest
    items: tuple[tuple[Item, OutItem], ...]

    def __init__(self, manifest: Manifest, items: tuple[tuple[Item, OutItem], ...]) -> None:
        _set(self, "manifest", manifest)
        _set(self, "items", items)


class Fixed(Frozen):
    """What a prepared draft fixes before the patient signs: the message id and
    one salt per item (sections, then attachments)."""

    __slots__ = ("message_id", "salts")
    message_id: bytes
    salts: tuple[bytes, ...]

    def __init__(self, message_id: bytes, salts: tuple[bytes, ...]) -> None:
        _set(self, "message_id", message_id)
        _set(self, "salts", salts)


def items_of(
    source: LetterSource, attachments: Sequence[Attachment], rng: Rng
) -> list[tuple[Item, OutItem]]:
    """Every item numbered and digested (docs/format.md §10): the sections, then
    the attachments (each read once here); one ``rng(SALT_BYTES)`` per item."""
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
    return pairs


def plan(
    *,
    source: LetterSource,
    attachments: Sequence[Attachment],
    kind: Purpose,
    author: KeyHolder,
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
    fixed: Fixed | None = None,
) -> Planned:
    """Number and digest every item (hashing attachments once), sign the manifest.

    ``fixed``: the message id and item salts of a prepared draft (docs/cli.md
    ``send --prepare``), so that the letter is exactly the one the patient
    reviewed; else fresh random ones."""
    del consent  # carried in the envelopes; its digest is what the manifest names
    salts = list(fixed.salts) if fixed is not None else None
    if salts is not None and len(salts) != len(source.sections) + len(attachments):
        raise ValueError(_("a draft fixes one salt per item"))
    pairs = items_of(source, attachments, (lambda n: salts.pop(0)) if salts is not None else rng)
    patient_ids = patient.profile.identifiers() if patient is not None else ()
    manifest = Manifest(
        message_id=fixed.message_id if fixed is not None else rng(ID_BYTES),
        kind=kind,
        date=now,
        author=author_card.fingerprint,
        recipients=tuple(
            RecipientEntry(card.fingerprint, card.profile.role, doms, card.name)
            for card, doms in recipients
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


class Sealing(Frozen):
    """The start of one envelope written by :func:`envelopes`: write ``header``,
    then ``nonce``, then the plaintext sealed by ``encryptor``, then its final chunk."""

    __slots__ = (  # noqa: RUF023 (field order)
        "header",
        "nonce",
        "encryptor",
    )
    header: bytes
    nonce: bytes
    encryptor: StreamEncryptor

    def __init__(self, header: bytes, nonce: bytes, encryptor: StreamEncryptor) -> None:
        _set(self, "header", header)
        _set(self, "nonce", nonce)
        _set(self, "encryptor", encryptor)


def envelopes(
    planned: Planned,
    author: KeyHolder,
    targets: Sequence[tuple[Card, frozenset[Domain]]],
    consent: bytes | None,
    patient_card: bytes | None,
    rng: Rng = nacl.utils.random,
) -> tuple[list[Sealing], Iterator[tuple[tuple[int, ...], bytes]]]:
    """All envelopes of a letter at once, reading each attachment once.

    Returns one :class:`Sealing` per target (its own file key, header and payload
    nonce) and the plaintext as ``(envelope indexes, bytes)`` pairs, in order: feed
    each piece to the encryptor of every envelope it names. Each envelope comes out
    byte for byte as if written on its own with the same ``rng`` draws, target
    after target: file key, header, nonce (``envelope`` in tests/reference.py,
    checked by tests/letters/test_lockstep.py).
    """
    sealings: list[Sealing] = []
    bindings: list[bytes] = []
    for card, _domains in targets:
        file_key = new_file_key(rng)
        header = build_header(file_key, [X25519Recipient.from_bytes(card.enc_public)], rng)
        binding = Binding.sign(author, planned.manifest.encoded, header, card.fingerprint)
        bindings.append(bytes(binding))
        nonce = new_payload_nonce(rng)
        sealings.append(Sealing(header, nonce, StreamEncryptor(file_key, nonce)))
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
