"""Issue 14 (French users): times shown in the user's zone, dates typed the French way.

Through the installed executable, TZ=Europe/Paris: a phone call made at 09:30 in
Paris (typed without an offset: local time) is shown "09:30 CET" in the letter,
while JSON stays UTC RFC 3339; SECUREMSG_TZ overrides the system zone (and a
wrong name is a usage error); a birth date typed JJ/MM/AAAA is accepted in a French
locale only.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from letterworld import PASSPHRASE, World

from clirun import run_cli, world_env

PARIS = {**world_env(PASSPHRASE), "TZ": "Europe/Paris"}


@pytest.mark.slow
def test_a_phone_call_at_0930_in_paris_reads_0930_cet(world: World) -> None:
    """Typed without an offset by a doctor in Paris: local time, shown as typed."""
    sent = run_cli(
        world.home("gp"), "--json", "send", world.path("letter.md"), "--kind", "referral",
        "--patient", "Jeanne", "--consent", world.path("consent.cose"), "--to", "Bob",
        "--to", "Claire", "--drop", world.drop, "--phone-call", "2026-11-29T09:30",
        env=PARIS, executable=True,
    )  # fmt: skip
    assert sent.exit_code == 0, sent.stderr
    mid = sent.json()["message_id"]
    assert world.receive_drop("card")[0] == 0
    home = world.home("card")
    shown = run_cli(home, "read", mid[:12], env=PARIS, executable=True)
    assert shown.exit_code == 0, shown.stderr
    assert "2026-11-29 09:30 CET" in shown.stdout
    as_json = run_cli(home, "--json", "read", mid[:12], env=PARIS, executable=True)
    assert "2026-11-29T08:30:00Z" in as_json.stdout and "CET" not in as_json.stdout
    utc = run_cli(home, "read", mid[:12], env={**PARIS, "TZ": "UTC"}, executable=True)
    assert "2026-11-29 08:30 UTC" in utc.stdout
    tokyo = run_cli(
        home, "read", mid[:12], env={**PARIS, "SECUREMSG_TZ": "Asia/Tokyo"}, executable=True
    )
    assert "2026-11-29 17:30 JST" in tokyo.stdout


def test_an_unknown_zone_name_is_a_usage_error(tmp_path: Path) -> None:
    res = run_cli(tmp_path / "h", "whoami", env={"SECUREMSG_TZ": "Europe/Pariss"}, executable=True)
    assert res.exit_code == 2 and "not a known time zone" in res.stderr


@pytest.mark.parametrize(
    ("lang", "typed", "code", "stored"),
    [
        ("fr_FR.UTF-8", "02/03/1955", 0, "1955-03-02"),
        ("C.UTF-8", "1955-03-02", 0, "1955-03-02"),
        ("en_US.UTF-8", "02/03/1955", 2, None),
        ("fr_FR.UTF-8", "2/3/55", 2, None),
    ],
)
def test_birth_date_typed_the_french_way(
    tmp_path: Path, lang: str, typed: str, code: int, stored: str | None
) -> None:
    res = run_cli(
        tmp_path / "pat", "--json", "init", "--name", "Jeanne Dupont", "--role", "patient",
        "--birth-date", typed, env={"LANG": lang}, executable=True,
    )  # fmt: skip
    assert res.exit_code == code, res.stderr
    if stored is not None:
        assert res.json()["birth_date"] == stored
    else:
        assert "internal error" not in res.stderr.lower() and not (tmp_path / "pat").exists()
