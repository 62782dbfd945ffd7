"""Encryption at rest for the home's database rows (pure).

Keys are derived from the identity's private keys with HKDF-SHA-256, so the
database is readable only after the key store is unlocked. Rows are sealed
with XChaCha20-Poly1305; the associated data names the table and row, so a
row cannot be moved to another place and still open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import nacl.bindings as nb
import nacl.exceptions
import nacl.utils

from securemsg.core import labels
from securemsg.core.frozen import Frozen, _set
from securemsg.errors import VerificationError
from securemsg.i18n import _

if TYPE_CHECKING:
    from securemsg.core.identity import SecretIdentity

NONCE = nb.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES


class StorageKeys(Frozen):
    """The two storage keys (a frozen value, core.frozen: every command that
    reads the database builds this class at start-up; with the agent running,
    the keys come from it and neither hashlib nor the HKDF is imported)."""

    __slots__ = ("seal_key", "index_key")  # noqa: RUF023 (field order)
    seal_key: bytes
    index_key: bytes

    def __init__(self, seal_key: bytes, index_key: bytes) -> None:
        _set(self, "seal_key", seal_key)
        _set(self, "index_key", index_key)

    def __repr__(self) -> str:
        return "StorageKeys(<redacted>)"

    @classmethod
    def derive(cls, secret: SecretIdentity) -> StorageKeys:
        from securemsg.core.age.hazmat.hkdf import hkdf_sha256  # hashlib: only without agent

        ikm = secret.sign_seed + secret.enc_secret
        return cls(
            hkdf_sha256(ikm, b"", labels.STORAGE_KEY, 32),
            hkdf_sha256(ikm, b"", labels.BLIND_INDEX_KEY, 32),
        )

    def seal(
        self, place: bytes, plaintext: bytes, rng: Callable[[int], bytes] = nacl.utils.random
    ) -> bytes:
        nonce = rng(NONCE)
        return nonce + nb.crypto_aead_xchacha20poly1305_ietf_encrypt(
            plaintext, place, nonce, self.seal_key
        )

    def open(self, place: bytes, sealed: bytes) -> bytes:
        try:
            return bytes(
                nb.crypto_aead_xchacha20poly1305_ietf_decrypt(
                    sealed[NONCE:], place, sealed[:NONCE], self.seal_key
                )
            )
        except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
            raise VerificationError(
                _("a record of the local store does not decrypt: it was altered or moved"),
                hint=_("restore the home from a backup; do not trust its content"),
            ) from exc

    def blind_index(self, kind: bytes, value: bytes) -> str:
        """A keyed index: equal values match, the value itself is not stored."""
        import hashlib  # here: OpenSSL's loading costs 2 ms, and the listings need no index
        import hmac

        return hmac.new(self.index_key, kind + b"\x00" + value, hashlib.sha256).hexdigest()[:32]
