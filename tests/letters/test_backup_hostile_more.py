"""More hostile backups through the installed executable (the red team of
session 4, beyond tests/letters/test_backup_hostile.py): a file where the
backup also holds a folder of the same name, and SQLite's side files, which a
backup never carries (docs/format-backup.md §3). Each is refused as
``backup_unsafe_entry`` (exit 3), never an internal error, and nothing is left.
And a restore says whose identity it restored.
"""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest
import test_backup_hostile as base
from letterworld import PASSPHRASE
from test_backup_hostile import Entry, _named, _refused, genuine_entries, seal

from clirun import run_cli, world_env
from securemsg.core.card import Card

pytestmark = pytest.mark.slow
gp_home = base.gp_home  # the fixture: the GP's home after sending a letter


def _folder(name: str) -> Entry:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    return info, b""


def _plus(entries: list[Entry], extra: list[Entry]) -> list[Entry]:
    """``entries`` and ``extra``, the manifest's file count kept true (so only the
    extra entries can be what is refused)."""
    head, body = entries[0]
    doc = json.loads(body)
    doc["files"] += sum(1 for info, _ in extra if info.isreg())
    body = json.dumps(doc).encode()
    head.size = len(body)
    return [(head, body), *entries[1:], *extra]


FILE_AND_FOLDER = {
    "a-file-then-a-file-inside-it": [_named("notes"), _named("notes/x")],
    "a-file-then-a-folder-inside-it": [_named("notes"), _folder("notes/sub")],
    "a-file-inside-then-the-name-as-a-file": [_named("notes/x"), _named("notes")],
}


@pytest.mark.parametrize("case", sorted(FILE_AND_FOLDER))
def test_a_name_both_a_file_and_a_folder(gp_home: Path, tmp_path: Path, case: str) -> None:
    """Before: ``internal error: FileExistsError``."""
    data = seal(_plus(genuine_entries(gp_home), FILE_AND_FOLDER[case]))
    doc = _refused(tmp_path, data, "backup_unsafe_entry")
    assert "notes" in doc["message"]


@pytest.mark.parametrize("side", ["securemsg.db-wal", "securemsg.db-shm", "securemsg.db-journal"])
def test_sqlite_side_files_are_never_restored(gp_home: Path, tmp_path: Path, side: str) -> None:
    """Before: a ``-wal`` or ``-shm`` entry was restored into the home beside the
    verified database (and a ``-journal`` one refused as a damaged database)."""
    data = seal(_plus(genuine_entries(gp_home), [_named(side)]))
    doc = _refused(tmp_path, data, "backup_unsafe_entry")
    assert side in doc["message"]


def test_a_restore_says_whose_identity_it_is(gp_home: Path, tmp_path: Path) -> None:
    """A backup is verified against the identity it carries, so any practitioner's
    backup restores: the restore must say whose home it now is, in words and not
    only in the JSON's fingerprint (before: the text output named no one)."""
    backup = tmp_path / "b.age"
    backup.write_bytes(seal(genuine_entries(gp_home)))
    fp = json.loads((gp_home / "config.json").read_text())["fingerprint"]
    name = Card.parse((gp_home / "card.txt").read_bytes()).name
    doc = base.restore(tmp_path / "one", backup).json()
    assert (doc["fingerprint"], doc["name"], doc["role"]) == (fp, name, "gp")
    env = {**world_env(PASSPHRASE), "SECUREMSG_BACKUP_PASSPHRASE": base.BACKUP_PASS}
    res = run_cli(tmp_path / "two", "restore", backup, env=env, executable=True)
    assert res.exit_code == 0, res.stderr
    (line,) = [x for x in res.stdout.splitlines() if x.startswith("Identity:")]
    assert name in line and fp in line


def test_in_french_a_restore_says_its_times_in_the_french_form(
    gp_home: Path, tmp_path: Path
) -> None:
    """Before: "Sauvegarde faite : 2023-11-14T22:13:20Z" (RFC 3339 for people)."""
    backup = tmp_path / "b.age"
    backup.write_bytes(seal(genuine_entries(gp_home)))
    env = {
        **world_env(PASSPHRASE),
        "SECUREMSG_BACKUP_PASSPHRASE": base.BACKUP_PASS,
        "LANG": "fr_FR.UTF-8",
        "LC_ALL": None,
        "TZ": "Europe/Paris",
    }
    res = run_cli(tmp_path / "home", "restore", backup, env=env, executable=True)
    assert res.exit_code == 0, res.stderr
    assert "14/11/2023 23:13 CET" in res.stdout + res.stderr
    assert not re.search(r"\dT\d\d:\d\d:\d\dZ", res.stdout + res.stderr), res.stdout


@pytest.mark.parametrize("kind", ["link-to-an-empty-folder", "a-file", "a-dangling-link"])
def test_restore_into_a_link_or_a_file_is_refused(gp_home: Path, tmp_path: Path, kind: str) -> None:
    """Checked and found sound (no fix needed): the target home is never a link
    (its folder would be written through it) nor a file."""
    backup = tmp_path / "b.age"
    backup.write_bytes(seal(genuine_entries(gp_home)))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = tmp_path / "home"
    if kind == "a-file":
        target.write_text("keep")
    else:
        target.symlink_to(elsewhere if kind.startswith("link") else tmp_path / "nowhere")
    res = base.restore(target, backup)
    assert (res.exit_code, res.error_json()["error"]) == (1, "restore_not_empty"), res.stderr
    assert list(elsewhere.iterdir()) == [] and not (tmp_path / "nowhere").exists()
    assert target.is_symlink() or target.read_text() == "keep"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


@pytest.mark.parametrize("created", [10**20, -(10**13), 0])
def test_a_manifest_time_out_of_range(gp_home: Path, tmp_path: Path, created: int) -> None:
    """Before: the restore completed, then ``internal error: OverflowError`` (or
    ValueError) when it said when the backup was made; 0 is no time either."""
    entries = genuine_entries(gp_home)
    head, body = entries[0]
    doc = json.loads(body)
    doc["created"] = created
    body = json.dumps(doc).encode()
    head.size = len(body)
    _refused(tmp_path, seal([(head, body), *entries[1:]]), "backup_invalid")
