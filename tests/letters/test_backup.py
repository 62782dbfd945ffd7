"""backup and restore through the installed executable (issue 16).

Homes with letters in every state: the GP's (doubles delivered with receipts,
one refused by a recipient's notice, one still waiting; contacts) and the
cardiologist's (a letter received, a refused one set aside, a consent and its
revocation imported; contacts). Each is backed up, restored into another folder
(another "machine"), and the restored home passes ``log verify``, lists the same
letters, contacts and consents, and reads every letter. ``age -d`` opens the
backup with the passphrase and its contents list as a tar archive.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest
from letterworld import PASSPHRASE, World

from clirun import child_env, cli_command, run_cli, world_env

pytestmark = pytest.mark.slow

BACKUP_PASS = "a backup passphrase for tests"


def _env(**extra: str | None) -> dict[str, str | None]:
    return {**world_env(PASSPHRASE), "SECUREMSG_BACKUP_PASSPHRASE": BACKUP_PASS, **extra}


def run(world: World, home: Path, *args: str | Path, **env: str | None) -> Any:
    return run_cli(home, *args, env=_env(**env), executable=True)


def ok(world: World, home: Path, *args: str | Path) -> Any:
    res = run(world, home, "--json", *args)
    assert res.exit_code == 0, (args, res.stdout, res.stderr)
    return res.json()


def _populate(world: World) -> dict[str, str]:
    """Letters in every state; return their ids by name."""
    first = world.send("--attach", f"{world.path('scan.pdf')}:medical")["message_id"]
    for label in ("card", "nurse", "pat"):
        assert world.receive_drop(label)[0] == 0
    assert world.receive_drop("gp")[0] == 0  # three receipts: delivered
    world.ok("pat", "consent", "revoke", world.path("consent.cose"), "-o", world.path("rev.cose"))
    world.ok("card", "consent", "import", world.path("rev.cose"))
    second = world.send()["message_id"]
    assert world.receive_drop("card")[0] == 3  # refused: the consent was revoked
    assert world.receive_drop("nurse")[0] == 0
    assert world.receive_drop("gp")[0] == 0  # a notice (refused) and a receipt
    # the patient has not received the second letter: that double waits ("sent")
    return {"first": first, "second": second}


def _state(world: World, home: Path) -> dict[str, Any]:
    return {
        "inbox": ok(world, home, "inbox")["letters"],
        "sent": ok(world, home, "sent")["letters"],
        "contacts": ok(world, home, "contacts", "list"),
        "consents": ok(world, home, "consent", "list"),
        "whoami": ok(world, home, "whoami")["fingerprint"],
    }


def _read_all(world: World, home: Path, state: dict[str, Any]) -> int:
    n = 0
    for folder in ("inbox", "sent"):
        for letter in state[folder]:
            doc = ok(world, home, "read", letter["message_id"])
            assert doc["subject"], doc
            n += 1
    return n


def test_backup_and_restore_on_another_machine(world: World, tmp_path: Path) -> None:
    ids = _populate(world)
    backups = tmp_path / "backups"
    backups.mkdir()
    for label in ("gp", "card"):
        home = world.home(label)
        before = _state(world, home)
        out = backups / f"{label}.age"
        made = ok(world, home, "backup", "-o", out)
        assert made["schema"] == "securemsg.backup/1" and made["scrypt_work_factor"] == 18
        assert out.stat().st_mode & 0o777 == 0o600
        assert sorted(p.name for p in backups.iterdir()) == sorted(
            p.name for p in backups.glob("*.age")
        )  # no temp file left beside it
        # "another machine": a new folder, the home itself moved away
        other = tmp_path / "machine2" / label
        moved = tmp_path / f"{label}-old"
        shutil.move(home, moved)
        done = ok(world, other, "restore", out)
        assert done["verified"] is True and done["fingerprint"] == made["fingerprint"]
        assert done["backup_created"] == made["created"]
        assert done["last_log_entry"] is not None
        log = ok(world, other, "log", "verify")
        assert log["ok"] is True and log["entries"] == done["log_entries"] > 0
        after = _state(world, other)
        assert after == before
        assert _read_all(world, other, after) == len(before["inbox"]) + len(before["sent"]) > 0
        shutil.move(moved, home)
    gp = _state(world, world.home("gp"))
    statuses = {
        letter["message_id"]: sorted(d["status"] for d in letter["deliveries"])
        for letter in gp["sent"]
    }
    assert statuses[ids["first"]] == ["delivered"] * 3
    assert statuses[ids["second"]] == ["delivered", "refused", "sent"]
    card = _state(world, world.home("card"))
    assert [row["message_id"] for row in card["inbox"]] == [ids["first"]]


def test_restore_says_what_an_old_backup_misses(world: World, tmp_path: Path) -> None:
    out = tmp_path / "gp.age"
    ok(world, world.home("gp"), "backup", "-o", out)
    world.send()  # after the backup
    res = run(world, tmp_path / "restored", "restore", out)
    assert res.exit_code == 0, res.stderr
    assert "Backup made" in res.stdout and "Last log entry" in res.stdout
    assert "Not in this backup" in res.stdout and "after" in res.stderr
    assert ok(world, tmp_path / "restored", "sent")["letters"] == []


def test_age_decrypts_the_backup_and_it_lists_as_tar(world: World, tmp_path: Path) -> None:
    if shutil.which("age") is None:
        if os.environ.get("SECUREMSG_REQUIRE_PEERS") == "1":
            pytest.fail("the age binary is required (SECUREMSG_REQUIRE_PEERS=1) but missing")
        pytest.skip("the age binary is not available")
    from interop.agepty import run_age

    world.send()
    out = tmp_path / "gp.age"
    ok(world, world.home("gp"), "backup", "-o", out)
    plain = tmp_path / "gp.tar"
    code, tty = run_age(["age", "-d", "-o", str(plain), str(out)], [BACKUP_PASS])
    assert code == 0, tty
    with tarfile.open(fileobj=io.BytesIO(plain.read_bytes()), mode="r:") as tar:
        names = tar.getnames()
    assert names[0] == "securemsg-backup.json"
    assert {"securemsg.db", "config.json", "card.txt", "keys/identity.key"} <= set(names)
    assert any(n.startswith("mail/sent/") and n.endswith(".smsg") for n in names)
    plain.unlink()


def test_restore_refuses_a_home_that_is_not_empty(world: World, tmp_path: Path) -> None:
    out = tmp_path / "gp.age"
    ok(world, world.home("gp"), "backup", "-o", out)
    target = tmp_path / "busy"
    target.mkdir()
    (target / "something").write_text("x")
    res = run(world, target, "--json", "restore", out)
    assert res.exit_code == 1
    assert res.error_json()["error"] == "restore_not_empty"
    assert [p.name for p in target.iterdir()] == ["something"]
    # an empty folder is fine
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(world, empty, "restore", out).exit_code == 0
    assert (empty / "config.json").is_file()


def test_the_passphrase_is_asked_twice_on_the_terminal(world: World, tmp_path: Path) -> None:
    """No SECUREMSG_BACKUP_PASSPHRASE: backup asks on the terminal, twice; two
    different answers are refused and leave no file; restore asks once."""
    from interop.agepty import run_age

    env = child_env(_env(SECUREMSG_BACKUP_PASSPHRASE=None))
    out = tmp_path / "tty.age"
    home = ["--home", str(world.home("gp"))]
    code, tty = run_age([*cli_command(), *home, "backup", "-o", str(out)],
                        [BACKUP_PASS, BACKUP_PASS + "x"], env=env)  # fmt: skip
    assert code == 4 and "do not match" in tty, tty
    assert not out.exists()
    code, tty = run_age([*cli_command(), *home, "backup", "-o", str(out)],
                        [BACKUP_PASS, BACKUP_PASS], env=env)  # fmt: skip
    assert code == 0, tty
    assert tty.lower().count("passphrase: ") == 2
    restored = ["--home", str(tmp_path / "restored")]
    code, tty = run_age([*cli_command(), *restored, "restore", str(out)], [BACKUP_PASS], env=env)
    assert code == 0 and "restored and verified" in tty, tty
