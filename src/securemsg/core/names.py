"""Human-entered text: names, identifiers, dates. Validation and matching forms.

Names are compared as they look on Unicode's own data, not on a hand-made list:
the UTS #39 confusables table (confusables.txt, Unicode 17.0) for the skeleton
and the Default_Ignorable_Code_Point property for the characters refused in
names. scripts/make_unicode_tables.py turns them into the Python tables
core/confusables_data.py and core/ignorable_data.py, committed with the Unicode
version stated and checked against the data files by
tests/core/test_unicode_tables.py: core reads no data file at run time.

No library was taken. On PyPI, confusable-homoglyphs (3.3.1, January 2024)
offers per-character checks but no skeleton (one-to-one mappings only, read at
import from a JSON file whose folder an environment variable may change);
confusables (1.2.0, 2021) ships Unicode 13 data with hand-made additions
("a" as "@"); disarm (0.17, a Rust extension released in 2026) computes keys
that depart from UTS #39 on purpose (no "m" as "rn"). The skeleton itself is
four lines (:func:`skeleton`); the table is what must be right, and it is
Unicode's.
"""

from __future__ import annotations

import datetime as _dt
import enum
import re
import unicodedata
from bisect import bisect_right
from typing import TYPE_CHECKING, TypeVar

from securemsg.core.ignorable_data import DEFAULT_IGNORABLE
from securemsg.errors import InvalidValue
from securemsg.i18n import N_, _

if TYPE_CHECKING:
    from collections.abc import Iterable

MAX_TEXT = 200
_E = TypeVar("_E", bound=enum.Enum)
_RPPS = re.compile(r"^[0-9]{11}$")
_INS = re.compile(r"^[12][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{6}[0-9]{2}$")


def clean_text(value: str, field: str, max_len: int = MAX_TEXT) -> str:
    """NFC-normalise and refuse control, format (bidi) and unassigned characters."""
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise InvalidValue(_("{field} must not be empty").format(field=_(field)))
    if len(text) > max_len:
        raise InvalidValue(
            _("{field} is longer than {max_len} characters").format(field=_(field), max_len=max_len)
        )
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            raise InvalidValue(
                _("{field} holds an invisible or control character (U+{ch:04X})").format(
                    field=_(field), ch=ord(ch)
                ),
                hint=_("type the text again without copy-pasting it"),
            )
    return text


def match_key(value: str) -> str:
    """The form used to compare names: NFKC, case-folded, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def scripts_of(value: str) -> set[str]:
    """Unicode scripts of the letters (first word of the character name)."""
    out = set()
    for ch in value:
        if ch.isalpha():
            out.add(unicodedata.name(ch, "UNKNOWN").split(" ")[0])
    return out


# -- names: invisible characters refused, look-alikes compared -----------------------------
# Characters that show as an empty space but are not spaces (besides the
# default-ignorable ones, which include the Hangul fillers U+115F, U+1160, U+3164
# and U+FFA0).
_BLANKS = {
    0x2800: "BRAILLE PATTERN BLANK",
    0x1D159: "MUSICAL SYMBOL NULL NOTEHEAD",
}


def is_default_ignorable(ch: str) -> bool:
    """Unicode's Default_Ignorable_Code_Point: a renderer may show it as nothing."""
    code = ord(ch)
    i = bisect_right(DEFAULT_IGNORABLE, (code, 0x10FFFF))
    return i > 0 and DEFAULT_IGNORABLE[i - 1][0] <= code <= DEFAULT_IGNORABLE[i - 1][1]


def clean_name(value: str, field: str = N_("name")) -> str:
    """:func:`clean_text`, and refuse what shows as nothing in a person's name:
    default-ignorable characters (joiners, variation selectors, Hangul fillers...)
    and blank-looking ones (braille blank...): with them, two different names
    look the same, or a name looks empty."""
    text = clean_text(value, field)
    for ch in text:
        code = ord(ch)
        if code >= 0xAD and (code in _BLANKS or is_default_ignorable(ch)):
            what = _BLANKS.get(code) or unicodedata.name(ch, "an unnamed character")
            raise InvalidValue(
                _(
                    "{field} holds a character that shows as nothing on screen (U+{code:04X} "
                    "{what}): with it, two different names can look the same"
                ).format(field=_(field), code=code, what=what),
                hint=_(
                    "type the name with the keyboard, with ordinary letters and spaces, "
                    "instead of pasting it"
                ),
            )
    return text


def skeleton(value: str) -> str:
    """The UTS #39 skeleton (Unicode Security Mechanisms, section 4): NFD, remove
    default-ignorable characters, map each character to its prototype in
    confusables.txt, NFD again. Two strings with the same skeleton are visually
    confusable ("Раul" in Cyrillic and "Paul", "rn" and "m", "I" and "l")."""
    from securemsg.core.confusables_data import PROTOTYPES

    text = unicodedata.normalize("NFD", value)
    text = "".join(ch for ch in text if ord(ch) < 0xAD or not is_default_ignorable(ch))
    return unicodedata.normalize("NFD", text.translate(PROTOTYPES))


