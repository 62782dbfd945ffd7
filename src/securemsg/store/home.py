"""A user's home: config, own card, key store, database.

Layout (all private: folders 0700, files 0600)::

    HOME/config.json     public settings: fingerprint, key store descriptor
    HOME/card.txt        my own signed public card (text form)
    HOME/keys/           passphrase-protected key file, when no OS key store
    HOME/securemsg.db    SQLite; every row holding a person's data is sealed

``whoami`` reads the config, the card and the key file's header through the
folder's name as a string (:attr:`Home.dir`): pathlib costs ~3 ms at start-up
(docs/performance.md, target 4); so do the database and the mailbox opened by
the everyday commands (target 9). Everything else uses :attr:`Home.path`.
Long file: the home's files, its key store and its database have one owner.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from securemsg.core.card import Card
from securemsg.core.identity import SecretHistory, SecretIdentity
from securemsg.errors import ConflictError, FormatError, KeyStoreError, NotFoundError
from securemsg.i18n import _

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


SETTINGS = ("language", "time_zone")  # optional keys of config.json (docs/cli.md, "settings")


def read_settings(folder: str) -> dict[str, str]:
    """The home's display settings (config.json's ``language``, ``time_zone``): read
    at every start-up, before the home is opened; {} when there is no home or it
    cannot be read (the command itself reports that)."""
    try:
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as fh:
            data = json.loads(fh.read())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k in SETTINGS if isinstance(v := data.get(k), str) and v}


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

    __slots__ = ("_conn", "_history", "_path", "_secret", "_storage_keys", "dir", "env")

    def __init__(
        self,
        path: Path | str,
        env: Mapping[str, str] | None = None,
        _secret: KeyHolder | None = None,
        _conn: sqlite3.Connection | None = None,
        _history: SecretHistory | None = None,
    ) -> None:
        self.dir = path_str(path) if isinstance(path, str) else str(path)
        """The folder, as ``str(self.path)``."""
        self._path = None if isinstance(path, str) else path
        self.env: Mapping[str, str] = dict(os.environ) if env is None else env
        self._secret = _secret
        self._history: SecretHistory | None = _history
        if _history is not None:
            self._secret = _history.current
        self._conn = _conn
        self._storage_keys: StorageKeys | None = None

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
    def previous_cards_path(self) -> Path:
        """My cards of the keys I rotated away from, newest first (public)."""
        return self.path / "previous-cards.txt"

    @property
    def pending_card_path(self) -> Path:
        """The new card of a rotation under way (store/home.py, :meth:`rotate`)."""
        return self.path / "rotation-card.txt"

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
                _("no securemsg identity in {path}").format(path=self.path),
                hint=_("create one with: securemsg init --name NAME --role ROLE"),
            )

    # -- config and card (public) ------------------------------------------
    def config(self) -> dict[str, Any]:
        self.require()
        try:
            with open(self._file("config.json"), encoding="utf-8") as fh:
                data = json.loads(fh.read())
        except (OSError, ValueError) as exc:
            raise FormatError(
                _("cannot read {config_path}").format(config_path=self.config_path)
            ) from exc
        if not isinstance(data, dict) or data.get("schema") != CONFIG_SCHEMA:
            raise FormatError(
                _("{config_path}: unsupported configuration version").format(
                    config_path=self.config_path
                )
            )
        return data

    def save_settings(self, settings: Mapping[str, str | None]) -> dict[str, str]:
        """Set (a value) or remove (None) display settings in config.json; the
        settings as they now are."""
        from securemsg.store.fs import atomic_write

        config = self.config()
        for key, value in settings.items():
            if key not in SETTINGS:
                raise ValueError(key)
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        atomic_write(self.config_path, json.dumps(config, indent=2).encode())
        return {k: config[k] for k in SETTINGS if config.get(k)}

    def card(self) -> Card:
        self.require()
        with open(self._file("card.txt"), "rb") as fh:
            return Card.parse(fh.read())

    def create(
        self, secret: SecretIdentity, card: Card, keystore_descriptor: Mapping[str, str]
    ) -> None:
        """Write a new identity. The key store must already hold the secret."""
        if self.exists():
            raise ConflictError(_("{path} already holds an identity").format(path=self.path))
        from securemsg.store.fs import atomic_write, ensure_private_dir

        ensure_private_dir(self.path)
        atomic_write(self.card_path, card.to_text().encode())
        config = {
            "schema": CONFIG_SCHEMA,
            "fingerprint": card.fingerprint,
            "keystore": dict(keystore_descriptor),
            "test_identity": card.test_key,
        }
        self._secret, self._history = secret, SecretHistory((secret,))
        self._storage_keys = None
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
            self._check(
                holder.sign_public, _("the agent holds keys that do not match this home's card")
            )
            self._secret = holder
        return self._secret

    def unlock_local(self) -> SecretIdentity:
        """The current private keys from the key store (OS store, env, prompt), never
        the agent."""
        if isinstance(self._secret, SecretIdentity):
            return self._secret
        secret = self.unlock_history().current
        self._secret = secret
        return secret

    def unlock_history(self) -> SecretHistory:
        """Every key pair of mine from the key store, current first
        (core.identity.SecretHistory; docs/format-keys.md §4), never the agent."""
        if self._history is None:
            history = SecretHistory.from_bytes(self._keystore().load())
            if history.current.sign_public != self.card().sign_public:
                self._finish_rotation(history)
            if self._secret is not None and self._secret.sign_public != history.current.sign_public:
                raise KeyStoreError(_("the key store changed while this command ran"))
            self._history = history
        return self._history

    def _keystore(self) -> Any:
        from securemsg.store.keystore.selection import open_keystore

        return open_keystore(self.config()["keystore"], self.path, env=self.env)

    def _check(self, sign_public: bytes, message: str) -> None:
        if sign_public != self.card().sign_public:
            raise KeyStoreError(
                message,
                hint=_("check --home / SECUREMSG_HOME"),
            )

    def storage_keys(self) -> StorageKeys:
        """Derived from my first key pair: a rotation does not re-seal the database.
        Once per process (each table's owner asks; with the agent, each ask was a
        request): they never change, a rotation keeps the first key pair's."""
        if self._storage_keys is None:
            self._storage_keys = self._derive_storage_keys()
        return self._storage_keys

    def _derive_storage_keys(self) -> StorageKeys:
        from securemsg.core.storage import StorageKeys

        holder = self.unlock()
        if isinstance(holder, SecretIdentity):
            if self._history is None and not _exists(self._file("previous-cards.txt")):
                return StorageKeys.derive(holder)  # never rotated: the first key is this one
            return StorageKeys.derive(self.unlock_history().storage_root)
        from securemsg.store.agent.client import AgentIdentity

        if not isinstance(holder, AgentIdentity):  # pragma: no cover - the two kinds above
            raise TypeError(f"unknown key holder {type(holder).__name__}")
        return holder.storage_keys()

    def previous_cards(self) -> list[Card]:
        """My cards of the keys I rotated away from, newest first."""
        from securemsg.core.card import END

        try:
            with open(self._file("previous-cards.txt"), "rb") as fh:
                text = fh.read().decode("utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise FormatError(
                _("cannot read {previous_cards_path}").format(
                    previous_cards_path=self.previous_cards_path
                )
            ) from exc
        return [Card.parse(part + END) for part in text.split(END) if part.strip()]

    def rotate(self, history: SecretHistory, new_card: Card) -> None:
        """Make ``new_card`` (whose key is ``history.current``) my card; the old
        card joins the previous ones. Crash-safe: the new card is written aside,
        then the key store takes the new history, then the cards move; a home
        found between the two (unlock_history) finishes the move."""
        from securemsg.store.fs import atomic_write

        if new_card.sign_public != history.current.sign_public:
            raise ValueError(_("the new card is not the new key's"))
        atomic_write(self.pending_card_path, new_card.to_text().encode())
        self._keystore().save(history.to_bytes())
        self._move_cards(new_card)
        self._history, self._secret = history, history.current

    def _move_cards(self, new_card: Card) -> None:
        from securemsg.store.fs import atomic_write

        old = self.card()
        kept = [c for c in self.previous_cards() if c.fingerprint != old.fingerprint]
        text = "".join(c.to_text() for c in [old, *kept])
        atomic_write(self.previous_cards_path, text.encode())
        atomic_write(self.card_path, new_card.to_text().encode())
        os.unlink(self._file("rotation-card.txt"))

    def _finish_rotation(self, history: SecretHistory) -> None:
        """The key store holds a newer key than card.txt: a rotation that stopped
        after the key store was written; finish it, or refuse."""
        try:
            with open(self._file("rotation-card.txt"), "rb") as fh:
                pending = Card.parse(fh.read())
        except (FileNotFoundError, FormatError):
            pending = None
        old = self.card()
        if (
            pending is None
            or pending.sign_public != history.current.sign_public
            or not any(k.sign_public == old.sign_public for k in history.previous)
        ):
            raise KeyStoreError(
                _("the key store holds keys that do not match this home's card"),
                hint=_("check --home / SECUREMSG_HOME"),
            )
        self._move_cards(pending)

    def keystore_description(self) -> str:
        from securemsg.store.keystore.describe import describe_keystore

        return describe_keystore(self.config()["keystore"], self.dir)

    def database(self) -> sqlite3.Connection:
        if self._conn is None:
            from securemsg.store import db
            from securemsg.store.fs import ensure_private_dir

            ensure_private_dir(self.dir)  # str paths: the listings import no pathlib
            self._conn = db.connect(self._file("securemsg.db"))
            if db.needs_first_checkpoint(self._conn):
                from securemsg.store.mailbox import sign_first_checkpoint

                sign_first_checkpoint(self._conn, self.unlock(), self.card())
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
