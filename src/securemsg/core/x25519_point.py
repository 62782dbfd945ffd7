"""The small-order test for X25519 public keys, shared by age and cards.

A module of its own (outside the ``age`` package) so that reading a card does
not import the whole age implementation: start-up time matters.
"""

from __future__ import annotations

from nacl.bindings import crypto_scalarmult

KEY_SIZE = 32
# Any valid (clamped) scalar: X25519(k, P) is all-zero exactly when P has small order.
_PROBE_SCALAR = bytes([0x40] + [0] * 30 + [0x40])


def is_low_order(point: bytes) -> bool:
    try:
        return crypto_scalarmult(_PROBE_SCALAR, point) == bytes(KEY_SIZE)
    except RuntimeError:  # libsodium refuses an all-zero result
        return True
