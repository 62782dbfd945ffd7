"""Which key store holds an identity: the choice for a new one
(:func:`select_keystore`) and the recorded one reopened (:func:`open_keystore`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from securemsg.core.keyfile import DEFAULT_PARAMS, KdfParams
from securemsg.errors import KeyStoreError, UsageError
from securemsg.i18n import _
from securemsg.store.keystore import (
    ENV_KEYSTORE,
    KEYFILE_NAME,
    KeyStore,
    PassphraseSource,
    invalid_entry,
)
from securemsg.store.keystore.file import PassphraseFileStore
from securemsg.store.keystore.os_keyring import (
    KeyringStore,
    backend_name,
    detect_backend,
    reopen_keyring_store,
)


def select_keystore(
    home_keys_dir: Path,
    account: str,
    prefer: str = "auto",
    env: Mapping[str, str] | None = None,
    *,
    passphrase_source: PassphraseSource | None = None,
    params: KdfParams = DEFAULT_PARAMS,
) -> KeyStore:
    """The key store for a new identity.

    ``prefer`` "auto" defers to ``SECUREMSG_KEYSTORE`` (file|keyring) if set, else
    picks the OS key store when a real backend exists, else a passphrase file in
    ``home_keys_dir``. An explicit ``prefer`` wins over the environment.
    """
    env_map = os.environ if env is None else env
    choice = prefer
    if choice == "auto":
        choice = env_map.get(ENV_KEYSTORE, "").strip().lower() or "auto"
    if choice not in ("auto", "keyring", "file"):
        # there is no command-line option: the value came from the environment
        raise UsageError(
            _("unknown key store {choice!r} in {ENV_KEYSTORE}").format(
                choice=choice, ENV_KEYSTORE=ENV_KEYSTORE
            ),
            hint=_(
                "set {ENV_KEYSTORE} to 'keyring' (the OS key store) or 'file' (a "
                "passphrase-protected key file), or unset it to choose automatically"
            ).format(ENV_KEYSTORE=ENV_KEYSTORE),
        )
    home_keys_dir = Path(home_keys_dir)
    file_store = PassphraseFileStore(
        home_keys_dir.parent,
        f"{home_keys_dir.name}/{KEYFILE_NAME}",
        passphrase_source=passphrase_source,
        env=env,
        params=params,
    )
    if choice == "file":
        return file_store
    backend, why = detect_backend()
    if backend is not None:
        return KeyringStore(account, backend_name(backend))
    if choice == "keyring":
        raise KeyStoreError(
            _("no usable OS key store: {why}").format(why=why),
            hint=_(
                "start or unlock your desktop key store, or set {ENV_KEYSTORE}=file to "
                "keep the key in a passphrase-protected file"
            ).format(ENV_KEYSTORE=ENV_KEYSTORE),
        )
    return file_store


def open_keystore(
    descriptor: Mapping[str, str],
    home: Path | str,
    env: Mapping[str, str] | None = None,
    passphrase_source: PassphraseSource | None = None,
) -> KeyStore:
    """Reopen the key store that :meth:`KeyStore.descriptor` described."""
    kind = descriptor.get("kind")
    if kind == "keyring":
        return reopen_keyring_store(descriptor)
    if kind == "file":
        path = descriptor.get("path")
        if not isinstance(path, str):
            raise invalid_entry()
        return PassphraseFileStore(Path(home), path, passphrase_source=passphrase_source, env=env)
    raise invalid_entry()
