"""Fingerprints and safety numbers: known answers, symmetry, format."""

from __future__ import annotations

import hashlib
import re

import nacl.signing
from hypothesis import given, settings
from hypothesis import strategies as st

from securemsg.core import fingerprint as fpm
from securemsg.core.testkeys import derive_test_identity

# Known-answer vectors, computed once and pinned. A change here breaks every
# fingerprint users have already compared: it needs a new label version.
KAT_SEED = bytes(range(32))
KAT_PUBLIC = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
KAT_FINGERPRINT = "1c66d7d39f7014b6ca55a9d8e9011dedf791528d"
KAT_SAFETY_ALICE_BOB = "27072 44589 16292 22667 20157 90987 66091 22018 14677 21986 51408 25249"


def pub(seed: bytes) -> bytes:
    return bytes(nacl.signing.SigningKey(seed).verify_key)


def test_fingerprint_known_answer() -> None:
    pk = pub(KAT_SEED)
    assert pk.hex() == KAT_PUBLIC
    assert fpm.fingerprint(pk).hex() == KAT_FINGERPRINT
    assert fpm.fingerprint(pk) == bytes.fromhex(KAT_FINGERPRINT)


def test_fingerprint_definition() -> None:
    """SHA-256(label || 0x00 || key), first 20 bytes: recomputed independently."""
    pk = pub(KAT_SEED)
    expect = hashlib.sha256(b"securemsg/fingerprint/v1\x00" + pk).digest()[:20]
    assert fpm.fingerprint(pk) == expect


def test_format_and_normalize_fingerprint() -> None:
    shown = fpm.format_fingerprint(KAT_FINGERPRINT)
    assert shown == "1c66 d7d3 9f70 14b6 ca55 a9d8 e901 1ded f791 528d"
    assert fpm.normalize_fingerprint(shown.upper()) == KAT_FINGERPRINT
    assert fpm.normalize_fingerprint(
        ":".join(KAT_FINGERPRINT[i : i + 2] for i in range(0, 40, 2))
    ) == (KAT_FINGERPRINT)


def _pair(label: str) -> tuple[bytes, bytes]:
    s = derive_test_identity(label)
    return (s.sign_public, s.enc_public)


def test_safety_number_known_answer() -> None:
    assert fpm.safety_number(_pair("alice"), _pair("bob")) == KAT_SAFETY_ALICE_BOB


def test_safety_number_is_symmetric_and_shaped() -> None:
    a, b = _pair("alice"), _pair("bob")
    sn = fpm.safety_number(a, b)
    assert sn == fpm.safety_number(b, a)
    assert re.fullmatch(r"\d{5}( \d{5}){11}", sn)
    assert len("".join(ch for ch in sn if ch.isdigit())) == 60


def test_safety_number_depends_on_both_keys_of_both_sides() -> None:
    a, b = _pair("alice"), _pair("bob")
    base = fpm.safety_number(a, b)
    other = _pair("carol")
    assert fpm.safety_number((other[0], a[1]), b) != base  # signing key changed
    assert fpm.safety_number((a[0], other[1]), b) != base  # encryption key changed
    assert fpm.safety_number(a, (b[0], other[1])) != base


@settings(max_examples=20, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_safety_number_symmetric_property(x: bytes, y: bytes) -> None:
    a, b = (x, y), (y, x)
    sn = fpm.safety_number(a, b)
    assert sn == fpm.safety_number(b, a)
    assert [len(g) for g in sn.split(" ")] == [5] * 12
