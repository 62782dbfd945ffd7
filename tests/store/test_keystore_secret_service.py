"""Against a real Secret Service (gnome-keyring in a private D-Bus session).

Run: make secret-service (or see the Makefile target). Selected only with
``-m secret_service``; see conftest.py. With SECUREMSG_REQUIRE_SECRET_SERVICE=1 an
unavailable service is a failure, not a skip.
"""

from __future__ import annotations

import base64
import os
import uuid
from pathlib import Path

import pytest

from securemsg.errors import KeyStoreError
from securemsg.store.keystore import SERVICE
from securemsg.store.keystore.os_keyring import KeyringStore
from securemsg.store.keystore.selection import open_keystore, select_keystore

SECRET_SERVICE = "keyring.backends.SecretService.Keyring"


def _require_secret_service() -> None:
    import keyring.backends.SecretService

    try:
        keyring.backends.SecretService.Keyring.priority
    except Exception as exc:
        reason = f"no Secret Service on this D-Bus session: {exc}"
        if os.environ.get("SECUREMSG_REQUIRE_SECRET_SERVICE") == "1":
            pytest.fail(f"SECUREMSG_REQUIRE_SECRET_SERVICE=1 but {reason}")
        pytest.skip(reason)


@pytest.mark.secret_service
def test_real_secret_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _require_secret_service()
    import keyring
    import keyring.backends.SecretService
    import keyring.core

    monkeypatch.setattr(keyring.core, "_keyring_backend", None)  # restored afterwards
    keyring.core.init_backend()  # detect afresh, as a new process would
    active = keyring.get_keyring()
    members = getattr(active, "backends", [active])
    assert any(isinstance(b, keyring.backends.SecretService.Keyring) for b in members)

    account = f"securemsg-test-{uuid.uuid4()}"  # never collides with a real identity
    secret = os.urandom(96)
    store = select_keystore(tmp_path / "keys", account, env={})
    assert isinstance(store, KeyringStore)
    assert store.describe() == f"OS key store: {SECRET_SERVICE}"
    assert store.descriptor() == {
        "kind": "keyring",
        "backend": SECRET_SERVICE,
        "service": SERVICE,
        "account": account,
    }
    try:
        store.save(secret)
        # what the service holds is base64, under (securemsg, account)
        raw = keyring.backends.SecretService.Keyring().get_password(SERVICE, account)
        assert raw == base64.b64encode(secret).decode()
        reopened = open_keystore(store.descriptor(), tmp_path)
        assert reopened.load() == secret
    finally:
        store.delete()
    assert keyring.backends.SecretService.Keyring().get_password(SERVICE, account) is None
    with pytest.raises(KeyStoreError, match="no key for"):
        store.load()
    store.delete()  # idempotent against the real service too
    assert not (tmp_path / "keys").exists()


@pytest.mark.secret_service
def test_the_os_key_store_with_and_without_the_agent(tmp_path: Path) -> None:
    """Issue 14: a keyring identity never asks for anything, with or without the
    agent (the installed executable, no passphrase anywhere)."""
    _require_secret_service()
    import json
    import shutil
    import tempfile

    from clirun import run_cli

    runtime = Path(tempfile.mkdtemp(prefix="smss-"))
    env: dict[str, str | None] = {
        "SECUREMSG_KEYSTORE": "keyring",
        "SECUREMSG_PASSPHRASE": None,
        "SECUREMSG_HOME": None,
        "XDG_RUNTIME_DIR": str(runtime),
    }
    home = tmp_path / "home"
    res = run_cli(home, "init", "--name", "Dr Key Ring", "--role", "gp", env=env, executable=True)
    assert res.exit_code == 0, res.stderr
    descriptor = json.loads((home / "config.json").read_text())["keystore"]
    assert descriptor["kind"] == "keyring"
    try:
        assert run_cli(home, "contacts", "list", env=env, executable=True).exit_code == 0
        unlock = run_cli(home, "--json", "unlock", "--for", "1m", env=env, executable=True)
        assert unlock.exit_code == 0, unlock.stderr
        assert run_cli(home, "contacts", "list", env=env, executable=True).exit_code == 0
        assert run_cli(home, "lock", env=env, executable=True).exit_code == 0
        assert run_cli(home, "inbox", env=env, executable=True).exit_code == 0
    finally:
        open_keystore(descriptor, home).delete()
        shutil.rmtree(runtime, ignore_errors=True)
