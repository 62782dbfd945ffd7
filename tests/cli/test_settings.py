"""`securemsg settings`: the home's language and time zone (issue 14: "chosen from
the locale, and an override in the home's settings"; "the local zone, or a
setting"), through the installed executable."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from clirun import run_cli, world_env

PASSPHRASE = "correct-horse-battery-staple-42"
ENGLISH = {"LANG": "C", "LC_ALL": None, "LC_MESSAGES": None, "SECUREMSG_LANG": None,
           "SECUREMSG_TZ": None, "TZ": "UTC"}  # fmt: skip


@pytest.fixture
def home(tmp_path: Path) -> Path:
    where = tmp_path / "home"
    made = run_cli(
        where, "init", "--name", "Dr Ada Weiss", "--role", "gp", env=world_env(PASSPHRASE)
    )
    assert made.exit_code == 0, made.stderr
    return where


def _run(home: Path, *args: str, **env: str | None) -> tuple[int, str, str]:
    res = run_cli(home, *args, env={**world_env(PASSPHRASE), **ENGLISH, **env}, executable=True)
    assert "internal error" not in res.stderr
    return res.exit_code, res.stdout, res.stderr


def test_the_language_setting_wins_over_the_locale(home: Path) -> None:
    code, out, _ = _run(home, "settings", "--language", "fr")
    assert code == 0
    code, out, _ = _run(home, "whoami")
    assert code == 0 and "Empreinte" in out and "Rôle: médecin traitant" in out
    code, out, _ = _run(home, "inbox", "--help")
    assert "Utilisation : securemsg inbox" in out and "Afficher cette aide" in out
    code, _, err = _run(home, "inbox", "--limit", "x")
    assert code == 2 and "n'est pas un entier valide" in err
    code, out, _ = _run(home, "whoami", SECUREMSG_LANG="en")  # the variable still wins
    assert "Fingerprint" in out
    code, out, _ = _run(home, "--json", "settings")
    assert json.loads(out) == {
        "schema": "securemsg.settings/1",
        "language": "fr",
        "time_zone": None,
    }
    _run(home, "settings", "--language", "auto")
    code, out, _ = _run(home, "whoami")
    assert "Fingerprint" in out and "Empreinte" not in out


def test_the_time_zone_setting(home: Path) -> None:
    assert _run(home, "settings", "--time-zone", "Asia/Tokyo")[0] == 0
    code, out, _ = _run(home, "--json", "settings")
    assert json.loads(out)["time_zone"] == "Asia/Tokyo"
    with tempfile.TemporaryDirectory(prefix="smtz") as runtime:  # a short socket path
        rt = {"XDG_RUNTIME_DIR": runtime}
        code, out, err = _run(home, "unlock", "--for", "1m", **rt)
        try:
            assert code == 0, err
            status = _run(home, "agent", "status", **rt)[1]
            assert status.rstrip().splitlines()[1].endswith(" JST"), status  # "Keys kept until"
            status = _run(home, "agent", "status", SECUREMSG_TZ="UTC", **rt)[1]  # the variable wins
            assert status.rstrip().splitlines()[1].endswith(" UTC"), status
            raw = _run(home, "--json", "agent", "status", **rt)[1]
            assert json.loads(raw)["expires"].endswith("Z")  # JSON stays UTC RFC 3339
        finally:
            _run(home, "lock", **rt)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--language", "de"], "--language 'de' is not a language securemsg speaks"),
        (["--time-zone", "Mars/Olympus"], "--time-zone 'Mars/Olympus' is not a known time zone"),
    ],
)
def test_a_bad_setting_is_refused_and_nothing_changes(
    home: Path, args: list[str], said: str
) -> None:
    _run(home, "settings", "--language", "fr")
    before = (home / "config.json").read_bytes()
    code, _, err = _run(home, "settings", *args, SECUREMSG_LANG="en")
    assert code == 2 and said in err and "hint:" in err
    assert (home / "config.json").read_bytes() == before


def test_a_damaged_config_is_the_command_s_to_report(home: Path) -> None:
    (home / "config.json").write_text("{not json")
    code, _, err = _run(home, "whoami")
    assert code != 0 and "config.json" in err
