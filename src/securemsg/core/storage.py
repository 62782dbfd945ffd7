"""Encryption at rest for the home's database rows (pure).

Keys are derived from the identity's private keys with HKDF-SHA-256, so the
database is readable only after the key store is unlocked. Rows are sealed
with XChaCha20-Poly1305; the associated data names the table and row, so a
row cannot be moved to another place and still open.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field

import nacl.bindings as nb
import nacl.exceptions
import nacl.utils

from securemsg.core import labels
from securemsg.core.age.hazmat.hkdf import hkdf_sha256
from securemsg.core.identity import SecretIdentity
from securemsg.errors import VerificationError
from securemsg.i18n import _

NONCE = nb.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES


@dataclass(frozen=True, slots=True)
class StorageKeys:
    seal_key: bytes = field(repr=False)
    index_key: bytes = field(repr=False)

    def __repr__(self) -> str:
        return "StorageKeys(<redacted>)"

    @classmethod
    def derive(cls, secret: SecretIdentity) -> StorageKeys:
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
        return hmac.new(self.index_key, kind + b"\x00" + value, hashlib.sha256).hexdigest()[:32]
