"""The translations (issue 14, "French and English"): every marked text has a
French translation, the shipped .mo is the compile of the .po files, the
placeholders of each translation are those of its English text, and the
installed executable answers in French under a French locale, in English under C.

Babel (a dev dependency) is imported here and by scripts/messages.py only.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from clirun import run_cli

ROOT = Path(__file__).resolve().parent.parent
FR = {"LANG": "fr_FR.UTF-8", "LC_ALL": None, "LC_MESSAGES": None, "SECUREMSG_LANG": None}
EN = {"LANG": "C", "LC_ALL": None, "LC_MESSAGES": None, "SECUREMSG_LANG": None}
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)[^{}]*\}|%\((\w+)\)s")

pytest.importorskip("babel", reason="Babel (dev extra) extracts and compiles the catalogs")


def _messages() -> ModuleType:
    spec = importlib.util.spec_from_file_location("messages", ROOT / "scripts" / "messages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("messages", module)
    spec.loader.exec_module(module)
    return module


messages = _messages()


def test_every_marked_text_has_a_french_translation() -> None:
    gaps = messages.missing("fr")
    assert not gaps, f"{len(gaps)} marked texts lack a French translation (make messages):\n" + (
        "\n".join(repr(text) for text in gaps)
    )


def test_the_shipped_mo_is_the_compile_of_the_po_files() -> None:
    shipped = messages.mo_path("fr").read_bytes()
    assert shipped == messages.compiled("fr"), "securemsg.mo is stale: run `make messages`"


def test_the_compile_is_deterministic() -> None:
    assert messages.compiled("fr") == messages.compiled("fr")


def _placeholders(text: str) -> list[str]:
    return sorted(a or b for a, b in PLACEHOLDER.findall(text))


def test_translations_keep_the_placeholders() -> None:
    wrong = []
    for message in messages.merged("fr"):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for index, text in enumerate(strings):
            source = ids[min(index, len(ids) - 1)]
            if _placeholders(text) != _placeholders(source):
                wrong.append(f"{source!r} -> {text!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_the_placeholder_check_sees_a_difference() -> None:
    assert _placeholders("{name} is not a contact") != _placeholders("{nom} n'est pas un contact")
    assert _placeholders("Option {name!r} requires") == ["name"]


def test_help_in_french_and_in_english() -> None:
    fr = run_cli(None, "--help", env=FR, executable=True)
    assert fr.exit_code == 0, fr.stderr
    assert "Utilisation : securemsg" in fr.stdout
    assert "Créer mon identité (clés, profil, carte)." in fr.stdout
    assert "Afficher cette aide et quitter." in fr.stdout
    en = run_cli(None, "--help", env=EN, executable=True)
    assert en.exit_code == 0, en.stderr
    assert "Usage: securemsg" in en.stdout
    assert "Create my identity (keys, profile, card)." in en.stdout
    assert "Créer" not in en.stdout


def test_securemsg_lang_overrides_the_locale() -> None:
    res = run_cli(None, "--help", env={**EN, "SECUREMSG_LANG": "fr"}, executable=True)
    assert "Utilisation : securemsg" in res.stdout
    res = run_cli(None, "--help", env={**FR, "SECUREMSG_LANG": "en"}, executable=True)
    assert "Usage: securemsg" in res.stdout


def test_usage_error_in_french_and_in_english() -> None:
    fr = run_cli(None, "inbox", "--nope", env=FR, executable=True)
    assert fr.exit_code == 2
    assert "Erreur : Option inconnue : '--nope'." in fr.stderr
    en = run_cli(None, "inbox", "--nope", env=EN, executable=True)
    assert en.exit_code == 2
    assert "Error: No such option '--nope'" in en.stderr


def test_whoami_in_french_and_in_english(tmp_path: Path) -> None:
    home = tmp_path / "home"
    made = run_cli(home, "init", "--name", "Dr Ada Weiss", "--role", "gp", env=EN)
    assert made.exit_code == 0, made.stderr
    fr = run_cli(home, "whoami", env=FR, executable=True)
    assert fr.exit_code == 0, fr.stderr
    assert "Empreinte" in fr.stdout and "Clés gardées dans" in fr.stdout
    en = run_cli(home, "whoami", env=EN, executable=True)
    assert en.exit_code == 0, en.stderr
    assert "Fingerprint" in en.stdout and "Keys kept in" in en.stdout
    assert "Empreinte" not in en.stdout


def test_french_role_names_accepted_and_shown(tmp_path: Path) -> None:
    import json

    home = tmp_path / "home"
    made = run_cli(
        home, "init", "--name", "Claire Petit", "--role", "infirmière", env=FR, executable=True
    )
    assert made.exit_code == 0, made.stderr
    doc = json.loads(run_cli(home, "--json", "whoami", env=FR, executable=True).stdout)
    assert doc["role"] == "nurse"  # the code, whatever the language
    fr = run_cli(home, "whoami", env=FR, executable=True)
    assert "Rôle: infirmier·e" in fr.stdout
    en = run_cli(home, "whoami", env=EN, executable=True)
    assert "Role: nurse" in en.stdout


def test_names_typed_in_french_give_the_codes() -> None:
    from securemsg.cli import names

    assert names.role_code("médecin traitant") == "gp"
    assert names.role_code("Medecin-Traitant") == "gp"
    assert names.role_code("médecin-conseil") == "medical-adviser"
    assert names.role_code("patiente") == "patient"
    assert names.role_code("Dr Ada Weiss") == "Dr Ada Weiss"  # a contact's name: left alone
    assert names.kind_code("adressage") == "referral"
    assert names.kind_code("compte rendu d'urgence") == "emergency-report"
    assert names.domain_code("soins infirmiers") == "nursing"
    assert names.domain_code("soins-infirmiers") == "nursing"
    assert names.domain_code("médical") == "medical"


def test_times_shown_in_french_form(monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    from securemsg import i18n
    from securemsg.core import times

    ts = int(dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC).timestamp())
    monkeypatch.setattr(times, "_display_zone", dt.UTC)
    try:
        i18n.select("fr")
        assert times.shown(ts) == "01/12/2026 08:30 UTC"
    finally:
        i18n.select("en")
    assert times.shown(ts) == "2026-12-01 08:30 UTC"
