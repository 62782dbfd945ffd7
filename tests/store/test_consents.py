"""store.consents: verified import, sealed rows, lookups for the letter code."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from securemsg.core.card import Card
from securemsg.core.consent import Grant, Objection, Recipient, Revocation
from securemsg.core.domains import Purpose
from securemsg.core.identity import Profile, Role, SecretIdentity
from securemsg.core.testkeys import derive_test_identity
from securemsg.errors import ConsentRefused, VerificationError
from securemsg.store.consents import ConsentStore
from securemsg.store.contacts import Contacts
from securemsg.store.home import Home

NOW = int(time.time())


def ident(label: str) -> SecretIdentity:
    return derive_test_identity(f"store-consent/{label}")


def card(label: str, name: str, role: Role, **kw: str) -> Card:
    return Card.sign(ident(label), Profile(name=name, role=role, **kw), NOW - 60, test_key=True)


PATIENT = card("patient", "Paul Durand", Role.PATIENT, ins="170017512345665")
OTHER = card("other", "Eve Moreau", Role.PATIENT)
GP = card("gp", "Dr Alice Martin", Role.GP)
NURSE = card("nurse", "Nina Petit", Role.NURSE)


def make_home(path: Path, label: str, c: Card, contacts: list[Card]) -> Home:
    home = Home(path, env={})
    home.create(ident(label), c, {"kind": "none"})  # keeps the secret in memory: no key store
    book = Contacts(home)
    for other in contacts:
        book.add(other, NOW)
    return home


@pytest.fixture
def gp_home(tmp_path: Path) -> Home:
    return make_home(tmp_path / "gp", "gp", GP, [PATIENT, NURSE])


def grant(**kw: Any) -> Grant:
    args: dict[str, Any] = {
        "sender_fp": GP.fingerprint,
        "recipients": [Recipient(role=Role.NURSE)],
        "purpose": Purpose.REFERRAL,
        "now": NOW,
    }
    args.update(kw)
    return Grant.sign(ident("patient"), PATIENT, **args)


def dump(home: Home) -> list[Any]:
    return sorted(home.database().execute("SELECT * FROM consents").fetchall())


def test_record_and_lookups(gp_home: Home) -> None:
    store = ConsentStore(gp_home)
    g = grant()
    rev = Revocation.sign(ident("patient"), PATIENT, g, NOW)
    obj = Objection.sign(ident("patient"), PATIENT, Recipient(role=Role.NURSE), NOW)
    assert store.record(g.encoded, NOW).status == "added"
    assert store.record(rev.encoded, NOW).status == "added"
    assert store.record(obj.encoded, NOW).status == "added"
    assert store.record(obj.encoded, NOW).status == "unchanged"
    assert store.revocations_for(PATIENT.fingerprint) == [rev]
    assert store.objections_for(PATIENT.fingerprint) == [obj]
    assert [s.obj for s in store.for_patient(PATIENT.fingerprint, Grant.kind)] == [g]
    assert [r.grant_id for r in store.revocations_for(PATIENT.fingerprint)] == [g.id]
    assert store.revocations_for(OTHER.fingerprint) == []
    assert [s.obj.kind for s in store.all()] == ["grant", "revocation", "objection"]
    # a fresh store object (new process) reads the same
    assert ConsentStore(gp_home).objections_for(PATIENT.fingerprint) == [obj]


def test_rows_sealed_no_patient_data(gp_home: Home) -> None:
    store = ConsentStore(gp_home)
    store.record(grant().encoded, NOW)
    rows = dump(gp_home)
    assert len(rows) == 1
    _, kind, patient_index, grant_id, blob = rows[0]
    assert kind == "grant" and len(grant_id) == 32
    assert patient_index != PATIENT.fingerprint and len(patient_index) == 32
    assert b"Paul Durand" not in blob and b"170017512345665" not in blob
    raw = b"".join(p.read_bytes() for p in gp_home.path.glob("securemsg.db*"))
    assert b"Paul Durand" not in raw.replace(PATIENT.encoded, b"")
    assert b"170017512345665" not in raw


def test_unknown_patient_refused_store_unchanged(tmp_path: Path) -> None:
    home = make_home(tmp_path / "n", "nurse", NURSE, [GP])
    store = ConsentStore(home)
    before = dump(home)
    with pytest.raises(ConsentRefused) as info:
        store.record(grant().encoded, NOW)
    assert info.value.rule == "unknown_patient" and "contacts add" in (info.value.hint or "")
    assert dump(home) == before


def test_practitioner_signed_object_refused(tmp_path: Path) -> None:
    home = make_home(tmp_path / "n", "nurse", NURSE, [GP, PATIENT])
    g = grant()
    from securemsg.core import cose, labels

    forged = cose.sign(
        ident("gp").signing_key,
        labels.COSE_CONSENT_OBJECTION,
        bytes.fromhex(GP.fingerprint),
        cose.parse(
            Objection.sign(ident("patient"), PATIENT, Recipient(role=Role.GP), NOW).encoded
        ).payload,
    )
    store = ConsentStore(home)
    before = dump(home)
    with pytest.raises(ConsentRefused) as info:
        store.record(forged, NOW)
    assert info.value.rule == "signer_not_patient"
    tampered = bytearray(g.encoded)
    tampered[-3] ^= 0x10
    with pytest.raises(ConsentRefused) as info:
        store.record(bytes(tampered), NOW)
    assert info.value.rule == "bad_signature"
    assert dump(home) == before


def test_patient_records_own(tmp_path: Path) -> None:
    home = make_home(tmp_path / "p", "patient", PATIENT, [GP, NURSE])
    store = ConsentStore(home)
    g = grant()
    assert store.record(g.encoded, NOW, origin="signed").stored.origin == "signed"
    assert [s.obj for s in store.for_patient(PATIENT.fingerprint, Grant.kind)] == [g]


def test_moved_row_detected(gp_home: Home) -> None:
    store = ConsentStore(gp_home)
    store.record(grant().encoded, NOW)
    store.record(grant().encoded, NOW)
    conn: sqlite3.Connection = gp_home.database()
    (a, _), (_, blob_b) = conn.execute("SELECT id, blob FROM consents").fetchall()
    conn.execute("UPDATE consents SET blob = ? WHERE id = ?", (blob_b, a))
    with pytest.raises(VerificationError):
        store.all()
