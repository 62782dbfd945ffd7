"""The scrypt (passphrase) recipient: round trips, a wrong passphrase, the
"alone in the header" rule on the writing side, the reader's work-factor bound,
redacted reprs. The C2SP vectors run in test_age_vectors.py; the age binary in
tests/interop/test_age_scrypt_peers.py."""

from __future__ import annotations

import io

import pytest

from securemsg.core import age
from securemsg.core.age.hazmat import scrypt
from securemsg.core.age.hazmat.file import read_header

PASS = b"a long enough passphrase"


def _encrypt(pt: bytes, work_factor: int = 10, rng: object = None) -> bytes:
    out = io.BytesIO()
    if rng is None:
        age.encrypt([age.ScryptRecipient(PASS, work_factor)], pt, out)
    else:
        age.encrypt([age.ScryptRecipient(PASS, work_factor)], pt, out, rng=rng)  # type: ignore[arg-type]
    return out.getvalue()


def _decrypt(data: bytes, identity: age.ScryptIdentity) -> bytes:
    out = io.BytesIO()
    age.decrypt([identity], io.BytesIO(data), out)
    return out.getvalue()


@pytest.mark.parametrize("size", [0, 1, 65536, 65537])
def test_round_trip(size: int) -> None:
    pt = bytes(range(256)) * (size // 256) + bytes(size % 256)
    data = _encrypt(pt)
    header, _ = read_header(io.BytesIO(data))
    assert [(s.type, s.args[1]) for s in header.stanzas] == [("scrypt", "10")]
    assert _decrypt(data, age.ScryptIdentity(PASS)) == pt


def test_wrong_passphrase_is_no_match() -> None:
    with pytest.raises(age.NoIdentityMatchError):
        _decrypt(_encrypt(b"x"), age.ScryptIdentity(b"another passphrase"))


def test_an_x25519_identity_does_not_open_a_passphrase_file() -> None:
    out = io.BytesIO()
    with pytest.raises(age.NoIdentityMatchError):
        age.decrypt([age.X25519Identity(bytes(32))], io.BytesIO(_encrypt(b"x")), out)


def test_reader_bound_on_the_work_factor_is_a_header_failure() -> None:
    data = _encrypt(b"x", work_factor=12)
    with pytest.raises(age.HeaderError, match="above this reader's limit"):
        _decrypt(data, age.ScryptIdentity(PASS, max_work_factor=11))
    assert _decrypt(data, age.ScryptIdentity(PASS, max_work_factor=12)) == b"x"


def test_scrypt_recipient_must_be_alone_when_writing() -> None:
    other = age.X25519Identity(bytes(range(32))).recipient
    for recipients in (
        [age.ScryptRecipient(PASS, 10), other],
        [age.ScryptRecipient(PASS, 10), age.ScryptRecipient(PASS, 10)],
    ):
        with pytest.raises(ValueError, match="only recipient"):
            age.encrypt(recipients, b"x", io.BytesIO())


def test_invalid_parameters_are_refused() -> None:
    with pytest.raises(age.KeyFormatError):
        age.ScryptRecipient(b"")
    with pytest.raises(age.KeyFormatError):
        age.ScryptRecipient(PASS, 23)
    with pytest.raises(age.KeyFormatError):
        age.ScryptIdentity(PASS, 0)


def test_reprs_are_redacted() -> None:
    for value in (age.ScryptRecipient(PASS), age.ScryptIdentity(PASS)):
        assert "passphrase" not in repr(value).replace("REDACTED", "")
        assert PASS.decode() not in repr(value)
        assert "REDACTED" in repr(value)


def test_the_wrap_key_is_the_spec_derivation() -> None:
    """scrypt over the label-prefixed salt, independently recomputed."""
    import hashlib

    salt = bytes(range(16))
    expected = hashlib.scrypt(
        PASS, salt=b"age-encryption.org/v1/scrypt" + salt, n=1024, r=8, p=1, dklen=32
    )
    assert scrypt.wrap_key(PASS, salt, 10) == expected


def test_the_salt_and_file_key_come_from_rng() -> None:
    draws = iter([bytes(16), bytes(range(16)), bytes(16)])
    data = _encrypt(b"x", rng=lambda n: next(draws)[:n])
    header, _ = read_header(io.BytesIO(data))
    assert header.stanzas[0].args[0] == "AAECAwQFBgcICQoLDA0ODw"
