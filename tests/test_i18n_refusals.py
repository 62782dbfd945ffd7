"""Refusals, usage errors and help in French (issue 14, "French and English").

The demo test (tests/test_demo.py) reads the whole story in French; here the
other side: a sample of refusals through the installed executable under
``LANG=fr_FR.UTF-8`` answer in French (message and hint), every command's
``--help`` has no English sentence left, and the log's problems are codes whose
text is chosen at display.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from clirun import child_env, run_cli, world_env

ROOT = Path(__file__).resolve().parent.parent
FR = {"LANG": "fr_FR.UTF-8", "LC_ALL": None, "LC_MESSAGES": None, "SECUREMSG_LANG": None}
PASSPHRASE = "correct-horse-battery-staple-42"


def _english_lines(text: str) -> list[str]:
    spec = importlib.util.spec_from_file_location(
        "demo_english", ROOT / "scripts" / "demo_english.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found: list[str] = module.english_lines(text)
    return found


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    where = tmp_path_factory.mktemp("fr") / "home"
    made = run_cli(
        where, "init", "--name", "Dr Ada Weiss", "--role", "gp", env=world_env(PASSPHRASE)
    )
    assert made.exit_code == 0, made.stderr
    yield where


# (arguments, extra environment, expected exit, French texts the answer holds)
CASES = [
    (["contacts", "add", "{letter}"], {}, 2,
     ["est une lettre chiffrée, et non une carte de contact",
      "conseil : utilisez : securemsg receive"]),
    (["consent", "show", "{source}"], {}, 2,
     ["est la source Markdown d'une lettre, et non un consentement, un retrait ou une opposition"]),
    (["receive"], {}, 2, ["donnez des FICHIERs de lettre, --drop DOSSIER, --mail ou --retry"]),
    (["inbox", "--limit", "abc"], {}, 2, ["'abc' n'est pas un entier valide"]),
    (["card", "renew", "--valid-for", "5y"], {}, 2,
     ["--valid-for '5y' dépasse 1095 jours", "choisissez au plus 3y"]),
    (["whoami"], {"SECUREMSG_TZ": "Mars/Olympus"}, 2,
     ["SECUREMSG_TZ='Mars/Olympus' n'est pas un fuseau horaire connu"]),
    (["verify", "{missing}"], {}, 2,
     ["nope.smsg : fichier introuvable",
      "donnez un fichier de lettre ou un identifiant de message"]),
    (["init", "--name", "X", "--role", "surgeon"], {"NEW_HOME": "1"}, 2,
     ["rôle inconnu 'surgeon'"]),
]  # fmt: skip


@pytest.mark.parametrize(("args", "extra", "code", "texts"), CASES, ids=lambda c: str(c)[:30])
def test_refusals_answer_in_french(
    home: Path, tmp_path: Path, args: list[str], extra: dict[str, str], code: int, texts: list[str]
) -> None:
    letter = tmp_path / "letter.smsg"
    letter.write_bytes(b"age-encryption.org/v1\n-> X25519 abc\n")
    source = tmp_path / "letter.md"
    source.write_text("# Hello\n\nBody\n")
    missing = tmp_path / "nope.smsg"
    argv = [a.format(letter=letter, source=source, missing=missing) for a in args]
    extra = dict(extra)
    where = tmp_path / "new-home" if extra.pop("NEW_HOME", None) else home
    env = {**world_env(PASSPHRASE), **FR, **extra}
    res = run_cli(where, *argv, env=env, executable=True)
    assert res.exit_code == code, res.stdout + res.stderr
    for text in texts:
        assert text in res.stderr, res.stderr
    assert "internal error" not in res.stderr
    assert _english_lines(res.stderr) == []


def test_the_same_refusal_in_english(home: Path, tmp_path: Path) -> None:
    """The source texts are unchanged: the English answer is the one the tests know."""
    res = run_cli(home, "card", "renew", "--valid-for", "5y",
                  env={**world_env(PASSPHRASE), "LANG": "C", "SECUREMSG_LANG": None},
                  executable=True)  # fmt: skip
    assert res.exit_code == 2
    assert "--valid-for '5y' is longer than 1095 days" in res.stderr
    assert "choose at most 3y" in res.stderr


HELP_ALL = """
import contextlib, io, click
from securemsg.cli.main import choose_language, cli
import os
choose_language(os.environ)
ctx = click.Context(cli, info_name="securemsg")
paths = [[]]
for name in cli.list_commands(ctx):
    cmd = cli.get_command(ctx, name)
    paths.append([name])
    if isinstance(cmd, click.Group):
        sub = click.Context(cmd, info_name=name, parent=ctx)
        paths += [[name, s] for s in cmd.list_commands(sub)]
