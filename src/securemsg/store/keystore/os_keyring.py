"""The OS key store backend: the secret, base64-encoded, under (service, account)
in a real ``keyring`` backend.

Only a real OS key store may hold keys: never keyring's fail/null backends, never
keyrings.alt's plaintext files, never a backend keyring does not recommend
(priority below 1). The backend's name ("module.Class") is recorded in the home's
configuration, so later loads use the same backend explicitly.

``keyring`` is imported when a backend is used, never at import: it costs ~80 ms,
and this module is on ``whoami``'s import path (a keyring identity is described
from its descriptor alone; CONTRIBUTING.md, "Start-up time").
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, Final

from securemsg.errors import KeyStoreError
from securemsg.i18n import _
from securemsg.store.keystore import SERVICE, check_secret, invalid_entry

_REFUSED_MODULES: Final = ("keyring.backends.fail", "keyring.backends.null")


def backend_name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__name__}"


def _refusal(backend: object) -> str | None:
    """Why ``backend`` may not hold keys, or None if it is a real OS key store."""
    name = backend_name(backend)
    if name.startswith(_REFUSED_MODULES):
        return _("it stores nothing")
    if name.startswith("keyrings.alt"):
        return _("keyrings.alt backends keep secrets in ordinary files")
    cls: Any = type(backend)
    try:
        priority = float(cls.priority)
    except Exception as exc:  # keyring signals "not viable here" by raising
        return _("it is not available here ({name}: {exc})").format(
            name=type(exc).__name__, exc=exc
        )
    if priority < 1:
        return _("keyring does not recommend it (priority {priority:g})").format(priority=priority)
    return None


def _candidates(current: Any) -> list[Any]:
    """``current`` itself, or the members of a chainer, best first."""
    from keyring.backends.chainer import ChainerBackend

    if isinstance(current, ChainerBackend):
        return list(current.backends)
    return [current]


def detect_backend() -> tuple[Any | None, str]:
    """The keyring backend new keys would go to, or (None, why there is none)."""
    import keyring

    try:
        current = keyring.get_keyring()
    except Exception as exc:  # a bad PYTHON_KEYRING_BACKEND or keyringrc.cfg
        return None, _("keyring could not start ({name}: {exc})").format(
            name=type(exc).__name__, exc=exc
        )
    candidates = _candidates(current)
    reasons = []
    for backend in candidates:
        why = _refusal(backend)
        if why is None:
            return backend, ""
        reasons.append(f"{backend_name(backend)}: {why}")
    if not candidates:
        reasons.append(_("{name} has no usable backend").format(name=backend_name(current)))
    return None, "; ".join(reasons)


def _resolve_backend(name: str) -> Any:
    """The live backend called ``name`` ("module.Class"), or KeyStoreError."""
    import keyring
    import keyring.backend

    pool: list[Any] = []
    with contextlib.suppress(Exception):
        current = keyring.get_keyring()
        pool = [current, *_candidates(current)]
    found = next((b for b in pool if backend_name(b) == name), None)
    if found is None:
        with contextlib.suppress(Exception):
            all_backends = keyring.backend.get_all_keyring()
            found = next((b for b in all_backends if backend_name(b) == name), None)
    why = _("it is not installed or not running") if found is None else _refusal(found)
    if why is not None:
        raise KeyStoreError(
            _(
                "the OS key store that holds this identity's keys ({name}) is not available: {why}"
            ).format(name=name, why=why),
            hint=_(
                "log in to the desktop session that runs it (or install its keyring "
                "backend), then try again"
            ),
        )
    return found


class KeyringStore:
    """The secret, base64-encoded, in the OS key store under (service, account)."""

    kind: Final = "keyring"

    def __init__(self, account: str, backend: str, *, service: str = SERVICE) -> None:
        for label, value in (("account", account), ("backend", backend), ("service", service)):
            if not value or not value.isprintable() or len(value) > 512:
                raise ValueError(
                    _("invalid keyring {label} {value!r}").format(label=label, value=value)
                )
        self.account = account
        self.backend = backend
        self.service = service

    def __repr__(self) -> str:
        return f"KeyringStore(account={self.account!r}, backend={self.backend!r})"

    def describe(self) -> str:
        return f"OS key store: {self.backend}"

    def descriptor(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "backend": self.backend,
            "service": self.service,
            "account": self.account,
        }

    def save(self, secret: bytes) -> None:
        check_secret(secret)
        value = base64.b64encode(secret).decode("ascii")
        with self._errors(_("store the key")):
            _resolve_backend(self.backend).set_password(self.service, self.account, value)

    def holds_entry(self) -> bool:
        """True if the OS key store has an entry under this service and account
        (another home of the same identity on this computer uses it)."""
        with self._errors(_("read the key")):
            found = _resolve_backend(self.backend).get_password(self.service, self.account)
        return found is not None

    def load(self) -> bytes:
        with self._errors(_("read the key")):
            value = _resolve_backend(self.backend).get_password(self.service, self.account)
        if value is None:
            raise KeyStoreError(
                _("no key for {account} in the OS key store ({backend})").format(
                    account=self.account, backend=self.backend
                ),
                hint=_(
                    "the entry was deleted or this is another user's session; restore the "
                    "identity from a backup"
                ),
            )
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KeyStoreError(
                _("the OS key store entry for {account} is not a securemsg key").format(
                    account=self.account
                ),
                hint=_("another program overwrote it; restore the identity from a backup"),
            ) from exc

    def delete(self) -> None:
        from keyring.errors import PasswordDeleteError

        with self._errors(_("delete the key")):
            backend = _resolve_backend(self.backend)
            try:
                backend.delete_password(self.service, self.account)
            except PasswordDeleteError:
                if backend.get_password(self.service, self.account) is not None:
                    raise

    @contextlib.contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Wrap the backend's exceptions (any type: backends differ) in KeyStoreError."""
        from keyring.errors import KeyringLocked

        try:
            yield
        except KeyStoreError:
            raise
        except KeyringLocked as exc:
            raise KeyStoreError(
                _("the OS key store ({backend}) is locked").format(backend=self.backend),
                hint=_(
                    "unlock it (log in to the desktop session, or unlock the login keyring) "
                    "and try again"
                ),
            ) from exc
        except Exception as exc:
            raise KeyStoreError(
                _("the OS key store ({backend}) could not {action}: {name}").format(
                    backend=self.backend, action=action, name=type(exc).__name__
                ),
                hint=_("check that the key store is running and unlocked; run with -v for details"),
            ) from exc


def reopen_keyring_store(descriptor: Mapping[str, str]) -> KeyringStore:
    """The :class:`KeyringStore` that ``descriptor`` (kind "keyring") records, or the
    invalid-entry KeyStoreError. Touches no backend."""
    try:
        return KeyringStore(
            descriptor["account"],
            descriptor["backend"],
            service=descriptor.get("service", SERVICE),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise invalid_entry() from exc
