"""The backup file: a home's files in a tar stream inside an age file encrypted
to a passphrase (docs/format-backup.md, normative). Writing and reading stream:
memory stays at a few 64 KiB chunks whatever the size of the home.

Writing (:func:`write_backup`): the manifest first, then every regular file of
the home (:func:`home_files`) with the database replaced by a consistent
snapshot (SQLite's online backup), into a temp file beside the output that takes
its name only when complete (never over an existing file).

Reading (:func:`extract_backup`): every entry is checked before a byte of it is
written (:func:`check_member`): a regular file or folder, a name made only of
the allowed parts, never ``..``, never absolute, never twice. Files are created
with ``O_EXCL | O_NOFOLLOW`` in a staging folder that only this code writes (it
creates no link, so no entry can lead outside it); the caller verifies the
staging folder and moves it into place, or removes it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from securemsg.core import age
from securemsg.core.age.streams import DecryptingReader, EncryptingWriter
from securemsg.errors import (
    BackupDamaged,
    BackupInvalid,
    BackupPassphraseError,
    BackupUnsafeEntry,
)
from securemsg.i18n import _
from securemsg.store.fs import atomic_writer, exists_error

MANIFEST = "securemsg-backup.json"
SCHEMA = "securemsg.backup/1"
DB_NAME = "securemsg.db"
# What a home holds and a backup carries (§3). SQLite's side files are not
# carried (the database is a snapshot); the lock file and temp files (a leading
# dot) neither.
_PART = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
NAME = re.compile(rf"{_PART}(/{_PART}){{0,3}}", re.ASCII)
SKIPPED_NAMES = ("securemsg.db-wal", "securemsg.db-shm", "securemsg.db-journal")
MAX_MANIFEST = 64 * 1024
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Manifest:
    created: int
    fingerprint: str
    files: int
    size: int
    key_sealed_by: str  # "key file" (the home's own passphrase) or "backup" (exported)

    def to_json(self) -> bytes:
        doc = {
            "schema": SCHEMA,
            "created": self.created,
            "fingerprint": self.fingerprint,
            "files": self.files,
            "bytes": self.size,
            "key_sealed_by": self.key_sealed_by,
        }
        return json.dumps(doc, indent=1, sort_keys=True).encode() + b"\n"

    @classmethod
    def parse(cls, data: bytes) -> Manifest:
        try:
            doc = json.loads(data)
        except ValueError:
            raise BackupInvalid(_("the backup's manifest is not JSON")) from None
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise BackupInvalid(
                _("this backup was made by another version of securemsg (unknown manifest)"),
                hint=_("restore it with the securemsg version that made it, or a newer one"),
            )
        fields: dict[str, Any] = {
            "created": int,
            "fingerprint": str,
            "files": int,
            "bytes": int,
            "key_sealed_by": str,
        }
        for key, kind in fields.items():
            low = 1 if key == "created" else 0  # a time (0 < t < 2^40), or a count
            if type(doc.get(key)) is not kind or (kind is int and not low <= doc[key] < 2**40):
                raise BackupInvalid(_("the backup's manifest has no valid {key!r}").format(key=key))
        if doc["key_sealed_by"] not in ("key file", "backup"):
            raise BackupInvalid(_("the backup's manifest names an unknown key protection"))
        return cls(doc["created"], doc["fingerprint"], doc["files"], doc["bytes"],
                   doc["key_sealed_by"])  # fmt: skip


# -- writing ------------------------------------------------------------------------
def home_files(home: Path) -> list[str]:
    """The home's regular files to carry, as relative names, sorted; the database
    first. A link or anything else is not carried (a home has none)."""
    out: list[str] = []
    for folder, dirs, files in os.walk(home):
        rel_dir = os.path.relpath(folder, home)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if name.startswith(".") or rel in SKIPPED_NAMES or not NAME.fullmatch(rel):
                continue
            if os.path.isfile(os.path.join(folder, name)) and not os.path.islink(
                os.path.join(folder, name)
            ):
                out.append(rel)
    out.sort(key=lambda n: (n != DB_NAME, n))
    return out


@contextlib.contextmanager
def db_snapshot(home: Path) -> Iterator[Path]:
    """A consistent copy of the home's database (store/db.py), 0600 in the home
    itself (the same protection as the database), removed after."""
    import tempfile

    from securemsg.store import db

    fd, tmp = tempfile.mkstemp(prefix=".backup-snapshot.", suffix=".db", dir=home)
    os.close(fd)
    try:
        db.snapshot(home / DB_NAME, Path(tmp))
        yield Path(tmp)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def entry_info(name: str, size: int, mtime: int, directory: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 0 if directory else size
    info.mtime = mtime
    info.mode = 0o700 if directory else 0o600
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


class _Counting:
    """A source file that reports the bytes read to ``progress``."""

    def __init__(self, fh: BinaryIO, progress: Progress | None) -> None:
        self._fh, self._progress = fh, progress

    def read(self, size: int = -1, /) -> bytes:
        data = self._fh.read(size)
        if self._progress is not None:
            self._progress(len(data))
        return data


def write_backup(
    out_path: Path,
    home: Path,
    manifest: Manifest,
    files: list[str],
    passphrase: bytes,
    now: int,
    extra: dict[str, bytes] | None = None,
    progress: Progress | None = None,
    work_factor: int | None = None,
) -> None:
    """Write the backup of ``files`` (names in ``home``) to ``out_path`` (0600,
    atomic, never over an existing file). ``extra`` replaces or adds small files
    by name (an exported key file and its config). ``work_factor`` is log2(N)
    of the scrypt stanza: None for the default (18, a passphrase), 15 for a
    recovery code (docs/format-backup.md §2), others in tests and vectors."""
    extra = extra or {}
    recipient = (
        age.ScryptRecipient(passphrase)
        if work_factor is None
        else age.ScryptRecipient(passphrase, work_factor)
    )
    try:
        snapshot = db_snapshot(home) if DB_NAME in files else contextlib.nullcontext(None)
        with atomic_writer(out_path, 0o600, replace=False) as fh, snapshot as snap:
            writer = EncryptingWriter([recipient], fh)
            with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
                body = manifest.to_json()
                tar.addfile(entry_info(MANIFEST, len(body), now), io.BytesIO(body))
                made: set[str] = set()
                for name in sorted({*files, *extra}, key=lambda n: (n != DB_NAME, n)):
                    _add_dirs(tar, name, made, now)
                    if name in extra:
                        data = extra[name]
                        tar.addfile(entry_info(name, len(data), now), io.BytesIO(data))
                        continue
                    path = snap if name == DB_NAME and snap is not None else home / name
                    with open(path, "rb") as src:
                        size = os.fstat(src.fileno()).st_size
                        tar.addfile(entry_info(name, size, now), _Counting(src, progress))
            writer.close()
    except FileExistsError as exc:
        raise exists_error(out_path) from exc


def _add_dirs(tar: tarfile.TarFile, name: str, made: set[str], now: int) -> None:
    parts = name.split("/")[:-1]
    for i in range(1, len(parts) + 1):
        folder = "/".join(parts[:i])
        if folder not in made:
            made.add(folder)
            tar.addfile(entry_info(folder, 0, now, directory=True))


# -- reading ------------------------------------------------------------------------
def open_backup(src: BinaryIO, passphrase: bytes) -> DecryptingReader:
    """The decrypting reader of a backup file; the age errors said in backup terms."""
    try:
        reader = DecryptingReader([age.ScryptIdentity(passphrase)], src)
    except age.NoIdentityMatchError:
        raise BackupPassphraseError(
            _("the passphrase does not open this backup"),
            hint=_("type the passphrase chosen when the backup was made (it is not the key's)"),
        ) from None
    except age.AgeError as exc:
        raise damaged(exc) from None
    return reader


def damaged(exc: Exception) -> BackupDamaged:
    return BackupDamaged(
        _("the backup is damaged or is not a securemsg backup ({exc})").format(exc=exc),
        hint=_("nothing was restored; use another copy of the backup"),
    )


def check_member(info: tarfile.TarInfo, seen: set[str]) -> str:
    """The entry's name, if a restore may write it (§3); else BackupUnsafeEntry."""
    name = info.name
    shown = repr(name[:80])
    if not (info.isreg() or info.isdir()):
        kind = _("a link") if info.issym() or info.islnk() else _("a device or special file")
        raise BackupUnsafeEntry(
            _("the backup holds {kind} ({shown}); a restore writes only files and folders").format(
                kind=kind, shown=shown
            ),
            hint=_("nothing was restored; this file was not made by securemsg backup"),
        )
    if (
        name.startswith("/")
        or ".." in name.split("/")
        or not NAME.fullmatch(name)
        or name in SKIPPED_NAMES  # SQLite's side files: a backup never carries them (§3)
    ):
        raise BackupUnsafeEntry(
            _("the backup holds an entry whose name a restore never writes: {shown}").format(
                shown=shown
            ),
            hint=_("nothing was restored; this file was not made by securemsg backup"),
        )
    if name in seen:
        raise BackupUnsafeEntry(_("the backup holds {shown} twice").format(shown=shown))
    seen.add(name)
    return name


