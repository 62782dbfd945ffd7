"""The directory of correspondents, built from verified cards (TOFU).

Long file: the contact record, the same-person and look-alike checks, and the
re-issued card rules belong together (issue 11); key successions and
revocations (issue 16) are in store/keychanges.py.

Each row is sealed with the home's storage key: names, INS and birth dates of
patients never sit in plaintext in the database. Only the fingerprint and the
row state are clear (needed to find a row; a fingerprint names a key, not a
person).

This module owns the table contacts (its schema is in store/db.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from securemsg.core import cbor, names, signed
from securemsg.core.card import Card
from securemsg.core.fingerprint import check_evidence, normalize_fingerprint, safety_number
from securemsg.errors import (
    ConflictError,
    FormatError,
    NotFoundError,
    UsageError,
    VerificationError,
)
from securemsg.store.home import Home

MIN_PREFIX = 6


@dataclass(frozen=True, slots=True)
class Contact:
    card: Card
    verified: bool
    added: int
    state: str = "active"  # active | replaced
    replaced_by: str | None = None
    replaced_at: int | None = None
    replaces: str | None = None
    # A patient card pinned on first use from a letter that carried it (app/trust.py),
    # never added by the user: "patient key not verified by you" until verified.
    pinned: bool = False
    # Issue 16 (store/keychanges.py): the key succession that made this contact
    # (signed by the key it replaces), and this key's revocation, as imported.
    succession: bytes | None = None
    revocation: bytes | None = None
    revoked_as_of: int | None = None  # T, the time from which its letters are refused

    @property
    def revoked(self) -> bool:
        return self.revocation is not None

    @property
    def unverified_pin(self) -> bool:
        return self.pinned and not self.verified

    @property
    def fingerprint(self) -> str:
        return self.card.fingerprint

    @property
    def name(self) -> str:
        return self.card.name

    def to_cbor(self) -> bytes:
        rec: dict[str, Any] = {
            "card": self.card.encoded,
            "verified": self.verified,
            "added": self.added,
            "state": self.state,
        }
        for key in ("replaced_by", "replaced_at", "replaces", "succession", "revocation"):
            if getattr(self, key) is not None:
                rec[key] = getattr(self, key)
        if self.pinned:
            rec["pinned"] = True
        if self.revoked_as_of is not None:
            rec["revoked_as_of"] = self.revoked_as_of
        return cbor.dumps(rec)

    @classmethod
    def from_cbor(cls, data: bytes) -> Contact:
        """Read strictly, as every record (docs/format.md §1): a boolean is a
        boolean, an integer an integer (never ``true`` for 1), no other field."""
        r = signed.Fields(
            cbor.loads(data, "contact record"),
            "contact record",
            ("card", "verified", "added", "state"),
            (
                "replaced_by",
                "replaced_at",
                "replaces",
                "pinned",
                "succession",
                "revocation",
                "revoked_as_of",
            ),
        )
        blobs = {k: r.raw(k) if k in r else None for k in ("succession", "revocation")}
        if not all(v is None or isinstance(v, bytes) for v in blobs.values()):
            raise FormatError("contact record: succession or revocation has the wrong type")
        card, verified, state = r.raw("card"), r.raw("verified"), r.tstr("state")
        pinned = r.raw("pinned") if "pinned" in r else False
        if not isinstance(card, bytes) or type(verified) is not bool or type(pinned) is not bool:
            raise FormatError("contact record: card or verified has the wrong type")
        if state not in ("active", "replaced"):
            raise FormatError("contact record: unknown state")
        return cls(
            card=Card.verify(card),
            verified=verified,
            added=r.integer("added"),
            state=state,
            replaced_by=r.tstr("replaced_by", 40) if "replaced_by" in r else None,
            replaced_at=r.integer("replaced_at") if "replaced_at" in r else None,
            replaces=r.tstr("replaces", 40) if "replaces" in r else None,
            pinned=pinned,
            succession=blobs["succession"],
            revocation=blobs["revocation"],
            revoked_as_of=r.time("revoked_as_of") if "revoked_as_of" in r else None,
        )


@dataclass(frozen=True, slots=True)
class AddResult:
    contact: Contact
    status: str  # added | updated | changed | unchanged | replaced
    previous: Contact | None = None
    warnings: tuple[str, ...] = ()  # names close to a known one (name_warnings)


def same_person(a: Card, b: Card) -> bool:
    pa, pb = a.profile, b.profile
    if pa.rpps and pa.rpps == pb.rpps:
        return True
    if pa.ins and pa.ins == pb.ins:
        return True
    return pa.role == pb.role and names.match_key(pa.name) == names.match_key(pb.name)


def _who(c: Card, me: Card) -> str:
    if c.fingerprint == me.fingerprint:
        return "your own name"
    return f"the name of your contact {c.name} ({c.profile.role.value}, {c.display_fingerprint})"


def check_lookalike(card: Card, known: list[Card], me: Card) -> None:
    """Refuse a name visually confusable with a known one but not the same
    (UTS #39 skeletons, names.looks_alike): "Dr Аlice Martin" with a Cyrillic
    "А" beside Dr Alice Martin. The same name with another role is another
    person, and is only warned about (name_warnings)."""
    for old in [me, *known]:
        if names.looks_alike(old.name, card.name) and not _same_name(old, card):
            scripts = sorted(names.scripts_of(card.name))
            raise ConflictError(
                f"the name {card.name!r} looks like {_who(old, me)} "
                f"but the key is another ({card.display_fingerprint}); "
                f"letters of the name: {', '.join(scripts).lower()}",
                hint="it may impersonate them; if it is really someone else, check the "
                "fingerprint with that person, then add it with --replace",
            )


def name_warnings(card: Card, known: list[Card], me: Card) -> tuple[str, ...]:
    """Names close to a known one, not refused: the same name with another role,
    or one that differs only by accents or punctuation ("Martín", "Dr.")."""
    out = []
    for old in [me, *known]:
        if old.fingerprint == card.fingerprint:
            continue
        if _same_name(old, card):
            if old.profile.role != card.profile.role or old.fingerprint == me.fingerprint:
                out.append(
                    f"{card.name} ({card.profile.role.value}) has {_who(old, me)}; "
                    "check which one you mean before you write to them"
                )
        elif names.looks_alike(old.name, card.name):  # accepted with --replace
            out.append(f"the name {card.name!r} looks like {_who(old, me)}")
        elif names.nearly_alike(old.name, card.name):
            out.append(
                f"the name {card.name!r} differs from {_who(old, me)} only by accents or "
                "punctuation; check the fingerprint with them before you write to them"
            )
    return tuple(out)


def _same_name(a: Card, b: Card) -> bool:
    return names.match_key(a.name) == names.match_key(b.name)


# -- a re-issued card (the same key, a later card) -----------------------------------
# What names the person a key stands for: a change of any of these on a known key
# is a key-change event (the checks of a new key, --replace, "verified" reset).
IDENTITY_FIELDS = ("name", "role", "rpps", "ins", "birth_date")
# What describes them without naming them: changes are accepted, with a warning,
# and the contact stays verified (its key did not change).
DETAIL_FIELDS = ("specialty", "email")
_LABELS = {
    "name": "name",
    "role": "role",
    "rpps": "RPPS",
    "ins": "INS",
    "birth_date": "birth date",
    "specialty": "specialty",
    "email": "email",
}
_NOT_ECHOED = ("ins", "birth_date")  # a patient's identifiers stay off the terminal log


def _changes(old: Card, new: Card, fields: tuple[str, ...]) -> list[str]:
    """One phrase per field that differs: "name 'A' -> 'B'", "INS changed"."""
    out = []
    for field in fields:
        before, after = getattr(old.profile, field), getattr(new.profile, field)
        if before == after:
            continue
        if field in _NOT_ECHOED:
            out.append(f"{_LABELS[field]} changed")
        else:
            out.append(f"{_LABELS[field]} {_shown(before)} -> {_shown(after)}")
    return out


def _shown(value: object) -> str:
    if value is None:
        return "(none)"
    return repr(str(value))


class Contacts:
    def __init__(self, home: Home) -> None:
        self.home = home
        self.keys = home.storage_keys()
        self._conn = home.database()  # tables: store/db.py

    def _place(self, fp: str) -> bytes:
        return b"contacts:" + fp.encode()

    def all(self, include_replaced: bool = False) -> list[Contact]:
        rows = self._conn.execute("SELECT fp, blob FROM contacts ORDER BY rowid").fetchall()
        out = [Contact.from_cbor(self.keys.open(self._place(fp), blob)) for fp, blob in rows]
        return [c for c in out if include_replaced or c.state == "active"]

    def get(self, fp: str) -> Contact | None:
        row = self._conn.execute("SELECT blob FROM contacts WHERE fp = ?", (fp,)).fetchone()
        return None if row is None else Contact.from_cbor(self.keys.open(self._place(fp), row[0]))

    def _put(self, contact: Contact) -> None:
        blob = self.keys.seal(self._place(contact.fingerprint), contact.to_cbor())
        self._conn.execute(
            "INSERT INTO contacts(fp, state, blob) VALUES (?, ?, ?) "
            "ON CONFLICT(fp) DO UPDATE SET state = excluded.state, blob = excluded.blob",
            (contact.fingerprint, contact.state, blob),
        )

    def add(self, card: Card, now: int, replace_key: bool = False) -> AddResult:
        card.check_current(now)
        me = self.home.card()
        if card.test_key and not me.test_key:
            raise VerificationError(
                f"the card of {card.name} belongs to a PUBLIC TEST KEY "
                "from securemsg's keys/ folder",
                hint="anyone can sign with a test key; ask the person for their real card",
            )
        if card.fingerprint == me.fingerprint:
            raise UsageError("this is your own card")
        existing = self.get(card.fingerprint)
        if existing is not None:
            if existing.state == "replaced":
                raise VerificationError(
                    f"the key of {card.name} ({card.display_fingerprint}) was replaced "
                    f"and may not be used again",
                    hint="ask them for their current card",
                )
            if card.created > existing.card.created:
                return self._reissued(existing, card, me, replace_key)
            return AddResult(existing, "unchanged")
        clash = [c for c in self.all() if same_person(c.card, card)]
        known = [c.card for c in self.all() if c not in clash]
        if not replace_key:
            check_lookalike(card, known, me)
        if clash and not replace_key:
            old = clash[0]
            raise ConflictError(
                f"{old.name} ({old.card.profile.role.value}) is already known with another key: "
                f"{old.card.display_fingerprint}; this card has {card.display_fingerprint}",
                hint="confirm the new key with them out of band, then add it with --replace",
            )
        contact = Contact(
            card=card, verified=False, added=now, replaces=clash[0].fingerprint if clash else None
        )
        retired = [
            replace(c, state="replaced", replaced_by=card.fingerprint, replaced_at=now)
            for c in clash
        ]
        self._write([*retired, contact])
        return AddResult(
            contact,
            "replaced" if clash else "added",
            clash[0] if clash else None,
            name_warnings(card, known, me),
        )

    def pin_patient(self, card: Card, now: int) -> Contact:
        """Keep a patient card a letter carried, on first use (app/trust.py checked
        it): a contact in the pinned state, not verified by the user."""
        existing = self.get(card.fingerprint)
        if existing is not None:
            return existing
        contact = Contact(card=card, verified=False, added=now, pinned=True)
        self._write([contact])
        return contact

    def _reissued(self, existing: Contact, card: Card, me: Card, replace_key: bool) -> AddResult:
        """A later card for a known key (docs/cli.md, "contacts add").

        Renewed validity only: accepted silently, still verified. Another
        specialty, email or encryption key: accepted with a warning, still
        verified (the signing key vouches for it). Another name, role, RPPS,
        INS or birth date: a key change, as a new key for a known person is: the
        same-person and look-alike checks, refused unless ``--replace``, then
        not verified any more, with a warning. A card that claims the identity
        of another contact is refused even with ``--replace``."""
        old = existing.card
        others = [c for c in self.all() if c.fingerprint != card.fingerprint]
        taken = [c for c in others if same_person(c.card, card)]
        if taken:
            raise ConflictError(
                f"this re-issued card of key {card.display_fingerprint} now claims the "
                f"identity of {taken[0].name}, who is known with another key",
                hint="do not accept it; ask both persons which key is theirs",
            )
        known = [c.card for c in others]
        identity = _changes(old, card, IDENTITY_FIELDS)
        if identity and not replace_key:
            check_lookalike(card, known, me)
            raise ConflictError(
                f"the card of {old.name} ({old.display_fingerprint}) was re-issued with "
                f"another identity: {'; '.join(identity)}; the key is the same, but a "
                "change of who it names is a key change",
                hint=f"check with {old.name} out of band that this card is theirs "
                "(compare the fingerprint), then add it with --replace; the contact "
                "will then show as not verified until you verify it again",
            )
        warnings: list[str] = []
        if identity:
            was = " (it was verified)" if existing.verified else ""
            warnings.append(
                f"the card of key {card.display_fingerprint} changed its holder's "
                f"{'; '.join(identity)}. This contact is NOT verified any more{was}: "
                "compare the fingerprint with them again"
            )
        details = _changes(old, card, DETAIL_FIELDS)
        if old.enc_public != card.enc_public:
            details.append("encryption key (the safety number changed)")
        if details:
            warnings.append(f"the card of {card.name} changed its {'; '.join(details)}")
        if identity:
            warnings += name_warnings(card, known, me)
        updated = replace(existing, card=card, verified=existing.verified and not identity)
        self._write([updated])
        return AddResult(updated, "changed" if identity else "updated", existing, tuple(warnings))

    def write(self, contacts: list[Contact]) -> None:
        """Put these records in one transaction (store/keychanges.py)."""
        self._write(contacts)

    def _write(self, contacts: list[Contact]) -> None:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for c in contacts:
                self._put(c)
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def find(self, query: str, include_replaced: bool = False) -> Contact:
        """A display name (case-insensitive) or a fingerprint prefix."""
        pool = self.all(include_replaced=include_replaced)
        key = names.match_key(query)
        hits = [c for c in pool if names.match_key(c.name) == key]
        prefix = normalize_fingerprint(query)
        if not hits and key:
            hits = [c for c in pool if f" {key} " in f" {names.match_key(c.name)} "]
        if (
            not hits
            and len(prefix) >= MIN_PREFIX
            and all(ch in "0123456789abcdef" for ch in prefix)
        ):
            hits = [c for c in pool if c.fingerprint.startswith(prefix)]
        if not hits:
            close = names.suggest(query, [c.name for c in pool])
            raise NotFoundError(
                f"no contact matches {query!r}{close}",
                hint="see `securemsg contacts list`; add a card with `securemsg contacts add FILE`",
            )
        if len(hits) > 1:
            listing = "; ".join(
                f"{c.name} ({c.card.profile.role.value}) {c.fingerprint[:12]}" for c in hits
            )
            raise UsageError(
                f"{query!r} matches several contacts: {listing}",
                hint="give a longer fingerprint prefix",
            )
        return hits[0]

    def mark_verified(self, query: str, evidence: str) -> Contact:
        contact = self.find(query)
        me = self.home.card()
        sn = safety_number(
            (me.sign_public, me.enc_public), (contact.card.sign_public, contact.card.enc_public)
        )
        check_evidence(evidence, contact.fingerprint, sn, contact.name)
        verified = replace(contact, verified=True, pinned=False)
        self._write([verified])
        return verified
