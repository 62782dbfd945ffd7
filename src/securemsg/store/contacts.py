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

from typing import Any

from securemsg.core import cbor, localnames, names, signed
from securemsg.core.card import Card
from securemsg.core.fingerprint import check_evidence, normalize_fingerprint, safety_number
from securemsg.core.frozen import Frozen, _set, replace
from securemsg.errors import (
    ConflictError,
    FormatError,
    NotFoundError,
    UsageError,
    VerificationError,
)
from securemsg.i18n import N_, _
from securemsg.store.home import Home

MIN_PREFIX = 6


class Contact(Frozen):
    """One correspondent's record (a frozen value, core.frozen: every everyday
    command builds this class at start-up; copies with :func:`replace`)."""

    __slots__ = (  # noqa: RUF023 (field order)
        "card",
        "verified",
        "added",
        "state",
        "replaced_by",
        "replaced_at",
        "replaces",
        "pinned",
        "succession",
        "revocation",
        "revoked_as_of",
    )
    card: Card
    verified: bool
    added: int
    state: str  # active | replaced
    replaced_by: str | None
    replaced_at: int | None
    replaces: str | None
    # A patient card pinned on first use from a letter that carried it (app/trust.py),
    # never added by the user: "patient key not verified by you" until verified.
    pinned: bool
    # Issue 16 (store/keychanges.py): the key succession that made this contact
    # (signed by the key it replaces), and this key's revocation, as imported.
    succession: bytes | None
    revocation: bytes | None
    revoked_as_of: int | None  # T, the time from which its letters are refused

    def __init__(
        self,
        card: Card,
        verified: bool,
        added: int,
        state: str = "active",
        replaced_by: str | None = None,
        replaced_at: int | None = None,
        replaces: str | None = None,
        pinned: bool = False,
        succession: bytes | None = None,
        revocation: bytes | None = None,
        revoked_as_of: int | None = None,
    ) -> None:
        _set(self, "card", card)
        _set(self, "verified", verified)
        _set(self, "added", added)
        _set(self, "state", state)
        _set(self, "replaced_by", replaced_by)
        _set(self, "replaced_at", replaced_at)
        _set(self, "replaces", replaces)
        _set(self, "pinned", pinned)
        _set(self, "succession", succession)
        _set(self, "revocation", revocation)
        _set(self, "revoked_as_of", revoked_as_of)

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
            cbor.loads(data, N_("contact record")),
            N_("contact record"),
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
            raise FormatError(_("contact record: succession or revocation has the wrong type"))
        card, verified, state = r.raw("card"), r.raw("verified"), r.tstr("state")
        pinned = r.raw("pinned") if "pinned" in r else False
        if not isinstance(card, bytes) or type(verified) is not bool or type(pinned) is not bool:
            raise FormatError(_("contact record: card or verified has the wrong type"))
        if state not in ("active", "replaced"):
            raise FormatError(_("contact record: unknown state"))
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


class AddResult(Frozen):
    """What ``contacts add`` did (a frozen value, core.frozen, as Contact)."""

    __slots__ = ("contact", "status", "previous", "warnings")  # noqa: RUF023 (field order)
    contact: Contact
    status: str  # added | updated | changed | unchanged | replaced
    previous: Contact | None
    warnings: tuple[str, ...]  # names close to a known one (name_warnings)

    def __init__(
        self,
        contact: Contact,
        status: str,
        previous: Contact | None = None,
        warnings: tuple[str, ...] = (),
    ) -> None:
        _set(self, "contact", contact)
        _set(self, "status", status)
        _set(self, "previous", previous)
        _set(self, "warnings", warnings)


def same_person(a: Card, b: Card) -> bool:
    pa, pb = a.profile, b.profile
    if pa.rpps and pa.rpps == pb.rpps:
        return True
    if pa.ins and pa.ins == pb.ins:
        return True
    return pa.role == pb.role and names.match_key(pa.name) == names.match_key(pb.name)


def _who(c: Card, me: Card) -> str:
    if c.fingerprint == me.fingerprint:
        return _("your own name")
    return _("the name of your contact {name} ({role}, {fingerprint})").format(
        name=c.name, role=c.profile.role.value, fingerprint=c.display_fingerprint
    )


