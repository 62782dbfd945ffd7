"""The age payload: STREAM over ChaCha20-Poly1305 in 64 KiB chunks.

``payload_key = HKDF-SHA-256(ikm=file_key, salt=nonce16, info="payload")``; chunk
``i`` is sealed under the 12-byte nonce ``i (11 bytes, big-endian) || last``, where
``last`` is 0x01 on the final chunk only. Every chunk but the last holds exactly
64 KiB of plaintext; the last may be shorter, and is empty only when the whole
plaintext is.

One path per direction: :meth:`StreamEncryptor.feed` and
:meth:`StreamDecryptor.feed` take input of any size, then ``finalize``.

Buffer lifetimes (the same for both directions):

- ``data`` is only read during the call: nothing keeps a view of it afterwards
  (not the stream's state, not an exception), so the caller may reuse, resize or
  free it at once. The few bytes of an incomplete chunk are copied.
- Every call returns a **new** ``bytearray`` that belongs to the caller: the
  stream never reads or writes it again, so it may be kept, sliced, viewed or
  changed. It may be empty.
- No cffi pointer outlives a call (``core/sodium.py``), and a stored error is
  kept as its message only, never as an exception with its traceback.

Release rule (what the age vectors pin down): a chunk's plaintext is released as
soon as it authenticates. A full-size chunk is first tried as non-final, then as
final; bytes after an authenticated final chunk are an error *after* that chunk was
released. Nothing unauthenticated is ever released.
"""

from __future__ import annotations

from securemsg.core.sodium import aead_open_into, aead_seal_into
from securemsg.errors import PayloadError
from securemsg.i18n import N_, _

from .hkdf import hkdf_sha256

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
ENC_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
NONCE_SIZE = 16
_MAX_COUNTER = (1 << 88) - 1

Buffer = bytes | bytearray | memoryview

_TRAILING = N_("trailing data after the end of the encrypted payload")
_FORGED = N_("payload chunk failed to authenticate")


def payload_key(file_key: bytes, nonce: bytes) -> bytes:
    if len(nonce) != NONCE_SIZE:
        raise ValueError(_("the payload nonce is 16 bytes"))
    return hkdf_sha256(file_key, nonce, b"payload", 32)


def _chunk_nonce(counter: int, last: bool) -> bytes:
    if counter > _MAX_COUNTER:
        raise PayloadError(_("payload too long: chunk counter overflow"))
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class StreamEncryptor:
    """Incremental, constant-memory STREAM encryption (buffer rules: module doc).

    :meth:`feed` returns the sealed chunks that are complete *and* known not to be
    last (a full chunk is held back until at least one more byte comes);
    :meth:`finalize` seals what remains as the final chunk.
    """

    def __init__(self, file_key: bytes, nonce: bytes) -> None:
        self._key = payload_key(file_key, nonce)
        self._counter = 0
        self._buf = bytearray()  # plaintext not sealed yet: at most one chunk
        self._done = False

    def feed(self, data: Buffer) -> bytearray:
        if self._done:
            raise ValueError(_("StreamEncryptor already finalized"))
        with memoryview(data) as whole, whole.cast("B") as view:
            held = len(self._buf)
            total = held + len(view)
            count = (total - 1) // CHUNK_SIZE if total else 0
            sealed = bytearray(count * ENC_CHUNK_SIZE)
            pos = 0
            with memoryview(sealed) as out:
                for at in range(0, len(sealed), ENC_CHUNK_SIZE):
                    if at == 0 and held:
                        pos = CHUNK_SIZE - held
                        self._buf += view[:pos]
                        self._seal(out[:ENC_CHUNK_SIZE], self._buf)
                        self._buf.clear()
                    else:
                        self._seal(out[at : at + ENC_CHUNK_SIZE], view[pos : pos + CHUNK_SIZE])
                        pos += CHUNK_SIZE
            self._buf += view[pos:]
        return sealed

    def finalize(self) -> bytearray:
        if self._done:
            raise ValueError(_("StreamEncryptor already finalized"))
        self._done = True
        sealed = bytearray(len(self._buf) + TAG_SIZE)
        self._seal(sealed, self._buf, last=True)
        self._buf.clear()
        return sealed

    def _seal(self, out: bytearray | memoryview, chunk: Buffer, last: bool = False) -> None:
        aead_seal_into(out, chunk, _chunk_nonce(self._counter, last), self._key)
        self._counter += 1


class StreamDecryptor:
    """Incremental STREAM decryption; feed ciphertext in pieces of any size
    (buffer rules: module doc).

    :meth:`feed` and :meth:`finalize` return the plaintext of the chunks that
    authenticated. If an error is found after some chunks were released in the
    same call, those chunks are returned and the error is raised by the next call.
    After an error every call raises it again (a new :class:`PayloadError` with
    the same message).
    """

    def __init__(self, file_key: bytes, nonce: bytes) -> None:
        self._key = payload_key(file_key, nonce)
        self._counter = 0
        self._buf = bytearray()  # ciphertext of an incomplete chunk
        self._done = False  # the final chunk authenticated
        self._error: str | None = None

    def feed(self, data: Buffer) -> bytearray:
        self._check()
        error: str | None = None
        opened = 0
        with memoryview(data) as whole, whole.cast("B") as view:
            held = len(self._buf)
            count = (held + len(view)) // ENC_CHUNK_SIZE
            plain = bytearray(count * CHUNK_SIZE)
            pos = 0
            with memoryview(plain) as out:
                while error is None and opened < count:
                    at = opened * CHUNK_SIZE  # slices passed inline: no view outlives a step
                    if at == 0 and held:
                        pos = ENC_CHUNK_SIZE - held
                        self._buf += view[:pos]
                        error = self._open(out[:CHUNK_SIZE], self._buf)
                        self._buf.clear()
                    else:
                        error = self._open(
                            out[at : at + CHUNK_SIZE], view[pos : pos + ENC_CHUNK_SIZE]
                        )
                        pos += ENC_CHUNK_SIZE
                    if error is None:
                        opened += 1
            if error is None and self._done and pos < len(view):
                error = _TRAILING
            if error is None:
                self._buf += view[pos:]
        if error is not None:
            self._error = error
            if not opened:
                raise PayloadError(_(error))
            del plain[opened * CHUNK_SIZE :]
        return plain

    def finalize(self) -> bytearray:
        """Open the final short chunk; raise if the payload is incomplete."""
        self._check()
        if self._done:
            return bytearray()
        chunk = self._buf
        error = None
        if not chunk:
            error = N_("the payload is truncated: no final chunk")
        elif len(chunk) < TAG_SIZE:
            error = N_("the payload is truncated inside a chunk")
        elif len(chunk) == TAG_SIZE and self._counter > 0:
            error = N_("the final chunk is empty (only allowed for empty files)")
        else:
            plain = bytearray(len(chunk) - TAG_SIZE)
            if aead_open_into(plain, chunk, _chunk_nonce(self._counter, True), self._key):
                self._done = True
                self._counter += 1
                chunk.clear()
                return plain
            error = _FORGED
        chunk.clear()
        self._error = error
        raise PayloadError(_(error))

    def _check(self) -> None:
        if self._error is not None:
            raise PayloadError(_(self._error))

    def _open(self, out: memoryview, chunk: Buffer) -> str | None:
        """Open one full-size chunk (non-final, else final) into ``out``; the error
        message if it cannot be."""
        if self._done:
            return _TRAILING
        for last in (False, True):
            if aead_open_into(out, chunk, _chunk_nonce(self._counter, last), self._key):
                self._done = last
                self._counter += 1
                return None
        return _FORGED
