"""The X25519 recipient stanza: wrap and unwrap a 16-byte file key.

::

    -> X25519 <base64 ephemeral share>
    <base64 ChaCha20-Poly1305(wrap_key, nonce=0, file_key)>

    wrap_key = HKDF-SHA-256(ikm=X25519(e, R), salt=share || R,
                            info="age-encryption.org/v1/X25519")
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

import nacl.exceptions
import nacl.utils
from nacl.bindings import (
    crypto_aead_chacha20poly1305_ietf_decrypt,
    crypto_aead_chacha20poly1305_ietf_encrypt,
    crypto_scalarmult,
    crypto_scalarmult_base,
)

from securemsg.errors import HeaderError
from securemsg.i18n import _

from ..keys import KEY_SIZE, ShareOpener, X25519Identity, X25519Recipient
from .header import Stanza, b64decode_raw, b64encode_raw
from .hkdf import hkdf_sha256

STANZA_TYPE = "X25519"
LABEL = b"age-encryption.org/v1/X25519"
FILE_KEY_SIZE = 16
_TAG_SIZE = 16
_ZERO_NONCE = bytes(12)
_ZERO = bytes(KEY_SIZE)


def _shared_secret(scalar: bytes, point: bytes) -> bytes:
    try:
        shared: bytes = crypto_scalarmult(scalar, point)
    except RuntimeError:  # libsodium refuses the all-zero output itself
        shared = _ZERO
    if hmac.compare_digest(shared, _ZERO):
        raise HeaderError(_("invalid X25519 stanza: the share is a point of small order"))
    return shared


def _wrap_key(shared: bytes, share: bytes, recipient: bytes) -> bytes:
    return hkdf_sha256(shared, share + recipient, LABEL, 32)


def wrap(
    file_key: bytes,
    recipient: X25519Recipient,
    rng: Callable[[int], bytes] = nacl.utils.random,
) -> Stanza:
    """Encrypt ``file_key`` to ``recipient`` under a fresh ephemeral key from ``rng``."""
    if len(file_key) != FILE_KEY_SIZE:
        raise ValueError(_("the file key is 16 bytes"))
    ephemeral = bytes(rng(KEY_SIZE))
    if len(ephemeral) != KEY_SIZE:
        raise ValueError(_("rng returned the wrong number of bytes"))
    share: bytes = crypto_scalarmult_base(ephemeral)
    shared = _shared_secret(ephemeral, recipient.public_key)
    key = _wrap_key(shared, share, recipient.public_key)
    body: bytes = crypto_aead_chacha20poly1305_ietf_encrypt(file_key, None, _ZERO_NONCE, key)
    return Stanza(STANZA_TYPE, (b64encode_raw(share),), body)


def unwrap(stanza: Stanza, identity: X25519Identity | ShareOpener) -> bytes | None:
    """The file key if ``stanza`` is addressed to ``identity``, ``None`` if it is not.

    Raises :class:`HeaderError` for an X25519 stanza that is malformed (argument
    count, share encoding or length, body length) or whose share has small order:
    those are never "not for me", they are broken files.
    """
    if stanza.type != STANZA_TYPE:
        return None
    if len(stanza.args) != 1:
        raise HeaderError(_("invalid X25519 stanza: expected exactly one argument"))
    try:
        share = b64decode_raw(stanza.args[0])
    except ValueError:
        raise HeaderError(_("invalid X25519 stanza: malformed share")) from None
    if len(share) != KEY_SIZE:
        raise HeaderError(_("invalid X25519 stanza: the share is not 32 bytes"))
    if len(stanza.body) != FILE_KEY_SIZE + _TAG_SIZE:
        raise HeaderError(_("invalid X25519 stanza: the wrapped file key has the wrong size"))
    if isinstance(identity, X25519Identity):
        shared = _shared_secret(identity.secret_key, share)
        return open_with_shared(shared, share, identity.recipient.public_key, stanza.body)
    return identity.open_share(share, stanza.body)


def check_shared(shared: bytes) -> bytes:
    """``shared`` (an X25519 output), or HeaderError if it is all zero (a share of
    small order): for a holder that computed the X25519 itself (the agent)."""
    if hmac.compare_digest(shared, _ZERO):
        raise HeaderError(_("invalid X25519 stanza: the share is a point of small order"))
    return shared


def open_with_shared(shared: bytes, share: bytes, public: bytes, body: bytes) -> bytes | None:
    """The file key wrapped in ``body``, from the X25519 ``shared`` secret of the
    stanza's ``share`` and the recipient's ``public`` key; None if it does not open."""
    if len(share) != KEY_SIZE or len(body) != FILE_KEY_SIZE + _TAG_SIZE:
        raise HeaderError(_("invalid X25519 stanza: wrong share or body size"))
    key = _wrap_key(check_shared(shared), share, public)
    try:
        file_key: bytes = crypto_aead_chacha20poly1305_ietf_decrypt(body, None, _ZERO_NONCE, key)
    except nacl.exceptions.CryptoError:
        return None
    return file_key
