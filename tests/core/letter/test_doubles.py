"""core/letter/doubles.py: the double record (docs/format.md §18.2) signed and
read back; deliveries sorted on signing, refused unsorted, repeated or
malformed on reading; any change breaks the signature."""

from __future__ import annotations

from typing import Any

import pytest

from securemsg.core import cbor, cose
from securemsg.core.card import Card
from securemsg.core.fingerprint import fingerprint
from securemsg.core.identity import Profile, Role
from securemsg.core.letter.doubles import DoubleRecord
from securemsg.core.testkeys import derive_test_identity
from securemsg.errors import FormatError, SignatureError, VerificationError

NOW = 1_800_000_000
ME = derive_test_identity("core-doubles/gp")
OTHER = derive_test_identity("core-doubles/other")
CARD = Card.sign(ME, Profile("Dr Alice Martin", Role.GP), NOW)
A, B = "aa" * 20, "bb" * 20


def _resigned(payload: dict[str, Any]) -> bytes:
    kid = fingerprint(ME.sign_public)
    obj = cose.parse(DoubleRecord.sign(ME, bytes(16), bytes(32), [(A, bytes(32))], NOW).encoded)
    return cose.sign(ME.signing_key, obj.object_type, kid, cbor.dumps(payload))


def test_signed_and_read_back_sorted_with_its_chain() -> None:
    rec = DoubleRecord.sign(ME, bytes(range(16)), b"d" * 32, [(B, b"2" * 32), (A, b"1" * 32)],
                            NOW, bytes(16))  # fmt: skip
    got = DoubleRecord.verify(rec.encoded, CARD)
    assert got == rec and got.deliveries == ((A, b"1" * 32), (B, b"2" * 32))
    assert got.chain == bytes(16) and got.id_hex == bytes(range(16)).hex()
    first = DoubleRecord.sign(ME, bytes(16), b"d" * 32, [(A, b"1" * 32)], NOW)
    assert DoubleRecord.verify(first.encoded, CARD).chain is None


def test_another_signer_and_a_changed_byte_are_refused() -> None:
    theirs = DoubleRecord.sign(OTHER, bytes(16), bytes(32), [(A, bytes(32))], NOW)
    with pytest.raises(VerificationError):
        DoubleRecord.verify(theirs.encoded, CARD)
    mine = bytearray(DoubleRecord.sign(ME, bytes(16), bytes(32), [(A, bytes(32))], NOW).encoded)
    mine[-70] ^= 1  # inside the payload
    with pytest.raises((SignatureError, FormatError)):
        DoubleRecord.verify(bytes(mine), CARD)


@pytest.mark.parametrize(
    ("deliveries", "why"),
    [
        ([[bytes.fromhex(B), bytes(32)], [bytes.fromhex(A), bytes(32)]], "sorted"),
        ([[bytes.fromhex(A), bytes(32)], [bytes.fromhex(A), b"\x01" * 32]], "one per recipient"),
        ([[bytes.fromhex(A), bytes(31)]], "fingerprint, envelope digest"),
        ([[bytes.fromhex(A)]], "fingerprint, envelope digest"),
        ([], "1 to 64"),
    ],
)
def test_malformed_deliveries_are_refused(deliveries: list[Any], why: str) -> None:
    payload = {"v": 1, "id": bytes(16), "double": bytes(32), "deliveries": deliveries,
               "time": NOW}  # fmt: skip
    with pytest.raises(FormatError, match=why):
        DoubleRecord.verify(_resigned(payload), CARD)
