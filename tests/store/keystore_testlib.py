"""Helpers for the key store tests: fast KDF parameters, an in-memory keyring
backend, and the tamper helpers (flip every byte, truncate everywhere)."""

from __future__ import annotations

from collections.abc import Iterator
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


MASKS = (0x01, 0x80, 0xFF)


def flips(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """Every single-byte change of ``data``: (position, xor mask, mutated)."""
    for i in range(len(data)):
        for mask in MASKS:
            mutated = bytearray(data)
            mutated[i] ^= mask
            yield i, mask, bytes(mutated)


def truncations(data: bytes) -> Iterator[bytes]:
    """Every proper prefix of ``data``, including the empty one."""
    for n in range(len(data)):
        yield data[:n]
