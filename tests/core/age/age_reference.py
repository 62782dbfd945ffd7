"""A reference STREAM, for comparison only: one chunk at a time, through PyNaCl's
public API (``nacl.bindings``), with none of the buffer tricks of
``securemsg.core.age.hazmat.stream``. The property tests check that the real
stream gives the same bytes and the same release and error behaviour for any
split of the input.

(This is the ``update``/``iter_update`` code that used to ship in ``src/`` next
to ``feed``; it moved here when the stream kept one path per direction.)
"""

from __future__ import annotations

from collections.abc import Iterator

import nacl.exceptions
from nacl.bindings import crypto_aead_chacha20poly1305_ietf_decrypt as _open
from nacl.bindings import crypto_aead_chacha20poly1305_ietf_encrypt as _seal

from securemsg.core.age import PayloadError
from securemsg.core.age.stream import (
    CHUNK_SIZE,
    ENC_CHUNK_SIZE,
    TAG_SIZE,
    _chunk_nonce,
    payload_key,
)


class RefStreamEncryptor:
    def __init__(self, file_key: bytes, nonce: bytes) -> None:
        self._key = payload_key(file_key, nonce)
        self._counter = 0
        self._buf = bytearray()
        self._done = False

    def iter_update(self, data: bytes | bytearray | memoryview) -> Iterator[bytes]:
        """The sealed chunks that are complete and known not to be last."""
        if self._done:
            raise ValueError("already finalized")
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
            raise ValueError("already finalized")
        self._done = True
        out = self._seal(bytes(self._buf), last=True)
        self._buf.clear()
        return out

    def _seal(self, chunk: bytes, last: bool) -> bytes:
        out: bytes = _seal(chunk, None, _chunk_nonce(self._counter, last), self._key)
        self._counter += 1
        return out


class RefStreamDecryptor:
    """``update`` and ``finalize`` return the plaintext chunks that authenticated,
    one per chunk. If an error is found after some chunks were released in the
    same call, those chunks are returned and the error is raised by the next call;
    after an error every call raises it again."""

    def __init__(self, file_key: bytes, nonce: bytes) -> None:
        self._key = payload_key(file_key, nonce)
        self._counter = 0
        self._buf = bytearray()
        self._done = False
        self._error: str | None = None

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
            self._error = exc.message
            if not out:
                raise
        return out

    def finalize(self) -> list[bytes]:
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
            self._error = exc.message
            raise

    def _check(self) -> None:
        if self._error is not None:
            raise PayloadError(self._error)

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
