"""init, whoami, card export, key store errors, error output: from the command line."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from clirun import Result, run_cli
from securemsg.core.card import Card
from securemsg.core.testkeys import derive_test_identity, format_test_key

WHOAMI_KEYS = {
    "schema",
    "name",
    "role",
    "rpps",
    "specialty",
    "ins",
    "birth_date",
    "email",
    "fingerprint",
    "created",
    "expires",
    "test_key",
    "home",
    "keystore",
}
ERROR_KEYS = {"schema", "error", "message", "hint", "exit"}


def flat(text: str) -> str:
    """Rich may wrap long lines on stderr: compare with whitespace collapsed."""
    return " ".join(text.split())


# -- init ---------------------------------------------------------------------------------


def test_init_creates_a_private_home(tmp_path: Path, run) -> None:
    home = tmp_path / "alice"
    res = run(home, "init", "--name", "Dr Alice Martin", "--role", "gp", "--rpps", "10003456786")
    assert res.exit_code == 0, res.stderr
    assert "Identity created" in res.stderr
    assert "Name: Dr Alice Martin" in res.stdout
    assert "Keys kept in: passphrase file" in flat(res.stdout)
    names = {
        p.relative_to(home).as_posix()
        for p in home.rglob("*")
        if not p.name.endswith(("-wal", "-shm"))
    }
    fp16 = Card.parse((home / "card.txt").read_bytes()).fingerprint[:16]
    revocation = f"revocation-{fp16}.cose"  # issue 16: prepared at init, to copy offline
    assert names == {
        "config.json",
        "card.txt",
        "keys",
        "keys/identity.key",
        "securemsg.db",
        revocation,
    }
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "keys").stat().st_mode) == 0o700
    for f in ("config.json", "card.txt", "keys/identity.key", "securemsg.db", revocation):
        assert stat.S_IMODE((home / f).stat().st_mode) == 0o600, f
    config = json.loads((home / "config.json").read_text())
    card = Card.parse((home / "card.txt").read_bytes())
    assert config["fingerprint"] == card.fingerprint
    assert config["keystore"] == {"kind": "file", "path": "keys/identity.key"}
    assert card.profile.rpps == "10003456786" and not card.test_key


def test_init_json(tmp_path: Path, run) -> None:
    res = run(
        tmp_path / "p",
        "--json",
        "init",
        "--name",
        "Paul Durand",
        "--role",
        "patient",
        "--ins",
        "184127505600774",
        "--birth-date",
        "1984-12-03",
    )
    assert res.exit_code == 0, res.stderr
    doc = res.json()
    assert doc["schema"] == "securemsg.whoami/2"
    assert set(doc) == WHOAMI_KEYS
    assert (doc["role"], doc["ins"], doc["rpps"]) == ("patient", "184127505600774", None)
    assert res.stderr == ""


def test_init_twice_refuses(make_home, run, snapshot) -> None:
    home = make_home("Dr Alice", "gp")
    before = snapshot(home)
    res = run(home, "init", "--name", "Dr Other", "--role", "nurse")
    assert res.exit_code == 1
    assert "already" in res.stderr
    assert res.stdout == ""
    assert snapshot(home) == before


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--name", "Paul", "--role", "patient", "--rpps", "10003456786"], "patient"),
        (["--name", "Dr A", "--role", "gp", "--ins", "184127505600774"], "patients only"),
        (["--name", "Paul", "--role", "patient", "--ins", "184127505600775"], "INS"),
        (["--name", "Dr A", "--role", "surgeon"], "unknown role"),
        (["--name", "Dr \u202eA", "--role", "gp"], "control character"),
        (["--name", "Dr A", "--role", "gp", "--rpps", "123"], "RPPS"),
        (["--name", "Dr A"], "--role"),
    ],
)
def test_init_refuses_bad_profiles_with_usage_exit(
    tmp_path: Path, run, args: list[str], needle: str
) -> None:
    home = tmp_path / "h"
    res = run(home, "init", *args)
    assert res.exit_code == 2, res.stderr
    assert needle in res.stderr
    assert not home.exists()


def test_init_with_a_public_test_key(tmp_path: Path, run) -> None:
    key = tmp_path / "demo.key"
    secret = derive_test_identity("demo-gp")
    key.write_text(format_test_key(secret))
    home = tmp_path / "demo"
    res = run(home, "--json", "init", "--name", "Dr Demo", "--role", "gp", "--test-key", str(key))
    assert res.exit_code == 0, res.stderr
    assert res.json()["test_key"] is True
    card = Card.parse((home / "card.txt").read_bytes())
    assert card.test_key and card.sign_public == secret.sign_public
    assert "PUBLIC TEST KEY" in run(home, "whoami").stdout


# -- whoami -------------------------------------------------------------------------------


def test_whoami_text_and_json(make_home, run) -> None:
    home = make_home(
        "Dr Alice Martin",
        "specialist",
        rpps="10003456786",
        specialty="cardiology",
        email="alice@example.org",
    )
    card = Card.parse((home / "card.txt").read_bytes())
    text = run(home, "whoami")
    assert text.exit_code == 0
    out = flat(text.stdout)
    for needle in (
        "Name: Dr Alice Martin",
        "Role: specialist",
        "RPPS: 10003456786",
        "Specialty: cardiology",
        f"Fingerprint: {card.display_fingerprint}",
        f"Home: {home}",
        "Keys kept in: passphrase file",
    ):
        assert needle in out
    res = run(home, "--json", "whoami")
    doc = res.json()
    assert set(doc) == WHOAMI_KEYS
    assert doc["schema"] == "securemsg.whoami/2"
    assert doc["fingerprint"] == card.fingerprint
    assert doc["keystore"].startswith("passphrase file: ") and "identity.key" in doc["keystore"]
    assert doc["home"] == str(home)
    assert doc["email"] == "alice@example.org" and doc["test_key"] is False


def test_whoami_does_not_need_the_passphrase(make_home, run) -> None:
    home = make_home("Dr A", "gp")
    assert run(home, "whoami", env={"SECUREMSG_PASSPHRASE": "wrong"}).exit_code == 0


def test_home_from_environment(make_home, run) -> None:
    home = make_home("Dr A", "gp")
    res = run(None, "--json", "whoami", env={"SECUREMSG_HOME": str(home)})
    assert res.exit_code == 0 and res.json()["home"] == str(home)


def test_whoami_without_identity(tmp_path: Path, run) -> None:
    res = run(tmp_path / "empty", "whoami")
    assert res.exit_code == 1
    assert "no securemsg identity" in res.stderr and "hint: create one" in res.stderr


# -- card export --------------------------------------------------------------------------


def test_card_export_stdout(make_home, run) -> None:
    home = make_home("Dr A", "gp")
    res = run(home, "card", "export")
    assert res.exit_code == 0
    assert res.stdout == (home / "card.txt").read_text()
    assert Card.parse(res.stdout).name == "Dr A"


def test_card_export_to_file(make_home, run, tmp_path: Path, snapshot) -> None:
    home = make_home("Dr A", "gp")
    out = tmp_path / "alice.card"
    res = run(home, "card", "export", "-o", str(out))
    assert res.exit_code == 0 and res.stdout == ""
    assert out.read_text() == (home / "card.txt").read_text()
    assert stat.S_IMODE(out.stat().st_mode) == 0o644  # a public card, meant to be mailed
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".alice")] == []
    # refuse to overwrite
    out.write_text("keep me")
    before = snapshot(home)
    res = run(home, "card", "export", "-o", str(out))
    assert res.exit_code == 2 and "exists" in res.stderr
    assert out.read_text() == "keep me"
    assert snapshot(home) == before


# -- key store errors ---------------------------------------------------------------------


def test_wrong_passphrase_is_exit_4_with_a_clear_message(make_home, run, snapshot) -> None:
    home = make_home("Dr A", "gp")
    before = snapshot(home)
    res = run(home, "contacts", "list", env={"SECUREMSG_PASSPHRASE": "not the passphrase"})
    assert res.exit_code == 4
    assert "wrong passphrase" in res.stderr
    assert "Traceback" not in res.stderr and res.stdout == ""
    err = run(home, "--json", "contacts", "list", env={"SECUREMSG_PASSPHRASE": "nope"})
    assert err.exit_code == 4
    doc = err.error_json()
    assert doc["schema"] == "securemsg.error/1" and doc["exit"] == 4
    assert doc["error"] == "wrong_passphrase"
    assert snapshot(home) == before


def _cli_without_tty(home: Path, *args: str, passphrase: str | None = None) -> Result:
    """The installed executable in a new session: /dev/tty cannot be opened."""
    return run_cli(home, *args, env={"SECUREMSG_PASSPHRASE": passphrase}, executable=True)


def test_no_passphrase_and_no_tty_is_exit_4(make_home, snapshot) -> None:
    home = make_home("Dr A", "gp")
    before = snapshot(home)
    res = _cli_without_tty(home, "contacts", "list")
    assert res.exit_code == 4, res.stderr
    assert "locked" in res.stderr and "SECUREMSG_PASSPHRASE" in res.stderr
    assert snapshot(home) == before


def test_init_without_passphrase_and_tty_creates_nothing(tmp_path: Path, run) -> None:
    home = tmp_path / "h"
    res = _cli_without_tty(home, "init", "--name", "Dr A", "--role", "gp")
    assert res.exit_code == 4, res.stderr
    assert not (home / "config.json").exists() and not (home / "keys" / "identity.key").exists()
    assert run(home, "init", "--name", "Dr A", "--role", "gp").exit_code == 0


def test_empty_passphrase_counts_as_unset(make_home, snapshot) -> None:
    home = make_home("Dr A", "gp")
    before = snapshot(home)
    res = _cli_without_tty(home, "contacts", "list", passphrase="")
    assert res.exit_code == 4, res.stderr
    assert "locked" in res.stderr
    assert snapshot(home) == before


# -- error output -------------------------------------------------------------------------


def test_json_error_is_one_object_on_stderr(tmp_path: Path, run) -> None:
    res = run(tmp_path / "empty", "--json", "whoami")
    assert res.exit_code == 1 and res.stdout == ""
    doc = res.error_json()
    assert set(doc) >= ERROR_KEYS
    assert doc["schema"] == "securemsg.error/1"
    assert (doc["error"], doc["exit"]) == ("not_found", 1)
    assert "no securemsg identity" in doc["message"] and doc["hint"]


def test_json_usage_error_is_json_too(tmp_path: Path, run) -> None:
    res = run(tmp_path / "empty", "--json", "contacts", "add", str(tmp_path / "missing.card"))
    assert res.exit_code == 2
    assert res.error_json()["schema"] == "securemsg.error/1"


def test_verbose_shows_the_traceback(tmp_path: Path, run) -> None:
    quiet = run(tmp_path / "empty", "whoami")
    loud = run(tmp_path / "empty", "-v", "whoami")
    assert "Traceback" not in quiet.stderr
    assert "Traceback" in loud.stderr and loud.exit_code == 1


def test_unknown_command_is_usage_exit(run) -> None:
    assert run(None, "frobnicate").exit_code == 2
