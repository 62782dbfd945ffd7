"""Human-entered text: names, identifiers, dates. Validation and matching forms."""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata

from securemsg.errors import InvalidValue

MAX_TEXT = 200
_RPPS = re.compile(r"^[0-9]{11}$")
_INS = re.compile(r"^[12][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{6}[0-9]{2}$")


def clean_text(value: str, field: str, max_len: int = MAX_TEXT) -> str:
    """NFC-normalise and refuse control, format (bidi) and unassigned characters."""
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise InvalidValue(f"{field} must not be empty")
    if len(text) > max_len:
        raise InvalidValue(f"{field} is longer than {max_len} characters")
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            raise InvalidValue(
                f"{field} holds an invisible or control character (U+{ord(ch):04X})",
                hint="type the text again without copy-pasting it",
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


# Letters of other scripts that look like Latin ones (after NFKC), the common
# Cyrillic and Greek homoglyphs of UTS #39's confusables table, upper and lower
# case each mapped to the Latin letter it is mistaken for.
_HOMOGLYPHS = str.maketrans(
    "АаВвЕеЁёКкМмНнОоРрСсТтУуХхЅѕІіЇїЈјҺһԀԁԚԛԜԝӀӏЬьҮү"  # Cyrillic
    "ΑαΒβΕεΖΗηΙιΚκΜΝνΟοΡρΤτΥυΧχγϲϹϳͿ"  # Greek
    "ıɑɡǀI10|",  # Latin and digits
    "AaBbEeEeKkMmHhOoPpCcTtYyXxSsIiIiJjhhddQqWwllbbYyAaBbEeZHnIiKkMNvOoPpTtYuXxycCjJiaglllol",
)


def skeleton(value: str) -> str:
    """A form under which names that look the same compare equal (UTS #39
    "skeleton", restricted to Latin, Cyrillic and Greek look-alikes): NFKC
    (so NFC and NFD spellings agree), homoglyphs to Latin, case-folded,
    single spaces, "rn" read as "m"."""
    text = unicodedata.normalize("NFKC", value).translate(_HOMOGLYPHS)
    return " ".join(text.casefold().split()).replace("rn", "m")


def check_rpps(value: str) -> str:
    if not _RPPS.fullmatch(value):
        raise InvalidValue("an RPPS number has 11 digits")
    return value


def ins_key(body13: str) -> int:
    digits = body13.replace("2A", "19").replace("2B", "18")
    return 97 - (int(digits) % 97)


def check_ins(value: str) -> str:
    """French INS (NIR form): 13 characters and a 2-digit key, key checked."""
    value = value.replace(" ", "").upper()
    if not _INS.fullmatch(value) or ins_key(value[:13]) != int(value[13:]):
        raise InvalidValue(
            "the INS is not valid (15 characters, key checked)",
            hint="copy it from the patient's carte Vitale or INS record",
        )
    return value


def check_date(value: str, field: str) -> str:
    try:
        day = _dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidValue(f"{field} must be a date as YYYY-MM-DD") from exc
    return day.isoformat()
