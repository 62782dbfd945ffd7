"""The generated Unicode tables of core/names.py against Unicode's data files.

scripts/unicode/confusables.txt is committed, so the confusables table is
always checked. The Default_Ignorable_Code_Point ranges are checked against
Debian's /usr/share/unicode/DerivedCoreProperties.txt (package unicode-data)
when it is installed, and the small capitals against this interpreter's
character names when its Unicode version is the one the table was made with.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import unicodedata
from pathlib import Path
from types import ModuleType

import pytest

from securemsg.core import confusables_data, ignorable_data

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "make_unicode_tables.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_unicode_tables", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = load_script()


def derived() -> Path:
    if not gen.DERIVED.exists():
        pytest.skip(f"{gen.DERIVED} is not installed (apt-get install unicode-data)")
    return Path(gen.DERIVED)


def test_confusables_table_is_the_committed_confusables_txt() -> None:
    text = gen.CONFUSABLES.read_text("utf-8").removeprefix("\ufeff")
    assert hashlib.sha256(text.encode()).hexdigest() == confusables_data.SOURCE_SHA256
    assert gen.header_field(text, "Version") == confusables_data.UNICODE_VERSION
    assert gen.header_field(text, "Date") == confusables_data.SOURCE_DATE
    table = gen.parse_confusables(text)
    assert table == confusables_data.PROTOTYPES
    assert len(table) > 6000
    # spot checks, by hand from the file
    assert table[0x0430] == "a"  # CYRILLIC SMALL LETTER A
    assert table[ord("m")] == "rn" and table[ord("I")] == "l" and table[ord("1")] == "l"
    assert table[0x0578] == "n"  # ARMENIAN SMALL LETTER VO
    assert table[0x13B7] == "M"  # CHEROKEE LETTER LU
    assert table[0xA4EE] == "A"  # LISU LETTER A


def test_generated_modules_are_what_the_script_writes() -> None:
    path = derived()
    if unicodedata.unidata_version != confusables_data.SMALL_CAPITALS_UNIDATA:
        pytest.skip("the small capitals were made with another Unicode version")
    expected = gen.render_confusables(gen.CONFUSABLES.read_text("utf-8"))
    assert gen.OUT_CONFUSABLES.read_text("utf-8") == expected
    assert gen.OUT_IGNORABLE.read_text("utf-8") == gen.render_ignorable(path.read_text("utf-8"))


def test_default_ignorable_ranges_are_unicodes() -> None:
    text = derived().read_text("utf-8")
    if f"DerivedCoreProperties-{ignorable_data.UNICODE_VERSION}.txt" not in text:
        pytest.skip("another version of DerivedCoreProperties.txt is installed")
    assert list(ignorable_data.DEFAULT_IGNORABLE) == gen.parse_default_ignorable(text)


def test_default_ignorable_ranges_hold_the_known_fillers() -> None:
    from securemsg.core.names import is_default_ignorable

    for code in (0x00AD, 0x034F, 0x115F, 0x1160, 0x200B, 0x2060, 0x3164, 0xFE0F, 0xFFA0):
        assert is_default_ignorable(chr(code)), hex(code)
    for code in (0x20, 0x41, 0xE9, 0x2800, 0x3000, 0x10FFFF):
        assert not is_default_ignorable(chr(code)), hex(code)
    lows = [lo for lo, _ in ignorable_data.DEFAULT_IGNORABLE]
    assert lows == sorted(lows)
    assert all(lo <= hi for lo, hi in ignorable_data.DEFAULT_IGNORABLE)


def test_small_capitals_are_named_so() -> None:
    caps = confusables_data.SMALL_CAPITALS
    assert caps[0x1D00] == "a" and caps[0x1D0D] == "m" and caps[0x026A] == "i"
    for code, letter in caps.items():
        assert unicodedata.name(chr(code)) == f"LATIN LETTER SMALL CAPITAL {letter.upper()}"
    if unicodedata.unidata_version == confusables_data.SMALL_CAPITALS_UNIDATA:
        assert caps == gen.small_capitals()
