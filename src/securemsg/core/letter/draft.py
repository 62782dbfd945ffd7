"""A prepared letter (``send --prepare``): what the patient reviews before
signing a letter-bound consent, and what ``send --draft`` then sends exactly.

The draft fixes the message id and every item's salt, so the letter's items,
their salted digests and its recipients (with the domains each receives) are
known before the patient signs: the patient's tool recomputes the letter
commitment (core/letter/manifest.py ``letter_commitment``) from the content it
shows, and the grant names it. The plaintext is a sequence of records
(``type || length (8 bytes, big endian) || body``, as in an envelope)::

    DRAFT_HEAD  SOURCE  ITEM_BODY*  END

DRAFT_HEAD is the canonical CBOR map of docs/format-consent.md §3.2, SOURCE the
letter's Markdown file, one ITEM_BODY per attachment in order. The whole draft
is encrypted (age) to the patient and to its author: it is never on disk in
clear. Pure: bytes in, values out.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from securemsg.core import cbor, signed
from securemsg.core.age import X25519Identity
from securemsg.core.age.hazmat.file import decrypt_payload, read_header, unwrap_file_key
from securemsg.core.age.keys import ShareOpener
from securemsg.core.card import Card
from securemsg.core.domains import Domain, Purpose
from securemsg.core.frozen import Frozen, _set
from securemsg.core.letter.compose import Attachment, items_of
from securemsg.core.letter.container import END, ITEM_BODY, OutItem, record_head, small_record
from securemsg.core.letter.limits import MAX_SOURCE
from securemsg.core.letter.manifest import (
    ID_BYTES,
    MAX_ITEMS,
    MAX_RECIPIENTS,
    SALT_BYTES,
    Item,
    letter_commitment,
)
from securemsg.core.letter.source import LetterSource, parse_letter
from securemsg.errors import FormatError
from securemsg.i18n import N_, _

DRAFT_HEAD, SOURCE = 0x10, 0x11
MAX_DRAFT = 64 << 20  # the whole plaintext: drafts are kept in memory
MAX_HEAD = 1 << 20
MAX_NAME = 1024


class DraftAttachment(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "name",
        "domain",
        "data",
    )
    name: str
    domain: Domain
    data: bytes

    def __init__(self, name: str, domain: Domain, data: bytes) -> None:
        _set(self, "name", name)
        _set(self, "domain", domain)
        _set(self, "data", data)


class Draft(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "message_id",
        "kind",
        "author",
        "patient",
        "recipients",
        "default_subject",
        "source",
        "attachments",
        "salts",
        "in_reply_to",
        "phone_call",
    )
    message_id: bytes
    kind: Purpose
    author: Card
    patient: Card
    recipients: tuple[tuple[Card, frozenset[Domain]], ...]  # in send order; the patient's copy too
    default_subject: str
    source: bytes
    attachments: tuple[DraftAttachment, ...]
    salts: tuple[bytes, ...]  # one per item: the sections, then the attachments
    in_reply_to: bytes | None
    phone_call: int | None

    def __init__(
        self,
        message_id: bytes,
        kind: Purpose,
        author: Card,
        patient: Card,
        recipients: tuple[tuple[Card, frozenset[Domain]], ...],
        default_subject: str,
        source: bytes,
        attachments: tuple[DraftAttachment, ...],
        salts: tuple[bytes, ...],
        in_reply_to: bytes | None = None,
        phone_call: int | None = None,
    ) -> None:
        _set(self, "message_id", message_id)
        _set(self, "kind", kind)
        _set(self, "author", author)
        _set(self, "patient", patient)
        _set(self, "recipients", recipients)
        _set(self, "default_subject", default_subject)
        _set(self, "source", source)
        _set(self, "attachments", attachments)
        _set(self, "salts", salts)
        _set(self, "in_reply_to", in_reply_to)
        _set(self, "phone_call", phone_call)

    @property
    def patient_copy(self) -> bool:
        return any(c.fingerprint == self.patient.fingerprint for c, _d in self.recipients)

    def to_bytes(self) -> bytes:
        head: dict[str, Any] = {
            "v": signed.VERSION,
            "id": self.message_id,
            "kind": self.kind.value,
            "author": self.author.encoded,
            "patient": self.patient.encoded,
            "recipients": [
                {"card": c.encoded, "domains": sorted(d.value for d in doms)}
                for c, doms in self.recipients
            ],
            "subject": self.default_subject,
            "attachments": [
                {"name": a.name, "domain": a.domain.value, "size": len(a.data)}
                for a in self.attachments
            ],
            "salts": list(self.salts),
        }
        if self.in_reply_to is not None:
            head["in_reply_to"] = self.in_reply_to
        if self.phone_call is not None:
            head["phone_call"] = self.phone_call
        parts = [small_record(DRAFT_HEAD, cbor.dumps(head)), small_record(SOURCE, self.source)]
        parts += [small_record(ITEM_BODY, a.data) for a in self.attachments]
        parts.append(record_head(END, 0))
        return b"".join(parts)

    @classmethod
    def parse(cls, data: bytes) -> Draft:
        """A draft's plaintext, read strictly; its cards are self-signed cards
        (whether they are current, and whose, is the caller's business)."""
        if len(data) > MAX_DRAFT:
            raise FormatError(_("the draft is too large"))
        records = _records(data)
        if len(records) < 3 or records[0][0] != DRAFT_HEAD or records[1][0] != SOURCE:
            raise FormatError(_("the draft does not start with its head and letter"))
        if records[-1] != (END, b"") or any(t != ITEM_BODY for t, _b in records[2:-1]):
            raise FormatError(_("the draft's records are not in order"))
        head_bytes, source = records[0][1], records[1][1]
        if len(head_bytes) > MAX_HEAD or len(source) > MAX_SOURCE:
            raise FormatError(_("the draft's head or letter is too large"))
        h = signed.Fields(
            cbor.loads(head_bytes, N_("draft head")),
            N_("draft"),
            ("id", "kind", "author", "patient", "recipients", "subject", "attachments", "salts"),
            ("in_reply_to", "phone_call"),
            versioned=True,
        )
        recipients = tuple(_recipient(r) for r in h.array("recipients", 1, MAX_RECIPIENTS + 1))
        if len({c.fingerprint for c, _d in recipients}) != len(recipients):
            raise FormatError(_("draft: a recipient is listed twice"))
        specs = h.array("attachments", 0, MAX_ITEMS)
        bodies = [body for _t, body in records[2:-1]]
        if len(specs) != len(bodies):
            raise FormatError(_("draft: the attachments and their contents do not match"))
        attachments = tuple(_attachment(s, b) for s, b in zip(specs, bodies, strict=True))
        salts = h.array("salts", 1, MAX_ITEMS)
        if not all(isinstance(s, bytes) and len(s) == SALT_BYTES for s in salts):
            raise FormatError(_("draft: an item salt is not 16 bytes"))
        return cls(
            message_id=h.bstr("id", ID_BYTES),
            kind=h.enum("kind", Purpose),
            author=_card(h.raw("author")),
            patient=_card(h.raw("patient")),
            recipients=recipients,
            default_subject=h.tstr("subject", MAX_NAME),
            source=source,
            attachments=attachments,
            salts=tuple(salts),
            in_reply_to=h.bstr("in_reply_to", ID_BYTES) if "in_reply_to" in h else None,
            phone_call=h.time("phone_call") if "phone_call" in h else None,
        )


def _records(data: bytes) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    at = 0
    while at < len(data):
        if len(data) - at < 9:
            raise FormatError(_("the draft ends in the middle of a record"))
        rtype, length = data[at], int.from_bytes(data[at + 1 : at + 9], "big")
        at += 9
        if length > len(data) - at:
            raise FormatError(_("the draft ends in the middle of a record"))
        out.append((rtype, data[at : at + length]))
        at += length
        if rtype == END:
            break
    if at != len(data):
        raise FormatError(_("data follows the end of the draft"))
    return out


def _card(value: Any) -> Card:
    if not isinstance(value, bytes):
        raise FormatError(_("draft: a card is not a byte string"))
    return Card.verify(value)


def _domains(value: Any, what: str) -> frozenset[Domain]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FormatError(_("{what}: bad care domains").format(what=_(what)))
    try:
        domains = [Domain(v) for v in value]
    except ValueError as exc:
        raise FormatError(_("{what}: unknown care domain").format(what=_(what))) from exc
    if not domains or len(set(domains)) != len(domains):
        raise FormatError(_("{what}: bad care domains").format(what=_(what)))
    return frozenset(domains)


def _recipient(value: Any) -> tuple[Card, frozenset[Domain]]:
    r = signed.Fields(value, N_("draft recipient"), ("card", "domains"))
    return _card(r.raw("card")), _domains(r.raw("domains"), N_("draft recipient"))


def _attachment(value: Any, body: bytes) -> DraftAttachment:
    a = signed.Fields(value, N_("draft attachment"), ("name", "domain", "size"))
    if a.integer("size", 0) != len(body):
        raise FormatError(_("draft: an attachment's size differs from its content"))
    return DraftAttachment(a.tstr("name", MAX_NAME), a.enum("domain", Domain), body)


class Reviewed(Frozen):
    """A draft's letter as its reader sees it, numbered and digested, and the
    commitment a grant for exactly this letter names."""

    __slots__ = (  # noqa: RUF023 (field order)
        "source",
        "items",
        "commitment",
    )
    source: LetterSource
    items: tuple[tuple[Item, OutItem], ...]
    commitment: bytes

    def __init__(
        self, source: LetterSource, items: tuple[tuple[Item, OutItem], ...], commitment: bytes
    ) -> None:
        _set(self, "source", source)
        _set(self, "items", items)
        _set(self, "commitment", commitment)


def review(draft: Draft) -> Reviewed:
    """Parse the draft's letter and recompute every item digest and the letter
    commitment from the content itself (never from a value the draft states)."""
    source = parse_letter(draft.source, draft.default_subject)
    attachments = [
        Attachment(a.name, a.domain, len(a.data), _once(a.data)) for a in draft.attachments
    ]
    if len(draft.salts) != len(source.sections) + len(attachments):
        raise FormatError(_("draft: not one salt per item"))
    salts = list(draft.salts)
    pairs = items_of(source, attachments, lambda _n: salts.pop(0))
    commitment = letter_commitment(
        draft.message_id,
        draft.kind,
        draft.patient.fingerprint,
        [item for item, _out in pairs],
        [(c.fingerprint, d) for c, d in draft.recipients],
    )
    return Reviewed(source, tuple(pairs), commitment)


def _once(data: bytes) -> Callable[[], Iterable[bytes]]:
    return lambda: (data,)


def open_sealed(data: bytes, opener: X25519Identity | ShareOpener) -> Draft:
    """A draft as written on disk (age, to the patient and the author), opened
    with my key holder's share opener (the key, or the agent holding it)."""
    src = io.BytesIO(data)
    header, header_bytes = read_header(src)
    file_key = unwrap_file_key(header, header_bytes, [opener])
    return Draft.parse(b"".join(bytes(piece) for piece in decrypt_payload(file_key, src)))
