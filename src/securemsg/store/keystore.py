"""Where a user's private key material is kept.

Two backends behind one protocol, :class:`KeyStore`:

* :class:`KeyringStore`: the OS key store through the ``keyring`` package, only
  when a real backend exists (never keyring's fail/null backends, never a
  plaintext or low-priority one). The backend's class name is recorded so later
  loads use the same backend explicitly.
* :class:`PassphraseFileStore`: ``<home>/keys/identity.key``, encrypted under a
  passphrase (format: :mod:`securemsg.core.keyfile`, docs/format-keyfile.md).

Unlock order: the OS key store if the identity lives there; otherwise the
passphrase from ``SECUREMSG_PASSPHRASE``, else a no-echo prompt on the
controlling terminal. The secret is opaque ``bytes``; nothing here prints, logs,
or reprs it. ``keyring`` is imported lazily: it costs ~80 ms at start-up; so is
``pathlib`` (~3 ms): ``whoami`` describes the store with :func:`describe_keystore`,
on strings.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol

from securemsg.core import keyfile
from securemsg.core.keyfile import DEFAULT_PARAMS, KdfParams
from securemsg.errors import FormatError, KeyStoreError, UsageError

if TYPE_CHECKING:  # pathlib is imported when used (start-up time)
    from pathlib import Path

SERVICE: Final = "securemsg"
KEYFILE_NAME: Final = "identity.key"
ENV_PASSPHRASE: Final = "SECUREMSG_PASSPHRASE"  # noqa: S105 (a variable name)
ENV_KEYSTORE: Final = "SECUREMSG_KEYSTORE"

LOCKED_HINT: Final = f"set {ENV_PASSPHRASE} or run from a terminal"
_REFUSED_MODULES: Final = ("keyring.backends.fail", "keyring.backends.null")

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
        """A serializable description, for :func:`open_keystore`. No secret inside."""
        ...

    def save(self, secret: bytes) -> None: ...

    def load(self) -> bytes: ...

    def delete(self) -> None: ...


# --- passphrase sources ---------------------------------------------------------------


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
    import getpass

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


# --- passphrase file ------------------------------------------------------------------


def _check_relpath(relpath: str) -> str:
    """A path inside the home: relative, no '..', not empty. Returns its normal
    form, as ``PurePosixPath(relpath).as_posix()`` (empty and '.' parts dropped)."""
    parts = [part for part in relpath.split("/") if part not in ("", ".")]
    if not relpath or relpath.startswith("/") or ".." in parts:
        raise KeyStoreError(
            f"key file path {relpath!r} must be a relative path inside the home",
            hint="fix the key store entry in the home's configuration",
        )
    return "/".join(parts) or "."


def _describe_file(path: str | Path, params: KdfParams) -> str:
    """The description of a passphrase file: its path and Argon2id parameters
    (read from its header if it can be read, else ``params``)."""
    with contextlib.suppress(OSError, FormatError):
        with open(path, "rb") as fh:
            data = fh.read(keyfile.MAX_FILE_SIZE + 1)
        params = keyfile.KeyFile.parse(data).header.params
    return f"passphrase file: {path} ({params})"


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
        from pathlib import Path

        self._relpath = _check_relpath(relpath)
        self.path = Path(home) / self._relpath
        self._source = passphrase_source or EnvOrTerminal(env, label=str(self.path))
        self._params = params

    def __repr__(self) -> str:
        return f"PassphraseFileStore({str(self.path)!r}, {self._params})"

    def describe(self) -> str:
        return _describe_file(self.path, self._params)

    def descriptor(self) -> dict[str, str]:
        return {"kind": self.kind, "path": self._relpath}

    def save(self, secret: bytes) -> None:
        _check_secret(secret)
        passphrase = self._source(True)
        if not passphrase:
            raise KeyStoreError(
                "an empty passphrase is not allowed",
                hint="choose a passphrase; several random words are easy to type and strong",
            )
        data = keyfile.seal(secret, keyfile.passphrase_bytes(passphrase), self._params)
        from securemsg.store.fs import atomic_write, ensure_private_dir

        try:
            ensure_private_dir(self.path.parent)
            atomic_write(self.path, data)
        except OSError as exc:
            raise KeyStoreError(
                f"cannot write the key file {self.path}: {exc.strerror or exc}",
                hint="check that the home folder exists and is writable by you",
            ) from exc

    def load(self) -> bytes:
        data = self._read()
        keyfile.KeyFile.parse(data)  # a malformed file is reported before any prompt
        passphrase = self._source(False)
        return keyfile.open_keyfile(data, keyfile.passphrase_bytes(passphrase))

    def delete(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            raise KeyStoreError(
                f"cannot delete the key file {self.path}: {exc.strerror or exc}"
            ) from exc

    def _read(self) -> bytes:
        try:
            with self.path.open("rb") as fh:
                return fh.read(keyfile.MAX_FILE_SIZE + 1)
        except FileNotFoundError as exc:
            raise KeyStoreError(
                f"no key file at {self.path}",
                hint="create an identity first, or restore the key file from a backup",
            ) from exc
        except OSError as exc:
            raise KeyStoreError(
                f"cannot read the key file {self.path}: {exc.strerror or exc}",
                hint="check the file's owner and permissions (it should be 0600, yours)",
            ) from exc


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes) or not 0 < len(secret) <= keyfile.MAX_SECRET_SIZE:
        raise ValueError(f"the secret must be 1..{keyfile.MAX_SECRET_SIZE} bytes")


# --- OS key store (keyring) -----------------------------------------------------------


def _backend_name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__name__}"


def _refusal(backend: object) -> str | None:
    """Why ``backend`` may not hold keys, or None if it is a real OS key store."""
    name = _backend_name(backend)
    if name.startswith(_REFUSED_MODULES):
        return "it stores nothing"
    if name.startswith("keyrings.alt"):
        return "keyrings.alt backends keep secrets in ordinary files"
    cls: Any = type(backend)
    try:
        priority = float(cls.priority)
    except Exception as exc:  # keyring signals "not viable here" by raising
        return f"it is not available here ({type(exc).__name__}: {exc})"
    if priority < 1:
        return f"keyring does not recommend it (priority {priority:g})"
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
        return None, f"keyring could not start ({type(exc).__name__}: {exc})"
    candidates = _candidates(current)
    reasons = []
    for backend in candidates:
        why = _refusal(backend)
        if why is None:
            return backend, ""
        reasons.append(f"{_backend_name(backend)}: {why}")
    if not candidates:
        reasons.append(f"{_backend_name(current)} has no usable backend")
    return None, "; ".join(reasons)


def _resolve_backend(name: str) -> Any:
    """The live backend called ``name`` ("module.Class"), or KeyStoreError."""
    import keyring
    import keyring.backend

    pool: list[Any] = []
    with contextlib.suppress(Exception):
        current = keyring.get_keyring()
        pool = [current, *_candidates(current)]
    found = next((b for b in pool if _backend_name(b) == name), None)
    if found is None:
        with contextlib.suppress(Exception):
            all_backends = keyring.backend.get_all_keyring()
            found = next((b for b in all_backends if _backend_name(b) == name), None)
    why = "it is not installed or not running" if found is None else _refusal(found)
    if why is not None:
        raise KeyStoreError(
            f"the OS key store that holds this identity's keys ({name}) is not available: {why}",
            hint="log in to the desktop session that runs it (or install its keyring "
            "backend), then try again",
        )
    return found


class KeyringStore:
    """The secret, base64-encoded, in the OS key store under (service, account)."""

    kind: Final = "keyring"

    def __init__(self, account: str, backend: str, *, service: str = SERVICE) -> None:
        for label, value in (("account", account), ("backend", backend), ("service", service)):
            if not value or not value.isprintable() or len(value) > 512:
                raise ValueError(f"invalid keyring {label} {value!r}")
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
        _check_secret(secret)
        value = base64.b64encode(secret).decode("ascii")
        with self._errors("store the key"):
            _resolve_backend(self.backend).set_password(self.service, self.account, value)

    def load(self) -> bytes:
        with self._errors("read the key"):
            value = _resolve_backend(self.backend).get_password(self.service, self.account)
        if value is None:
            raise KeyStoreError(
                f"no key for {self.account} in the OS key store ({self.backend})",
                hint="the entry was deleted or this is another user's session; "
                "restore the identity from a backup",
            )
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KeyStoreError(
                f"the OS key store entry for {self.account} is not a securemsg key",
                hint="another program overwrote it; restore the identity from a backup",
            ) from exc

    def delete(self) -> None:
        from keyring.errors import PasswordDeleteError

        with self._errors("delete the key"):
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
                f"the OS key store ({self.backend}) is locked",
                hint="unlock it (log in to the desktop session, or unlock the login "
                "keyring) and try again",
            ) from exc
        except Exception as exc:
            raise KeyStoreError(
                f"the OS key store ({self.backend}) could not {action}: {type(exc).__name__}",
                hint="check that the key store is running and unlocked; run with -v for details",
            ) from exc


# --- selection ------------------------------------------------------------------------


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
    from pathlib import Path

    env_map = os.environ if env is None else env
    choice = prefer
    if choice == "auto":
        choice = env_map.get(ENV_KEYSTORE, "").strip().lower() or "auto"
    if choice not in ("auto", "keyring", "file"):
        raise UsageError(
            f"unknown key store {choice!r}",
            hint=f"use 'auto', 'keyring' or 'file' (option or {ENV_KEYSTORE})",
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
        return KeyringStore(account, _backend_name(backend))
    if choice == "keyring":
        raise KeyStoreError(
            f"no usable OS key store: {why}",
            hint=f"start or unlock your desktop key store, or set {ENV_KEYSTORE}=file "
            "to keep the key in a passphrase-protected file",
        )
    return file_store


def open_keystore(
    descriptor: Mapping[str, str],
    home: Path | str,
    env: Mapping[str, str] | None = None,
    passphrase_source: PassphraseSource | None = None,
) -> KeyStore:
    """Reopen the key store that :meth:`KeyStore.descriptor` described."""
    bad = KeyStoreError(
        "the key store entry in the home's configuration is invalid",
        hint="restore the configuration file from a backup",
    )
    kind = descriptor.get("kind")
    if kind == "keyring":
        try:
            return KeyringStore(
                descriptor["account"],
                descriptor["backend"],
                service=descriptor.get("service", SERVICE),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise bad from exc
    if kind == "file":
        from pathlib import Path

        path = descriptor.get("path")
        if not isinstance(path, str):
            raise bad
        return PassphraseFileStore(Path(home), path, passphrase_source=passphrase_source, env=env)
    raise bad


def describe_keystore(descriptor: Mapping[str, str], home: str) -> str:
    """``open_keystore(descriptor, Path(home)).describe()``, without pathlib.

    ``home`` must be in normal form, ``str(Path(home))`` (store.home.home_dir).
    Only reads the key file's public header; nothing is unlocked."""
    path = descriptor.get("path") if descriptor.get("kind") == "file" else None
    if not isinstance(path, str):  # the OS key store, or an invalid entry: as open_keystore
        return open_keystore(descriptor, home).describe()
    rel = _check_relpath(path)
    if rel == ".":
        shown = home
    elif home == ".":
        shown = rel
    else:
        shown = home + rel if home.endswith("/") else f"{home}/{rel}"
    return _describe_file(shown, DEFAULT_PARAMS)
