"""Helpers for the key store tests: fast KDF parameters and an in-memory keyring
backend. (Tampering: tests/tamper.py, as for every adversarial test.)"""

from __future__ import annotations

from typing import Any

import keyring
import keyring.backend
import keyring.errors
import pytest

from securemsg.core.keyfile import KdfParams

# The cheapest parameters libsodium accepts: keeps Argon2id out of test run time.
FAST = KdfParams(opslimit=1, memlimit=8192)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A real-enough backend for tests: priority 1, values kept in a dict."""

    priority: float = 1

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError("no such entry") from None


def install_keyring(monkeypatch: pytest.MonkeyPatch, backend: Any, *discoverable: Any) -> None:
    """Make ``backend`` keyring's active backend; ``discoverable`` is what
    get_all_keyring() returns (default: just ``backend``). The autouse
    ``hermetic_keyring`` fixture restores the original afterwards."""
    keyring.set_keyring(backend)
    found = list(discoverable) or [backend]
    monkeypatch.setattr(keyring.backend, "get_all_keyring", lambda: found)


# The byte flips the key file tests try at every offset (tamper.byte_flips): the
# lowest and highest bit, and every bit at once.
MASKS = (0x01, 0x80, 0xFF)
