"""Issue 12, item 10: look-alike names at `contacts add`, through the real executable.

Dr Claire Petit's home knows Dr Alice Martin (gp). Each card below is made with
core (a fresh key, not a test key) and added with the installed ``securemsg``
executable as a child process (``run(..., executable=True)``):

- a name holding a character that shows as nothing (Hangul filler, combining
  grapheme joiner, braille blank) is refused as a malformed card (exit 3);
- a name that looks the same in other letters (Armenian, Cherokee, Lisu, small
  capitals), per Unicode's confusables (UTS #39), is refused (exit 1) unless
  ``--replace``, like a look-alike of the owner's own name;
- a name that differs only by punctuation or accents, or the same name with
  another role, is added with a warning, on stderr and in the JSON.

On every refusal the home is unchanged (every DB row and every other file).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from clirun import Result, run_cli
from securemsg.core import signed
from securemsg.core.card import CARD, CARD_VERSION
from securemsg.core.identity import SecretIdentity

# Whole runs of the executable: in `make test` (CI), not in the inner loop.
pytestmark = pytest.mark.slow

ALICE = "Dr Alice Martin"
RPPS_ALICE = "10003456786"


def flat(text: str) -> str:
    return " ".join(text.split())


def securemsg(home: Path, *args: str | Path) -> Result:
    """The installed executable, as a child process."""
    return run_cli(home, *args, executable=True)


@pytest.fixture
def home(make_home, make_card, run) -> Path:
    path = make_home("Dr Claire Petit", "gp")
    alice = make_card(ALICE, "gp", rpps=RPPS_ALICE)
    assert run(path, "contacts", "add", str(alice.path)).exit_code == 0
    return path


def raw_card(tmp_path: Path, name: str, role: str = "gp") -> Path:
    """A card signed like Card.sign signs one, with a name that Profile (and so
    Card.sign) now refuses: what a hostile correspondent can send."""
    secret = SecretIdentity.generate()
    now = int(time.time()) - 60
    payload: dict[str, Any] = {
        "v": CARD_VERSION,
        "profile": {"name": name, "role": role},
        "sign_key": secret.sign_public,
        "enc_key": secret.enc_public,
        "created": now,
        "expires": now + 365 * 86400,
    }
    data = signed.sign(secret, CARD, payload)
    path = tmp_path / f"raw-{secret.sign_public.hex()[:8]}.card"
    path.write_bytes(data)
    return path


def contacts(home: Path) -> list[str]:
    res = securemsg(home, "--json", "contacts", "list")
    assert res.exit_code == 0, res.stderr
    return [c["name"] for c in res.json()["contacts"]]


# -- characters that show as nothing -------------------------------------------------------
INVISIBLE = {
    "hangul-filler": ("Dr Alice\u3164Martin", "U+3164 HANGUL FILLER"),
    "grapheme-joiner": ("Dr Ali\u034fce Martin", "U+034F COMBINING GRAPHEME JOINER"),
    "braille-blank": ("Dr Alice\u2800Martin", "U+2800 BRAILLE PATTERN BLANK"),
}


@pytest.mark.parametrize("case", sorted(INVISIBLE))
def test_invisible_character_in_a_card_name_refused(
    home: Path, tmp_path: Path, snapshot, case: str
) -> None:
    name, what = INVISIBLE[case]
    card = raw_card(tmp_path, name)
    before = snapshot(home)
    res = securemsg(home, "contacts", "add", card)
    assert res.exit_code == 3, (res.stdout, res.stderr)
    err = flat(res.stderr)
    assert f"name holds a character that shows as nothing on screen ({what})" in err, err
    assert "hint: securemsg refuses this profile" in err, err
    assert snapshot(home) == before

    res = securemsg(home, "--json", "contacts", "add", "--replace", card)
    assert res.exit_code == 3
    assert res.error_json()["error"] == "malformed"
    assert snapshot(home) == before


@pytest.mark.parametrize("case", sorted(INVISIBLE))
def test_invisible_character_refused_in_my_own_name(tmp_path: Path, case: str) -> None:
    name, what = INVISIBLE[case]
    res = securemsg(tmp_path / "new", "init", "--name", name, "--role", "gp")
    assert res.exit_code == 2, (res.stdout, res.stderr)
    err = flat(res.stderr)
    assert f"({what})" in err and "hint: type the name with the keyboard" in err, err
    assert not (tmp_path / "new" / "securemsg.db").exists()


# -- look-alikes: refused unless --replace -------------------------------------------------
LOOKALIKES = {
    "armenian": "Dr Alice Marti\u0578",  # ARMENIAN SMALL LETTER VO for n
    "cherokee": "Dr Alice \u13b7artin",  # CHEROKEE LETTER LU for M
    "lisu": "Dr \ua4eelice Martin",  # LISU LETTER A for A
    "small-capitals": "Dr Alice \u1d0d\u1d00\u0280\u1d1b\u026a\u0274",  # ᴍᴀʀᴛɪɴ
}


@pytest.mark.parametrize("case", sorted(LOOKALIKES))
def test_lookalike_of_a_contact_refused_unless_replace(
    home: Path, make_card, snapshot, case: str
) -> None:
    fake = make_card(LOOKALIKES[case], "gp")
    before = snapshot(home)
    res = securemsg(home, "contacts", "add", fake.path)
    assert res.exit_code == 1, (res.stdout, res.stderr)
    err = flat(res.stderr)
    assert f"looks like the name of your contact {ALICE} (gp," in err, err
    assert fake.card.display_fingerprint in err and "--replace" in err
    assert snapshot(home) == before

    res = securemsg(home, "--json", "contacts", "add", fake.path)
    assert res.exit_code == 1
    assert res.error_json()["error"] == "conflict"
    assert snapshot(home) == before

    res = securemsg(home, "--json", "contacts", "add", "--replace", fake.path)
    assert res.exit_code == 0, res.stderr
    doc = res.json()
    assert doc["status"] == "added"
    (warning,) = doc["warnings"]
    assert f"{LOOKALIKES[case]!r} looks like the name of your contact {ALICE} (gp," in warning
    assert sorted(contacts(home)) == sorted([ALICE, LOOKALIKES[case]])


def test_lookalike_of_my_own_name_refused(home: Path, make_card, snapshot) -> None:
    fake = make_card("Dr Cl\u0430ire Petit", "gp")  # CYRILLIC SMALL LETTER A
    before = snapshot(home)
    res = securemsg(home, "contacts", "add", fake.path)
    assert res.exit_code == 1, (res.stdout, res.stderr)
    assert "looks like your own name" in flat(res.stderr)
    assert snapshot(home) == before


# -- near misses: added, with a warning ----------------------------------------------------
NEAR = {
    "punctuation": ("Dr. Alice Martin", "gp", "only by accents or punctuation"),
    "accent": ("Dr Alice Mart\u00edn", "gp", "only by accents or punctuation"),
    "other-role": (ALICE, "specialist", "has the name of your contact"),
}


@pytest.mark.parametrize("case", sorted(NEAR))
def test_near_miss_added_with_a_warning(home: Path, make_card, case: str) -> None:
    name, role, why = NEAR[case]
    card = make_card(name, role)
    res = securemsg(home, "--json", "contacts", "add", card.path)
    assert res.exit_code == 0, res.stderr
    doc = res.json()
    assert doc["status"] == "added" and doc["fingerprint"] == card.card.fingerprint
    (warning,) = doc["warnings"]
    assert why in warning and f"{ALICE} (gp, " in warning, warning
    assert f"warning: {warning}" in flat(res.stderr)
    assert sorted(contacts(home)) == sorted([ALICE, name])


def test_near_miss_warning_in_text_mode(home: Path, make_card) -> None:
    card = make_card("Dr Alice Mart\u00edn", "gp")
    res = securemsg(home, "contacts", "add", card.path)
    assert res.exit_code == 0, res.stderr
    err = flat(res.stderr)
    assert "warning: the name 'Dr Alice Martín' differs from the name of your contact" in err
    assert "check the fingerprint with them" in err


def test_unrelated_name_has_no_warning(home: Path, make_card) -> None:
    res = securemsg(home, "--json", "contacts", "add", make_card("Dr Alicia Marton", "gp").path)
    assert res.exit_code == 0, res.stderr
    assert res.json()["warnings"] == [] and "warning" not in res.stderr
