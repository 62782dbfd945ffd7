"""The letter manifest: what the author signs (COSE_Sign1, type letter-manifest).

It names the letter (id, kind, date, subject), its author, every intended
recipient with the care domains each receives, the patient (or a pseudonym),
the legal basis, the thread, and a salted digest of every section and
attachment (selective disclosure: a recipient checks the signature over all
digests while it holds only its own items). Spec: docs/format.md §Manifest.

Long file: the manifest and its parts, values written out on core.frozen (for
the start-up time of `send`, `receive` and `read`), with their encoding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from securemsg.core import cbor, labels, signed
from securemsg.core.card import Card
from securemsg.core.domains import Domain, Purpose
from securemsg.core.fingerprint import fingerprint
from securemsg.core.frozen import Frozen, _set
from securemsg.core.identity import KeyHolder, Role
from securemsg.errors import FormatError
from securemsg.i18n import N_, _

ID_BYTES = 16
SALT_BYTES = 16
MAX_RECIPIENTS = 64
MAX_ITEMS = 1024
MAX_TEXT = 300  # subject, patient identifiers
MAX_PSEUDONYM = 100
MAX_TIME = 2**40  # manifest times are 0 <= t < 2^40 (docs/format.md §1)
BASES = ("consent", "emergency", "pseudonymous")
ITEM_KINDS = ("section", "attachment")
# Format 2 (this version writes it): recipients' names, and padded envelopes
# (docs/format.md §9, §11.1). Format 1 (earlier versions) is still read from
# the mailbox, never received (core/letter/opening.py).
MANIFEST_VERSION = 2


class Item(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "n",
        "kind",
        "domain",
        "digest",
    )
    n: int
    kind: str  # section | attachment
    domain: Domain
    digest: bytes

    def __init__(self, n: int, kind: str, domain: Domain, digest: bytes) -> None:
        _set(self, "n", n)
        _set(self, "kind", kind)
        _set(self, "domain", domain)
        _set(self, "digest", digest)


class RecipientEntry(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "fp",
        "role",
        "domains",
        "name",
    )
    fp: str
    role: Role
    domains: frozenset[Domain]
    name: str | None  # the display name on the author's card for it (signed)

    def __init__(
        self, fp: str, role: Role, domains: frozenset[Domain], name: str | None = None
    ) -> None:
        _set(self, "fp", fp)
        _set(self, "role", role)
        _set(self, "domains", domains)
        _set(self, "name", name)


class PhoneCall(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "time",
        "caller",
    )
    time: int
    caller: str | None  # fingerprint of who phoned, when known

    def __init__(self, time: int, caller: str | None) -> None:
        _set(self, "time", time)
        _set(self, "caller", caller)


class Manifest(signed.Signed, Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "message_id",
        "kind",
        "date",
        "author",
        "recipients",
        "subject",
        "items",
        "basis",
        "letter_digest",
        "patient_fp",
        "patient_ids",
        "pseudonym",
        "consent_digest",
        "in_reply_to",
        "phone_call",
        "encoded",
        "version",
    )
    _not_compared = frozenset({"encoded"})
    message_id: bytes
    kind: Purpose
    date: int
    author: str
    recipients: tuple[RecipientEntry, ...]
    subject: str
    items: tuple[Item, ...]
    basis: str
    letter_digest: bytes
    patient_fp: str | None
    patient_ids: tuple[tuple[str, str], ...]  # (field, value) from the patient's card
    pseudonym: str | None
    consent_digest: bytes | None
    in_reply_to: bytes | None
    phone_call: PhoneCall | None
    encoded: bytes
    version: int

    def __init__(
        self,
        message_id: bytes,
        kind: Purpose,
        date: int,
        author: str,
        recipients: tuple[RecipientEntry, ...],
        subject: str,
        items: tuple[Item, ...],
        basis: str,
        letter_digest: bytes,
        patient_fp: str | None = None,
        patient_ids: tuple[tuple[str, str], ...] = (),
        pseudonym: str | None = None,
        consent_digest: bytes | None = None,
        in_reply_to: bytes | None = None,
        phone_call: PhoneCall | None = None,
        encoded: bytes = b"",
        version: int = MANIFEST_VERSION,
    ) -> None:
        _set(self, "message_id", message_id)
        _set(self, "kind", kind)
        _set(self, "date", date)
        _set(self, "author", author)
        _set(self, "recipients", recipients)
        _set(self, "subject", subject)
        _set(self, "items", items)
        _set(self, "basis", basis)
        _set(self, "letter_digest", letter_digest)
        _set(self, "patient_fp", patient_fp)
        _set(self, "patient_ids", patient_ids)
        _set(self, "pseudonym", pseudonym)
        _set(self, "consent_digest", consent_digest)
        _set(self, "in_reply_to", in_reply_to)
        _set(self, "phone_call", phone_call)
        _set(self, "encoded", encoded)
        _set(self, "version", version)

    @property
    def id_hex(self) -> str:
        return self.message_id.hex()

    def entry_for(self, fp: str) -> RecipientEntry | None:
        for entry in self.recipients:
            if entry.fp == fp:
                return entry
        return None

    def commitment(self) -> bytes:
        """What a letter-bound grant names (:func:`letter_commitment`), recomputed
        from this manifest by every recipient."""
        return letter_commitment(
            self.message_id,
            self.kind,
            self.patient_fp,
            self.items,
            ((r.fp, r.domains) for r in self.recipients),
        )

    def to_payload(self) -> dict[str, Any]:
        p: dict[str, Any] = {
            "v": self.version,
            "id": self.message_id,
            "kind": self.kind.value,
            "date": self.date,
            "author": bytes.fromhex(self.author),
            "recipients": [_recipient_payload(r) for r in self.recipients],
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

    def sign(self, author: KeyHolder) -> Manifest:
        """Sign this draft (``encoded`` empty) as its author; read back strictly."""
        if fingerprint(author.sign_public).hex() != self.author:
            raise ValueError(_("the manifest names another author than the signing key"))
        encoded = signed.sign(author, MANIFEST, self.to_payload())
        return Manifest.from_payload(
            cbor.loads(cbor.dumps(self.to_payload()), N_("manifest")), encoded
        )

    @classmethod
    def verify(cls, data: bytes, author: Card) -> Manifest:
        """The manifest ``data`` signed by ``author`` (docs/format.md §9)."""
        manifest = cls._from_fields(signed.read(data, MANIFEST, author), data)
        if manifest.author != author.fingerprint:
            raise FormatError(_("letter manifest: the author field does not match the signer"))
        return manifest

    @classmethod
    def from_payload(cls, payload: Any, encoded: bytes) -> Manifest:
        """The manifest in a decoded payload, read strictly (the signature is not checked)."""
        return cls._from_fields(MANIFEST.fields(payload), encoded)

    @classmethod
    def _from_fields(cls, p: signed.Fields, encoded: bytes) -> Manifest:
        recipients = tuple(_recipient(r) for r in p.array("recipients", 1, MAX_RECIPIENTS))
        if p.version < MANIFEST_VERSION and any(r.name is not None for r in recipients):
            raise FormatError(_("letter manifest: format 1 names no recipient"))
        if len({r.fp for r in recipients}) != len(recipients):
            raise FormatError(_("letter manifest: a recipient is listed twice"))
        items = tuple(_item(i) for i in p.array("items", 1, MAX_ITEMS))
        if [i.n for i in items] != list(range(len(items))):
            raise FormatError(_("letter manifest: items must be numbered 0, 1, 2, ... in order"))
        if len({i.digest for i in items}) != len(items):
            raise FormatError(_("letter manifest: two items have the same digest"))
        basis = p.raw("basis")
        if basis not in BASES:
            raise FormatError(_("letter manifest: unknown legal basis"))
        patient_fp: str | None = None
        patient_ids: tuple[tuple[str, str], ...] = ()
        if "patient" in p:
            pat = p.map("patient", {"fp"}, PATIENT_ID_FIELDS)
            patient_fp = pat.fp("fp")
            patient_ids = tuple((k, pat.tstr(k, MAX_TEXT)) for k in PATIENT_ID_FIELDS if k in pat)
        pseudonym = p.tstr("pseudonym", MAX_PSEUDONYM) if "pseudonym" in p else None
        if (basis == "pseudonymous") != (pseudonym is not None) or (pseudonym and patient_fp):
            raise FormatError(
                _("letter manifest: a pseudonymous letter names a pseudonym and no patient")
            )
        if basis != "pseudonymous" and patient_fp is None:
            raise FormatError(_("letter manifest: the patient is missing"))
        consent = p.bstr("consent", 32, N_("consent digest")) if "consent" in p else None
        if (basis == "consent") != (consent is not None):
            raise FormatError(_("letter manifest: the consent digest and the basis disagree"))
        call = None
        if "phone_call" in p:
            c = p.map("phone_call", {"time"}, {"caller"})
            call = PhoneCall(
                c.integer("time", 0, MAX_TIME, N_("phone call time")),
                c.fp("caller", N_("phone caller")) if "caller" in c else None,
            )
        return cls(
            message_id=p.bstr("id", ID_BYTES),
            kind=p.enum("kind", Purpose),
            date=p.integer("date", 0, MAX_TIME),
            author=p.fp("author"),
            recipients=recipients,
            subject=p.tstr("subject", MAX_TEXT),
            items=items,
            basis=basis,
            letter_digest=p.bstr("letter_digest", 32, N_("letter digest")),
            patient_fp=patient_fp,
            patient_ids=patient_ids,
            pseudonym=pseudonym,
            consent_digest=consent,
            in_reply_to=p.bstr("in_reply_to", ID_BYTES) if "in_reply_to" in p else None,
            phone_call=call,
            encoded=encoded,
            version=p.version,
        )


def _author_mismatch(kind: signed.Kind, kid: bytes, signer: signed.Signer) -> FormatError:
    return FormatError(_("letter manifest: signed with another key than the author's"))


PATIENT_ID_FIELDS = ("name", "ins", "birth_date")
MANIFEST = signed.Kind(
    labels.COSE_LETTER_MANIFEST,
    N_("letter manifest"),
    required=(
        "id", "kind", "date", "author", "recipients", "subject", "items", "basis", "letter_digest"
    ),
    optional=("patient", "pseudonym", "consent", "in_reply_to", "phone_call"),
    wrong_signer=_author_mismatch,
    versions=(1, MANIFEST_VERSION),
)  # fmt: skip


def peek_author(encoded: bytes) -> str:
    """The claimed author's fingerprint (not verified yet: look up their card)."""
    return signed.Unverified(encoded, MANIFEST).signer_fp


