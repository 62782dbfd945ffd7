"""The passphrase-file backend: the secret encrypted under a passphrase in
``<home>/keys/identity.key`` (format: :mod:`securemsg.core.keyfile`,
docs/format-keyfile.md), 0600 in a 0700 folder."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from securemsg.core import keyfile
from securemsg.core.keyfile import DEFAULT_PARAMS, KdfParams
from securemsg.errors import KeyStoreError
from securemsg.i18n import _
from securemsg.store.fs import atomic_write, ensure_private_dir
from securemsg.store.keystore import KEYFILE_NAME, PassphraseSource, check_secret
from securemsg.store.keystore.describe import check_relpath, describe_file
from securemsg.store.keystore.prompt import EnvOrTerminal


class PassphraseFileStore:
    """The secret encrypted under a passphrase in ``<home>/<relpath>`` (0600, dir 0700)."""

    kind: Final = "file"

    def __init__(
        self,
        home: Path,
        relpath: str = f"keys/{KEYFILE_NAME}",
        *,
        passphrase_source: PassphraseSource | None = None,
        env: Mapping[str, str] | None = None,
        params: KdfParams = DEFAULT_PARAMS,
    ) -> None:
        self._relpath = check_relpath(relpath)
        self.path = Path(home) / self._relpath
        self._source = passphrase_source or EnvOrTerminal(env, label=str(self.path))
        self._params = params

    def __repr__(self) -> str:
        return f"PassphraseFileStore({str(self.path)!r}, {self._params})"

    def describe(self) -> str:
        return describe_file(self.path, self._params)

    def descriptor(self) -> dict[str, str]:
        return {"kind": self.kind, "path": self._relpath}

    def save(self, secret: bytes) -> None:
        check_secret(secret)
        passphrase = self._source(True)
        if not passphrase:
            raise KeyStoreError(
                _("an empty passphrase is not allowed"),
                hint=_("choose a passphrase; several random words are easy to type and strong"),
            )
        data = keyfile.seal(secret, keyfile.passphrase_bytes(passphrase), self._params)
        try:
            ensure_private_dir(self.path.parent)
            atomic_write(self.path, data)
        except OSError as exc:
            raise KeyStoreError(
                _("cannot write the key file {path}: {value}").format(
                    path=self.path, value=exc.strerror or exc
                ),
                hint=_("check that the home folder exists and is writable by you"),
            ) from exc

    def load(self) -> bytes:
        data = self._read()
        keyfile.KeyFile.parse(data)  # a malformed file is reported before any prompt
        passphrase = self._source(False)
        return keyfile.open_keyfile(data, keyfile.passphrase_bytes(passphrase))

    def change_passphrase(self, new_source: PassphraseSource) -> None:
        """Re-seal the key file under a new passphrase: the old one (this store's
        source) must open it first; the new file replaces the old atomically
        (a crash leaves one or the other, whole). Argon2id parameters: the
        current defaults."""
        secret = self.load()
        new = new_source(True)
        if not new:
            raise KeyStoreError(
                _("an empty passphrase is not allowed"),
                hint=_("choose a passphrase; several random words are easy to type and strong"),
            )
        data = keyfile.seal(secret, keyfile.passphrase_bytes(new), self._params)
        try:
            atomic_write(self.path, data)
        except OSError as exc:
            raise KeyStoreError(
                _("cannot write the key file {path}: {value}").format(
                    path=self.path, value=exc.strerror or exc
                ),
                hint=_("nothing was changed: the old passphrase still opens the key file"),
            ) from exc

    def delete(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            raise KeyStoreError(
                _("cannot delete the key file {path}: {value}").format(
                    path=self.path, value=exc.strerror or exc
                )
            ) from exc

    def _read(self) -> bytes:
        try:
            with self.path.open("rb") as fh:
                return fh.read(keyfile.MAX_FILE_SIZE + 1)
        except FileNotFoundError as exc:
            raise KeyStoreError(
                _("no key file at {path}").format(path=self.path),
                hint=_("create an identity first, or restore the key file from a backup"),
            ) from exc
        except OSError as exc:
            raise KeyStoreError(
                _("cannot read the key file {path}: {value}").format(
                    path=self.path, value=exc.strerror or exc
                ),
                hint=_("check the file's owner and permissions (it should be 0600, yours)"),
            ) from exc
