"""``device join`` on a computer whose OS key store already holds this identity
(another home of it here: the home the device file came from, or an earlier
join). The OS key store keeps one entry per identity (its fingerprint), so a
join must neither delete that entry when it fails, nor overwrite it with other
keys when it succeeds (red team of session 4).

Run in-process (run_cli's default): the in-memory keyring is installed in this
interpreter; a child process would find no OS key store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clirun import run_cli
from ontty import add_device

PASSPHRASE = "correct horse battery staple"
CODE = "HOSTILEBACKUPPASSPHRASE2026"  # read the same as a device code (upper case, no dash)


def _env(**extra: str | None) -> dict[str, str | None]:
    return {"SECUREMSG_KEYSTORE": "keyring", "SECUREMSG_HOME": None, "NO_COLOR": "1", **extra}


def _entries(memory_keyring: Any) -> dict[tuple[str, str], str]:
    return dict(memory_keyring.entries)


def test_a_failed_join_leaves_the_other_homes_key_in_the_os_key_store(
    memory_keyring: Any, tmp_path: Path
) -> None:
    """A backup (not a device file) given to ``device join`` with its passphrase
    as the code: the key opens and is stored, then the log is found not to be a
    new device's. Before: the join then deleted the OS key store's entry for this
    identity: the key of the home it came from, on this computer."""
    first = tmp_path / "first"
    res = run_cli(first, "init", "--name", "Dr Alice Martin", "--role", "gp", env=_env())
    assert res.exit_code == 0, res.stderr
    before = _entries(memory_keyring)
    assert len(before) == 1
    backup = tmp_path / "b.age"
    res = run_cli(first, "backup", "-o", backup, env=_env(SECUREMSG_BACKUP_PASSPHRASE=CODE))
    assert res.exit_code == 0, res.stderr
    res = run_cli(
        tmp_path / "second", "--json", "device", "join", backup,
        env=_env(SECUREMSG_DEVICE_CODE=CODE),
    )  # fmt: skip
    assert res.exit_code != 0 and res.error_json()["error"] == "backup_invalid", res.stderr
    assert not (tmp_path / "second").exists()
    assert _entries(memory_keyring) == before  # the first home's key is still there
    res = run_cli(first, "--json", "contacts", "list", env=_env())
    assert res.exit_code == 0, res.stderr


def test_a_join_never_overwrites_other_keys_of_this_identity(
    memory_keyring: Any, tmp_path: Path
) -> None:
    """A device file made before a key rotation, joined on the computer where a
    home of the identity rotated since: storing its keys would replace the
    current key pair with the old one (the rotated home could no longer unlock).
    Refused; the OS key store unchanged.

    ``device add`` shows its code on a terminal only: the first home (a key file)
    runs as the executable on a pseudo-terminal (tests/ontty.py); the home whose
    keys are in the OS key store joins and rotates in-process."""
    first = tmp_path / "first"
    file_env = {"SECUREMSG_PASSPHRASE": PASSPHRASE, **_env(SECUREMSG_KEYSTORE="file")}
    res = run_cli(first, "init", "--name", "Dr Alice Martin", "--role", "gp", env=file_env,
                  executable=True)  # fmt: skip
    assert res.exit_code == 0, res.stderr
    old_device = tmp_path / "old.device"
    code, _ = add_device(first, old_device, file_env)
    rotated = tmp_path / "rotated"  # joins with its key in the OS key store, then rotates
    res = run_cli(rotated, "--json", "device", "join", old_device,
                  env=_env(SECUREMSG_DEVICE_CODE=code))  # fmt: skip
    assert res.exit_code == 0, res.stderr
    joined = _entries(memory_keyring)
    res = run_cli(rotated, "--json", "key", "rotate", "-o", tmp_path / "succ.cose", env=_env())
    assert res.exit_code == 0, res.stderr
    before = _entries(memory_keyring)
    assert before.keys() == joined.keys() and before != joined  # the one entry, rotated
    res = run_cli(
        tmp_path / "second", "--json", "device", "join", old_device,
        env=_env(SECUREMSG_DEVICE_CODE=code),
    )  # fmt: skip
    assert res.exit_code != 0, res.stdout
    assert res.error_json()["error"] == "keystore", res.stderr
    assert not (tmp_path / "second").exists()
    assert _entries(memory_keyring) == before
    res = run_cli(rotated, "--json", "whoami", env=_env())
    assert res.exit_code == 0, res.stderr