def _recipient_payload(r: RecipientEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "fp": bytes.fromhex(r.fp),
        "role": r.role.value,
        "domains": sorted(d.value for d in r.domains),
    }
    if r.name is not None:
        out["name"] = r.name
    return out


def _recipient(value: Any) -> RecipientEntry:
    r = signed.Fields(value, N_("letter manifest recipient"), {"fp", "role", "domains"}, {"name"})
    raw = r.raw("domains")
    if not isinstance(raw, list):
        raise FormatError(_("letter manifest: bad recipient domains"))
    domains = [_domain(d, r.what) for d in raw]  # before set(): a map in the list is unhashable
    if len(set(domains)) != len(domains):
        raise FormatError(_("letter manifest: bad recipient domains"))
    name = r.tstr("name", MAX_TEXT) if "name" in r else None
    return RecipientEntry(r.fp("fp"), r.enum("role", Role), frozenset(domains), name)


def _domain(value: Any, what: str) -> Domain:
    try:
        return Domain(value)
    except (ValueError, TypeError) as exc:
        raise FormatError(
            _("{what}: unknown domain {value!r}").format(what=_(what), value=str(value)[:40])
        ) from exc


def _item(value: Any) -> Item:
    i = signed.Fields(value, N_("letter manifest item"), {"n", "kind", "domain", "digest"})
    if i.raw("kind") not in ITEM_KINDS:
        raise FormatError(_("letter manifest: bad item kind"))
    return Item(i.integer("n"), i.raw("kind"), i.enum("domain", Domain), i.bstr("digest", 32))


