"""Consent objects known here: grants, revocations and objections.

A practitioner records the revocations and objections patients give them (and
may keep grants); a patient keeps a record of what they signed. Each row is
sealed with the home's storage key and holds the signed object together with
the patient card that verified it. Clear columns: the object digest (row id),
the kind, the grant id (random), and a keyed blind index of the patient's
fingerprint. No name, INS or birth date is ever stored in clear.

This module owns the table consents (its schema is in store/db.py).
"""

from __future__ import annotations

from typing import Any, Final

from securemsg.core import cbor, localnames
from securemsg.core.card import Card, same_patient
from securemsg.core.consent import (
    ConsentObject,
    Grant,
    Objection,
    Revocation,
    peek,
    short_fp,
    verify_any,
)
from securemsg.core.digests import object_digest
from securemsg.core.frozen import Frozen, _set
from securemsg.errors import ConsentRefused, FormatError
from securemsg.i18n import N_, _
from securemsg.store.home import Home

ORIGINS: Final = ("signed", "imported")


class StoredConsent(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "obj",
        "patient_card",
        "added",
        "origin",
    )
    obj: ConsentObject
    patient_card: Card
    added: int
    origin: str  # signed (by me, the patient) | imported

    def __init__(self, obj: ConsentObject, patient_card: Card, added: int, origin: str) -> None:
        _set(self, "obj", obj)
        _set(self, "patient_card", patient_card)
        _set(self, "added", added)
        _set(self, "origin", origin)

    @property
    def digest(self) -> str:
        return object_digest(self.obj.encoded).hex()

    def to_cbor(self) -> bytes:
        return cbor.dumps(
            {
                "object": self.obj.encoded,
                "card": self.patient_card.encoded,
                "added": self.added,
                "origin": self.origin,
            }
        )

    @classmethod
    def from_cbor(cls, data: bytes) -> StoredConsent:
        rec = cbor.loads(data, N_("consent record"))
        if not isinstance(rec, dict) or set(rec) != {"object", "card", "added", "origin"}:
            raise FormatError(_("consent record: unexpected fields"))
        obj, raw_card, added, origin = rec["object"], rec["card"], rec["added"], rec["origin"]
        if (
            not isinstance(obj, bytes)
            or not isinstance(raw_card, bytes)
            or type(added) is not int  # never True for 1 (docs/format.md §1)
            or not isinstance(origin, str)
        ):
            raise FormatError(_("consent record: a field has the wrong type"))
        card = Card.verify(raw_card)
        return cls(verify_any(obj, card), card, added, origin)


class Recorded(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "stored",
        "status",
    )
    stored: StoredConsent
    status: str  # added | unchanged

    def __init__(self, stored: StoredConsent, status: str) -> None:
        _set(self, "stored", stored)
        _set(self, "status", status)