def extract_backup(reader: DecryptingReader, staging: Path) -> tuple[Manifest, list[str]]:
    """Write the backup's entries under ``staging`` (an empty folder); return the
    manifest and the files written. Any error leaves the caller to remove
    ``staging``; the whole payload is authenticated before this returns."""
    files: list[str] = []
    seen: set[str] = set()
    manifest: Manifest | None = None
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
            for info in tar:
                if manifest is None:
                    if info.name != MANIFEST or not info.isreg() or info.size > MAX_MANIFEST:
                        raise BackupInvalid(_("the backup does not start with its manifest"))
                    fh = tar.extractfile(info)
                    manifest = Manifest.parse(fh.read() if fh else b"")
                    seen.add(MANIFEST)
                    continue
                name = check_member(info, seen)
                target = staging / name
                try:
                    if info.isdir():
                        os.makedirs(target, mode=0o700, exist_ok=True)
                        continue
                    os.makedirs(target.parent, mode=0o700, exist_ok=True)
                    _write_entry(tar, info, target)
                except (FileExistsError, NotADirectoryError, IsADirectoryError):
                    raise _file_and_folder(name) from None
                files.append(name)
        if not reader.drain():
            raise BackupInvalid(_("the backup holds data after the end of its archive"))
    except tarfile.TarError as exc:
        raise BackupInvalid(
            _("the backup's archive is malformed ({exc})").format(exc=exc)
        ) from None
    except age.AgeError as exc:
        raise damaged(exc) from None
    if manifest is None:
        raise BackupInvalid(_("the backup is empty (no manifest)"))
    if manifest.files != len(files):
        raise BackupInvalid(
            _("the backup holds {count} files, its manifest says {files}").format(
                count=len(files), files=manifest.files
            )
        )
    return manifest, files


def _file_and_folder(name: str) -> BackupUnsafeEntry:
    """``name`` is a file inside a file, or a file and a folder at once."""
    return BackupUnsafeEntry(
        _("the backup holds {shown} where a file and a folder would have one name").format(
            shown=repr(name[:80])
        ),
        hint=_("nothing was restored; this file was not made by securemsg backup"),
    )


def _write_entry(tar: tarfile.TarFile, info: tarfile.TarInfo, target: Path) -> None:
    src = tar.extractfile(info)
    if src is None:  # pragma: no cover - a regular file always has a reader
        raise BackupInvalid(_("cannot read the entry {name!r}").format(name=info.name))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    fd = os.open(target, flags, 0o600)
    with os.fdopen(fd, "wb") as out:
        while data := src.read(1 << 16):
            out.write(data)
        out.flush()
        os.fsync(out.fileno())
