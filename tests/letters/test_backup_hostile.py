"""Hostile backups through the installed executable (issue 16): a wrong
passphrase, a truncated or altered file, entries that try to leave the home
(``..``, absolute paths, links, devices), a missing manifest, a letter or a
database changed inside a well-encrypted backup. Each gets its specific error
and exit status, and nothing is written: no home, no staging folder, nothing
outside.

The backups are made here with a low scrypt work factor (2^10, so the suite
stays fast; restore reads any work factor up to 2^22), from a real home: the
GP's after sending a letter.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from letterworld import PASSPHRASE, World

import tamper
from clirun import run_cli, world_env
from securemsg.core import age
from securemsg.store.backup import MANIFEST, Manifest, db_snapshot, home_files, write_backup

pytestmark = pytest.mark.slow
BACKUP_PASS = "hostile backup passphrase"
Entry = tuple[tarfile.TarInfo, bytes]


def restore(home: Path, backup: Path, passphrase: str = BACKUP_PASS) -> Any:
    env = {**world_env(PASSPHRASE), "SECUREMSG_BACKUP_PASSPHRASE": passphrase}
    return run_cli(home, "--json", "restore", backup, env=env, executable=True)


def genuine_entries(home: Path) -> list[Entry]:
    """The entries a backup of ``home`` holds, manifest first (the real format)."""
    files = home_files(home)
    out: list[Entry] = []
    with db_snapshot(home) as snap:
        for name in files:
            data = (snap if name == "securemsg.db" else home / name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o600
            out.append((info, data))
    card = json.loads((home / "config.json").read_text())["fingerprint"]
    manifest = Manifest(1_700_000_000, card, len(out), sum(len(d) for _, d in out), "key file")
    body = manifest.to_json()
    head = tarfile.TarInfo(MANIFEST)
    head.size = len(body)
    return [(head, body), *out]


def seal(entries: list[Entry], passphrase: str = BACKUP_PASS) -> bytes:
    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    out = io.BytesIO()
    age.encrypt([age.ScryptRecipient(passphrase.encode(), 10)], plain.getvalue(), out)
    return out.getvalue()


@pytest.fixture
def gp_home(world: World) -> Path:
    world.send()
    return world.home("gp")


def _refused(tmp_path: Path, data: bytes, code: str, exit_code: int = 3) -> dict[str, Any]:
    machine = tmp_path / "machine"
    machine.mkdir(exist_ok=True)
    backup = tmp_path / "hostile.age"
    backup.write_bytes(data)
    res = restore(machine / "home", backup)
    doc = res.error_json()
    assert (res.exit_code, doc["error"]) == (exit_code, code), res.stderr
    assert "internal error" not in res.stderr
    assert list(machine.iterdir()) == [], "a restore that failed left something behind"
    assert not (tmp_path / "evil").exists() and not Path("/tmp/securemsg-evil").exists()
    return dict(doc)


def test_the_genuine_entries_restore(gp_home: Path, tmp_path: Path) -> None:
    """The control: the same construction, unmodified, restores and verifies."""
    backup = tmp_path / "good.age"
    backup.write_bytes(seal(genuine_entries(gp_home)))
    res = restore(tmp_path / "home", backup)
    assert res.exit_code == 0, res.stderr
    assert res.json()["verified"] is True and res.json()["letters_sent"] == 1


def test_wrong_passphrase(gp_home: Path, tmp_path: Path) -> None:
    data = seal(genuine_entries(gp_home), passphrase="another passphrase entirely")
    doc = _refused(tmp_path, data, "backup_passphrase")
    assert "passphrase" in doc["message"]


@pytest.mark.parametrize("where", ["header", "payload", "end"])
def test_truncated(gp_home: Path, tmp_path: Path, where: str) -> None:
    data = seal(genuine_entries(gp_home))
    cut = {"header": 40, "payload": len(data) // 2, "end": len(data) - 1}[where]
    _refused(tmp_path, tamper.truncate(data, cut), "backup_damaged")


@pytest.mark.parametrize("where", ["header-mac", "payload", "last"])
def test_altered(gp_home: Path, tmp_path: Path, where: str) -> None:
    data = seal(genuine_entries(gp_home))
    mac = data.index(b"\n--- ") + 8
    at = {"header-mac": mac, "payload": len(data) // 2, "last": len(data) - 3}[where]
    _refused(tmp_path, tamper.flip(data, at), "backup_damaged")


@pytest.mark.parametrize("where", ["salt", "wrapped-key"])
def test_an_altered_stanza_reads_as_a_wrong_passphrase(
    gp_home: Path, tmp_path: Path, where: str
) -> None:
    """The salt and the file key sealed under the passphrase: altered, they cannot
    be told from a wrong passphrase (docs/format-backup.md §5)."""
    data = seal(genuine_entries(gp_home))
    at = 32 if where == "salt" else data.index(b" 10\n") + 10
    # another base64 letter (a flipped bit may leave the alphabet: a header failure)
    other = ord("B") if data[at] == ord("A") else ord("A")
    _refused(tmp_path, tamper.set_byte(data, at, other), "backup_passphrase")


def _named(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> Entry:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    data = b"evil" if kind == tarfile.REGTYPE else b""
    info.size = len(data)
    return info, data


HOSTILE: dict[str, Callable[[Path], Entry]] = {
    "dotdot": lambda t: _named("../evil"),
    "dotdot-inside": lambda t: _named("mail/../../evil"),
    "absolute": lambda t: _named("/tmp/securemsg-evil"),
    "symlink": lambda t: _named("mail/in/link.smsg", tarfile.SYMTYPE, str(t / "evil")),
    "hardlink": lambda t: _named("mail/in/hard.smsg", tarfile.LNKTYPE, "config.json"),
    "chardev": lambda t: _named("mail/in/null", tarfile.CHRTYPE),
    "fifo": lambda t: _named("mail/in/fifo", tarfile.FIFOTYPE),
    "hidden": lambda t: _named(".mailbox.lock"),
    "backslash": lambda t: _named("mail\\..\\evil"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_unsafe_entries(gp_home: Path, tmp_path: Path, kind: str) -> None:
    entries = genuine_entries(gp_home)
    entries.insert(2, HOSTILE[kind](tmp_path))
    _refused(tmp_path, seal(entries), "backup_unsafe_entry")


def test_an_entry_twice(gp_home: Path, tmp_path: Path) -> None:
    entries = genuine_entries(gp_home)
    entries.append(entries[2])
    _refused(tmp_path, seal(entries), "backup_unsafe_entry")


def test_no_manifest_first(gp_home: Path, tmp_path: Path) -> None:
    entries = genuine_entries(gp_home)
    _refused(tmp_path, seal(entries[1:] + entries[:1]), "backup_invalid")


def test_not_a_tar_inside(tmp_path: Path) -> None:
    out = io.BytesIO()
    age.encrypt([age.ScryptRecipient(BACKUP_PASS.encode(), 10)], b"not a tar" * 100, out)
    _refused(tmp_path, out.getvalue(), "backup_invalid")


def test_a_letter_changed_inside(gp_home: Path, tmp_path: Path) -> None:
    entries = genuine_entries(gp_home)
    i = next(i for i, (info, _) in enumerate(entries) if info.name.endswith(".smsg"))
    info, data = entries[i]
    entries[i] = (info, tamper.flip(data, len(data) // 2))
    doc = _refused(tmp_path, seal(entries), "backup_invalid")
    assert "digest" in doc["message"]


def test_a_letter_missing(gp_home: Path, tmp_path: Path) -> None:
    entries = genuine_entries(gp_home)
    kept = [e for e in entries if not e[0].name.endswith(".smsg")]
    head, body = kept[0]
    doc = json.loads(body)
    doc["files"] = len(kept) - 1
    body = json.dumps(doc).encode()
    head.size = len(body)
    doc = _refused(tmp_path, seal([(head, body), *kept[1:]]), "backup_invalid")
    assert "missing" in doc["message"]


def test_a_damaged_database(gp_home: Path, tmp_path: Path) -> None:
    entries = genuine_entries(gp_home)
    i = next(i for i, (info, _) in enumerate(entries) if info.name == "securemsg.db")
    info, data = entries[i]
    entries[i] = (info, data[:100] + b"\xff" * 200 + data[300:])
    _refused(tmp_path, seal(entries), "backup_invalid")


def test_the_manifest_count_must_match(gp_home: Path, tmp_path: Path) -> None:
    entries = genuine_entries(gp_home)
    _refused(tmp_path, seal(entries[:-1]), "backup_invalid")


def test_the_output_file_is_never_overwritten(world: World, tmp_path: Path) -> None:
    target = tmp_path / "exists.age"
    target.write_bytes(b"keep me")
    env = {**world_env(PASSPHRASE), "SECUREMSG_BACKUP_PASSPHRASE": BACKUP_PASS}
    res = run_cli(world.home("gp"), "--json", "backup", "-o", target, env=env, executable=True)
    assert (res.exit_code, res.error_json()["error"]) == (2, "usage")
    assert target.read_bytes() == b"keep me"


def test_a_weak_passphrase_is_refused(world: World, tmp_path: Path) -> None:
    env = {**world_env(PASSPHRASE), "SECUREMSG_BACKUP_PASSPHRASE": "short"}
    out = tmp_path / "b.age"
    res = run_cli(world.home("gp"), "--json", "backup", "-o", out, env=env, executable=True)
    assert (res.exit_code, res.error_json()["error"]) == (2, "weak_passphrase")
    assert not out.exists() and not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_write_backup_reads_back(gp_home: Path, tmp_path: Path) -> None:
    """The library writer at a low work factor restores through the executable."""
    files = home_files(gp_home)
    card = json.loads((gp_home / "config.json").read_text())["fingerprint"]
    manifest = Manifest(1_700_000_000, card, len(files), 0, "key file")
    out = tmp_path / "lib.age"
    write_backup(out, gp_home, manifest, files, BACKUP_PASS.encode(), 0, work_factor=10)
    res = restore(tmp_path / "home", out)
    assert res.exit_code == 0, res.stderr
