"""A user's home: config, own card, key store, database.

Layout (all private: folders 0700, files 0600)::

    HOME/config.json     public settings: fingerprint, key store descriptor
    HOME/card.txt        my own signed public card (text form)
    HOME/keys/           passphrase-protected key file, when no OS key store
    HOME/securemsg.db    SQLite; every row holding a person's data is sealed

``whoami`` reads the config, the card and the key file's header through the
folder's name as a string (:attr:`Home.dir`): pathlib costs ~3 ms at start-up
(docs/performance.md, target 4). Everything else uses :attr:`Home.path`.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from securemsg.core.card import Card
from securemsg.core.identity import SecretIdentity
from securemsg.errors import ConflictError, FormatError, KeyStoreError, NotFoundError

if TYPE_CHECKING:  # imported when used (start-up time)
    import sqlite3
    from pathlib import Path

    from securemsg.core.identity import KeyHolder
    from securemsg.core.storage import StorageKeys

CONFIG_SCHEMA = 1


def home_dir(option: str | None, env: Mapping[str, str]) -> str:
    """The home folder: ``--home``, else ``SECUREMSG_HOME``, else the platform's
    data folder; as ``str(Path(...).expanduser())``."""
    if option:
        return path_str(option, expand_user=True)
    if env.get("SECUREMSG_HOME"):
        return path_str(env["SECUREMSG_HOME"], expand_user=True)
    import platformdirs

    return path_str(platformdirs.user_data_dir("securemsg", appauthor=False))


def path_str(path: str, expand_user: bool = False) -> str:
    """``str(Path(path))`` (or ``str(Path(path).expanduser())``), computed
    without importing pathlib on POSIX; tests/store/test_home_paths.py holds
    it to pathlib's answer."""
    if os.name != "posix":
        from pathlib import Path

        p = Path(path)
        return str(p.expanduser() if expand_user else p)
    root, parts = _posix_parts(path)
    if expand_user and not root and parts and parts[0].startswith("~"):
        home = os.path.expanduser(parts[0])
        if home.startswith("~"):
            raise RuntimeError("Could not determine home directory.")
        root, first = _posix_parts(home)
        parts = first + parts[1:]
    return root + "/".join(parts) or "."


def _posix_parts(path: str) -> tuple[str, list[str]]:
    """The root ("", "/" or "//") and the parts of a POSIX path, as pathlib
    parses them: empty and "." parts dropped, ".." kept."""
    rest = path.lstrip("/")
    slashes = len(path) - len(rest)
    root = "//" if slashes == 2 else "/" if slashes else ""
    return root, [part for part in rest.split("/") if part not in ("", ".")]


