"""``passphrase change``: re-seal the key file under a new passphrase.

The old passphrase (``SECUREMSG_PASSPHRASE`` or the terminal) must open the key
file; the new one (``SECUREMSG_NEW_PASSPHRASE`` or the terminal, twice) must
reach the strength floor (core/passphrase.py). A running agent is left as it
is: it holds the keys, not the passphrase, and the keys do not change.
"""

from __future__ import annotations

from dataclasses import dataclass

from securemsg.errors import UsageError
from securemsg.i18n import _
from securemsg.store.home import Home
from securemsg.store.keystore.file import PassphraseFileStore
from securemsg.store.keystore.prompt import EnvOrTerminal
from securemsg.store.keystore.selection import open_keystore

ENV_NEW_PASSPHRASE = "SECUREMSG_NEW_PASSPHRASE"  # noqa: S105 (a variable name)


@dataclass(frozen=True, slots=True)
class PassphraseChanged:
    key_file: str
    params: str


def change(home: Home) -> PassphraseChanged:
    home.require()
    store = open_keystore(home.config()["keystore"], home.path, env=home.env)
    if not isinstance(store, PassphraseFileStore):
        raise UsageError(
            _("this identity's keys are in the OS key store: there is no passphrase to change"),
            hint=_("the OS key store is unlocked with your session's login password"),
        )
    store.change_passphrase(EnvOrTerminal(home.env, label=str(store.path), var=ENV_NEW_PASSPHRASE))
    return PassphraseChanged(str(store.path), store.describe())
