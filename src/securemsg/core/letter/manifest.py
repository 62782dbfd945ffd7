"""The letter manifest: what the author signs (COSE_Sign1, type letter-manifest).

It names the letter (id, kind, date, subject), its author, every intended
recipient with the care domains each receives, the patient (or a pseudonym),
the legal basis, the thread, and a salted digest of every section and
attachment (selective disclosure: a recipient checks the signature over all
digests while it holds only its own items). Spec: docs/format.md §Manifest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from securemsg.core import cbor, cose, labels
from securemsg.core.card import Card
from securemsg.core.domains import Domain, Purpose
from securemsg.core.fingerprint import FINGERPRINT_BYTES
from securemsg.core.identity import Role, SecretIdentity
from securemsg.errors import FormatError

VERSION = 1
ID_BYTES = 16
SALT_BYTES = 16
MAX_RECIPIENTS = 64
MAX_ITEMS = 1024
BASES = ("consent", "emergency", "pseudonymous")
ITEM_KINDS = ("section", "attachment")


@dataclass(frozen=True, slots=True)
class Item:
    n: int
    kind: str  # section | attachment
    domain: Domain
    digest: bytes


@dataclass(frozen=True, slots=True)
class RecipientEntry:
    fp: str
    role: Role
    domains: frozenset[Domain]


@dataclass(frozen=True, slots=True)
class PhoneCall:
    time: int
    caller: str | None  # fingerprint of who phoned, when known


@dataclass(frozen=True, slots=True)
class Manifest:
    message_id: bytes
    kind: Purpose
    date: int
    author: str
    recipients: tuple[RecipientEntry, ...]
    subject: str
    items: tuple[Item, ...]
    basis: str
    letter_digest: bytes
    patient_fp: str | None = None
    patient_ids: tuple[tuple[str, str], ...] = ()  # (field, value) from the patient's card
    pseudonym: str | None = None
    consent_digest: bytes | None = None
    in_reply_to: bytes | None = None
    phone_call: PhoneCall | None = None
    encoded: bytes = field(default=b"", compare=False)

    @property
    def id_hex(self) -> str:
        return self.message_id.hex()

    def entry_for(self, fp: str) -> RecipientEntry | None:
        for entry in self.recipients:
            if entry.fp == fp:
                return entry
        return None

    def to_payload(self) -> dict[str, Any]:
        p: dict[str, Any] = {
            "v": VERSION,
            "id": self.message_id,
            "kind": self.kind.value,
            "date": self.date,
            "author": bytes.fromhex(self.author),
            "recipients": [
                {
                    "fp": bytes.fromhex(r.fp),
                    "role": r.role.value,
                    "domains": sorted(d.value for d in r.domains),
                }
                for r in self.recipients
            ],
            "subject": self.subject,
            "items": [
                {"n": i.n, "kind": i.kind, "domain": i.domain.value, "digest": i.digest}
                for i in self.items
            ],
            "basis": self.basis,
            "letter_digest": self.letter_digest,
        }
        if self.patient_fp is not None:
            p["patient"] = {"fp": bytes.fromhex(self.patient_fp), **dict(self.patient_ids)}
        if self.pseudonym is not None:
            p["pseudonym"] = self.pseudonym
        if self.consent_digest is not None:
            p["consent"] = self.consent_digest
        if self.in_reply_to is not None:
            p["in_reply_to"] = self.in_reply_to
        if self.phone_call is not None:
            call: dict[str, Any] = {"time": self.phone_call.time}
            if self.phone_call.caller:
                call["caller"] = bytes.fromhex(self.phone_call.caller)
            p["phone_call"] = call
        return p

    def sign(self, author: SecretIdentity) -> Manifest:
        fp = bytes.fromhex(self.author)
        encoded = cose.sign(
            author.signing_key, labels.COSE_LETTER_MANIFEST, fp, cbor.dumps(self.to_payload())
        )
        return parse_payload(cbor.loads(cbor.dumps(self.to_payload()), "manifest"), encoded)


def peek_author(encoded: bytes) -> str:
    """The claimed author's fingerprint (not verified yet: look up their card)."""
    obj = cose.parse(encoded, "letter manifest")
    cose.check_type(obj, labels.COSE_LETTER_MANIFEST, "letter manifest")
    if len(obj.kid) != FINGERPRINT_BYTES:
        raise FormatError("letter manifest: bad key id")
    return obj.kid.hex()


