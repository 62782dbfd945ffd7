"""A second device: ``device add`` writes the identity, contacts and consents
into a backup file (docs/format-backup.md §7) protected by a one-time code
given to ``show_code`` (the CLI shows it on the controlling terminal only);
``device join`` on the other machine makes a home of it, with the key in that
machine's own key store and a log of its own (a new chain id, named in its
receipts: docs/format.md §14). Letters are not carried: each
device keeps the letters it received and sent. Both configs say ``"devices":
true`` (app/devices.py; refused while a mail account moves what it receives): by
mail, every device then receives every letter and the doubles of the others
(app/doubles.py).
"""

from __future__ import annotations

import base64
import hmac
import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import nacl.utils

from securemsg.app.backup import Ask, ShowCode, unpack
from securemsg.app.devices import check_accounts, set_devices
from securemsg.core import keyfile
from securemsg.core.identity import SecretHistory
from securemsg.errors import BackupInvalid, KeyStoreError
from securemsg.i18n import _
from securemsg.store import db
from securemsg.store.backup import DB_NAME, Manifest, write_backup
from securemsg.store.fs import atomic_write, check_new_file
from securemsg.store.home import Home
from securemsg.store.keystore import KeyStore
from securemsg.store.keystore.os_keyring import KeyringStore
from securemsg.store.keystore.prompt import read_terminal
from securemsg.store.keystore.selection import select_keystore
from securemsg.store.mailbox import Mailbox, strip_for_new_device

ENV_DEVICE_CODE = "SECUREMSG_DEVICE_CODE"
CODE_BYTES = 20  # 160 bits: 32 base32 characters, in 8 groups of 4
KEY_NAME = "keys/identity.key"


def new_code(rng: Callable[[int], bytes] = nacl.utils.random) -> str:
    """A one-time code: 160 random bits as 32 base32 letters and digits, in groups."""
    text = base64.b32encode(bytes(rng(CODE_BYTES))).decode()
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def code_bytes(code: str) -> bytes:
    """What is used as the scrypt passphrase: the code upper-cased, without spaces
    or dashes (so it may be typed in any case and grouping)."""
    return "".join(c for c in code.upper() if c not in " -\t").encode()


@dataclass(frozen=True, slots=True)
class DeviceFile:
    path: str
    fingerprint: str


def device_add(home: Home, out: Path, now: int, show_code: ShowCode) -> DeviceFile:
    """Write the device file to ``out``, protected by a new one-time code given to
    ``show_code`` (once, before the file is written) and never returned."""
    config = home.config()
    card = home.card()
    check_new_file(out)
    secret = home.unlock_history()  # every key pair, to move them: never from the agent
    check_accounts(home)  # no mail account may move what it receives (app/devices.py)
    code = new_code()
    extra: dict[str, bytes] = {
        KEY_NAME: keyfile.seal(secret.to_bytes(), code_bytes(code)),
        "config.json": json.dumps(
            dict(config, keystore={"kind": "file", "path": KEY_NAME}, devices=True), indent=2
        ).encode(),
    }
    with tempfile.TemporaryDirectory(prefix=".device-", dir=home.path) as tmp:
        copy = Path(tmp) / DB_NAME
        db.snapshot(home.db_path, copy)
        strip_for_new_device(copy, nacl.utils.random(16))
        extra[DB_NAME] = copy.read_bytes()
    files = ["card.txt", *(["previous-cards.txt"] if home.previous_cards_path.exists() else [])]
    names = sorted({*files, *extra})
    manifest = Manifest(now, card.fingerprint, len(names), 0, "backup")
    show_code(code)
    write_backup(out, home.path, manifest, files, code_bytes(code), now, extra)
    set_devices(home, True)  # this identity now has several devices
    return DeviceFile(str(out), card.fingerprint)


def _code(env: Mapping[str, str], ask: Ask) -> bytes:
    value = env.get(ENV_DEVICE_CODE) or ask(_("One-time code shown by `device add`: "))
    if not value:
        raise KeyStoreError(
            _("no one-time code"),
            hint=_("set {ENV_DEVICE_CODE} or run from a terminal").format(
                ENV_DEVICE_CODE=ENV_DEVICE_CODE
            ),
        )
    return code_bytes(value)


@dataclass(frozen=True, slots=True)
class Joined:
    home: str
    fingerprint: str
    chain: str
    keystore: str


def device_join(home: Home, src: Path, now: int, ask: Ask = read_terminal) -> Joined:
    """Make ``home`` (absent or empty) this identity's new device from ``src``."""
    joined = unpack(
        home,
        src,
        _("no device file {src}"),
        lambda: _code(home.env, ask),
        "join",
        lambda staging, manifest, files, code: _settle(staging, manifest, files, code, home.env),
    )
    fingerprint, chain = joined
    return Joined(
        str(home.path), fingerprint, chain, Home(home.path, env=home.env).keystore_description()
    )


def _settle(
    staging: Path, manifest: Manifest, files: list[str], code: bytes, env: Mapping[str, str]
) -> tuple[str, str]:
    for needed in ("config.json", "card.txt", DB_NAME, KEY_NAME):
        if needed not in files:
            raise BackupInvalid(_("the device file holds no {needed}").format(needed=needed))
    if (problem := db.integrity_problem(staging / DB_NAME)) is not None:
        raise BackupInvalid(
            _("the device file's database is damaged: {problem}").format(problem=problem)
        )
    here = Home(staging, env=env)
    card = here.card()
    if card.fingerprint != manifest.fingerprint:
        raise BackupInvalid(_("the device file's card is not the identity its manifest names"))
    history = SecretHistory.from_bytes(
        keyfile.open_keyfile((staging / KEY_NAME).read_bytes(), code)
    )
    secret = history.current
    if secret.sign_public != card.sign_public:
        raise BackupInvalid(_("the device file's key is not its card's"))
    (staging / KEY_NAME).unlink()
    store = select_keystore(here.keys_dir, account=card.fingerprint, env=env)
    shared = _already_held(store, history)
    if not shared:
        store.save(history.to_bytes())
    try:
        config = dict(here.config(), keystore=store.descriptor())
        atomic_write(here.config_path, json.dumps(config, indent=2).encode())
        mine = Home(staging, env=env, _history=history)
        box = Mailbox(mine)
        try:
            chain = box.chain_id()
            report = box.verify_log()
        finally:
            mine.close()
        if chain is None or report.problem is not None:
            raise BackupInvalid(_("the device file's log is not a new device's"))
    except BaseException:
        if store.kind != "file" and not shared:  # never the entry another home uses
            store.delete()
        raise
    return card.fingerprint, chain.hex()


def _already_held(store: KeyStore, history: SecretHistory) -> bool:
    """True if the OS key store already holds exactly these keys (another home of
    this identity on this computer: the entry is one per identity, so it is
    shared, never deleted here); KeyStoreError if it holds other keys of this
    identity (say, the keys after a rotation made since the device file: storing
    these would take the other home's current key away)."""
    if not isinstance(store, KeyringStore) or not store.holds_entry():
        return False
    if hmac.compare_digest(store.load(), history.to_bytes()):
        return True
    raise KeyStoreError(
        _(
            "the OS key store already holds other keys of this identity: another "
            "home of it on this computer uses them"
        ),
        hint=_(
            "use that home on this computer, or join with the key in a key file of this "
            "home (SECUREMSG_KEYSTORE=file)"
        ),
    )
