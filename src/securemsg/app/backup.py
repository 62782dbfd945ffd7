"""backup and restore: the whole home in one age file encrypted to a passphrase
(docs/format-backup.md), and back into an empty home, verified before it is
declared done.

The passphrase comes from ``SECUREMSG_BACKUP_PASSPHRASE`` (scripts), else the
terminal without echo (asked twice for a backup). It is not the key's
passphrase: the key file travels sealed as it is, and a restore asks for the
key's passphrase to check the log's signatures. With a **recovery code**
(``show_code``), the passphrase is drawn here (core/recoverycode.py, 160 bits)
and the scrypt work factor is :data:`RECOVERY_WORK_FACTOR` (docs/format-backup.md
§2a); a restore reads a code typed in any case and grouping.
"""

from __future__ import annotations

import hmac
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

import nacl.utils

from securemsg.core import keyfile, recoverycode
from securemsg.core.age.streams import DecryptingReader
from securemsg.core.log import LogEntry
from securemsg.errors import (
    BackupInvalid,
    BackupPassphraseError,
    KeyStoreError,
    NotFoundError,
    RestoreTargetNotEmpty,
    UnreadableError,
    UsageError,
    WeakPassphrase,
)
from securemsg.i18n import _
from securemsg.store import db
from securemsg.store.backup import (
    DB_NAME,
    Manifest,
    Progress,
    extract_backup,
    home_files,
    open_backup,
    write_backup,
)
from securemsg.store.fs import check_new_file
from securemsg.store.home import Home
from securemsg.store.keystore import ENV_PASSPHRASE
from securemsg.store.keystore.prompt import read_terminal
from securemsg.store.mailbox import Mailbox
from securemsg.store.receiving import file_digest

T = TypeVar("T")

ENV_BACKUP_PASSPHRASE = "SECUREMSG_BACKUP_PASSPHRASE"  # noqa: S105 (a variable name)
MIN_PASSPHRASE = 12
WORK_FACTOR = 18  # log2(N) of the scrypt stanza (hazmat/scrypt.py DEFAULT_WORK_FACTOR)
# A recovery code has 160 random bits: the work factor adds nothing against guessing
# (2^159 tries on average), it only has to keep the whole backup under 100 MiB
# (2^15: 32 MiB of scrypt memory, docs/threat-model.md "A stolen backup").
RECOVERY_WORK_FACTOR = 15
Ask = Callable[[str], "str | None"]
ShowCode = Callable[[str], None]


def backup_passphrase(env: Mapping[str, str], confirm: bool, ask: Ask = read_terminal) -> bytes:
    """The backup passphrase: the environment, else the terminal (twice to confirm).
    A new backup's passphrase has at least :data:`MIN_PASSPHRASE` characters."""
    return keyfile.passphrase_bytes(_passphrase_text(env, confirm, ask))


def restore_passphrases(env: Mapping[str, str], ask: Ask = read_terminal) -> tuple[bytes, ...]:
    """What a restore tries, in order: when the passphrase typed can be a recovery
    code, its canonical form (any case, grouping, look-alike digits), then the
    passphrase exactly as typed (an own passphrase that looks like a code)."""
    text = _passphrase_text(env, False, ask)
    typed = keyfile.passphrase_bytes(text)
    code = recoverycode.canonical(text)
    if code is None or code.encode() == typed:
        return (typed,)
    return (code.encode(), typed)


def _passphrase_text(env: Mapping[str, str], confirm: bool, ask: Ask) -> str:
    value = env.get(ENV_BACKUP_PASSPHRASE) or None
    if value is None:
        value = ask(_("Backup passphrase: ") if not confirm else _("New backup passphrase: "))
        if value is None:
            raise KeyStoreError(
                _("no backup passphrase: no terminal to ask it on"),
                hint=_("set {ENV_BACKUP_PASSPHRASE} or run from a terminal").format(
                    ENV_BACKUP_PASSPHRASE=ENV_BACKUP_PASSPHRASE
                ),
            )
        if confirm and value and ask(_("Repeat the backup passphrase: ")) != value:
            raise KeyStoreError(
                _("the two passphrases do not match"),
                hint=_("run the command again and type the same passphrase twice"),
            )
    if not value:
        raise WeakPassphrase(_("an empty backup passphrase is not allowed"))
    if confirm and len(value) < MIN_PASSPHRASE:
        raise WeakPassphrase(
            _("the backup passphrase is shorter than {MIN_PASSPHRASE} characters").format(
                MIN_PASSPHRASE=MIN_PASSPHRASE
            ),
            hint=_(
                "anyone who gets the file can try passphrases offline: choose five or "
                "six random words"
            ),
        )
    return value


