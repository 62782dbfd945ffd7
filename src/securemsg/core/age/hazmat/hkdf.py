"""HKDF-SHA-256 (RFC 5869), extract-then-expand, over the standard library."""

from __future__ import annotations

import hashlib
import hmac

from securemsg.i18n import _

_HASH_LEN = 32


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """Derive ``length`` bytes from ``ikm``; an empty ``salt`` means 32 zero bytes."""
    if not 0 < length <= 255 * _HASH_LEN:
        raise ValueError(_("invalid HKDF output length"))
    prk = hmac.digest(salt or bytes(_HASH_LEN), ikm, hashlib.sha256)
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.digest(prk, block + info + bytes([counter]), hashlib.sha256)
        out += block
        counter += 1
    return out[:length]
