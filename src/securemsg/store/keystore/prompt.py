"""The passphrase source: ``SECUREMSG_PASSPHRASE``, else a no-echo prompt on the
controlling terminal (never stdin with echo). A new passphrase is scored
(core/passphrase.py) and asked again on the terminal when weak or mistyped."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Mapping

from securemsg.errors import KeyStoreError, WeakPassphraseError
from securemsg.i18n import N_, _
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
            raise KeyStoreError(
                _("no passphrase was entered"),
                hint=_(LOCKED_HINT).format(ENV_PASSPHRASE=ENV_PASSPHRASE),
            ) from exc


TRIES = 3


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")


class EnvOrTerminal:
    """The default passphrase source: ``SECUREMSG_PASSPHRASE`` (or ``var``), else
    the terminal. An empty variable counts as unset.

    A new passphrase (``confirm``) must reach the strength floor
    (core/passphrase.py): from the variable, a weak one is refused
    (WeakPassphraseError); on the terminal, a weak one or a mistyped
    confirmation is said and asked again, up to 3 tries.
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        ask: Callable[[str], str | None] = read_terminal,
        label: str = N_("the key file"),
        *,
        var: str = ENV_PASSPHRASE,
        say: Callable[[str], None] = _say,
    ) -> None:
        self._env = env
        self._ask = ask
        self._label = label
        self._var = var
        self._say = say

    def __repr__(self) -> str:
        return f"EnvOrTerminal(label={self._label!r}, var={self._var!r})"

    def __call__(self, confirm: bool) -> str:
        env = os.environ if self._env is None else self._env
        value = env.get(self._var)
        if value:
            if confirm:
                self._check(value)
            return value
        if not confirm:
            return self._prompt(_("Passphrase for {label}: ").format(label=_(self._label)))
        for attempt in range(1, TRIES + 1):
            first = self._prompt(_("New passphrase for {label}: ").format(label=_(self._label)))
            if not first:
                return first  # refused by the store: "an empty passphrase is not allowed"
            try:
                self._check(first)
            except WeakPassphraseError as exc:
                if attempt == TRIES:
                    raise
                self._say(
                    _("securemsg: error: {message}").format(message=exc.message)
                    + "\n"
                    + _("  hint: {hint}").format(hint=exc.hint)
                )
                continue
            if self._prompt(_("Repeat the passphrase: ")) == first:
                return first
            if attempt == TRIES:
                raise KeyStoreError(
                    _("the two passphrases did not match (3 tries)"),
                    hint=_("run the command again and type the same passphrase twice"),
                )
            self._say(_("securemsg: the two passphrases do not match; again"))
        raise AssertionError("unreachable")  # pragma: no cover

    def _prompt(self, prompt: str) -> str:
        answer = self._ask(prompt)
        if answer is None:
            raise KeyStoreError(
                _("the key store is locked"),
                hint=_(LOCKED_HINT).format(ENV_PASSPHRASE=ENV_PASSPHRASE),
            )
        return answer

    def _check(self, passphrase: str) -> None:
        from securemsg.core.passphrase import weakness  # only for a new passphrase

        weak = weakness(passphrase)
        if weak is not None:
            raise WeakPassphraseError(weak.message, hint=weak.hint)
