"""The values the everyday commands build at start-up are written on
``core.frozen.Frozen`` instead of ``@dataclass`` (issue 14, docs/performance.md
target 9): they keep what the dataclass gave (frozen fields, equality, hash,
repr, defaults, keyword and positional construction) and ``replace`` copies them
as ``dataclasses.replace`` did."""

from __future__ import annotations

import copy
import pickle

import pytest

from securemsg.core.frozen import Frozen, FrozenInstanceError, _set, replace
from securemsg.core.storage import StorageKeys
from securemsg.store.mailbox import LetterRow


class Pair(Frozen):
    __slots__ = ("left", "right")
    left: int
    right: str

    def __init__(self, left: int, right: str = "r") -> None:
        if left < 0:
            raise ValueError("left must not be negative")
        _set(self, "left", left)
        _set(self, "right", right)


def test_replace_changes_the_named_fields_and_keeps_the_others() -> None:
    p = Pair(1, "a")
    q = replace(p, right="b")
    assert (q.left, q.right) == (1, "b") and type(q) is Pair
    assert p == Pair(1, "a")  # the original is unchanged
    assert replace(p) == p and replace(p) is not p


def test_replace_goes_through_init_and_refuses_an_unknown_field() -> None:
    with pytest.raises(ValueError, match="negative"):
        replace(Pair(1), left=-1)
    with pytest.raises(TypeError, match="no field 'middle'"):
        replace(Pair(1), middle=2)


def test_frozen_equality_hash_repr_copy_pickle() -> None:
    p = Pair(2)
    assert p == Pair(2, "r") and p != Pair(3) and hash(p) == hash(Pair(2, "r"))
    assert repr(p) == "Pair(left=2, right='r')"
    assert copy.copy(p) == p and pickle.loads(pickle.dumps(p)) == p
    with pytest.raises(FrozenInstanceError):
        p.left = 3  # type: ignore[misc]


def test_storage_keys_hide_their_bytes_and_compare_by_value() -> None:
    keys = StorageKeys(b"s" * 32, b"i" * 32)
    assert repr(keys) == "StorageKeys(<redacted>)" and "sss" not in repr(keys)
    assert keys == StorageKeys(b"s" * 32, b"i" * 32) != StorageKeys(b"s" * 32, b"j" * 32)
    with pytest.raises(FrozenInstanceError):
        keys.seal_key = b""  # type: ignore[misc]


def test_a_letter_row_is_a_value_with_its_fields_in_order() -> None:
    fields = ("a" * 32, "in", 10, 9, "f" * 40, "referral", None, b"d", "mail/in/x.smsg", {}, None)
    row = LetterRow(*fields)
    assert row == LetterRow(*fields) and row != replace(row, folder="sent")
    assert repr(row).startswith("LetterRow(id='aaaa") and "folder='in'" in repr(row)
    assert replace(row, receipt=b"r").receipt == b"r"
    with pytest.raises(FrozenInstanceError):
        row.folder = "sent"  # type: ignore[misc]
