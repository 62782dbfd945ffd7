"""backup --recovery-code through the installed executable (issue 16, target 8).

The code is drawn by the command and shown once on the controlling terminal
(a pseudo-terminal here), never on stdout, stderr or in the JSON; without a
terminal the command refuses. A restore accepts the code typed in any case and
grouping (from the variable or on the terminal), ``age -d`` opens the file with
the code typed exactly as shown, and a wrong code is refused with nothing left.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest
from letterworld import PASSPHRASE, World

from clirun import child_env, cli_command, run_cli, world_env
from interop.agepty import run_age
from ontty import CODE

pytestmark = pytest.mark.slow


def _env(**extra: str | None) -> dict[str, str | None]:
    return {**world_env(PASSPHRASE), "SECUREMSG_BACKUP_PASSPHRASE": None, **extra}


def _backup(home: Path, out: Path) -> tuple[str, dict[str, object]]:
    """Run ``backup --recovery-code --json`` on a terminal; the code it showed
    there and the JSON it printed (to stdout, which the terminal also shows)."""
    args = [*cli_command(), "--home", str(home), "--json", "backup", "-o", str(out),
            "--recovery-code"]  # fmt: skip
    code, tty = run_age(args, [], env=child_env(_env()))
    assert code == 0, tty
    codes = CODE.findall(tty)
    assert len(codes) == 1, tty  # shown once
    doc = json.loads(tty[tty.index("{") :].replace("\r\n", "\n"))
    assert codes[0] not in json.dumps(doc)
    return codes[0], doc


def _scramble(code: str) -> str:
    """The code as someone might type it back: lower case, other groups."""
    flat = code.replace("-", "").lower()
    return " ".join(flat[i : i + 5] for i in range(0, len(flat), 5))


def test_a_recovery_code_backup_restores_with_the_code_typed_differently(
    world: World, tmp_path: Path
) -> None:
    world.send()
    out = tmp_path / "gp.age"
    code, made = _backup(world.home("gp"), out)
    assert made["protection"] == "recovery_code" and made["scrypt_work_factor"] == 15
    assert out.stat().st_mode & 0o777 == 0o600
    # from the variable, lower case and regrouped
    first = tmp_path / "restored"
    env = _env(SECUREMSG_BACKUP_PASSPHRASE=_scramble(code))
    res = run_cli(first, "--json", "restore", out, env=env, executable=True)
    assert res.exit_code == 0, res.stderr
    done = res.json()
    assert done["verified"] is True and done["fingerprint"] == made["fingerprint"]
    assert code not in res.stdout + res.stderr
    log = run_cli(first, "--json", "log", "verify", env=_env(), executable=True).json()
    assert log["ok"] is True and log["entries"] == done["log_entries"] > 0
    # on the terminal, with dashes in other places and look-alike digits
    typed = code.lower().replace("-", "").replace("o", "0").replace("i", "1")
    second = tmp_path / "restored-tty"
    rc, tty = run_age([*cli_command(), "--home", str(second), "restore", str(out)],
                      [typed], env=child_env(_env()))  # fmt: skip
    assert rc == 0 and "restored and verified" in tty, tty


def test_age_decrypts_a_recovery_code_backup_with_the_code_as_shown(
    world: World, tmp_path: Path
) -> None:
    if shutil.which("age") is None:
        if os.environ.get("SECUREMSG_REQUIRE_PEERS") == "1":
            pytest.fail("the age binary is required (SECUREMSG_REQUIRE_PEERS=1) but missing")
        pytest.skip("the age binary is not available")
    out = tmp_path / "gp.age"
    code, _ = _backup(world.home("gp"), out)
    plain = tmp_path / "gp.tar"
    rc, tty = run_age(["age", "-d", "-o", str(plain), str(out)], [code])
    assert rc == 0, tty
    with tarfile.open(fileobj=io.BytesIO(plain.read_bytes()), mode="r:") as tar:
        names = tar.getnames()
    assert names[0] == "securemsg-backup.json" and "securemsg.db" in names


def test_a_wrong_code_is_refused_and_nothing_is_left(world: World, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    out = backups / "gp.age"
    code, _ = _backup(world.home("gp"), out)
    wrong = ("B" if code[0] != "B" else "C") + code[1:]  # one character off
    target = backups / "restored"
    for passphrase in (wrong, wrong.lower(), "not the code at all"):
        env = _env(SECUREMSG_BACKUP_PASSPHRASE=passphrase)
        res = run_cli(target, "--json", "restore", out, env=env, executable=True)
        assert res.exit_code == 3, res.stderr
        assert res.error_json()["error"] == "backup_passphrase"
        assert not target.exists()
        assert sorted(p.name for p in backups.iterdir()) == ["gp.age"]
    # a work factor above the documented maximum (2^22) is refused before any
    # derivation, whatever the passphrase
    data = out.read_bytes()
    head = data[: data.index(b"\n---")]
    line = next(x for x in head.split(b"\n") if x.startswith(b"-> scrypt "))
    assert line.endswith(b" 15")
    costly = backups / "costly.age"
    costly.write_bytes(data.replace(line, line[:-3] + b" 23", 1))
    env = _env(SECUREMSG_BACKUP_PASSPHRASE=code)
    res = run_cli(target, "--json", "restore", costly, env=env, executable=True)
    assert res.exit_code == 3, res.stderr
    assert res.error_json()["error"] == "backup_damaged" and "2^22" in res.stderr
    assert not target.exists()


def test_no_terminal_no_code_and_no_file(world: World, tmp_path: Path) -> None:
    """Without a controlling terminal (a script, a service) the code could only go
    to a log: refused before anything is written. With the passphrase variable
    set, --recovery-code is refused too (which one was meant is unclear)."""
    home = world.home("gp")
    backups = tmp_path / "backups"
    backups.mkdir()
    out = backups / "gp.age"
    res = run_cli(home, "--json", "backup", "-o", out, "--recovery-code",
                  env=_env(), executable=True)  # fmt: skip
    assert res.exit_code == 2, res.stderr
    assert res.error_json()["error"] == "no_terminal"
    assert not out.exists() and list(backups.iterdir()) == []
    args = [*cli_command(), "--home", str(home), "--json", "backup", "-o", str(out),
            "--recovery-code"]  # fmt: skip
    rc, tty = run_age(args, [], env=child_env(_env(SECUREMSG_BACKUP_PASSPHRASE="x" * 20)))
    assert rc == 2 and '"usage"' in tty and "SECUREMSG_BACKUP_PASSPHRASE" in tty, tty
    assert CODE.search(tty) is None
    assert list(backups.iterdir()) == []


def test_an_own_passphrase_shaped_like_a_code_still_opens(world: World, tmp_path: Path) -> None:
    """A passphrase of the user's that reads as a code (32 base32 letters in lower
    case with spaces) is tried as a code first, then exactly as typed."""
    own = "abcd efgh ijkl mnop qrst uvwx yz23 4567"
    env = _env(SECUREMSG_BACKUP_PASSPHRASE=own)
    out = tmp_path / "own.age"
    res = run_cli(world.home("gp"), "--json", "backup", "-o", out, env=env, executable=True)
    assert res.exit_code == 0, res.stderr
    assert res.json()["protection"] == "passphrase" and res.json()["scrypt_work_factor"] == 18
    res = run_cli(tmp_path / "restored", "--json", "restore", out, env=env, executable=True)
    assert res.exit_code == 0, res.stderr
    assert res.json()["verified"] is True
