"""KeyringStore with in-memory and refused backends; never the user's real key store."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest
from keystore_testlib import FAST, MemoryKeyring, install_keyring

from securemsg.errors import KeyStoreError
from securemsg.store.keystore import SERVICE
from securemsg.store.keystore.file import PassphraseFileStore
from securemsg.store.keystore.os_keyring import KeyringStore, detect_backend
from securemsg.store.keystore.selection import open_keystore, select_keystore

SECRET = bytes(range(256))
ACCOUNT = "5J3Q-8KX2-home-1f2e"
MEMORY = f"{MemoryKeyring.__module__}.MemoryKeyring"


class LowPriorityKeyring(MemoryKeyring):
    priority = 0.5


class PlaintextKeyring(MemoryKeyring):
    """Looks like keyrings.alt's file backend, and claims a high priority."""

    priority = 5


PlaintextKeyring.__module__ = "keyrings.alt.file"


class UnavailableKeyring(MemoryKeyring):
    @keyring.compat.properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("The Secret Service daemon is neither running nor activatable")


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


class BrokenKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise OSError("D-Bus went away")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.PasswordDeleteError("permission denied")


def test_round_trip_in_memory(memory_keyring: Any, tmp_path: Path) -> None:
    store = select_keystore(tmp_path / "keys", ACCOUNT, env={})
    assert isinstance(store, KeyringStore)
    assert store.kind == "keyring"
    assert store.describe() == f"OS key store: {MEMORY}"
    store.save(SECRET)
    stored = memory_keyring.entries[(SERVICE, ACCOUNT)]
    assert stored == base64.b64encode(SECRET).decode()
    assert store.load() == SECRET
    assert not (tmp_path / "keys").exists()  # nothing written to disk

    desc = json.loads(json.dumps(store.descriptor()))
    assert desc == {"kind": "keyring", "backend": MEMORY, "service": SERVICE, "account": ACCOUNT}
    assert open_keystore(desc, tmp_path).load() == SECRET

    store.delete()
    assert memory_keyring.entries == {}
    store.delete()  # idempotent
    with pytest.raises(KeyStoreError, match="no key for") as info:
        store.load()
    assert info.value.hint and info.value.exit_code == 4


