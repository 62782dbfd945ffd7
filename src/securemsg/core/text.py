"""Text from someone else, made safe to show: the one sanitiser (conventions.md,
Untrusted input).

A letter, a card, a consent or a notice carries text its author chose. On a
terminal, some characters are commands rather than text: ESC and the C1 controls
start escape sequences (redraw the screen, set the window title, write the
clipboard with OSC 52, hide a link target with OSC 8), CR and BS overwrite what
was printed, bidi controls (U+202E...) reorder what follows, and format or
default-ignorable characters show as nothing. :func:`for_terminal` shows each of
them visibly instead, as ``\\u{hex}`` (ESC is ``\\u{1b}``, RIGHT-TO-LEFT OVERRIDE
``\\u{202e}``); :func:`json_text` makes JSON carry them as ``\\uXXXX`` escapes.

Which characters (:func:`hidden`): general categories Cc (C0 but what a mode
keeps, DEL, C1), Cf (format: bidi controls, zero-width characters, soft hyphen,
tags...), Zl and Zp (line and paragraph separators), Cs, Co and Cn (surrogates,
private use, unassigned), and the rest of Unicode's Default_Ignorable_Code_Point
(Hangul fillers, the combining grapheme joiner...) but the variation selectors,
which only choose how the character before them is drawn (emoji).

The shown form is unambiguous: a ``\\u{`` that the text itself holds is shown as
``\\u{5c}u{`` (5c is the backslash), so every ``\\u{`` on the screen is an escape.

On whoami's import path (CONTRIBUTING.md, "Start-up time"): the standard
library's unicodedata (already loaded by core.names) and core.ignorable_data only.
"""

from __future__ import annotations

import unicodedata

from securemsg.core.ignorable_data import DEFAULT_IGNORABLE

_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_VARIATION_SELECTORS = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))
_CACHE_MAX = 1 << 16  # distinct characters remembered per table (a few MB at most)
MARK = "\\u{"  # how every escape starts, on a terminal


def hidden(ch: str) -> bool:
    """A character that must not reach a terminal as itself (see the module doc)."""
    if unicodedata.category(ch) in _HIDDEN_CATEGORIES:
        return True
    code = ord(ch)
    if code < 0xAD or any(lo <= code <= hi for lo, hi in _VARIATION_SELECTORS):
        return False
    return any(lo <= code <= hi for lo, hi in DEFAULT_IGNORABLE)


class _Table(dict[int, str]):
    """A ``str.translate`` table filled on demand: each character is classified
    once (C speed afterwards), up to :data:`_CACHE_MAX` distinct characters."""

    __slots__ = ("_json", "_keep")

    def __init__(self, keep: str, *, json: bool = False) -> None:
        super().__init__()
        self._keep = frozenset(map(ord, keep))
        self._json = json

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if code in self._keep or not hidden(ch):
            out = ch
        elif not self._json:
            out = f"\\u{{{code:x}}}"
        elif code <= 0xFFFF:
            out = f"\\u{code:04x}"
        else:  # JSON escapes UTF-16 code units: a surrogate pair
            high, low = divmod(code - 0x10000, 0x400)
            out = f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"
        if len(self) < _CACHE_MAX:
            self[code] = out
        return out


_LINE = _Table("")
_LINES = _Table("\n\t")
_JSON = _Table("\n", json=True)


def for_terminal(text: str, *, lines: bool = False) -> str:
    """``text`` with every :func:`hidden` character shown as ``\\u{hex}``, and a
    ``\\u{`` of the text itself as ``\\u{5c}u{``. One line unless ``lines``: then
    line feeds and tabs are kept (a letter's body), else they are escaped too (a
    subject, a name: a line feed there would draw a line of its own)."""
    if MARK in text:
        text = text.replace(MARK, "\\u{5c}u{")
    return text.translate(_LINES if lines else _LINE)


def escape_hidden(text: str, *, lines: bool = True) -> str:
    """Only the :func:`hidden` characters escaped (not ``\\u{``): idempotent, for a
    last pass over text that :func:`for_terminal` should already have cleaned."""
    return text.translate(_LINES if lines else _LINE)


def json_text(document: str) -> str:
    """A JSON document (``json.dumps(..., ensure_ascii=False)``) with every
    :func:`hidden` character as a ``\\uXXXX`` escape (a surrogate pair above
    U+FFFF). They can only be inside strings (JSON's own syntax is ASCII), so the
    document stays valid and decodes to the same values; its structural line
    feeds are kept."""
    return document.translate(_JSON)