def lookalike_keys(value: str) -> tuple[str, str]:
    """Two forms under which names that look alike compare equal (see
    :func:`looks_alike`). Small capitals are first read as the letters they are
    ("ᴍᴀʀᴛɪɴ": UTS #39 keeps most of them apart). Then the UTS #39 skeleton is
    taken before case folding (its table maps capitals such as Cyrillic "М" to
    Latin "M") and after it (so that a Cyrillic letter in a name written in
    capitals, "DR АLICE", is still seen). Spaces collapsed."""
    from securemsg.core.confusables_data import SMALL_CAPITALS

    text = unicodedata.normalize("NFD", value).translate(SMALL_CAPITALS)
    before = skeleton(text).casefold()
    after = skeleton(text.casefold()).translate(SMALL_CAPITALS)
    return " ".join(before.split()), " ".join(after.split())


def looks_alike(a: str, b: str) -> bool:
    """Visually confusable names (by either of :func:`lookalike_keys`). With
    different :func:`match_key`, they are look-alikes: refused as contacts."""
    return any(x == y for x, y in zip(lookalike_keys(a), lookalike_keys(b), strict=True))


def _loose(key: str) -> str:
    kept = []
    for ch in unicodedata.normalize("NFD", key):
        cat = unicodedata.category(ch)
        if cat[0] != "M":
            kept.append(" " if cat[0] == "P" else ch)
    return " ".join("".join(kept).split())


def nearly_alike(a: str, b: str) -> bool:
    """Names that differ only by accents (combining marks) and punctuation once
    look-alikes are folded: "Dr. Alice Martín" and "Dr Alice Martin". Not a proof
    of imitation (accents and punctuation are visible), a reason to warn."""
    ka, kb = lookalike_keys(a), lookalike_keys(b)
    return any(_loose(x) == _loose(y) for x, y in zip(ka, kb, strict=True))


def suggest(value: str, choices: Iterable[str]) -> str:
    """``": did you mean X?"`` for the closest of ``choices`` (difflib), else ``""``."""
    import difflib  # only on an error: not on whoami's import path

    keyed = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(value.strip().lower(), list(keyed), n=1, cutoff=0.6)
    return _(": did you mean {choice}?").format(choice=keyed[close[0]]) if close else ""


def parse_choice(cls: type[_E], value: str, unknown: str) -> _E:
    """The member of ``cls`` whose value is ``value`` (spaces and case ignored),
    else a refusal that suggests the closest choice and lists them all.
    ``unknown``: the message, marked with N_ where written, with ``{value}``."""
    try:
        return cls(value.strip().lower())
    except ValueError as exc:
        values = [str(m.value) for m in cls]
        raise InvalidValue(
            _(unknown).format(value=repr(value)) + suggest(value, values),
            hint=_("choose one of: {values}").format(values=", ".join(values)),
        ) from exc


def check_rpps(value: str) -> str:
    """The form of an RPPS number (11 digits). Cards are read with this check only:
    cards signed before the key was checked must keep verifying (tests/vectors);
    :func:`check_rpps_key` is for numbers typed in and a warning on cards."""
    if not _RPPS.fullmatch(value):
        raise InvalidValue(_("an RPPS number has 11 digits"))
    return value


def rpps_key_ok(value: str) -> bool:
    """The Luhn check digit of an 11-digit RPPS number (over all 11 digits)."""
    total = 0
    for i, ch in enumerate(reversed(value)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def check_rpps_key(value: str) -> str:
    """An RPPS number as typed: 11 digits and its Luhn check digit."""
    value = check_rpps(value.replace(" ", ""))
    if not rpps_key_ok(value):
        raise InvalidValue(
            _("the RPPS number {value} is not valid: its check digit (Luhn) does not match").format(
                value=value
            ),
            hint=_(
                "copy it from the practitioner's RPPS card or the annuaire santé; a "
                "digit is mistyped"
            ),
        )
    return value


def ins_key(body13: str) -> int:
    digits = body13.replace("2A", "19").replace("2B", "18")
    return 97 - (int(digits) % 97)


def check_ins(value: str) -> str:
    """French INS (NIR form): 13 characters and a 2-digit key, key checked."""
    value = value.replace(" ", "").upper()
    if not _INS.fullmatch(value) or ins_key(value[:13]) != int(value[13:]):
        raise InvalidValue(
            _("the INS is not valid (15 characters, key checked)"),
            hint=_("copy it from the patient's carte Vitale or INS record"),
        )
    return value


def check_date(value: str, field: str) -> str:
    try:
        day = _dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidValue(
            _("{field} must be a date as YYYY-MM-DD").format(field=_(field))
        ) from exc
    return day.isoformat()
