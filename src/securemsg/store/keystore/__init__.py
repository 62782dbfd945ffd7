"""Where a user's private key material is kept.

Two backends behind one protocol, :class:`KeyStore`:

* :class:`~securemsg.store.keystore.os_keyring.KeyringStore`: the OS key store
  through the ``keyring`` package, only when a real backend exists (never
  keyring's fail/null backends, never a plaintext or low-priority one). The
  backend's class name is recorded so later loads use the same backend explicitly.
* :class:`~securemsg.store.keystore.file.PassphraseFileStore`:
  ``<home>/keys/identity.key``, encrypted under a passphrase (format:
  :mod:`securemsg.core.keyfile`, docs/format-keyfile.md).

Unlock order: the OS key store if the identity lives there; otherwise the
passphrase from ``SECUREMSG_PASSPHRASE``, else a no-echo prompt on the
controlling terminal. The secret is opaque ``bytes``; nothing here prints, logs,
or reprs it.

One module per concern; import from the module, this package re-exports nothing
(importing it must stay cheap: it is on ``whoami``'s import path):

* :mod:`.selection`: which store a new identity gets (:func:`select_keystore`),
  and reopening a recorded one (:func:`open_keystore`);
* :mod:`.prompt`: the passphrase source (environment, else the terminal);
* :mod:`.file`: the passphrase-file backend;
* :mod:`.os_keyring`: the OS key store backend (``keyring``, imported lazily);
* :mod:`.describe`: the store's description for ``whoami``, on strings.

This module, :mod:`.describe` and (for a keyring identity) :mod:`.os_keyring` are
on ``whoami``'s import path and follow its rules (CONTRIBUTING.md, "Start-up
time"); the others are ordinary Python.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Protocol

from securemsg.core import keyfile
from securemsg.errors import KeyStoreError
from securemsg.i18n import N_, _

SERVICE: Final = "securemsg"
KEYFILE_NAME: Final = "identity.key"
ENV_PASSPHRASE: Final = "SECUREMSG_PASSPHRASE"  # noqa: S105 (a variable name)
ENV_KEYSTORE: Final = "SECUREMSG_KEYSTORE"

# a text with a placeholder, translated and filled where it is used (store/keystore/prompt.py)
LOCKED_HINT: Final = N_("set {ENV_PASSPHRASE} or run from a terminal")

PassphraseSource = Callable[[bool], str]
"""Return the passphrase. The argument is True when a key file is being created
(a prompt should ask twice). Raise KeyStoreError if no passphrase can be had."""


class KeyStore(Protocol):
    """A place that holds one opaque secret."""

    @property
    def kind(self) -> str:
        """ "keyring" or "file"."""
        ...

    def describe(self) -> str:
        """Human text naming where the secret lives (never the secret)."""
        ...

    def descriptor(self) -> dict[str, str]:
        """A serializable description, for
        :func:`~securemsg.store.keystore.selection.open_keystore`. No secret inside."""
        ...

    def save(self, secret: bytes) -> None: ...

    def load(self) -> bytes: ...

    def delete(self) -> None: ...


def invalid_entry() -> KeyStoreError:
    """The error for a key store descriptor that names no valid store."""
    return KeyStoreError(
        _("the key store entry in the home's configuration is invalid"),
        hint=_("restore the configuration file from a backup"),
    )


def check_secret(secret: bytes) -> None:
    """A secret a backend may save: 1..MAX_SECRET_SIZE bytes."""
    if not isinstance(secret, bytes) or not 0 < len(secret) <= keyfile.MAX_SECRET_SIZE:
        raise ValueError(
            _("the secret must be 1..{MAX_SECRET_SIZE} bytes").format(
                MAX_SECRET_SIZE=keyfile.MAX_SECRET_SIZE
            )
        )
