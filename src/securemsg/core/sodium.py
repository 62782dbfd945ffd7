"""The one door to libsodium through PyNaCl's private cffi binding, ``nacl._sodium``.

PyNaCl's public wrappers (``nacl.bindings``) take ``bytes`` and return a new
``bytes`` per call. The age STREAM code (``core/age/hazmat/stream.py``) seals and
opens 64 KiB chunks straight between buffers it owns, which only the raw binding
allows (docs/performance.md, "Fewer copies"). ``nacl._sodium`` is private: PyNaCl
may move or rename it in any release. So every use of it is in this module, the
symbols used are listed in :data:`SYMBOLS` and checked at import, and
``tests/core/test_sodium.py`` fails with a clear message if one moves or goes.

Lifetime rule (issue 12, item 1: a SIGSEGV in ``receive``). ``ffi.from_buffer(obj)``
holds an export of ``obj``'s buffer. If that cffi object outlives the call (kept by
an object's state, a stored exception or a traceback's frame), the garbage
collector can clear the exported ``memoryview`` under it, and the interpreter
crashes when the cffi object lets go. So here every cffi pointer is made and
released inside one function call (``with ffi.from_buffer(...)``), before the
function returns or raises, and nothing cffi leaves this module: callers pass and
get ordinary Python buffers. Sizes are checked before each C call (libsodium
trusts them).
"""

from __future__ import annotations

try:
    from nacl._sodium import ffi as _ffi
    from nacl._sodium import lib as _lib
except ImportError as exc:  # pragma: no cover - only with a PyNaCl that moved it
    raise ImportError(
        "PyNaCl no longer provides nacl._sodium (ffi, lib), which securemsg.core.sodium "
        "uses for ChaCha20-Poly1305 on buffers: update that module for this PyNaCl"
    ) from exc

SYMBOLS = (
    "crypto_aead_chacha20poly1305_ietf_encrypt",
    "crypto_aead_chacha20poly1305_ietf_decrypt",
)
_missing = [name for name in SYMBOLS if not hasattr(_lib, name)]
if _missing:  # pragma: no cover - only with a PyNaCl that dropped them
    raise ImportError(
        f"PyNaCl's nacl._sodium.lib lacks {', '.join(_missing)}, which "
        "securemsg.core.sodium uses: update that module for this PyNaCl"
    )

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16

Buffer = bytes | bytearray | memoryview


def _check(key: bytes, nonce: bytes) -> None:
    if len(key) != KEY_SIZE or len(nonce) != NONCE_SIZE:
        raise ValueError("ChaCha20-Poly1305 takes a 32-byte key and a 12-byte nonce")


def aead_seal_into(
    out: bytearray | memoryview, plaintext: Buffer, nonce: bytes, key: bytes
) -> None:
    """ChaCha20-Poly1305 (IETF), no associated data: seal ``plaintext`` into ``out``,
    a writable buffer of exactly ``len(plaintext) + 16`` bytes."""
    _check(key, nonce)
    with (
        _ffi.from_buffer(out, require_writable=True) as dst,
        _ffi.from_buffer(plaintext) as src,
    ):
        if len(dst) != len(src) + TAG_SIZE:
            raise ValueError("the output buffer must be 16 bytes longer than the plaintext")
        rc = _lib.crypto_aead_chacha20poly1305_ietf_encrypt(
            dst, _ffi.NULL, src, len(src), _ffi.NULL, 0, _ffi.NULL, nonce, key
        )
    if rc != 0:  # libsodium cannot fail on these sizes
        raise RuntimeError("ChaCha20-Poly1305 encryption failed")


def aead_open_into(
    out: bytearray | memoryview, ciphertext: Buffer, nonce: bytes, key: bytes
) -> bool:
    """ChaCha20-Poly1305 (IETF), no associated data: open ``ciphertext`` into ``out``,
    a writable buffer of exactly ``len(ciphertext) - 16`` bytes. True if it
    authenticated; False if not, and then ``out`` holds no plaintext (libsodium
    checks the tag first and zeroes ``out`` on failure)."""
    _check(key, nonce)
    with (
        _ffi.from_buffer(out, require_writable=True) as dst,
        _ffi.from_buffer(ciphertext) as src,
    ):
        if len(src) < TAG_SIZE or len(dst) != len(src) - TAG_SIZE:
            raise ValueError("the output buffer must be 16 bytes shorter than the ciphertext")
        rc = _lib.crypto_aead_chacha20poly1305_ietf_decrypt(
            dst, _ffi.NULL, _ffi.NULL, src, len(src), _ffi.NULL, 0, nonce, key
        )
    return bool(rc == 0)
