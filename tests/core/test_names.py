"""Human-entered text: names, RPPS, INS, dates, matching."""

from __future__ import annotations

import unicodedata

import pytest

from securemsg.core import names
from securemsg.errors import InvalidValue

VALID_INS = "184127505600774"
VALID_INS_CORSICA = "185032A12345601"


@pytest.mark.parametrize(
    "bad",
    [
        "Dr\u202eA",  # RIGHT-TO-LEFT OVERRIDE (bidi)
        "Dr\u2066A\u2069",  # LEFT-TO-RIGHT ISOLATE ... POP DIRECTIONAL ISOLATE
        "Dr\u200bA",  # ZERO WIDTH SPACE
        "Dr\u200dA",  # ZERO WIDTH JOINER
        "\ufeffDr A",  # BYTE ORDER MARK
        "Dr\x00A",
        "Dr\x07A",
        "Dr\nA",
        "Dr\rA",
        "Dr\tA",
        "Dr\x1bA",  # ESC: terminal escape sequences
        "Dr\x85A",  # NEXT LINE (C1)
        "Dr\u2028A",  # LINE SEPARATOR
        "Dr\u2029A",  # PARAGRAPH SEPARATOR
        "Dr\ue000A",  # private use
        "Dr\U000e0041A",  # TAG LATIN CAPITAL LETTER A
    ],
)
def test_control_bidi_and_invisible_characters_refused(bad: str) -> None:
    with pytest.raises(InvalidValue, match="invisible or control character"):
        names.clean_text(bad, "name")


def test_unassigned_code_point_refused() -> None:
    cp = next(c for c in range(0x0870, 0x10FFFF) if unicodedata.category(chr(c)) == "Cn")
    with pytest.raises(InvalidValue):
        names.clean_text(f"Dr {chr(cp)}", "name")


def test_clean_text_normalises_to_nfc_and_strips() -> None:
    decomposed = "  Dr He\u0301le\u0300ne  "
    assert names.clean_text(decomposed, "name") == "Dr H\u00e9l\u00e8ne"


@pytest.mark.parametrize("bad", ["", "   ", "x" * 201])
def test_empty_or_too_long_refused(bad: str) -> None:
    with pytest.raises(InvalidValue):
        names.clean_text(bad, "name")


def test_match_key_is_case_and_space_insensitive() -> None:
    assert names.match_key("  DR   Alice\tMARTIN ") == names.match_key("dr alice martin")
    assert names.match_key("Stra\u00dfe") == names.match_key("STRASSE")  # casefold, not lower
    assert names.match_key("\uff24\uff32 A") == names.match_key("DR A")  # NFKC: fullwidth


@pytest.mark.parametrize("good", ["10003456786", "00000000000"])
def test_rpps_valid(good: str) -> None:
    assert names.check_rpps(good) == good


@pytest.mark.parametrize("bad", ["1234567890", "123456789012", "1234567890a", "\u0661" * 11, ""])
def test_rpps_invalid(bad: str) -> None:
    with pytest.raises(InvalidValue):
        names.check_rpps(bad)


def test_rpps_and_ins_with_trailing_newline_refused() -> None:
    with pytest.raises(InvalidValue):
        names.check_rpps("12345678901\n")
    with pytest.raises(InvalidValue):
        names.check_ins(VALID_INS + "\n")


@pytest.mark.parametrize(
    "good", [VALID_INS, VALID_INS_CORSICA, "1 84 12 75 056 007 74", "185032a12345601"]
)
def test_ins_valid_and_normalised(good: str) -> None:
    out = names.check_ins(good)
    assert out in (VALID_INS, VALID_INS_CORSICA)


@pytest.mark.parametrize(
    "bad",
    [
        "184127505600775",  # key off by one
        "184127505600700",
        "384127505600774",  # sex digit
        "18412750560077",  # 14 characters
        "1841275056007740",
        "185032C12345601",
        "18503ZZ12345601",
        "",
    ],
)
def test_bad_ins_refused(bad: str) -> None:
    with pytest.raises(InvalidValue, match="INS"):
        names.check_ins(bad)


def test_ins_key_definition() -> None:
    assert names.ins_key("1841275056007") == 97 - 1841275056007 % 97 == 74
    assert names.ins_key("185032A123456") == 97 - 1850319123456 % 97  # 2A counts as 19


def test_dates() -> None:
    assert names.check_date("1970-01-31", "birth date") == "1970-01-31"
    for bad in ("31/01/1970", "1970-02-30", "yesterday", ""):
        with pytest.raises(InvalidValue, match="YYYY-MM-DD"):
            names.check_date(bad, "birth date")


def test_scripts_of_detects_mixed_scripts() -> None:
    assert names.scripts_of("Dr Alice") == {"LATIN"}
    assert names.scripts_of("Dr \u0410lice") == {"LATIN", "CYRILLIC"}  # Cyrillic A