def test_reopen_uses_the_recorded_backend_not_the_default(
    memory_keyring: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    store = select_keystore(tmp_path, ACCOUNT, env={})
    store.save(SECRET)
    other = LowPriorityKeyring()
    # the default is now something else, but the recorded backend is still installed
    install_keyring(monkeypatch, other, other, memory_keyring)
    assert open_keystore(store.descriptor(), tmp_path).load() == SECRET
    assert other.entries == {}


def test_backend_no_longer_available(
    memory_keyring: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    store = select_keystore(tmp_path, ACCOUNT, env={})
    store.save(SECRET)
    install_keyring(monkeypatch, keyring.backends.fail.Keyring())
    reopened = open_keystore(store.descriptor(), tmp_path)
    for action in (reopened.load, lambda: reopened.save(SECRET), reopened.delete):
        with pytest.raises(KeyStoreError, match="not available") as info:
            action()
        assert info.value.exit_code == 4
        assert info.value.hint and "log in" in info.value.hint
    # and it never silently fell back to the fail backend or to a file
    assert not (tmp_path / "keys").exists()


def test_recorded_backend_became_unviable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    gone = UnavailableKeyring()
    install_keyring(monkeypatch, gone)
    name = f"{UnavailableKeyring.__module__}.UnavailableKeyring"
    with pytest.raises(KeyStoreError, match="not available here"):
        KeyringStore(ACCOUNT, name).load()


@pytest.mark.parametrize(
    "backend",
    [
        keyring.backends.fail.Keyring(),
        keyring.backends.null.Keyring(),
        LowPriorityKeyring(),
        PlaintextKeyring(),
        UnavailableKeyring(),
    ],
    ids=lambda b: type(b).__name__ + "@" + type(b).__module__,
)
def test_refused_backends(backend: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    install_keyring(monkeypatch, backend)
    found, why = detect_backend()
    assert found is None and why
    auto = select_keystore(tmp_path / "keys", ACCOUNT, env={}, params=FAST)
    assert isinstance(auto, PassphraseFileStore)
    for kwargs in ({"prefer": "keyring", "env": {}}, {"env": {"SECUREMSG_KEYSTORE": "keyring"}}):
        with pytest.raises(KeyStoreError, match="no usable OS key store") as info:
            select_keystore(tmp_path / "keys", ACCOUNT, **kwargs)
        assert info.value.exit_code == 4
        assert info.value.hint and "SECUREMSG_KEYSTORE=file" in info.value.hint
    # a descriptor naming a refused backend is refused at use, too
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    with pytest.raises(KeyStoreError):
        KeyringStore(ACCOUNT, name).save(SECRET)


def test_chainer_without_backends_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    install_keyring(monkeypatch, keyring.backends.chainer.ChainerBackend(), LowPriorityKeyring())
    found, why = detect_backend()
    assert found is None and why
    assert select_keystore(tmp_path, ACCOUNT, env={}).kind == "file"


def test_chainer_records_its_best_real_member(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = MemoryKeyring()
    chainer = keyring.backends.chainer.ChainerBackend()
    install_keyring(monkeypatch, chainer, PlaintextKeyring(), real, LowPriorityKeyring())
    store = select_keystore(tmp_path, ACCOUNT, env={})
    # PlaintextKeyring has the highest priority but is refused; the chainer itself
    # is never recorded, only the member that will hold the key.
    assert store.descriptor()["backend"] == MEMORY
    store.save(SECRET)
    assert real.entries[(SERVICE, ACCOUNT)]


def test_env_forces_keyring_or_file(memory_keyring: Any, tmp_path: Path) -> None:
    forced = select_keystore(tmp_path, ACCOUNT, env={"SECUREMSG_KEYSTORE": "keyring"})
    assert forced.kind == "keyring"
    assert select_keystore(tmp_path, ACCOUNT, env={"SECUREMSG_KEYSTORE": "file"}).kind == "file"
    # an explicit choice wins over the environment
    assert (
        select_keystore(tmp_path, ACCOUNT, prefer="keyring", env={"SECUREMSG_KEYSTORE": "file"})
    ).kind == "keyring"


def test_locked_and_broken_backends_are_wrapped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    locked = LockedKeyring()
    install_keyring(monkeypatch, locked)
    store = KeyringStore(ACCOUNT, f"{LockedKeyring.__module__}.LockedKeyring")
    with pytest.raises(KeyStoreError, match="is locked") as info:
        store.load()
    assert isinstance(info.value.__cause__, keyring.errors.KeyringLocked)
    assert info.value.hint and info.value.exit_code == 4
    with pytest.raises(KeyStoreError, match="is locked"):
        store.save(SECRET)

    broken = BrokenKeyring()
    broken.entries[(SERVICE, ACCOUNT)] = "still here"
    install_keyring(monkeypatch, broken)
    store = KeyringStore(ACCOUNT, f"{BrokenKeyring.__module__}.BrokenKeyring")
    with pytest.raises(KeyStoreError, match="could not read the key: OSError") as info:
        store.load()
    assert isinstance(info.value.__cause__, OSError)
    with pytest.raises(KeyStoreError, match="could not delete"):
        store.delete()


def test_corrupt_entry(memory_keyring: Any) -> None:
    memory_keyring.entries[(SERVICE, ACCOUNT)] = "not base64 at all!"
    with pytest.raises(KeyStoreError, match="not a securemsg key"):
        KeyringStore(ACCOUNT, MEMORY).load()


def test_nothing_shows_the_secret(memory_keyring: Any, tmp_path: Path) -> None:
    store = select_keystore(tmp_path, ACCOUNT, env={})
    store.save(SECRET)
    texts = [repr(store), str(store), store.describe(), repr(store.descriptor())]
    for needle in (SECRET.hex(), repr(SECRET), base64.b64encode(SECRET).decode()):
        for text in texts:
            assert needle not in text


def test_invalid_account() -> None:
    for bad in ("", "tab\there", "x" * 513):
        with pytest.raises(ValueError):
            KeyringStore(bad, MEMORY)
