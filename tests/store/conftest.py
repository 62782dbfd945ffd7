"""Shared fixtures for tests/store: hermetic key stores.

No test here may touch the user's real OS key store. The autouse fixture
replaces keyring's active backend with the fail backend and empties the list of
discoverable backends; tests that want a working key store install an in-memory
one (``memory_keyring``). Tests marked ``secret_service`` are exempt and run only
when selected (``-m secret_service``, or SECUREMSG_REQUIRE_SECRET_SERVICE=1),
normally inside a private D-Bus session (``make secret-service``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

_ISOLATED_ENV = ("SECUREMSG_PASSPHRASE", "SECUREMSG_KEYSTORE", "PYTHON_KEYRING_BACKEND")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selected = "secret_service" in (config.getoption("markexpr", "") or "")
    required = os.environ.get("SECUREMSG_REQUIRE_SECRET_SERVICE") == "1"
    if selected or required:
        return
    skip = pytest.mark.skip(
        reason="uses the session's real Secret Service; run with -m secret_service "
        "(make secret-service runs it in a private D-Bus session)"
    )
    for item in items:
        if item.get_closest_marker("secret_service"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def hermetic_keyring(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in _ISOLATED_ENV:
        monkeypatch.delenv(var, raising=False)
    if request.node.get_closest_marker("secret_service"):
        return
    import keyring.backend
    import keyring.backends.fail
    import keyring.core

    # monkeypatch puts back the original (usually None: not detected yet) afterwards.
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.backends.fail.Keyring())
    monkeypatch.setattr(keyring.backend, "get_all_keyring", lambda: [])


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from keystore_testlib import MemoryKeyring, install_keyring

    backend = MemoryKeyring()
    install_keyring(monkeypatch, backend)
    yield backend
