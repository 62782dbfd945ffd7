"""A user's home: config, own card, key store, database.

Layout (all private: folders 0700, files 0600)::

    HOME/config.json     public settings: fingerprint, key store descriptor
    HOME/card.txt        my own signed public card (text form)
    HOME/keys/           passphrase-protected key file, when no OS key store
    HOME/securemsg.db    SQLite; every row holding a person's data is sealed
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from securemsg.core.card import Card
from securemsg.core.identity import SecretIdentity
from securemsg.errors import ConflictError, FormatError, KeyStoreError, NotFoundError
from securemsg.store.fs import atomic_write, ensure_private_dir

if TYPE_CHECKING:  # sqlite3 and the storage keys are imported when used (start-up time)
    import sqlite3

    from securemsg.core.storage import StorageKeys

CONFIG_SCHEMA = 1


def resolve_home(option: str | None, env: Mapping[str, str]) -> Path:
    if option:
        return Path(option).expanduser()
    if env.get("SECUREMSG_HOME"):
        return Path(env["SECUREMSG_HOME"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("securemsg", appauthor=False))


class Home:
    """One home folder. ``env`` is the environment the key store reads
    (default: a copy of ``os.environ``); ``repr`` shows only the path."""

    __slots__ = ("_conn", "_secret", "env", "path")

    def __init__(
        self,
        path: Path,
        env: Mapping[str, str] | None = None,
        _secret: SecretIdentity | None = None,
        _conn: sqlite3.Connection | None = None,
    ) -> None:
        self.path = path
        self.env: Mapping[str, str] = dict(os.environ) if env is None else env
        self._secret = _secret
        self._conn = _conn

    def __repr__(self) -> str:
        return f"Home(path={self.path!r})"

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
        return self.config_path.exists()

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
            data = json.loads(self.config_path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise FormatError(f"cannot read {self.config_path}") from exc
        if not isinstance(data, dict) or data.get("schema") != CONFIG_SCHEMA:
            raise FormatError(f"{self.config_path}: unsupported configuration version")
        return data

    def card(self) -> Card:
        self.require()
        return Card.parse(self.card_path.read_bytes())

    def create(
        self, secret: SecretIdentity, card: Card, keystore_descriptor: Mapping[str, str]
    ) -> None:
        """Write a new identity. The key store must already hold the secret."""
        if self.exists():
            raise ConflictError(f"{self.path} already holds an identity")
        ensure_private_dir(self.path)
        atomic_write(self.card_path, card.to_text().encode())
        config = {
            "schema": CONFIG_SCHEMA,
            "fingerprint": card.fingerprint,
            "keystore": dict(keystore_descriptor),
            "test_identity": card.test_key,
        }
        self._secret = secret
        self.database()
        atomic_write(self.config_path, json.dumps(config, indent=2).encode())

    # -- secrets -------------------------------------------------------------
    def unlock(self) -> SecretIdentity:
        """Load the private keys once per process (OS store, env, prompt)."""
        if self._secret is None:
            from securemsg.store.keystore import open_keystore

            store = open_keystore(self.config()["keystore"], self.path, env=self.env)
            secret = SecretIdentity.from_bytes(store.load())
            if secret.sign_public != self.card().sign_public:
                raise KeyStoreError(
                    "the key store holds keys that do not match this home's card",
                    hint="check --home / SECUREMSG_HOME",
                )
            self._secret = secret
        return self._secret

    def storage_keys(self) -> StorageKeys:
        from securemsg.core.storage import StorageKeys

        return StorageKeys.derive(self.unlock())

    def keystore_description(self) -> str:
        from securemsg.store.keystore import open_keystore

        return open_keystore(self.config()["keystore"], self.path, env=self.env).describe()

    def database(self) -> sqlite3.Connection:
        if self._conn is None:
            from securemsg.store import db

            ensure_private_dir(self.path)
            self._conn = db.connect(self.db_path)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
