"""The buffer-lifetime contract of the STREAM code (hazmat/stream.py, module doc):
the caller's input is not held after a call (not by the stream's state, not by an
exception), and every returned buffer belongs to the caller.

Issue 12, item 1: a cffi pointer to the input, kept alive in a stored exception,
crashed ``receive`` with SIGSEGV when the garbage collector ran. A bytearray
cannot be resized while anything holds an export of it, so "can be resized
afterwards" is a deterministic check that nothing does.
"""

from __future__ import annotations

import gc
import hashlib

import pytest

from securemsg.core import age
from securemsg.core.age.hazmat import stream

CHUNK, ENC = stream.CHUNK_SIZE, stream.ENC_CHUNK_SIZE
KEY, NONCE = bytes(range(16)), bytes(range(16, 32))


def _data(size: int) -> bytes:
    block = hashlib.sha256(b"buffers").digest()
    return (block * (size // 32 + 1))[:size]


def _ciphertext(size: int) -> bytes:
    enc = stream.StreamEncryptor(KEY, NONCE)
    return bytes(enc.feed(_data(size)) + enc.finalize())


def _not_held(buf: bytearray) -> None:
    """Raises BufferError if anything still holds a view or pointer into ``buf``."""
    buf.append(0)
    del buf[-1]


def test_encryptor_holds_no_view_of_its_input() -> None:
    enc = stream.StreamEncryptor(KEY, NONCE)
    for size in (10, 3 * CHUNK + 5, CHUNK, 0, 2 * CHUNK):
        data = bytearray(_data(size))
        enc.feed(data)
        _not_held(data)
    enc.finalize()


@pytest.mark.parametrize("corrupt", [None, 0, 3, 20], ids=["intact", "first", "fourth", "last"])
def test_decryptor_holds_no_view_of_its_input(corrupt: int | None) -> None:
    ct = bytearray(_ciphertext(20 * CHUNK + 100))
    if corrupt is not None:
        ct[corrupt * ENC + 7] ^= 1
    dec = stream.StreamDecryptor(KEY, NONCE)
    errors: list[age.PayloadError] = []  # kept alive, tracebacks and all
    for at in range(0, len(ct), 7 * ENC + 3):  # pieces that straddle chunks
        data = bytearray(ct[at : at + 7 * ENC + 3])
        try:
            dec.feed(data)
        except age.PayloadError as exc:
            errors.append(exc)
        _not_held(data)
    try:
        dec.finalize()
    except age.PayloadError as exc:
        errors.append(exc)
    assert bool(errors) == (corrupt is not None)
    gc.collect()


def test_partial_release_then_sticky_error_holds_nothing() -> None:
    ct = bytearray(_ciphertext(20 * CHUNK + 100))
    ct[3 * ENC + 7] ^= 1  # a non-final chunk, as in the crash of issue 12
    dec = stream.StreamDecryptor(KEY, NONCE)
    data = bytearray(ct[: 16 * ENC])
    released = dec.feed(data)
    assert released == _data(3 * CHUNK)  # what authenticated before the bad chunk
    _not_held(data)
    _not_held(released)
    with pytest.raises(age.PayloadError) as first:
        dec.feed(b"more")
    with pytest.raises(age.PayloadError) as again:
        dec.finalize()
    assert first.value is not again.value  # a new error each time, same message
    assert first.value.message == again.value.message == "payload chunk failed to authenticate"
    _not_held(data)


def test_returned_buffers_belong_to_the_caller() -> None:
    """Changing or resizing what a call returned changes nothing for the stream."""
    pt = _data(5 * CHUNK + 11)
    enc = stream.StreamEncryptor(KEY, NONCE)
    parts: list[bytes] = []
    for at in range(0, len(pt), 2 * CHUNK):
        sealed = enc.feed(pt[at : at + 2 * CHUNK])
        parts.append(bytes(sealed))
        sealed[:] = b"\xff" * (len(sealed) + 3)  # overwrite and resize: the caller's
    final = enc.finalize()
    parts.append(bytes(final))
    final.clear()
    ct = b"".join(parts)
    assert ct == _ciphertext(len(pt))
    dec = stream.StreamDecryptor(KEY, NONCE)
    kept = [dec.feed(ct[at : at + 3 * ENC]) for at in range(0, len(ct), 3 * ENC)]
    kept.append(dec.finalize())
    assert b"".join(kept) == pt  # earlier buffers were never reused
    for buf in kept:
        buf.clear()
