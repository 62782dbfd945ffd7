"""Recovery codes (core/recoverycode.py, docs/format-backup.md §2a): drawn in
the canonical form, read back in any case, grouping and look-alike digits, and
nothing else taken for a code."""

from __future__ import annotations

import re

import pytest

from securemsg.core import recoverycode

CANONICAL = re.compile(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){7}")


def test_a_new_code_is_160_bits_in_eight_groups() -> None:
    code = recoverycode.new_code(lambda n: bytes(range(n)))
    assert code == "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQT"  # base32 of 00 01 .. 13
    assert CANONICAL.fullmatch(code)
    assert recoverycode.canonical(code) == code


@pytest.mark.parametrize(
    "typed",
    [
        "aaaq-eaye-audA-ocaj-bifq-ydio-b4ib-ceqt",
        "AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT",
        "  aaaq eaye auda ocaj  bifq ydio b4ib ceqt \t",
        "aaaqeaye.audaocaj_bifqydio-b4ibceqt",
        "AAAQ-EAYE-AUDA-0CAJ-1FQ-Y",  # too short: not a code
    ],
)
def test_a_code_typed_in_any_case_or_grouping_is_read(typed: str) -> None:
    expected = None if typed.endswith("-Y") else "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQT"
    assert recoverycode.canonical(typed) == expected


def test_look_alike_digits_are_read_as_letters() -> None:
    assert recoverycode.canonical("0000-1111-8888-AAAA-AAAA-AAAA-AAAA-AAAA") == (
        "OOOO-IIII-BBBB-AAAA-AAAA-AAAA-AAAA-AAAA"
    )


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "correct horse battery staple",
        "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQ9",  # 9 is not in the alphabet
        "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQTA",  # 33 characters
        "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQß",  # not ASCII ("ß".upper() is "SS")
    ],
)
def test_other_passphrases_are_not_codes(typed: str) -> None:
    assert recoverycode.canonical(typed) is None