@dataclass(frozen=True, slots=True)
class BackupDone:
    path: str
    created: int
    fingerprint: str
    files: int
    total_bytes: int
    work_factor: int
    key_exported: bool  # the key came from an OS key store, sealed under the backup passphrase
    recovery_code: bool  # protected by a drawn recovery code (shown once), not a passphrase


def backup(
    home: Home,
    out: Path,
    now: int,
    ask: Ask = read_terminal,
    progress: Callable[[int], Progress | None] | None = None,
    show_code: ShowCode | None = None,
) -> BackupDone:
    """Write the whole home to ``out`` (docs/format-backup.md). With ``show_code``,
    protect it with a new recovery code, given to ``show_code`` (once, before the
    files are written) and never returned."""
    config = home.config()
    card = home.card()
    check_new_file(out)
    if show_code is None:
        passphrase = backup_passphrase(home.env, confirm=True, ask=ask)
        work_factor = WORK_FACTOR
    else:
        if home.env.get(ENV_BACKUP_PASSPHRASE):
            raise UsageError(
                _("--recovery-code draws its own code: {ENV_BACKUP_PASSPHRASE} is set").format(
                    ENV_BACKUP_PASSPHRASE=ENV_BACKUP_PASSPHRASE
                ),
                hint=_("unset {ENV_BACKUP_PASSPHRASE}, or leave out --recovery-code to use "
                       "that passphrase").format(ENV_BACKUP_PASSPHRASE=ENV_BACKUP_PASSPHRASE),
            )  # fmt: skip
        code = recoverycode.new_code(nacl.utils.random)
        passphrase, work_factor = code.encode(), RECOVERY_WORK_FACTOR
    files = home_files(home.path)
    extra: dict[str, bytes] = {}
    exported = config.get("keystore", {}).get("kind") != "file"
    if exported:  # an OS key store: carry the key sealed under the backup passphrase
        secret = home.unlock_history().to_bytes()  # every key pair, never from the agent
        extra["keys/identity.key"] = keyfile.seal(secret, passphrase)
        moved = dict(config, keystore={"kind": "file", "path": "keys/identity.key"})
        extra["config.json"] = json.dumps(moved, indent=2).encode()
    names = sorted({*files, *extra})
    total = sum(os.stat(home.path / n).st_size for n in files if n not in extra)
    manifest = Manifest(now, card.fingerprint, len(names), total,
                        "backup" if exported else "key file")  # fmt: skip
    if show_code is not None:
        show_code(code)
    tick = progress(total) if progress is not None else None
    write_backup(out, home.path, manifest, files, passphrase, now, extra, tick, work_factor)
    return BackupDone(str(out), now, card.fingerprint, len(names), total, work_factor, exported,
                      show_code is not None)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RestoreDone:
    home: str
    created: int
    fingerprint: str
    files: int
    letters_in: int
    letters_sent: int
    log_entries: int
    last_log_time: int | None
    key_from_backup: bool  # the key file is sealed under the backup's passphrase or code
    name: str  # whose identity this is (the backup's card): said, so no one restores
    role: str  # another practitioner's home believing it is their own


def check_empty_target(target: Path) -> None:
    if os.path.lexists(target) and (
        target.is_symlink() or not target.is_dir() or any(target.iterdir())
    ):
        raise RestoreTargetNotEmpty(
            _("{target} is not empty; restore writes only into an empty home").format(
                target=target
            ),
            hint=_("choose a new folder with --home, or move this one aside first"),
        )


