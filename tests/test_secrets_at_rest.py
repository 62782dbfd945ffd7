"""No private key byte sits in any file of the home, in any encoding.

``init`` runs through the real CLI with ``SecretIdentity.generate`` patched to
return keys we know; then every file of the home is scanned.
"""

from __future__ import annotations

import base64
import hashlib
import stat
from pathlib import Path

import pytest

from securemsg.core.identity import SecretIdentity
from securemsg.core.storage import StorageKeys

INS = "184127505600774"
PATIENT = "Paulette Durandeau"
BIRTH = "1984-12-03"
EMAIL = "paulette.durandeau@example.org"


def known_identity() -> SecretIdentity:
    h = hashlib.sha512(b"securemsg test: secrets at rest").digest()
    return SecretIdentity(h[:32], h[32:])


def encodings(secret: bytes) -> list[bytes]:
    forms = [
        secret,
        secret.hex().encode(),
        secret.hex().upper().encode(),
        base64.b64encode(secret),
        base64.b64encode(secret).rstrip(b"="),
        base64.urlsafe_b64encode(secret).rstrip(b"="),
        base64.b32encode(secret).rstrip(b"="),
    ]
    return forms


def windows(secret: bytes, size: int = 8) -> list[bytes]:
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


@pytest.fixture
def known_home(
    tmp_path: Path, run, monkeypatch: pytest.MonkeyPatch, make_card
) -> tuple[Path, SecretIdentity]:
    secret = known_identity()
    home = tmp_path / "home"
    with monkeypatch.context() as mp:
        mp.setattr(SecretIdentity, "generate", classmethod(lambda cls, rng=None: secret))
        res = run(home, "init", "--name", "Dr Alice Martin", "--role", "gp")
    assert res.exit_code == 0, res.stderr
    card = (home / "card.txt").read_text()
    from securemsg.core.card import Card

    assert Card.parse(card).sign_public == secret.sign_public  # the patch took effect
    patient = make_card(PATIENT, "patient", ins=INS, birth_date=BIRTH, email=EMAIL)
    assert run(home, "contacts", "add", str(patient.path)).exit_code == 0
    nurse = make_card("Nurse Joy", "nurse")
    assert run(home, "contacts", "add", str(nurse.path)).exit_code == 0
    assert run(home, "contacts", "verify", PATIENT, patient.card.fingerprint).exit_code == 0
    return home, secret


def all_files(home: Path) -> dict[str, bytes]:
    return {p.relative_to(home).as_posix(): p.read_bytes() for p in home.rglob("*") if p.is_file()}


def test_no_private_key_material_in_any_file(known_home: tuple[Path, SecretIdentity]) -> None:
    home, secret = known_home
    files = all_files(home)
    assert "keys/identity.key" in files and "securemsg.db" in files
    storage = StorageKeys.derive(secret)
    secrets = {
        "signing seed": secret.sign_seed,
        "X25519 secret": secret.enc_secret,
        "key-store blob": secret.to_bytes(),
        "seed||secret": secret.sign_seed + secret.enc_secret,
        "storage seal key": storage.seal_key,
        "blind index key": storage.index_key,
    }
    for label, value in secrets.items():
        needles = encodings(value)
        if label != "key-store blob":  # its first bytes are the public magic string
            needles += windows(value)
        for name, data in files.items():
            for needle in needles:
                assert needle not in data, f"{label} ({needle[:12]!r}...) found in {name}"


def test_permissions(known_home: tuple[Path, SecretIdentity]) -> None:
    home, _ = known_home
    assert stat.S_IMODE((home / "keys" / "identity.key").stat().st_mode) == 0o600
    for path in [home, *home.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.is_dir():
            assert mode == 0o700, path
        else:
            assert mode == 0o600, path
        assert path.stat().st_uid == home.stat().st_uid


def test_contacts_db_holds_no_patient_plaintext(known_home: tuple[Path, SecretIdentity]) -> None:
    home, _ = known_home
    db_files = {n: d for n, d in all_files(home).items() if n.startswith("securemsg.db")}
    assert db_files
    needles = [PATIENT, "Paulette", "Durandeau", INS, INS[:7], BIRTH, EMAIL, "Nurse Joy"]
    for name, data in db_files.items():
        for needle in needles:
            for form in (needle.encode(), needle.encode("utf-16-le"), needle.upper().encode()):
                assert form not in data, f"{needle!r} in {name}"
