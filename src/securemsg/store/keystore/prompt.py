"""The passphrase source: ``SECUREMSG_PASSPHRASE``, else a no-echo prompt on the
controlling terminal (never stdin with echo)."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Mapping

from securemsg.errors import KeyStoreError
from securemsg.store.keystore import ENV_PASSPHRASE, LOCKED_HINT


def read_terminal(prompt: str) -> str | None:
    """Read a line without echo from the controlling terminal; None if there is none.

    Never falls back to reading stdin with echo (getpass's GetPassWarning path).
    """
    if os.name == "posix":
        try:
            fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
        except OSError:
            return None
        os.close(fd)
    elif not sys.stdin.isatty():
        return None
    import getpass  # only to prompt (every command that unlocks imports this module)

    with warnings.catch_warnings():
        warnings.simplefilter("error", getpass.GetPassWarning)
        try:
            return getpass.getpass(prompt)
        except getpass.GetPassWarning:
            return None
        except EOFError as exc:
            raise KeyStoreError("no passphrase was entered", hint=LOCKED_HINT) from exc


class EnvOrTerminal:
    """The default passphrase source: ``SECUREMSG_PASSPHRASE``, else the terminal.

    An empty ``SECUREMSG_PASSPHRASE`` counts as unset.
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        ask: Callable[[str], str | None] = read_terminal,
        label: str = "the key file",
    ) -> None:
        self._env = env
        self._ask = ask
        self._label = label

    def __repr__(self) -> str:
        return f"EnvOrTerminal(label={self._label!r})"

    def __call__(self, confirm: bool) -> str:
        env = os.environ if self._env is None else self._env
        value = env.get(ENV_PASSPHRASE)
        if value:
            return value
        prompt = "New passphrase for" if confirm else "Passphrase for"
        first = self._ask(f"{prompt} {self._label}: ")
        if first is None:
            raise KeyStoreError("the key store is locked", hint=LOCKED_HINT)
        if confirm and first:
            again = self._ask("Repeat the passphrase: ")
            if again is None:
                raise KeyStoreError("the key store is locked", hint=LOCKED_HINT)
            if again != first:
                raise KeyStoreError(
                    "the two passphrases do not match",
                    hint="run the command again and type the same passphrase twice",
                )
        return first
