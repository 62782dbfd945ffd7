"""Sealed database rows: bound to their place, keyed by the identity."""

from __future__ import annotations

import pytest

from securemsg.core.identity import SecretIdentity
from securemsg.core.storage import NONCE, StorageKeys
from securemsg.errors import SecureMsgError, VerificationError

IDENTITY = SecretIdentity(bytes(32), bytes(range(32)))
PLACE = b"contacts:x"

# Known answers, pinned: databases written today must open tomorrow.
KAT_SEALED = "00" * 24 + "1f6705a9c3805fd5b637f103008ecd77fb20e59b8d"
KAT_INDEX = "9e7ec7682740d9d28b055afcd8759b0e"


def zeros(n: int) -> bytes:
    return bytes(n)


@pytest.fixture(scope="module")
def keys() -> StorageKeys:
    return StorageKeys.derive(IDENTITY)


def test_known_answer(keys: StorageKeys) -> None:
    assert keys.seal(PLACE, b"hello", rng=zeros).hex() == KAT_SEALED
    assert keys.blind_index(b"ins", b"184127505600774") == KAT_INDEX


def test_round_trip(keys: StorageKeys) -> None:
    for plaintext in (b"", b"hello", bytes(range(256)) * 100):
        sealed = keys.seal(PLACE, plaintext)
        assert len(sealed) == NONCE + len(plaintext) + 16
        assert keys.open(PLACE, sealed) == plaintext


def test_fresh_nonce_each_time(keys: StorageKeys) -> None:
    assert keys.seal(PLACE, b"same") != keys.seal(PLACE, b"same")


@pytest.mark.parametrize(
    "other", [b"contacts:y", b"contacts:", b"consents:x", b"", PLACE + b"\x00"]
)
def test_wrong_place_refused(keys: StorageKeys, other: bytes) -> None:
    sealed = keys.seal(PLACE, b"row")
    with pytest.raises(VerificationError, match="altered or moved"):
        keys.open(other, sealed)


def test_other_identity_cannot_open(keys: StorageKeys) -> None:
    sealed = keys.seal(PLACE, b"row")
    other = StorageKeys.derive(SecretIdentity(bytes(32), bytes(32)))
    with pytest.raises(VerificationError):
        other.open(PLACE, sealed)


def test_every_tamper_refused(keys: StorageKeys) -> None:
    from tamper import all_bit_flips, all_truncations, some_appends

    sealed = keys.seal(PLACE, b"Paul Durand 184127505600774")
    for desc, bad in [*all_bit_flips(sealed), *all_truncations(sealed), *some_appends(sealed)]:
        try:
            keys.open(PLACE, bad)
        except VerificationError:
            continue
        except Exception as exc:  # pragma: no cover
            pytest.fail(f"{desc}: {type(exc).__name__}")
        pytest.fail(f"{desc}: opened")


def test_keys_are_separated(keys: StorageKeys) -> None:
    assert keys.seal_key != keys.index_key
    assert len(keys.seal_key) == len(keys.index_key) == 32
    assert keys.seal_key not in IDENTITY.to_bytes()


def test_blind_index(keys: StorageKeys) -> None:
    a = keys.blind_index(b"ins", b"184127505600774")
    assert a == keys.blind_index(b"ins", b"184127505600774")
    assert a != keys.blind_index(b"rpps", b"184127505600774")  # kind separates
    assert a != keys.blind_index(b"ins", b"184127505600775")
    assert "184127505600774" not in a and len(a) == 32


def test_repr_is_redacted(keys: StorageKeys) -> None:
    text = repr(keys) + str(keys)
    assert keys.seal_key.hex() not in text and keys.index_key.hex() not in text
    assert "redacted" in text


def test_garbage_is_a_securemsg_error(keys: StorageKeys) -> None:
    for bad in (b"", b"\x00" * 10, b"\x00" * NONCE):
        with pytest.raises(SecureMsgError):
            keys.open(PLACE, bad)
