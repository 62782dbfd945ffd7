"""COSE_Sign1 profile: strict parsing, per-type domain separation, interop."""

from __future__ import annotations

import cbor2
import nacl.signing
import pytest

from securemsg.core import cbor, cose, labels
from securemsg.core.fingerprint import fingerprint
from securemsg.errors import FormatError, SecureMsgError, SignatureError

SEED = bytes(range(32))
KEY = nacl.signing.SigningKey(SEED)
KID = fingerprint(bytes(KEY.verify_key))
PAYLOAD = cbor.dumps({"hello": "world"})


def encode(
    protected: bytes, unprotected: object, payload: bytes, sig: bytes, tag: int = 18
) -> bytes:
    return cbor.dumps(cbor2.CBORTag(tag, [protected, unprotected, payload, sig]))


def signed(otype: str = labels.COSE_CARD) -> bytes:
    return cose.sign(KEY, otype, KID, PAYLOAD)


def test_round_trip() -> None:
    obj = cose.parse(signed())
    assert (obj.object_type, obj.kid, obj.payload) == (labels.COSE_CARD, KID, PAYLOAD)
    assert cose.verify(obj, labels.COSE_CARD, KEY.verify_key, "t") == PAYLOAD


def test_signing_is_deterministic() -> None:
    assert signed() == signed()


def test_protected_header_layout() -> None:
    header = cbor2.loads(cose.parse(signed()).protected)
    assert header == {1: -8, 3: labels.COSE_CARD, 4: KID}


@pytest.mark.parametrize("other", [t for t in labels.COSE_TYPES if t != labels.COSE_CARD])
def test_signature_never_verifies_as_another_type(other: str) -> None:
    obj = cose.parse(signed(labels.COSE_CARD))
    with pytest.raises(SignatureError, match="not a"):
        cose.verify(obj, other, KEY.verify_key, "t")


@pytest.mark.parametrize("other", [t for t in labels.COSE_TYPES if t != labels.COSE_CARD])
def test_card_signature_relabelled_as_another_type_does_not_verify(other: str) -> None:
    """Keep the card's signature and payload, swap the type in the protected header."""
    orig = cose.parse(signed(labels.COSE_CARD))
    relabelled = encode(cose.protected_header(other, KID), {}, orig.payload, orig.signature)
    obj = cose.parse(relabelled)
    assert obj.object_type == other
    with pytest.raises(SignatureError, match="does not verify"):
        cose.verify(obj, other, KEY.verify_key, "t")


def test_wrong_key_refused() -> None:
    other = nacl.signing.SigningKey(bytes(32)).verify_key
    with pytest.raises(SignatureError):
        cose.verify(cose.parse(signed()), labels.COSE_CARD, other, "t")


def test_altered_payload_refused() -> None:
    orig = cose.parse(signed())
    forged = encode(orig.protected, {}, cbor.dumps({"hello": "mallory"}), orig.signature)
    with pytest.raises(SignatureError):
        cose.verify(cose.parse(forged), labels.COSE_CARD, KEY.verify_key, "t")


def _good_protected() -> bytes:
    return cose.protected_header(labels.COSE_CARD, KID)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (cbor.dumps([_good_protected(), {}, PAYLOAD, bytes(64)]), "untagged"),
        (encode(_good_protected(), {}, PAYLOAD, bytes(64), tag=98), "COSE_Sign (98)"),
        (cbor.dumps(cbor2.CBORTag(18, [_good_protected(), {}, PAYLOAD])), "3 items"),
        (encode(_good_protected(), {4: KID}, PAYLOAD, bytes(64)), "unprotected header"),
        (encode(_good_protected(), [], PAYLOAD, bytes(64)), "unprotected not a map"),
        (encode(_good_protected(), {}, PAYLOAD, bytes(63)), "short signature"),
        (encode(_good_protected(), {}, PAYLOAD, bytes(65)), "long signature"),
        (cbor.dumps(cbor2.CBORTag(18, [_good_protected(), {}, None, bytes(64)])), "detached"),
        (encode(cbor.dumps({1: -7, 3: labels.COSE_CARD, 4: KID}), {}, PAYLOAD, bytes(64)), "ES256"),
        (encode(cbor.dumps({1: -8, 3: labels.COSE_CARD}), {}, PAYLOAD, bytes(64)), "no kid"),
        (
            encode(
                cbor.dumps({1: -8, 3: labels.COSE_CARD, 4: KID, 5: b"x"}), {}, PAYLOAD, bytes(64)
            ),
            "extra header",
        ),
        (encode(cbor.dumps({1: -8, 3: 60, 4: KID}), {}, PAYLOAD, bytes(64)), "numeric type"),
        (
            encode(cbor.dumps({1: -8, 3: labels.COSE_CARD, 4: "x"}), {}, PAYLOAD, bytes(64)),
            "text kid",
        ),
        (encode(b"\xa0", {}, PAYLOAD, bytes(64)), "empty protected"),
        (encode(b"\x18\x01", {}, PAYLOAD, bytes(64)), "protected not canonical"),
        (cbor.dumps(cbor2.CBORTag(18, "text")), "not an array"),
    ],
)
def test_malformed_refused(data: bytes, why: str) -> None:
    with pytest.raises(FormatError):
        cose.parse(data, why)


def test_describe_type() -> None:
    assert cose.describe_type(labels.COSE_CONSENT_GRANT) == "consent grant"
    assert cose.describe_type("x" * 500).startswith("unknown object type")
    assert len(cose.describe_type("x" * 500)) < 100


def _bstr(b: bytes) -> bytes:
    assert len(b) < 65536
    if len(b) < 24:
        return bytes([0x40 | len(b)]) + b
    if len(b) < 256:
        return b"\x58" + bytes([len(b)]) + b
    return b"\x59" + len(b).to_bytes(2, "big") + b


def test_sig_structure_matches_rfc9052_built_by_hand() -> None:
    """Independent of cbor2: Sig_structure and protected header bytes per RFC 9052 §4.4.

    (pycose would be the natural peer, but pycose 1.1 cannot decode with cbor2 6.)
    """
    otype = labels.COSE_CARD.encode()
    protected = (
        b"\xa3" + b"\x01\x27" + b"\x03\x78" + bytes([len(otype)]) + otype + b"\x04\x54" + KID
    )
    obj = cose.parse(signed())
    assert obj.protected == protected
    tbs = b"\x84" + b"\x6aSignature1" + _bstr(protected) + b"\x40" + _bstr(PAYLOAD)
    assert obj.to_be_signed() == tbs
    KEY.verify_key.verify(tbs, obj.signature)
    assert (
        signed()
        == b"\xd2\x84" + _bstr(protected) + b"\xa0" + _bstr(PAYLOAD) + b"\x58\x40" + obj.signature
    )


def test_every_bit_flip_is_refused_with_a_securemsg_error() -> None:
    from tamper import all_bit_flips

    data = signed()
    for desc, bad in all_bit_flips(data):
        try:
            obj = cose.parse(bad)
            cose.verify(obj, labels.COSE_CARD, KEY.verify_key, "t")
        except SecureMsgError:
            continue
        except Exception as exc:  # pragma: no cover - the failure message
            pytest.fail(f"{desc}: {type(exc).__name__}: {exc}")
        pytest.fail(f"{desc}: accepted")