def unpack(
    home: Home,
    src: Path,
    missing: str,
    secret: Callable[[], bytes | tuple[bytes, ...]],
    tag: str,
    settle: Callable[[Path, Manifest, list[str], bytes], T],
) -> T:
    """``src`` (a backup or a device file) into ``home``, which must be absent or
    empty: unpacked into a staging folder beside it, checked by ``settle``, and
    only then renamed into place. On any failure nothing is left."""
    target = home.path
    check_empty_target(target)
    try:
        fh = open(src, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        raise NotFoundError(missing.format(src=src)) from None
    except OSError as exc:
        raise UnreadableError(
            _("cannot read {src}: {value}").format(src=src, value=exc.strerror or exc)
        ) from None
    with fh:
        keys = secret()
        reader, key = _open_with(fh, keys if isinstance(keys, tuple) else (keys,))
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.{tag}-", dir=target.parent))
        try:
            manifest, files = extract_backup(reader, staging)
            result = settle(staging, manifest, files, key)
            check_empty_target(target)
            if os.path.lexists(target):
                os.rmdir(target)
            os.rename(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return result


def _open_with(fh: BinaryIO, keys: tuple[bytes, ...]) -> tuple[DecryptingReader, bytes]:
    """The reader of the first of ``keys`` that opens ``fh``, and that key."""
    for key in keys[:-1]:
        try:
            return open_backup(fh, key), key
        except BackupPassphraseError:
            if not fh.seekable():
                raise
            fh.seek(0)
    return open_backup(fh, keys[-1]), keys[-1]


def restore(home: Home, src: Path, now: int, ask: Ask = read_terminal) -> RestoreDone:
    """Restore the backup ``src`` into ``home`` (absent or an empty folder). On
    any failure nothing is left: the staging folder is removed."""
    done = unpack(
        home,
        src,
        _("no backup file {src}"),
        lambda: restore_passphrases(home.env, ask=ask),
        "restore",
        lambda staging, manifest, files, key: _verify(staging, manifest, files, key, home.env),
    )
    return RestoreDone(str(home.path), *done)


def _verify(
    staging: Path, manifest: Manifest, files: list[str], passphrase: bytes, env: Mapping[str, str]
) -> tuple[int, str, int, int, int, int, int | None, bool, str, str]:
    """The restored home is sound: its files, its card, its database, its log
    chain (every signature, to the signed checkpoint), every letter's digest."""
    for needed in ("config.json", "card.txt", DB_NAME):
        if needed not in files:
            raise BackupInvalid(_("the backup holds no {needed}").format(needed=needed))
    if (problem := db.integrity_problem(staging / DB_NAME)) is not None:
        raise BackupInvalid(
            _("the backup's database is damaged: {problem}").format(problem=problem)
        )
    if manifest.key_sealed_by == "backup":
        env = {**env, ENV_PASSPHRASE: passphrase.decode()}
    restored = Home(staging, env=env)
    card = restored.card()
    if card.fingerprint != manifest.fingerprint:
        raise BackupInvalid(_("the backup's card is not the identity its manifest names"))
    box = Mailbox(restored)
    try:
        report = box.verify_log()
        if report.problem is not None:
            raise BackupInvalid(
                _("the backup's log does not verify: {problem}").format(problem=report.problem)
            )
        counts = [_check_letters(box, staging, folder) for folder in ("in", "sent")]
        rows = box.log_rows()
        last = LogEntry.verify(rows[-1][1], box.cards).time if rows else None
    finally:
        restored.close()
    return (manifest.created, manifest.fingerprint, len(files), counts[0], counts[1],
            report.entries, last, manifest.key_sealed_by == "backup", card.name,
            card.profile.role.value)  # fmt: skip


def _check_letters(box: Mailbox, staging: Path, folder: str) -> int:
    count, page = 0, 500
    root = staging.resolve()
    while rows := box.listing(folder, limit=page, offset=count):
        for row in rows:
            path = (staging / row.path).resolve()
            if root not in path.parents or not path.is_file():
                raise BackupInvalid(
                    _("letter {id} ({folder}) is missing from the backup").format(
                        id=row.id[:16], folder=folder
                    )
                )
            with open(path, "rb") as fh:
                if not hmac.compare_digest(file_digest(fh), row.envelope_digest):
                    raise BackupInvalid(
                        _("letter {id} ({folder}) does not match its digest").format(
                            id=row.id[:16], folder=folder
                        )
                    )
        count += len(rows)
    return count