class ConsentStore:
    def __init__(self, home: Home) -> None:
        self.home = home
        self.keys = home.storage_keys()
        self._conn = home.database()  # tables: store/db.py

    # -- lookups ---------------------------------------------------------------
    def _patient_index(self, patient_fp: str) -> str:
        return self.keys.blind_index(b"consent-patient", bytes.fromhex(patient_fp))

    def _place(self, row_id: str) -> bytes:
        return b"consents:" + row_id.encode()

    def _rows(self, where: str = "", args: tuple[Any, ...] = ()) -> list[StoredConsent]:
        rows = self._conn.execute(
            f"SELECT id, blob FROM consents {where} ORDER BY rowid",  # noqa: S608 (fixed text)
            args,
        ).fetchall()
        out = []
        for row_id, blob in rows:
            stored = StoredConsent.from_cbor(self.keys.open(self._place(row_id), blob))
            if stored.digest != row_id:
                raise FormatError(_("a consent record of the local store was moved"))
            out.append(stored)
        return out

    def all(self) -> list[StoredConsent]:
        return self._rows()

    def for_patient(self, patient_fp: str, kind: str) -> list[StoredConsent]:
        return self._rows("WHERE patient = ? AND kind = ?", (self._patient_index(patient_fp), kind))

    def revocations_for(self, patient_fp: str) -> list[Revocation]:
        """Verified revocations signed by this patient, known here."""
        out = [s.obj for s in self.for_patient(patient_fp, Revocation.kind)]
        return [o for o in out if isinstance(o, Revocation) and o.patient_fp == patient_fp]

    def objections_for(self, patient_fp: str) -> list[Objection]:
        """Verified objections signed by this patient, known here."""
        out = [s.obj for s in self.for_patient(patient_fp, Objection.kind)]
        return [o for o in out if isinstance(o, Objection) and o.patient_fp == patient_fp]

    def restricting(self, patient: Card) -> list[StoredConsent]:
        """Revocations and objections signed with any key for the same patient as
        ``patient`` (INS, else name + birth date; the card each was verified with)."""
        rows = self._rows("WHERE kind IN (?, ?)", (Revocation.kind, Objection.kind))
        return [s for s in rows if same_patient(s.patient_card, patient)]

    def is_recorded(self, obj: ConsentObject) -> bool:
        """Whether this very object (by digest) is kept here."""
        row_id = object_digest(obj.encoded).hex()
        row = self._conn.execute("SELECT 1 FROM consents WHERE id = ?", (row_id,)).fetchone()
        return row is not None

    # -- verification against a known patient -------------------------------
    def patient_card(self, signer_fp: str, carried: Card | None = None, kind: str = "") -> Card:
        """The card of the patient who signed: mine, or a contact's (added or
        pinned); for a revocation or an objection (they only restrict), else the
        card given with it (``carried``), once checked."""
        me = self.home.card()
        if signer_fp == me.fingerprint:
            card = me
        else:
            from securemsg.store.contacts import Contacts

            contact = Contacts(self.home).get(signer_fp)
            if (
                contact is None
                and carried is not None
                and carried.fingerprint == signer_fp
                and kind in (Revocation.kind, Objection.kind)
            ):
                card = carried
            elif contact is None:
                raise ConsentRefused(
                    _(
                        "this consent object is signed by key {signer_fp}, which is not one of "
                        "your contacts: it cannot be verified"
                    ).format(signer_fp=short_fp(signer_fp)),
                    rule="unknown_patient",
                    party=signer_fp,
                    hint=_(
                        "add the patient's card first: securemsg contacts add CARD_FILE; a "
                        "revocation or an objection may come with it: --card CARD_FILE"
                    ),
                )
            else:
                card = contact.card
        if not card.profile.role.is_patient:
            raise ConsentRefused(
                _(
                    "this consent object is signed by {name}, a {role}: only a patient signs "
                    "consent"
                ).format(name=card.name, role=localnames.role(str(card.profile.role))),
                rule="signer_not_patient",
                party=signer_fp,
            )
        return card

    def verify(self, data: bytes, carried: Card | None = None) -> tuple[ConsentObject, Card]:
        kind, signer = peek(data)
        card = self.patient_card(signer, carried, kind)
        return verify_any(data, card), card

    # -- writing ------------------------------------------------------------------
    def record(
        self, data: bytes, now: int, origin: str = "imported", carried: Card | None = None
    ) -> Recorded:
        """Verify ``data`` against the patient's card and keep it (idempotent).
        ``carried``: the card given with a revocation or objection (app/consent.py
        checked it is current and no public test key in a real home)."""
        if origin not in ORIGINS:
            raise ValueError(_("origin must be one of {ORIGINS}").format(ORIGINS=ORIGINS))
        obj, card = self.verify(data, carried)
        stored = StoredConsent(obj, card, now, origin)
        row_id = stored.digest
        existing = self._rows("WHERE id = ?", (row_id,))
        if existing:
            return Recorded(existing[0], "unchanged")
        grant_id = obj.id.hex() if isinstance(obj, Grant) else None
        if isinstance(obj, Revocation):
            grant_id = obj.grant_id.hex()
        blob = self.keys.seal(self._place(row_id), stored.to_cbor())
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.execute(
                "INSERT INTO consents(id, kind, patient, grant_id, blob) VALUES (?, ?, ?, ?, ?)",
                (row_id, obj.kind, self._patient_index(obj.patient_fp), grant_id, blob),
            )
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        return Recorded(stored, "added")