def _exists(path: str) -> bool:
    """``Path(path).exists()``: False when missing, other errors raised."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
            return False
        if getattr(exc, "winerror", None) in (21, 123, 1921):
            return False
        raise
    except ValueError:
        return False
    return True


class Home:
    """One home folder. ``env`` is the environment the key store reads
    (default: a copy of ``os.environ``); ``repr`` shows only the path."""

    __slots__ = ("_conn", "_path", "_secret", "dir", "env")

    def __init__(
        self,
        path: Path | str,
        env: Mapping[str, str] | None = None,
        _secret: KeyHolder | None = None,
        _conn: sqlite3.Connection | None = None,
    ) -> None:
        self.dir = path_str(path) if isinstance(path, str) else str(path)
        """The folder, as ``str(self.path)``."""
        self._path = None if isinstance(path, str) else path
        self.env: Mapping[str, str] = dict(os.environ) if env is None else env
        self._secret = _secret
        self._conn = _conn

    def __repr__(self) -> str:
        return f"Home(path={self.path!r})"

    @property
    def path(self) -> Path:
        if self._path is None:
            from pathlib import Path

            self._path = Path(self.dir)
        return self._path

    def _file(self, name: str) -> str:
        """A file of the home, for I/O only (not for messages: see the *_path)."""
        return os.path.join(self.dir, name)

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def card_path(self) -> Path:
        return self.path / "card.txt"

    @property
    def keys_dir(self) -> Path:
        return self.path / "keys"

    @property
    def db_path(self) -> Path:
        return self.path / "securemsg.db"

    def exists(self) -> bool:
        return _exists(self._file("config.json"))

    def require(self) -> None:
        if not self.exists():
            raise NotFoundError(
                f"no securemsg identity in {self.path}",
                hint="create one with: securemsg init --name NAME --role ROLE",
            )

    # -- config and card (public) ------------------------------------------
    def config(self) -> dict[str, Any]:
        self.require()
        try:
            with open(self._file("config.json"), encoding="utf-8") as fh:
                data = json.loads(fh.read())
        except (OSError, ValueError) as exc:
            raise FormatError(f"cannot read {self.config_path}") from exc
        if not isinstance(data, dict) or data.get("schema") != CONFIG_SCHEMA:
            raise FormatError(f"{self.config_path}: unsupported configuration version")
        return data

    def card(self) -> Card:
        self.require()
        with open(self._file("card.txt"), "rb") as fh:
            return Card.parse(fh.read())

    def create(
        self, secret: SecretIdentity, card: Card, keystore_descriptor: Mapping[str, str]
    ) -> None:
        """Write a new identity. The key store must already hold the secret."""
        if self.exists():
            raise ConflictError(f"{self.path} already holds an identity")
        from securemsg.store.fs import atomic_write, ensure_private_dir

        ensure_private_dir(self.path)
        atomic_write(self.card_path, card.to_text().encode())
        config = {
            "schema": CONFIG_SCHEMA,
            "fingerprint": card.fingerprint,
            "keystore": dict(keystore_descriptor),
            "test_identity": card.test_key,
        }
        self._secret = secret
        atomic_write(self.config_path, json.dumps(config, indent=2).encode())
        self.database()

    # -- secrets -------------------------------------------------------------
    def unlock(self) -> KeyHolder:
        """My private keys' operations, once per process: the home's agent if one
        runs (no prompt; the keys stay in the agent), else the keys themselves
        from the key store (:meth:`unlock_local`)."""
        if self._secret is None:
            from securemsg.store.agent.client import AgentIdentity, find_agent

            found = find_agent(self.dir, self.env)
            if found is None:
                return self.unlock_local()
            holder = AgentIdentity(*found)
            self._check(holder.sign_public, "the agent holds")
            self._secret = holder
        return self._secret

    def unlock_local(self) -> SecretIdentity:
        """The private keys from the key store (OS store, env, prompt), never the agent."""
        if isinstance(self._secret, SecretIdentity):
            return self._secret
        from securemsg.store.keystore.selection import open_keystore

        store = open_keystore(self.config()["keystore"], self.path, env=self.env)
        secret = SecretIdentity.from_bytes(store.load())
        self._check(secret.sign_public, "the key store holds")
        self._secret = secret
        return secret

    def _check(self, sign_public: bytes, holder: str) -> None:
        if sign_public != self.card().sign_public:
            raise KeyStoreError(
                f"{holder} keys that do not match this home's card",
                hint="check --home / SECUREMSG_HOME",
            )

    def storage_keys(self) -> StorageKeys:
        from securemsg.core.storage import StorageKeys

        holder = self.unlock()
        if isinstance(holder, SecretIdentity):
            return StorageKeys.derive(holder)
        from securemsg.store.agent.client import AgentIdentity

        if not isinstance(holder, AgentIdentity):  # pragma: no cover - the two kinds above
            raise TypeError(f"unknown key holder {type(holder).__name__}")
        return holder.storage_keys()

    def keystore_description(self) -> str:
        from securemsg.store.keystore.describe import describe_keystore

        return describe_keystore(self.config()["keystore"], self.dir)

    def database(self) -> sqlite3.Connection:
        if self._conn is None:
            from securemsg.store import db
            from securemsg.store.fs import ensure_private_dir

            ensure_private_dir(self.path)
            self._conn = db.connect(self.db_path)
            if db.needs_first_checkpoint(self._conn):
                from securemsg.store.mailbox import sign_first_checkpoint

                sign_first_checkpoint(self._conn, self.unlock(), self.card())
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