def check_lookalike(card: Card, known: list[Card], me: Card) -> None:
    """Refuse a name visually confusable with a known one but not the same
    (UTS #39 skeletons, names.looks_alike): "Dr Аlice Martin" with a Cyrillic
    "А" beside Dr Alice Martin. The same name with another role is another
    person, and is only warned about (name_warnings)."""
    for old in [me, *known]:
        if names.looks_alike(old.name, card.name) and not _same_name(old, card):
            scripts = sorted(names.scripts_of(card.name))
            raise ConflictError(
                _(
                    "the name {name!r} looks like {old} but the key is another "
                    "({display_fingerprint}); letters of the name: {lower}"
                ).format(
                    name=card.name,
                    old=_who(old, me),
                    display_fingerprint=card.display_fingerprint,
                    lower=", ".join(scripts).lower(),
                ),
                hint=_(
                    "it may impersonate them; if it is really someone else, check the "
                    "fingerprint with that person, then add it with --replace"
                ),
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
                    _(
                        "{name} ({role}) has {who}; "
                        "check which one you mean before you write to them"
                    ).format(
                        name=card.name,
                        role=localnames.role(card.profile.role.value),
                        who=_who(old, me),
                    )
                )
        elif names.looks_alike(old.name, card.name):  # accepted with --replace
            out.append(
                _("the name {name!r} looks like {who}").format(name=card.name, who=_who(old, me))
            )
        elif names.nearly_alike(old.name, card.name):
            out.append(
                _(
                    "the name {name!r} differs from {who} only by accents or "
                    "punctuation; check the fingerprint with them before you write to them"
                ).format(name=card.name, who=_who(old, me))
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
    "name": N_("name"),
    "role": N_("role"),
    "rpps": N_("RPPS"),
    "ins": N_("INS"),
    "birth_date": N_("birth date"),
    "specialty": N_("specialty"),
    "email": N_("email"),
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
            out.append(_("{field} changed").format(field=_(_LABELS[field])))
        else:
            out.append(
                _("{field} {before} -> {after}").format(
                    field=_(_LABELS[field]), before=_shown(before), after=_shown(after)
                )
            )
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
                _(
                    "the card of {name} belongs to a PUBLIC TEST KEY from securemsg's keys/ folder"
                ).format(name=card.name),
                hint=_("anyone can sign with a test key; ask the person for their real card"),
            )
        if card.fingerprint == me.fingerprint:
            raise UsageError(_("this is your own card"))
        existing = self.get(card.fingerprint)
        if existing is not None:
            if existing.state == "replaced":
                raise VerificationError(
                    _(
                        "the key of {name} ({display_fingerprint}) was replaced and may not be "
                        "used again"
                    ).format(name=card.name, display_fingerprint=card.display_fingerprint),
                    hint=_("ask them for their current card"),
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
                _(
                    "{name} ({value}) is already known with another key: "
                    "{display_fingerprint}; this card has {display_fingerprint2}"
                ).format(
                    name=old.name,
                    value=old.card.profile.role.value,
                    display_fingerprint=old.card.display_fingerprint,
                    display_fingerprint2=card.display_fingerprint,
                ),
                hint=_("confirm the new key with them out of band, then add it with --replace"),
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
                _(
                    "this re-issued card of key {display_fingerprint} now claims the "
                    "identity of {name}, who is known with another key"
                ).format(display_fingerprint=card.display_fingerprint, name=taken[0].name),
                hint=_("do not accept it; ask both persons which key is theirs"),
            )
        known = [c.card for c in others]
        identity = _changes(old, card, IDENTITY_FIELDS)
        if identity and not replace_key:
            check_lookalike(card, known, me)
            raise ConflictError(
                _(
                    "the card of {name} ({display_fingerprint}) was re-issued with another "
                    "identity: {identity}; the key is the same, but a change of who it names "
                    "is a key change"
                ).format(
                    name=old.name,
                    display_fingerprint=old.display_fingerprint,
                    identity="; ".join(identity),
                ),
                hint=_(
                    "check with {name} out of band that this card is theirs (compare the "
                    "fingerprint), then add it with --replace; the contact will then show as "
                    "not verified until you verify it again"
                ).format(name=old.name),
            )
        warnings: list[str] = []
        if identity:
            text = (
                _(
                    "the card of key {fingerprint} changed its holder's {changes}. This contact "
                    "is NOT verified any more (it was verified): compare the fingerprint with "
                    "them again"
                )
                if existing.verified
                else _(
                    "the card of key {fingerprint} changed its holder's {changes}. This contact "
                    "is NOT verified any more: compare the fingerprint with them again"
                )
            )
            warnings.append(
                text.format(fingerprint=card.display_fingerprint, changes="; ".join(identity))
            )
        details = _changes(old, card, DETAIL_FIELDS)
        if old.enc_public != card.enc_public:
            details.append(_("encryption key (the safety number changed)"))
        if details:
            warnings.append(
                _("the card of {name} changed its {changes}").format(
                    name=card.name, changes="; ".join(details)
                )
            )
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
                _("no contact matches {query!r}{close}").format(query=query, close=close),
                hint=_(
                    "see `securemsg contacts list`; add a card with `securemsg contacts add FILE`"
                ),
            )
        if len(hits) > 1:
            listing = "; ".join(
                f"{c.name} ({c.card.profile.role.value}) {c.fingerprint[:12]}" for c in hits
            )
            raise UsageError(
                _("{query!r} matches several contacts: {listing}").format(
                    query=query, listing=listing
                ),
                hint=_("give a longer fingerprint prefix"),
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
