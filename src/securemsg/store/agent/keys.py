"""The agent's key memory: one buffer, locked in RAM, used in place, wiped.

Layout of the 224-byte buffer::

    [0:84)     the key-store blob (core.identity: magic, Ed25519 seed, X25519 secret)
    [84:148)   libsodium's Ed25519 secret key (seed || public key)
    [148:180)  the Ed25519 public key
    [180:212)  the storage seal key  (core.storage.StorageKeys)
    [212:244)  the storage index key

The blob and the storage keys are read from the unlocking command's pipe
straight into the buffer (os.readv): no Python ``bytes`` copy of them is made
in the agent. Signing and X25519 read the keys from the buffer through
core/sodium.py. ``wipe`` zeroes it (and unlocks it) on lock, timeout, signal or
error.
"""

from __future__ import annotations

import os
from typing import Final

from securemsg.core import sodium
from securemsg.core.identity import SECRET_MAGIC

BLOB: Final = slice(0, len(SECRET_MAGIC) + 64)
SEED: Final = slice(len(SECRET_MAGIC), len(SECRET_MAGIC) + 32)
SCALAR: Final = slice(len(SECRET_MAGIC) + 32, len(SECRET_MAGIC) + 64)
SIGN_SECRET: Final = slice(BLOB.stop, BLOB.stop + 64)
SIGN_PUBLIC: Final = slice(SIGN_SECRET.stop, SIGN_SECRET.stop + 32)
STORAGE: Final = slice(SIGN_PUBLIC.stop, SIGN_PUBLIC.stop + 64)
SIZE: Final = STORAGE.stop
INPUT_SIZE: Final = BLOB.stop + 64  # what the unlocking command writes: blob, storage keys
BASEPOINT: Final = bytes([9]) + bytes(31)


class KeyMemory:
    """The unlocked keys of one identity. ``repr`` shows nothing of them."""

    __slots__ = ("_buf", "enc_public", "locked")

    def __init__(self) -> None:
        self._buf = bytearray(SIZE)
        self.locked = sodium.mlock(self._buf)
        self.enc_public = b""

    def __repr__(self) -> str:
        return f"KeyMemory(locked={self.locked})"

    def read_from(self, fd: int) -> bool:
        """Fill the blob and storage keys from ``fd``; False if they are not all there
        or the blob is not a securemsg identity."""
        view = memoryview(self._buf)
        want = [view[BLOB], view[STORAGE]]
        got = 0
        while got < INPUT_SIZE:
            n = os.readv(fd, [v[max(0, got - off) :] for v, off in _tail(want, got)])
            if n == 0:
                return False
            got += n
        if os.read(fd, 1):  # more than an identity: not from our unlocking command
            return False
        if bytes(view[: len(SECRET_MAGIC)]) != SECRET_MAGIC:
            return False
        sodium.sign_keypair_into(view[SIGN_SECRET], view[SIGN_PUBLIC], view[SEED])
        self.enc_public = sodium.scalarmult_with(view[SCALAR], BASEPOINT)
        return True

    @property
    def sign_public(self) -> bytes:
        return bytes(self._buf[SIGN_PUBLIC])

    def sign(self, message: bytes) -> bytes:
        return sodium.sign_detached_with(memoryview(self._buf)[SIGN_SECRET], message)

    def x25519(self, point: bytes) -> bytes:
        return sodium.scalarmult_with(memoryview(self._buf)[SCALAR], point)

    def storage_keys(self) -> bytes:
        """The two storage keys, for a client (docs/threat-model.md, "The key agent")."""
        return bytes(self._buf[STORAGE])

    def wipe(self) -> None:
        sodium.wipe(self._buf, self.locked)
        self.locked = False


def _tail(views: list[memoryview], got: int) -> list[tuple[memoryview, int]]:
    """The views (with their offsets in the input) still to fill after ``got`` bytes."""
    out = []
    off = 0
    for v in views:
        if got < off + len(v):
            out.append((v, off))
        off += len(v)
    return out
