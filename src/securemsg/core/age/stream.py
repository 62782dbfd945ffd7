"""The age payload: STREAM over ChaCha20-Poly1305 in 64 KiB chunks.

``payload_key = HKDF-SHA-256(ikm=file_key, salt=nonce16, info="payload")``; chunk
``i`` is sealed under the 12-byte nonce ``i (11 bytes, big-endian) || last``, where
``last`` is 0x01 on the final chunk only. Every chunk but the last holds exactly
64 KiB of plaintext; the last may be shorter, and is empty only when the whole
plaintext is.

Release rule (what the age vectors pin down): a chunk's plaintext is released as
soon as it authenticates. A full-size chunk is first tried as non-final, then as
final; bytes after an authenticated final chunk are an error *after* that chunk was
released. Nothing unauthenticated is ever released.
"""

from __future__ import annotations

from collections.abc import Iterator

import nacl.exceptions
from nacl._sodium import ffi as _ffi
from nacl._sodium import lib as _lib
from nacl.bindings import (
    crypto_aead_chacha20poly1305_ietf_decrypt as _open,
)
from nacl.bindings import (
    crypto_aead_chacha20poly1305_ietf_encrypt as _seal,
)

from .errors import PayloadError
from .hkdf import hkdf_sha256

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
ENC_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
NONCE_SIZE = 16
_MAX_COUNTER = (1 << 88) - 1


def payload_key(file_key: bytes, nonce: bytes) -> bytes:
    if len(nonce) != NONCE_SIZE:
        raise ValueError("the payload nonce is 16 bytes")
    return hkdf_sha256(file_key, nonce, b"payload", 32)


def _chunk_nonce(counter: int, last: bool) -> bytes:
    if counter > _MAX_COUNTER:
        raise PayloadError("payload too long: chunk counter overflow")
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class StreamEncryptor:
    """Incremental, constant-memory STREAM encryption.

    ``update`` returns the ciphertext of every chunk that is complete *and* known
    not to be last; ``finalize`` seals what remains as the final chunk.
    """

    def __init__(self, file_key: bytes, nonce: bytes) -> None:
        self._key = payload_key(file_key, nonce)
        self._counter = 0
        self._buf = bytearray()
        self._done = False
        self._out = bytearray()

    def feed(self, data: bytes | bytearray | memoryview) -> memoryview:
        """Like :meth:`update`, without copies: the chunks are sealed straight from
        ``data`` into a buffer this encryptor reuses. The returned view is valid
        until the next call; the caller must not keep it."""
        if self._done:
            raise ValueError("StreamEncryptor already finalized")
        view = memoryview(data).cast("B")
        held = len(self._buf)
        # Seal every full chunk that has at least one byte after it (see iter_update).
        count = (held + len(view) - 1) // CHUNK_SIZE if held + len(view) else 0
        if not count:
            self._buf += view
            return memoryview(b"")
        need = count * ENC_CHUNK_SIZE
        if len(self._out) < need:
            self._out = bytearray(need)  # a new buffer: the old one may still be viewed
        out = _ffi.from_buffer(self._out, require_writable=True)
        at, pos = 0, 0
        if held:
            pos = CHUNK_SIZE - held
            self._buf += view[:pos]
            self._seal_into(out, _ffi.from_buffer(bytes(self._buf)))
            self._buf.clear()
            at = 1
        if at < count:
            src = _ffi.from_buffer(view)
            for k in range(at, count):
                self._seal_into(out + k * ENC_CHUNK_SIZE, src + pos)
                pos += CHUNK_SIZE
        self._buf += view[pos:]
        return memoryview(self._out)[:need]

    def _seal_into(self, out: object, src: object) -> None:
        nonce = _chunk_nonce(self._counter, False)
        rc = _lib.crypto_aead_chacha20poly1305_ietf_encrypt(
            out, _ffi.NULL, src, CHUNK_SIZE, _ffi.NULL, 0, _ffi.NULL, nonce, self._key
        )
        if rc != 0:  # libsodium's encrypt cannot fail on these sizes
            raise RuntimeError("ChaCha20-Poly1305 encryption failed")
        self._counter += 1

    def iter_update(self, data: bytes | bytearray | memoryview) -> Iterator[bytes]:
        """Like :meth:`update`, one sealed chunk at a time (no join of big inputs)."""
        if self._done:
            raise ValueError("StreamEncryptor already finalized")
        view = memoryview(data).cast("B")
        pos = 0
        if self._buf:
            take = min(CHUNK_SIZE - len(self._buf), len(view))
            self._buf += view[:take]
            pos = take
            if len(self._buf) < CHUNK_SIZE or pos == len(view):
                return  # buffer not full, or full but maybe the last chunk
            yield self._seal(bytes(self._buf), last=False)
            self._buf.clear()
        # Keep at least one byte back: a full chunk is non-final only if more follows.
        while len(view) - pos > CHUNK_SIZE:
            yield self._seal(bytes(view[pos : pos + CHUNK_SIZE]), last=False)
            pos += CHUNK_SIZE
        self._buf += view[pos:]

    def update(self, data: bytes | bytearray | memoryview) -> bytes:
        return b"".join(self.iter_update(data))

    def finalize(self) -> bytes:
        if self._done:
            raise ValueError("StreamEncryptor already finalized")
        self._done = True
        out = self._seal(bytes(self._buf), last=True)
        self._buf.clear()
        return out

    def _seal(self, chunk: bytes, last: bool) -> bytes:
        out: bytes = _seal(chunk, None, _chunk_nonce(self._counter, last), self._key)
        self._counter += 1
        return out


