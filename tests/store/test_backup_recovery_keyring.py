"""A recovery-code backup of a home whose key lives in the OS key store (an
in-memory keyring here): the backup carries the key sealed under the code
(``key_sealed_by: "backup"``), and a restore with the code typed in another
case and grouping unlocks it and verifies the home (app/backup.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clirun import run_cli
from securemsg.app import backup as app
from securemsg.core import recoverycode
from securemsg.store.home import Home


def test_recovery_code_carries_an_os_key_store_key(memory_keyring: Any, tmp_path: Path) -> None:
    home_dir = tmp_path / "home"
    env = {"SECUREMSG_KEYSTORE": "keyring", "SECUREMSG_HOME": None, "NO_COLOR": "1"}
    res = run_cli(home_dir, "init", "--name", "Dr Alice Martin", "--role", "gp", env=env)
    assert res.exit_code == 0, res.stderr
    shown: list[str] = []
    home = Home(home_dir, env={})
    try:
        done = app.backup(home, tmp_path / "b.age", 1_800_000_000, show_code=shown.append)
    finally:
        home.close()
    assert done.key_exported and done.recovery_code and done.work_factor == 15
    assert len(shown) == 1 and recoverycode.canonical(shown[0]) == shown[0]
    typed = shown[0].replace("-", "").lower()
    restored = Home(tmp_path / "restored", env={"SECUREMSG_BACKUP_PASSPHRASE": typed})
    try:
        back = app.restore(restored, tmp_path / "b.age", 1_800_000_100)
    finally:
        restored.close()
    assert back.fingerprint == done.fingerprint and back.key_from_backup
    # the restored home holds the key as a key file under the code as shown
    again = Home(tmp_path / "restored", env={"SECUREMSG_PASSPHRASE": shown[0]})
    try:
        assert again.config()["keystore"]["kind"] == "file"
        assert again.unlock_local().sign_public == again.card().sign_public
    finally:
        again.close()
