"""Issue 11, item 11: integers are integers, everywhere a format requires one.

In Python ``True == 1`` and ``isinstance(True, int)``, and ``1.0 == 1``: a reader
that compares values instead of checking types takes CBOR ``true`` or ``1.0``
where the integer 1 is required, and so reads bytes that other implementations
refuse (a parsing differential). Pinned here, for every integer a reader reads:

- CBOR (core/cbor.py): no floating-point number and no simple value other than
  false/true/null, anywhere (securemsg's formats have none);
- COSE (core/cose.py): the protected header's labels and algorithm are integers
  (``{true: -8, 3: ..., 4: ...}`` used to read as ``{1: -8, ...}``);
- every integer field of every signed object (core/signed.py ``Fields``), the
  item heads of a letter, the enum reader;
- the sealed records of the home (contacts, consents) and the key file's
  Argon2id parameters.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import cbor2
import pytest
from test_signed import GP, GP_SECRET, OBJECTS, outcome, payload_of, resign

from securemsg.core import cbor, cose, keyfile, labels, signed
from securemsg.core.card import Card
from securemsg.core.fingerprint import fingerprint
from securemsg.core.letter.container import ITEM_BODY, ITEM_HEAD, EnvelopeReader, record_head
from securemsg.core.letter.container import small_record as record
from securemsg.errors import FormatError

NOW = 1_800_000_000


# -- CBOR: no floats, no odd simple values -----------------------------------------------
@pytest.mark.parametrize(
    ("hexdata", "what"),
    [
        ("f93c00", "1.0 as a half float"),
        ("fa3f800000", "1.0 as a single float (not canonical either)"),
        ("fb3ff0000000000000", "1.0 as a double (not canonical either)"),
        ("a16176f93c00", '{"v": 1.0}'),
        ("82 01 f93c00", "[1, 1.0]"),
        ("a1 f93c00 01", "{1.0: 1}"),
        ("d8 18 f93c00", "a tagged float"),
        ("f7", "undefined"),
        ("f0", "simple(16)"),
        ("f820", "simple(32)"),
    ],
)
def test_floats_and_simple_values_refused_anywhere(hexdata: str, what: str) -> None:
    with pytest.raises(FormatError, match=r"floating-point number|simple value"):
        cbor.loads(bytes.fromhex(hexdata.replace(" ", "")), what)


def test_false_true_null_still_read() -> None:
    assert cbor.loads(bytes.fromhex("83f4f5f6"), "t") == [False, True, None]


def test_a_float_inside_a_byte_string_is_just_bytes() -> None:
    assert cbor.loads(bytes.fromhex("43f93c00"), "t") == b"\xf9\x3c\x00"


# -- COSE: labels and algorithm ------------------------------------------------------------
def _card_with_protected(header: dict[Any, Any]) -> bytes:
    """GP's card payload, signed by GP's key under a hand-made protected header."""
    obj = cose.parse(GP.encoded)
    protected = cbor2.dumps(header, canonical=True)
    sig = GP_SECRET.signing_key.sign(cose.sig_structure(protected, obj.payload)).signature
    return cbor.dumps(cbor2.CBORTag(cose.COSE_SIGN1_TAG, [protected, {}, obj.payload, sig]))


KID = fingerprint(GP_SECRET.sign_public)
PROTECTED = {
    "true-for-label-1": {True: cose.ALG_EDDSA, 3: labels.COSE_CARD, 4: KID},
    "alg-as-float": {1: float(cose.ALG_EDDSA), 3: labels.COSE_CARD, 4: KID},
    "label-3-as-float": {1: cose.ALG_EDDSA, 3.0: labels.COSE_CARD, 4: KID},
}


def test_the_hand_made_protected_header_itself_verifies() -> None:
    ok = _card_with_protected({1: cose.ALG_EDDSA, 3: labels.COSE_CARD, 4: KID})
    assert ok == GP.encoded and Card.verify(ok) == GP


@pytest.mark.parametrize("case", sorted(PROTECTED))
def test_protected_header_labels_and_alg_are_integers(case: str) -> None:
    data = _card_with_protected(PROTECTED[case])
    with pytest.raises(FormatError, match=r"protected header|floating-point"):
        cose.parse(data, "card")
    with pytest.raises(FormatError):
        Card.verify(data)


# -- every integer field of every signed object ------------------------------------------
# object -> paths of its integer fields (besides "v", pinned in test_signed.py)
INTEGER_FIELDS: dict[str, list[tuple[str, ...]]] = {
    "card": [("created",), ("expires",)],
    "consent grant": [("issued_at",), ("not_after",)],
    "consent revocation": [("date",)],
    "consent objection": [("date",)],
    "letter manifest": [("date",), ("items", "0", "n"), ("phone_call", "time")],
    "receipt": [("time",), ("log_seq",)],
    "refusal notice": [("time",)],
    "log entry": [("seq",), ("time",)],
    "log checkpoint": [("entries",)],
    "key succession": [("at",)],
    "key succession acceptance": [("at",)],
    "key revocation": [("made",)],
    "double record": [("time",)],
}
CASES = [(what, path) for what, paths in INTEGER_FIELDS.items() for path in paths]


def _set_path(payload: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    if path == ("phone_call", "time"):  # optional: the object has none, add one
        payload["phone_call"] = {"time": value}
        return
    node: Any = payload
    for step in path[:-1]:
        node = node[int(step)] if isinstance(node, list) else node[step]
    node[path[-1]] = value


def _with(what: str, path: tuple[str, ...], value: Any) -> bytes:
    data, secret, _ = OBJECTS[what]
    p = payload_of(data)
    _set_path(p, path, value)
    return resign(data, secret, payload=p)


def _integer_at(what: str, path: tuple[str, ...]) -> int:
    if path == ("phone_call", "time"):
        return NOW
    node: Any = payload_of(OBJECTS[what][0])
    for step in path:
        node = node[int(step)] if isinstance(node, list) else node[step]
    assert type(node) is int
    return int(node)


@pytest.mark.parametrize(("what", "path"), CASES, ids=[f"{w}:{'.'.join(p)}" for w, p in CASES])
def test_integer_field_refuses_bool_and_float(what: str, path: tuple[str, ...]) -> None:
    good = _integer_at(what, path)
    assert outcome(what, _with(what, path, good)) == ("accepted", None)  # the control
    for bad in (True, False, float(good)):
        got = outcome(what, _with(what, path, bad))
        assert got in {("FormatError", None), ("ConsentRefused", "malformed")}, (bad, got)


def test_the_table_covers_every_signed_kind_with_an_integer_field() -> None:
    assert set(INTEGER_FIELDS) == set(OBJECTS) - {"envelope binding"}  # a binding has none


# -- the enum reader, item heads -------------------------------------------------------------
class Small(enum.IntEnum):
    ONE = 1
    TWO = 2


def test_enum_of_integers_refuses_true_for_one() -> None:
    f = signed.Fields({"x": 1, "y": True}, "thing", ("x", "y"))
    assert f.enum("x", Small) is Small.ONE
    with pytest.raises(FormatError, match="thing: unknown y 'True'"):
        f.enum("y", Small)


def test_item_head_number_refuses_true() -> None:
    head = cbor.dumps({"n": True, "salt": bytes(16), "name": "a.txt"})
    reader = EnvelopeReader(iter([record(ITEM_HEAD, head) + record_head(ITEM_BODY, 0)]))
    with pytest.raises(FormatError, match="wrong type"):
        reader.next_item()


# -- the home's sealed records and the key file ----------------------------------------------
def _contact_record(**changes: Any) -> bytes:
    rec: dict[str, Any] = {"card": GP.encoded, "verified": False, "added": NOW, "state": "active"}
    rec.update(changes)
    return cbor.dumps(rec)


@pytest.mark.parametrize(
    "changes",
    [{"verified": 1}, {"verified": 0}, {"added": True}, {"replaced_at": True}, {"extra": 1}],
    ids=["verified-1", "verified-0", "added-true", "replaced_at-true", "unknown-field"],
)
def test_contact_record_is_read_strictly(changes: dict[str, Any]) -> None:
    from securemsg.store.contacts import Contact

    assert Contact.from_cbor(_contact_record()).added == NOW  # the control
    with pytest.raises(FormatError, match="contact record"):
        Contact.from_cbor(_contact_record(**changes))


def test_consent_record_added_is_an_integer() -> None:
    from test_signed import GRANT_OBJ, PATIENT

    from securemsg.store.consents import StoredConsent

    def rec(added: Any) -> bytes:
        return cbor.dumps(
            {"object": GRANT_OBJ.encoded, "card": PATIENT.encoded, "added": added, "origin": "x"}
        )

    assert StoredConsent.from_cbor(rec(NOW)).added == NOW
    with pytest.raises(FormatError, match="consent record"):
        StoredConsent.from_cbor(rec(True))


@pytest.mark.parametrize(
    "params",
    [(True, 8192), (3, True), (3.0, 8192), (3, 8192.0)],
    ids=["ops-true", "mem-true", "ops-float", "mem-float"],
)
def test_kdf_params_are_integers(params: tuple[Any, Any]) -> None:
    make: Callable[..., Any] = keyfile.KdfParams
    with pytest.raises(ValueError, match="must be integers"):
        make(*params)