def verify_manifest(encoded: bytes, author: Card) -> Manifest:
    obj = cose.parse(encoded, "letter manifest")
    if obj.kid.hex() != author.fingerprint:
        raise FormatError("letter manifest: signed with another key than the author's")
    payload = cose.verify(obj, labels.COSE_LETTER_MANIFEST, author.verify_key(), "letter manifest")
    manifest = parse_payload(cbor.loads(payload, "letter manifest"), encoded)
    if manifest.author != author.fingerprint:
        raise FormatError("letter manifest: the author field does not match the signer")
    return manifest


def _fp(value: Any, what: str) -> str:
    if not isinstance(value, bytes) or len(value) != FINGERPRINT_BYTES:
        raise FormatError(f"letter manifest: {what} must be a {FINGERPRINT_BYTES}-byte fingerprint")
    return value.hex()


def _enum(cls: Any, value: Any, what: str) -> Any:
    try:
        return cls(value)
    except (ValueError, TypeError) as exc:
        raise FormatError(f"letter manifest: unknown {what} {str(value)[:40]!r}") from exc


def _bytes(value: Any, size: int, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != size:
        raise FormatError(f"letter manifest: {what} must be {size} bytes")
    return value


def _int(value: Any, what: str) -> int:
    if type(value) is not int or not 0 <= value < 2**40:
        raise FormatError(f"letter manifest: {what} must be a timestamp")
    return value


def _text(value: Any, what: str, max_len: int = 300) -> str:
    if not isinstance(value, str) or len(value) > max_len:
        raise FormatError(f"letter manifest: {what} must be text of at most {max_len} characters")
    return value


PATIENT_ID_FIELDS = ("name", "ins", "birth_date")
TOP_FIELDS = {
    "v",
    "id",
    "kind",
    "date",
    "author",
    "recipients",
    "subject",
    "items",
    "basis",
    "letter_digest",
    "patient",
    "pseudonym",
    "consent",
    "in_reply_to",
    "phone_call",
}


def parse_payload(p: Any, encoded: bytes) -> Manifest:
    if not isinstance(p, dict) or p.get("v") != VERSION:
        raise FormatError("letter manifest: unsupported version")
    if not set(p) <= TOP_FIELDS:
        raise FormatError("letter manifest: unknown fields")
    recips_raw, items_raw = p.get("recipients"), p.get("items")
    if not isinstance(recips_raw, list) or not 0 < len(recips_raw) <= MAX_RECIPIENTS:
        raise FormatError(f"letter manifest: 1 to {MAX_RECIPIENTS} recipients expected")
    if not isinstance(items_raw, list) or not 0 < len(items_raw) <= MAX_ITEMS:
        raise FormatError(f"letter manifest: 1 to {MAX_ITEMS} items expected")
    recipients = tuple(_recipient(r) for r in recips_raw)
    if len({r.fp for r in recipients}) != len(recipients):
        raise FormatError("letter manifest: a recipient is listed twice")
    items = tuple(_item(i) for i in items_raw)
    if [i.n for i in items] != list(range(len(items))):
        raise FormatError("letter manifest: items must be numbered 0, 1, 2, ... in order")
    if len({i.digest for i in items}) != len(items):
        raise FormatError("letter manifest: two items have the same digest")
    basis = p.get("basis")
    if basis not in BASES:
        raise FormatError("letter manifest: unknown legal basis")
    patient_fp: str | None = None
    patient_ids: tuple[tuple[str, str], ...] = ()
    if "patient" in p:
        pat = p["patient"]
        if not isinstance(pat, dict) or not set(pat) <= {"fp", *PATIENT_ID_FIELDS}:
            raise FormatError("letter manifest: bad patient field")
        patient_fp = _fp(pat.get("fp"), "patient")
        patient_ids = tuple(
            (k, _text(pat[k], f"patient {k}")) for k in PATIENT_ID_FIELDS if k in pat
        )
    pseudonym = _text(p["pseudonym"], "pseudonym", 100) if "pseudonym" in p else None
    if (basis == "pseudonymous") != (pseudonym is not None) or (pseudonym and patient_fp):
        raise FormatError("letter manifest: a pseudonymous letter names a pseudonym and no patient")
    if basis != "pseudonymous" and patient_fp is None:
        raise FormatError("letter manifest: the patient is missing")
    consent = _bytes(p["consent"], 32, "consent digest") if "consent" in p else None
    if (basis == "consent") != (consent is not None):
        raise FormatError("letter manifest: the consent digest and the basis disagree")
    call = None
    if "phone_call" in p:
        c = p["phone_call"]
        if not isinstance(c, dict) or not set(c) <= {"time", "caller"}:
            raise FormatError("letter manifest: bad phone_call field")
        call = PhoneCall(
            _int(c.get("time"), "phone call time"),
            _fp(c["caller"], "phone caller") if "caller" in c else None,
        )
    return Manifest(
        message_id=_bytes(p.get("id"), ID_BYTES, "id"),
        kind=_enum(Purpose, p.get("kind"), "kind"),
        date=_int(p.get("date"), "date"),
        author=_fp(p.get("author"), "author"),
        recipients=recipients,
        subject=_text(p.get("subject"), "subject"),
        items=items,
        basis=basis,
        letter_digest=_bytes(p.get("letter_digest"), 32, "letter digest"),
        patient_fp=patient_fp,
        patient_ids=patient_ids,
        pseudonym=pseudonym,
        consent_digest=consent,
        in_reply_to=_bytes(p["in_reply_to"], ID_BYTES, "in_reply_to")
        if "in_reply_to" in p
        else None,
        phone_call=call,
        encoded=encoded,
    )


def _recipient(r: Any) -> RecipientEntry:
    if not isinstance(r, dict) or set(r) != {"fp", "role", "domains"}:
        raise FormatError("letter manifest: bad recipient entry")
    doms = r["domains"]
    if not isinstance(doms, list) or len(set(doms)) != len(doms):
        raise FormatError("letter manifest: bad recipient domains")
    return RecipientEntry(
        _fp(r["fp"], "recipient"),
        _enum(Role, r["role"], "role"),
        frozenset(_enum(Domain, d, "domain") for d in doms),
    )


def _item(i: Any) -> Item:
    if not isinstance(i, dict) or set(i) != {"n", "kind", "domain", "digest"}:
        raise FormatError("letter manifest: bad item entry")
    if i["kind"] not in ITEM_KINDS or type(i["n"]) is not int:
        raise FormatError("letter manifest: bad item kind or number")
    return Item(
        i["n"],
        i["kind"],
        _enum(Domain, i["domain"], "domain"),
        _bytes(i["digest"], 32, "item digest"),
    )


class ItemHasher:
    """Salted digest of one item: SHA-256(label || 0x00 || salt || head || content).

    head = canonical CBOR [n, kind, domain, name, size]. Content is fed in pieces.
    """

    def __init__(
        self, n: int, kind: str, domain: Domain, name: str, size: int, salt: bytes
    ) -> None:
        if len(salt) != SALT_BYTES:
            raise FormatError("item salt must be 16 bytes")
        label = labels.SECTION_DIGEST if kind == "section" else labels.ATTACHMENT_DIGEST
        self._h = hashlib.sha256(label + b"\x00" + salt)
        self._h.update(cbor.dumps([n, kind, domain.value, name, size]))

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._h.update(data)

    def digest(self) -> bytes:
        return self._h.digest()


def item_digest(
    n: int, kind: str, domain: Domain, name: str, salt: bytes, content: Iterable[bytes], size: int
) -> bytes:
    h = ItemHasher(n, kind, domain, name, size, salt)
    for piece in content:
        h.update(piece)
    return h.digest()