for path in paths:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            cli.main(args=[*path, "--help"], prog_name="securemsg", standalone_mode=False)
        except SystemExit:
            pass
    print("### securemsg", " ".join(path))
    print(buf.getvalue())
"""


def _all_help(env: dict[str, str | None]) -> str:
    """Every command's and sub-command's --help, in one process (as `securemsg X
    --help` prints it: the language chosen from the environment at start-up)."""
    proc = subprocess.run(
        [sys.executable, "-c", HELP_ALL],
        env=child_env({"COLUMNS": "200", "NO_COLOR": "1", **env}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_every_help_is_in_french() -> None:
    out = _all_help(FR)
    assert out.count("### securemsg") > 40  # every command and sub-command
    assert out.count("Utilisation : securemsg") == out.count("### securemsg")
    assert "Afficher cette aide et quitter." in out
    assert _english_lines(out) == []


def test_the_help_check_sees_english() -> None:
    out = _all_help({"LANG": "C", "LC_ALL": None, "LC_MESSAGES": None, "SECUREMSG_LANG": None})
    assert "Show this message and exit." in out
    assert _english_lines(out)


def test_log_problems_are_codes_worded_at_display() -> None:
    from securemsg import i18n
    from securemsg.core.log import ChainReport, LogProblem, check_checkpoint

    report = check_checkpoint(ChainReport(3, bytes(32), None, None), None, [])
    assert report.issue is not None and report.issue.code is LogProblem.CHECKPOINT_MISSING
    assert report.problem is not None and report.problem.startswith(
        "the signed checkpoint is missing"
    )
    try:
        i18n.select("fr")
        assert report.problem.startswith("le point de contrôle signé est absent")
    finally:
        i18n.select("en")
    assert report.problem.startswith("the signed checkpoint is missing")


def test_backup_times_local_and_french_json_utc(home: Path, tmp_path: Path) -> None:
    """Times shown to people are local, in the French form with the zone named; the
    same report in JSON stays UTC RFC 3339 (issue 14)."""
    import re

    env = {**world_env(PASSPHRASE), **FR, "TZ": "Europe/Paris",
           "SECUREMSG_BACKUP_PASSPHRASE": "a long backup passphrase"}  # fmt: skip
    res = run_cli(home, "backup", "-o", tmp_path / "b.age", env=env, executable=True)
    assert res.exit_code == 0, res.stderr
    made = next(ln for ln in res.stdout.splitlines() if ln.startswith("Faite le"))
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d (CET|CEST)$", made), made
    doc = run_cli(home, "--json", "backup", "-o", tmp_path / "c.age", env=env, executable=True)
    assert doc.exit_code == 0, doc.stderr
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc.json()["created"])


def test_days_and_birth_dates_in_french_form(monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    from securemsg import i18n
    from securemsg.core import times

    ts = int(dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC).timestamp())
    monkeypatch.setattr(times, "_display_zone", dt.timezone(dt.timedelta(hours=1)))
    try:
        i18n.select("fr")
        assert times.shown_day(ts) == "02/12/2026"  # the local day, not UTC's
        assert times.shown_date("1955-03-02") == "02/03/1955"
    finally:
        i18n.select("en")
    assert times.shown_day(ts) == "2026-12-02"
    assert times.shown_date("1955-03-02") == "1955-03-02"


def test_a_refusal_notice_is_worded_from_its_rule() -> None:
    """A notice's reason is a sentence in English (signed, core/letter/policy.py);
    the sender reads it in the language, worded from the notice's rule."""
    from securemsg import i18n
    from securemsg.cli.receiving import refusal_words
    from securemsg.core.letter.policy import refusal_reason
    from securemsg.errors import ConsentRefused, NotForMe

    consent = ConsentRefused("x", rule="purpose_not_allowed")
    broken = NotForMe("y")
    for error, rule in ((consent, "purpose_not_allowed"), (broken, broken.code)):
        assert refusal_words(rule, refusal_reason(error)) == refusal_reason(error)  # English
    try:
        i18n.select("fr")
        assert refusal_words("purpose_not_allowed", refusal_reason(consent)) == (
            "la messagerie du destinataire a refusé la lettre en vertu de la règle de "
            "consentement purpose_not_allowed"
        )
        assert "n'a pas pu vérifier la lettre (not_for_me)" in refusal_words(
            broken.code, refusal_reason(broken)
        )
        assert refusal_words("rule", "their own words") == "their own words"
    finally:
        i18n.select("en")
    assert refusal_words(None, "their own words") == "their own words"
