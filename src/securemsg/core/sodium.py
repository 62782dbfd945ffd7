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

The agent (store/agent/) keeps its keys in one ``bytearray`` that it locks in
RAM (``sodium_mlock``: never swapped, left out of core dumps where the OS has
``MADV_DONTDUMP``) and wipes on exit (``sodium_munlock`` zeroes it); the key
functions below use that buffer in place, so no copy of a private key is made
as a Python ``bytes``.
"""

from __future__ import annotations

from securemsg.i18n import _

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
    # the agent's key memory (store/agent/keys.py): locked, wiped, used in place
    "sodium_mlock",
    "sodium_munlock",
    "sodium_memzero",
    "crypto_sign_seed_keypair",
    "crypto_sign",
    "crypto_scalarmult",
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
        raise ValueError(_("ChaCha20-Poly1305 takes a 32-byte key and a 12-byte nonce"))


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
            raise ValueError(_("the output buffer must be 16 bytes longer than the plaintext"))
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
            raise ValueError(_("the output buffer must be 16 bytes shorter than the ciphertext"))
        rc = _lib.crypto_aead_chacha20poly1305_ietf_decrypt(
            dst, _ffi.NULL, _ffi.NULL, src, len(src), _ffi.NULL, 0, nonce, key
        )
    return bool(rc == 0)


# -- key memory (the agent) ----------------------------------------------------
SIGN_SECRET_SIZE = 64  # libsodium's Ed25519 secret key: seed || public key
SIGN_PUBLIC_SIZE = 32
SIGNATURE_SIZE = 64
SCALAR_SIZE = 32


def mlock(buf: bytearray) -> bool:
    """Lock ``buf`` in RAM. True if the OS allowed it (RLIMIT_MEMLOCK may refuse:
    the caller says so). libsodium also asks ``MADV_DONTDUMP`` here, which fails
    unseen for a buffer not aligned on a page (a ``bytearray``): core dumps are
    kept off by RLIMIT_CORE and PR_SET_DUMPABLE (docs/threat-model.md)."""
    with _ffi.from_buffer(buf, require_writable=True) as ptr:
        return bool(_lib.sodium_mlock(ptr, len(buf)) == 0)


def wipe(buf: bytearray, locked: bool) -> None:
    """Zero ``buf`` (and unlock it if ``locked``): ``sodium_munlock`` zeroes before
    unlocking, ``sodium_memzero`` cannot be optimised away."""
    if not buf:
        return
    with _ffi.from_buffer(buf, require_writable=True) as ptr:
        if locked:
            _lib.sodium_munlock(ptr, len(buf))
        _lib.sodium_memzero(ptr, len(buf))


def sign_keypair_into(secret_out: memoryview, public_out: memoryview, seed: Buffer) -> None:
    """Ed25519 from a 32-byte ``seed``: the 64-byte secret key into ``secret_out``
    and the public key into ``public_out`` (both views of the locked buffer)."""
    with (
        _ffi.from_buffer(secret_out, require_writable=True) as sk,
        _ffi.from_buffer(public_out, require_writable=True) as pk,
        _ffi.from_buffer(seed) as sd,
    ):
        if len(sk) != SIGN_SECRET_SIZE or len(pk) != SIGN_PUBLIC_SIZE or len(sd) != 32:
            raise ValueError(_("Ed25519: a 64-byte secret, a 32-byte public key, a 32-byte seed"))
        if _lib.crypto_sign_seed_keypair(pk, sk, sd) != 0:  # pragma: no cover
            raise RuntimeError("crypto_sign_seed_keypair failed")


def sign_detached_with(secret: memoryview, message: bytes) -> bytes:
    """The Ed25519 signature of ``message`` by the 64-byte ``secret`` key, read in place."""
    out = bytearray(len(message) + SIGNATURE_SIZE)
    smlen = _ffi.new("unsigned long long *")
    with (
        _ffi.from_buffer(secret) as sk,
        _ffi.from_buffer(out, require_writable=True) as sm,
    ):
        if len(sk) != SIGN_SECRET_SIZE:
            raise ValueError(_("Ed25519: the secret key is 64 bytes"))
        rc = _lib.crypto_sign(sm, smlen, message, len(message), sk)
    if rc != 0:  # pragma: no cover - cannot fail
        raise RuntimeError("crypto_sign failed")
    return bytes(out[:SIGNATURE_SIZE])


def scalarmult_with(scalar: memoryview, point: bytes) -> bytes:
    """X25519(``scalar``, ``point``), the scalar read in place. An all-zero result
    (a point of small order) is returned as zeros for the caller to refuse."""
    if len(point) != SCALAR_SIZE:
        raise ValueError(_("X25519: the point is 32 bytes"))
    out = bytearray(SCALAR_SIZE)
    with (
        _ffi.from_buffer(scalar) as n,
        _ffi.from_buffer(out, require_writable=True) as q,
    ):
        if len(n) != SCALAR_SIZE:
            raise ValueError(_("X25519: the scalar is 32 bytes"))
        rc = _lib.crypto_scalarmult(q, n, point)
    return bytes(SCALAR_SIZE) if rc != 0 else bytes(out)
