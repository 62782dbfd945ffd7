"""Profiles (validated on construction), roles, and redacted private keys."""

from __future__ import annotations

import base64

import nacl.bindings
import nacl.signing
import pytest

from securemsg.core.identity import SECRET_MAGIC, Profile, Role, SecretIdentity
from securemsg.errors import FormatError, InvalidValue

VALID_INS = "184127505600774"
RPPS = "10003456786"
SEED = bytes(range(32))
ENC = bytes(range(32, 64))


# -- Role -------------------------------------------------------------------------------


def test_roles_are_the_fixed_list() -> None:
    assert [r.value for r in Role] == [
        "gp",
        "specialist",
        "emergency",
        "hospital",
        "nurse",
        "physiotherapist",
        "medical-adviser",
        "expert",
        "patient",
    ]


def test_role_parse_is_case_insensitive() -> None:
    assert Role.parse(" GP ") is Role.GP
    assert Role.parse("Medical-Adviser") is Role.MEDICAL_ADVISER


def test_unknown_role_is_a_usage_error_listing_choices() -> None:
    with pytest.raises(InvalidValue) as info:
        Role.parse("surgeon")
    assert info.value.exit_code == 2
    assert info.value.hint is not None and "physiotherapist" in info.value.hint


# -- Profile ----------------------------------------------------------------------------


def test_practitioner_profile() -> None:
    p = Profile("Dr Alice Martin", Role.GP, rpps=RPPS, specialty="General practice")
    assert p.to_cbor() == {
        "name": "Dr Alice Martin",
        "role": "gp",
        "rpps": RPPS,
        "specialty": "General practice",
    }


def test_patient_profile_normalises_ins_and_date() -> None:
    p = Profile("Paul Durand", Role.PATIENT, ins="1 84 12 75 056 007 74", birth_date="1984-12-03")
    assert p.ins == VALID_INS
    assert p.birth_date == "1984-12-03"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"role": Role.PATIENT, "rpps": RPPS},
        {"role": Role.PATIENT, "specialty": "cardiology"},
        {"role": Role.GP, "ins": VALID_INS},
        {"role": Role.NURSE, "birth_date": "1970-01-01"},
        {"role": Role.PATIENT, "ins": "184127505600775"},  # bad INS key
        {"role": Role.PATIENT, "ins": "12345"},
        {"role": Role.GP, "rpps": "123"},
        {"role": Role.PATIENT, "birth_date": "03/12/1984"},
        {"role": Role.GP, "email": "a\u202e@example.org"},
        {"role": Role.SPECIALIST, "specialty": "cardio\x1b[31m"},
    ],
)
def test_invalid_profiles_cannot_exist(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidValue):
        Profile(name="Some One", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["Dr \u202eniltraM", "Dr\u200bA", "Dr\x1b[2JA", "", " \t"])
def test_control_bidi_in_names_refused(name: str) -> None:
    with pytest.raises(InvalidValue):
        Profile(name, Role.GP)


def test_profile_is_frozen() -> None:
    p = Profile("Dr A", Role.GP)
    with pytest.raises(AttributeError):
        p.name = "Dr B"  # type: ignore[misc]


def test_profile_cbor_round_trip() -> None:
    for p in (
        Profile("Dr A", Role.SPECIALIST, rpps=RPPS, specialty="cardiology", email="a@b.fr"),
        Profile("Paul", Role.PATIENT, ins=VALID_INS, birth_date="1984-12-03"),
    ):
        assert Profile.from_cbor(p.to_cbor()) == p


@pytest.mark.parametrize(
    "data",
    [
        ["name", "role"],
        {"name": "Dr A"},
        {"role": "gp"},
        {"name": "Dr A", "role": "gp", "nickname": "x"},
        {"name": "Dr A", "role": "gp", "rpps": 10003456786},
        {"name": "Dr A", "role": "surgeon"},
        {"name": "Paul", "role": "patient", "rpps": RPPS},
        {"name": "Paul", "role": "patient", "ins": "184127505600775"},
        {"name": "Dr\u202eA", "role": "gp"},
    ],
)
def test_profile_from_cbor_refuses_with_format_error(data: object) -> None:
    """Profiles come from signed cards: refusals are FormatError (exit 3), not usage."""
    with pytest.raises(FormatError):
        Profile.from_cbor(data)


# -- SecretIdentity ---------------------------------------------------------------------


def _encodings(b: bytes) -> list[str]:
    return [
        b.hex(),
        b.hex().upper(),
        base64.b64encode(b).decode(),
        base64.urlsafe_b64encode(b).decode().rstrip("="),
        base64.b64encode(b).decode().rstrip("="),
        repr(b),
        str(list(b)),
    ]


def test_secret_repr_and_str_are_redacted() -> None:
    s = SecretIdentity(SEED, ENC)
    percent = "%s" % (s,)  # noqa: UP031 - the old formatting path too
    shown = [repr(s), str(s), f"{s}", f"{s!r}", percent, repr([s]), repr({"k": s})]
    for text in shown:
        assert "redacted" in text
        for key in (SEED, ENC, s.to_bytes()):
            for enc in _encodings(key):
                assert enc not in text, (text, enc)


def test_secret_has_no_instance_dict() -> None:
    s = SecretIdentity(SEED, ENC)
    assert not hasattr(s, "__dict__")


def test_secret_public_keys() -> None:
    s = SecretIdentity(SEED, ENC)
    assert s.sign_public == bytes(nacl.signing.SigningKey(SEED).verify_key)
    assert s.enc_public == nacl.bindings.crypto_scalarmult_base(ENC)


def test_generate_uses_the_given_rng() -> None:
    calls: list[int] = []

    def rng(n: int) -> bytes:
        calls.append(n)
        return bytes([len(calls)]) * n

    s = SecretIdentity.generate(rng)
    assert calls == [32, 32]
    assert (s.sign_seed, s.enc_secret) == (b"\x01" * 32, b"\x02" * 32)


def test_generate_gives_distinct_keys() -> None:
    a, b = SecretIdentity.generate(), SecretIdentity.generate()
    assert a.sign_seed != b.sign_seed and a.enc_secret != b.enc_secret
    assert a.sign_seed != a.enc_secret


def test_secret_blob_round_trip() -> None:
    s = SecretIdentity(SEED, ENC)
    assert s.to_bytes() == SECRET_MAGIC + SEED + ENC
    assert SecretIdentity.from_bytes(s.to_bytes()) == s


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        SECRET_MAGIC + SEED,
        SECRET_MAGIC + SEED + ENC + b"\x00",
        b"securemsg-secret-v2\x00" + SEED + ENC,
        SEED + ENC,
    ],
)
def test_secret_blob_refused(blob: bytes) -> None:
    with pytest.raises(FormatError):
        SecretIdentity.from_bytes(blob)


@pytest.mark.parametrize(("seed", "enc"), [(b"x" * 31, ENC), (SEED, b"y" * 33)])
def test_secret_wrong_key_length_refused(seed: bytes, enc: bytes) -> None:
    with pytest.raises(FormatError):
        SecretIdentity(seed, enc)
