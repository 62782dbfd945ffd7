"""Passphrases (issue 14): the strength floor at ``init``, and ``passphrase
change``, through the installed executable."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from clirun import Result, run_cli
from securemsg.core.passphrase import MIN_SCORE, weakness
from securemsg.core.testkeys import derive_test_identity, format_test_key

OLD = "velvet harbour cinnamon ladder"
NEW = "granite orchid tundra pelican"


@pytest.fixture
def base() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="smpp-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run(home: Path, *args: str | Path, **env: str | None) -> Result:
    full: dict[str, str | None] = {
        "SECUREMSG_KEYSTORE": "file",
        "SECUREMSG_HOME": None,
        "SECUREMSG_PASSPHRASE": None,
        "SECUREMSG_NEW_PASSPHRASE": None,
        "XDG_RUNTIME_DIR": str(home.parent / "run"),
        **env,
    }
    return run_cli(home, *args, env=full, executable=True)


def init(base: Path, passphrase: str = OLD) -> Path:
    home = base / "gp"
    key = base / "gp.testkey"
    key.write_text(format_test_key(derive_test_identity("passphrase-tests/gp")))
    res = run(home, "init", "--name", "Dr Pass", "--role", "gp", "--test-key", key,
              SECUREMSG_PASSPHRASE=passphrase)  # fmt: skip
    assert res.exit_code == 0, res.stderr
    return home


def test_the_floor() -> None:
    weak = weakness("abc")
    assert weak is not None and weak.score < MIN_SCORE and weak.warning
    assert "too easy to guess" in weak.message and weak.hint
    assert "abc" not in repr(weak)
    assert weakness(OLD) is None and weakness(NEW) is None
    assert weakness("Dr Pass 2026", ["Dr Pass"]) is not None


@pytest.mark.slow
@pytest.mark.parametrize("weak", ["abc", "password", "jeanne1955", "azerty123"])
def test_init_refuses_a_weak_passphrase(base: Path, weak: str) -> None:
    home = base / "gp"
    res = run(home, "--json", "init", "--name", "Dr Weak", "--role", "gp",
              SECUREMSG_PASSPHRASE=weak)  # fmt: skip
    assert res.exit_code == 4
    err = res.error_json()
    assert err["error"] == "weak_passphrase" and "too easy to guess" in err["message"]
    assert err["hint"]
    assert not (home / "config.json").exists() and not (home / "keys" / "identity.key").exists()


def test_change(base: Path) -> None:
    home = init(base)
    before = (home / "keys" / "identity.key").read_bytes()
    res = run(home, "--json", "passphrase", "change",
              SECUREMSG_PASSPHRASE=OLD, SECUREMSG_NEW_PASSPHRASE=NEW)  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert res.json()["changed"] is True
    assert (home / "keys" / "identity.key").read_bytes() != before
    assert (home / "keys" / "identity.key").stat().st_mode & 0o777 == 0o600
    assert run(home, "contacts", "list", SECUREMSG_PASSPHRASE=NEW).exit_code == 0
    old = run(home, "--json", "contacts", "list", SECUREMSG_PASSPHRASE=OLD)
    assert old.exit_code == 4 and old.error_json()["error"] == "wrong_passphrase"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("not the old one at all", NEW, "wrong_passphrase"),
        (OLD, "abc", "weak_passphrase"),
        (OLD, None, "keystore"),  # no new passphrase, no terminal: locked
        (None, NEW, "keystore"),
    ],
)
def test_change_refused_leaves_the_key_file(
    base: Path, old: str | None, new: str | None, code: str
) -> None:
    home = init(base)
    before = (home / "keys" / "identity.key").read_bytes()
    res = run(home, "--json", "passphrase", "change",
              SECUREMSG_PASSPHRASE=old, SECUREMSG_NEW_PASSPHRASE=new)  # fmt: skip
    assert res.exit_code == 4
    assert res.error_json()["error"] == code
    assert (home / "keys" / "identity.key").read_bytes() == before
    assert sorted(p.name for p in (home / "keys").iterdir()) == ["identity.key"]  # no temp left


@pytest.mark.slow
def test_the_agent_keeps_working_after_a_change(base: Path) -> None:
    home = init(base)
    (base / "run").mkdir(mode=0o700)
    unlock = run(home, "--json", "unlock", "--for", "1m", SECUREMSG_PASSPHRASE=OLD)
    assert unlock.exit_code == 0, unlock.stderr
    try:
        res = run(home, "passphrase", "change",
                  SECUREMSG_PASSPHRASE=OLD, SECUREMSG_NEW_PASSPHRASE=NEW)  # fmt: skip
        assert res.exit_code == 0, res.stderr
        assert run(home, "contacts", "list").exit_code == 0  # the agent: no passphrase
    finally:
        assert run(home, "lock").exit_code == 0


def test_a_bad_keystore_value_names_the_variable_not_an_option(base: Path) -> None:
    home = base / "gp"
    res = run(home, "--json", "init", "--name", "Dr Bad", "--role", "gp",
              SECUREMSG_PASSPHRASE=OLD, SECUREMSG_KEYSTORE="vault")  # fmt: skip
    assert res.exit_code == 2
    err = res.error_json()
    assert err["error"] == "usage" and "SECUREMSG_KEYSTORE" in err["message"]
    assert "SECUREMSG_KEYSTORE" in err["hint"] and "--keystore" not in err["hint"]
    assert "option" not in err["hint"]
    assert not (home / "config.json").exists()