class StreamDecryptor:
    """Incremental STREAM decryption; feed ciphertext in pieces of any size.

    ``update`` and ``finalize`` return the plaintext chunks that authenticated. If an
    error is found after some chunks were released in the same call, those chunks
    are returned and the error is raised by the next call. After an error every
    call raises it again.
    """

    def __init__(self, file_key: bytes, nonce: bytes) -> None:
        self._key = payload_key(file_key, nonce)
        self._counter = 0
        self._buf = bytearray()
        self._done = False  # the final chunk authenticated
        self._error: PayloadError | None = None

    def update(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        self._check()
        view = memoryview(data).cast("B")
        out: list[bytes] = []
        if not view:
            return out
        try:
            pos = 0
            if self._buf:
                pos = min(ENC_CHUNK_SIZE - len(self._buf), len(view))
                self._buf += view[:pos]
                if len(self._buf) < ENC_CHUNK_SIZE:
                    return out
                out.append(self._open_full(bytes(self._buf)))
                self._buf.clear()
            while len(view) - pos >= ENC_CHUNK_SIZE:
                end = pos + ENC_CHUNK_SIZE
                out.append(self._open_full(bytes(view[pos:end])))
                pos = end
            if self._done and pos < len(view):
                raise PayloadError("trailing data after the end of the encrypted payload")
            self._buf += view[pos:]
        except PayloadError as exc:
            self._error = exc
            if not out:
                raise
        return out

    def feed(self, data: bytes | bytearray | memoryview) -> memoryview:
        """Like :meth:`update`, with fewer copies: the full chunks are opened straight
        from ``data`` into one new buffer, returned as a view (never reused, so it
        may be kept). Same release and error rules as :meth:`update`."""
        self._check()
        view = memoryview(data).cast("B")
        held = len(self._buf)
        count = (held + len(view)) // ENC_CHUNK_SIZE
        if not count:
            if self._done and view:
                self._error = PayloadError("trailing data after the end of the encrypted payload")
                raise self._error
            self._buf += view
            return memoryview(b"")
        plain = bytearray(count * CHUNK_SIZE)
        out = _ffi.from_buffer(plain, require_writable=True)
        done, pos = 0, 0
        try:
            if held:
                pos = ENC_CHUNK_SIZE - held
                self._buf += view[:pos]
                self._open_into(out, _ffi.from_buffer(bytes(self._buf)))
                self._buf.clear()
                done = 1
            if done < count:
                src = _ffi.from_buffer(view)
                while done < count:
                    self._open_into(out + done * CHUNK_SIZE, src + pos)
                    pos += ENC_CHUNK_SIZE
                    done += 1
            if self._done and pos < len(view):
                raise PayloadError("trailing data after the end of the encrypted payload")
            self._buf += view[pos:]
        except PayloadError as exc:
            self._error = exc
            if not done:
                raise
        return memoryview(plain)[: done * CHUNK_SIZE]

    def _open_into(self, out: object, src: object) -> None:
        """Open one full-size chunk (non-final, else final) into ``out``."""
        if self._done:
            raise PayloadError("trailing data after the end of the encrypted payload")
        for last in (False, True):
            rc = _lib.crypto_aead_chacha20poly1305_ietf_decrypt(
                out,
                _ffi.NULL,
                _ffi.NULL,
                src,
                ENC_CHUNK_SIZE,
                _ffi.NULL,
                0,
                _chunk_nonce(self._counter, last),
                self._key,
            )
            if rc == 0:
                self._done = last
                self._counter += 1
                return
        raise PayloadError("payload chunk failed to authenticate")

    def finalize(self) -> list[bytes]:
        """Process the final short chunk; raise if the payload is incomplete."""
        self._check()
        try:
            if self._done:
                return []
            chunk = bytes(self._buf)
            self._buf.clear()
            if not chunk:
                raise PayloadError("the payload is truncated: no final chunk")
            if len(chunk) < TAG_SIZE:
                raise PayloadError("the payload is truncated inside a chunk")
            if len(chunk) == TAG_SIZE and self._counter > 0:
                raise PayloadError("the final chunk is empty (only allowed for empty files)")
            plain = self._try_open(chunk, last=True)
            if plain is None:
                raise PayloadError("payload chunk failed to authenticate")
            self._done = True
            self._counter += 1
            return [plain]
        except PayloadError as exc:
            self._error = exc
            raise

    @property
    def done(self) -> bool:
        return self._done

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def _try_open(self, chunk: bytes, last: bool) -> bytes | None:
        try:
            plain: bytes = _open(chunk, None, _chunk_nonce(self._counter, last), self._key)
        except nacl.exceptions.CryptoError:
            return None
        return plain

    def _open_full(self, chunk: bytes) -> bytes:
        if self._done:
            raise PayloadError("trailing data after the end of the encrypted payload")
        plain = self._try_open(chunk, last=False)
        if plain is None:
            plain = self._try_open(chunk, last=True)
            if plain is None:
                raise PayloadError("payload chunk failed to authenticate")
            self._done = True
        self._counter += 1
        return plain