class ItemHasher:
    """Salted digest of one item: SHA-256(label || 0x00 || salt || head || content).

    head = canonical CBOR [n, kind, domain, name, size]. Content is fed in pieces.
    """

    def __init__(
        self, n: int, kind: str, domain: Domain, name: str, size: int, salt: bytes
    ) -> None:
        if len(salt) != SALT_BYTES:
            raise FormatError(_("item salt must be 16 bytes"))
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


def letter_commitment(
    message_id: bytes,
    kind: Purpose,
    patient_fp: str | None,
    items: Iterable[Item],
    recipients: Iterable[tuple[str, frozenset[Domain]]],
) -> bytes:
    """The value a letter-bound consent grant names (docs/format-consent.md §3.1):
    SHA-256(label || 0x00 || canonical CBOR [id, kind, patient fp or null,
    [[n, kind, domain, digest] for every item], [[fp, sorted domains] for every
    recipient, sorted by fp]]). It covers every item (their salted digests, so
    their content, names and sizes) and who receives which domains; a recipient
    recomputes it from the signed manifest alone."""
    body = [
        message_id,
        kind.value,
        bytes.fromhex(patient_fp) if patient_fp is not None else None,
        [[i.n, i.kind, i.domain.value, i.digest] for i in items],
        sorted([bytes.fromhex(fp), sorted(d.value for d in domains)] for fp, domains in recipients),
    ]
    return hashlib.sha256(labels.LETTER_COMMITMENT + b"\x00" + cbor.dumps(body)).digest()
