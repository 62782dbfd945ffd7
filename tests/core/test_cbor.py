"""Strict canonical CBOR: one value, one encoding; hostile input is a FormatError."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securemsg.core import cbor
from securemsg.errors import FormatError, SecureMsgError

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64 - 1)
    | st.binary(max_size=40)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.integers(-100, 100), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(values)
def test_round_trip(value: object) -> None:
    data = cbor.dumps(value)
    assert cbor.loads(data, "test") == value
    assert cbor.dumps(cbor.loads(data, "test")) == data


def test_map_keys_are_sorted_canonically() -> None:
    # RFC 8949 §4.2.1: bytewise order of the encoded keys ("a" < "bb", shorter first).
    assert cbor.dumps({"bb": 1, "a": 2}) == bytes.fromhex("a2616102626262" + "01")


@pytest.mark.parametrize(
    ("hexdata", "why"),
    [
        ("a2616201616102", "map keys out of canonical order"),
        ("a2616101616102", "duplicate map key"),
        ("1801", "integer 1 in a one-byte argument"),
        ("190001", "integer 1 in a two-byte argument"),
        ("5801ff", "byte string length in a one-byte argument"),
        ("9f01ff", "indefinite-length array"),
        ("bf616101ff", "indefinite-length map"),
        ("5f41ffff", "indefinite-length byte string"),
        ("fb3ff0000000000000", "1.0 as a double where a half float suffices"),
        ("0102", "trailing data after the item"),
        ("", "empty input"),
        ("18", "truncated argument"),
        ("62 61", "truncated text"),
        ("1c", "reserved additional information"),
        ("ff", "lone break"),
        ("62c328", "invalid UTF-8 in a text string"),
    ],
)
def test_non_canonical_or_malformed_refused(hexdata: str, why: str) -> None:
    with pytest.raises(FormatError):
        cbor.loads(bytes.fromhex(hexdata.replace(" ", "")), why)


@pytest.mark.parametrize("head", [b"\x81", b"\xa1\x00", b"\xc6"])
def test_deep_nesting_refused_without_recursion_error(head: bytes) -> None:
    data = head * 200_000 + b"\x00"
    with pytest.raises(FormatError, match="nested deeper"):
        cbor.loads(data, "deep", max_size=len(data))


def test_nesting_at_the_limit_is_accepted() -> None:
    data = b"\x81" * cbor.MAX_DEPTH + b"\x00"
    value = cbor.loads(data, "at limit")
    for _ in range(cbor.MAX_DEPTH):
        assert isinstance(value, list) and len(value) == 1
        value = value[0]
    assert value == 0


def test_one_level_too_deep_is_refused() -> None:
    with pytest.raises(FormatError):
        cbor.loads(b"\x81" * (cbor.MAX_DEPTH + 1) + b"\x00", "too deep")


def test_huge_announced_length_refused() -> None:
    # An array claiming 2**32-1 items in 5 bytes must not allocate anything.
    with pytest.raises(FormatError):
        cbor.loads(bytes.fromhex("9affffffff"), "huge")
    with pytest.raises(FormatError):
        cbor.loads(bytes.fromhex("5bffffffffffffffff"), "huge bytes")


def test_size_limit() -> None:
    data = cbor.dumps(b"x" * 100)
    with pytest.raises(FormatError, match="larger than"):
        cbor.loads(data, "big", max_size=len(data) - 1)
    assert cbor.loads(data, "big", max_size=len(data)) == b"x" * 100


@settings(max_examples=300)
@given(st.binary(max_size=64))
def test_random_bytes_never_raise_anything_but_format_error(data: bytes) -> None:
    try:
        cbor.loads(data, "fuzz")
    except SecureMsgError as exc:
        assert isinstance(exc, FormatError)
