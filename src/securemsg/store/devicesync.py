"""The device sync file (docs/format-backup.md §8): what one device of an
identity hands another without mail. A tar stream, as in a backup, inside an
age file encrypted to the identity's own X25519 key (its card's ``enc_key``):
only a device of the identity opens it. Every entry is already signed by whoever
made it (letters by their authors, doubles by their record, receipts by their
recipients), and the importing device verifies each as it would have received
it (app/devicesync.py): the encryption only hides the file from others.

Reading extracts everything into a private staging folder first and checks
that the whole payload authenticated before a single entry is used: a damaged
or truncated file changes nothing.
"""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from securemsg.core import age
from securemsg.core.age.keys import Identity, ShareOpener
from securemsg.core.age.streams import DecryptingReader, EncryptingWriter
from securemsg.errors import DeviceSyncInvalid
from securemsg.i18n import _
from securemsg.store.backup import entry_info
from securemsg.store.fs import atomic_writer, exists_error

MANIFEST = "securemsg-sync.json"
SCHEMA = "securemsg.device-sync/1"
MAX_MANIFEST = 64 * 1024
_ID = "[0-9a-f]{32}"
ENTRY = re.compile(
    rf"in/{_ID}\.smsg|sent/{_ID}\.(double|smsg)|proofs/{_ID}\.[0-9a-f]{{40}}\.(receipt|refusal)",
    re.ASCII,
)
FOLDERS = ("in", "sent", "proofs")


@dataclass(frozen=True, slots=True)
class SyncManifest:
    created: int
    fingerprint: str  # the identity's
    since: int  # what it carries: letters and proofs stored at or after this time (0: all)
    files: int

    def to_json(self) -> bytes:
        doc = {
            "schema": SCHEMA,
            "created": self.created,
            "fingerprint": self.fingerprint,
            "since": self.since,
            "files": self.files,
        }
        return json.dumps(doc, indent=1, sort_keys=True).encode() + b"\n"

    @classmethod
    def parse(cls, data: bytes) -> SyncManifest:
        try:
            doc: Any = json.loads(data)
        except ValueError:
            doc = None
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise DeviceSyncInvalid(
                _("this is not a device sync file of this version (unknown manifest)")
            )
        kinds = {"created": int, "fingerprint": str, "since": int, "files": int}
        if set(doc) != {"schema", *kinds} or any(type(doc[k]) is not t for k, t in kinds.items()):
            raise DeviceSyncInvalid(_("the device sync file's manifest is malformed"))
        return cls(doc["created"], doc["fingerprint"], doc["since"], doc["files"])


def write_sync(
    out_path: Path,
    recipient: bytes,
    manifest: SyncManifest,
    entries: list[tuple[str, Path | bytes]],
    now: int,
    rng: Any = None,
) -> None:
    """Write the sync file (0600, atomic, never over an existing file): the
    manifest, then ``entries`` (name, a file or bytes), in their order.
    ``rng`` is for the test vectors only."""
    try:
        with atomic_writer(out_path, 0o600, replace=False) as fh:
            recipients = [age.X25519Recipient(recipient)]
            writer = (
                EncryptingWriter(recipients, fh) if rng is None
                else EncryptingWriter(recipients, fh, rng)
            )  # fmt: skip
            with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
                body = manifest.to_json()
                tar.addfile(entry_info(MANIFEST, len(body), now), io.BytesIO(body))
                for folder in FOLDERS:
                    tar.addfile(entry_info(folder, 0, now, directory=True))
                for name, src in entries:
                    if isinstance(src, bytes):
                        tar.addfile(entry_info(name, len(src), now), io.BytesIO(src))
                        continue
                    with open(src, "rb") as fh_in:
                        size = os.fstat(fh_in.fileno()).st_size
                        tar.addfile(entry_info(name, size, now), fh_in)
            writer.close()
    except FileExistsError as exc:
        raise exists_error(out_path) from exc


def _invalid(what: str) -> DeviceSyncInvalid:
    return DeviceSyncInvalid(
        _("the device sync file is damaged or not a device sync file ({what})").format(what=what),
        hint=_("nothing was imported; make a new one with `securemsg device sync -o FILE`"),
    )


def extract_sync(
    src: BinaryIO, identities: list[Identity | ShareOpener], staging: Path
) -> tuple[SyncManifest, list[str]]:
    """Decrypt and extract the sync file into ``staging`` (an empty private
    folder): its manifest and the entry names, once the whole payload has
    authenticated. Any problem is :class:`DeviceSyncInvalid`; the caller removes
    ``staging``."""
    try:
        reader = DecryptingReader(identities, src)
    except age.NoIdentityMatchError:
        raise DeviceSyncInvalid(
            _("this device sync file is not encrypted to your key"),
            hint=_("it was made by another identity's device: nothing was imported"),
        ) from None
    except age.AgeError as exc:
        raise _invalid(str(exc)) from None
    names: list[str] = []
    manifest: SyncManifest | None = None
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
            for info in tar:
                if manifest is None:
                    if info.name != MANIFEST or not info.isreg() or info.size > MAX_MANIFEST:
                        raise _invalid(_("it does not start with its manifest"))
                    fh = tar.extractfile(info)
                    manifest = SyncManifest.parse(fh.read() if fh else b"")
                    continue
                if info.isdir() and info.name in FOLDERS:
                    (staging / info.name).mkdir(mode=0o700, exist_ok=True)
                    continue
                if not info.isreg() or not ENTRY.fullmatch(info.name) or info.name in names:
                    raise _invalid(_("an entry {name!r}").format(name=info.name[:80]))
                _extract(tar, info, staging / info.name)
                names.append(info.name)
        if not reader.drain():
            raise _invalid(_("data after the end of its archive"))
    except tarfile.TarError as exc:
        raise _invalid(str(exc)) from None
    except age.AgeError as exc:
        raise _invalid(str(exc)) from None
    if manifest is None:
        raise _invalid(_("no manifest"))
    if manifest.files != len(names):
        raise _invalid(_("{count} entries, its manifest says {files}").format(
            count=len(names), files=manifest.files))  # fmt: skip
    return manifest, names


def _extract(tar: tarfile.TarFile, info: tarfile.TarInfo, target: Path) -> None:
    src = tar.extractfile(info)
    if src is None:  # pragma: no cover - a regular file always has a reader
        raise _invalid(info.name)
    target.parent.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        while data := src.read(1 << 16):
            out.write(data)
