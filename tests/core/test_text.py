"""core/text.py: the one sanitiser, and JSON's escaping of the same characters."""

from __future__ import annotations

import json
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securemsg.core.text import escape_hidden, for_terminal, hidden, json_text

C0 = [chr(c) for c in range(0x20)]
C1 = [chr(c) for c in range(0x80, 0xA0)]
BIDI = [chr(c) for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))]
FORMAT = ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\U000e0041", "\ufff9"]
INVISIBLE = ["\u034f", "\u115f", "\u3164", "\uffa0", "\u2028", "\u2029", "\ue000", "\U000f0000"]
SHOWN = ["a", "é", " ", "\u00a0", "\u202f", "«", "\u2764", "\ufe0f", "😀", "\\", "{", "日"]


@pytest.mark.parametrize("ch", [*C0, "\x7f", *C1, *BIDI, *FORMAT, *INVISIBLE])
def test_hidden_characters(ch: str) -> None:
    assert hidden(ch)
    assert for_terminal(f"a{ch}b") == f"a\\u{{{ord(ch):x}}}b"


@pytest.mark.parametrize("ch", SHOWN)
def test_shown_characters(ch: str) -> None:
    assert not hidden(ch)
    assert for_terminal(ch) == ch


def test_line_feed_and_tab_kept_only_in_lines_mode() -> None:
    assert for_terminal("a\nb\tc") == "a\\u{a}b\\u{9}c"
    assert for_terminal("a\nb\tc\r", lines=True) == "a\nb\tc\\u{d}"


def test_every_shown_escape_is_one() -> None:
    """The text's own ``\\u{`` is escaped: what the screen shows is unambiguous."""
    assert for_terminal("\\u{1b} and \x1b") == "\\u{5c}u{1b} and \\u{1b}"
    assert for_terminal("C:\\users\\u1") == "C:\\users\\u1"  # other backslashes as they are


def test_terminal_sequences() -> None:
    title = "\x1b]0;pwned\x07"
    assert for_terminal(title) == "\\u{1b}]0;pwned\\u{7}"
    assert for_terminal("\x9b2J") == "\\u{9b}2J"


@settings(deadline=None)  # no timing: a loaded machine must not fail it
@given(st.text())
def test_for_terminal_leaves_nothing_hidden(text: str) -> None:
    shown = for_terminal(text)
    assert not any(hidden(c) for c in shown)
    assert escape_hidden(shown) == shown  # the last pass changes nothing


@settings(deadline=None)
@given(st.text(), st.text())
def test_for_terminal_is_injective(a: str, b: str) -> None:
    if a != b:
        assert for_terminal(a) != for_terminal(b)


@settings(deadline=None)
@given(
    st.recursive(
        st.text() | st.integers() | st.none(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
    )
)
def test_json_text_round_trips_and_hides_nothing(doc: object) -> None:
    for indent in (None, 2):
        text = json_text(json.dumps(doc, ensure_ascii=False, indent=indent))
        assert json.loads(text) == doc
        assert not any(hidden(c) for c in text if c != "\n")


def test_json_escapes() -> None:
    text = json_text(json.dumps("\x7f\x85\u202e\u2028\U000e0041é😀", ensure_ascii=False))
    assert text == '"\\u007f\\u0085\\u202e\\u2028\\udb40\\udc41é😀"'


def test_categories_follow_unicodedata() -> None:
    """Every Cc, Cf, Zl, Zp, Co, Cs and Cn code point is hidden (a sample of each)."""
    seen: set[str] = set()
    for code in range(0, sys.maxunicode + 1, 7):
        cat = unicodedata.category(chr(code))
        if cat in {"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"}:
            assert hidden(chr(code)), hex(code)
            seen.add(cat)
    assert seen >= {"Cc", "Cf", "Co", "Cs", "Cn"}  # Zl, Zp: single code points, tested above


def test_json_escape_above_the_bmp_is_remembered_under_its_own_code() -> None:
    """A hidden character above U+FFFF (U+1D173, a musical format character) must
    not change how U+D173 (a Hangul syllable, 0x10000 lower) is written later."""
    for ch in ("\U0001d173", "\ud173", "\U000ff2cb", "\uf2cb"):
        doc = json.dumps(f"a{ch}b", ensure_ascii=False)
        assert json.loads(json_text(doc)) == f"a{ch}b"
