"""Encryption and decryption are streaming: constant memory, chunk-at-a-time."""

from __future__ import annotations

import hashlib
import io
import itertools
import tracemalloc
from collections.abc import Iterator
from typing import Any

from reference import decrypt_stream, encrypt_stream
from securemsg.core import age
from securemsg.core.age.hazmat.file import build_header, new_file_key, read_header, unwrap_file_key
from securemsg.core.age.hazmat.stream import CHUNK_SIZE

TOTAL = 5 * 1024 * 1024 + 12345  # 5 MiB and a ragged tail


class GeneratorReader(io.RawIOBase):
    """A raw stream fed by a generator; counts how many bytes were pulled."""

    def __init__(self, gen: Iterator[bytes]) -> None:
        self._gen = gen
        self._buf = b""
        self.pulled = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        while not self._buf:
            try:
                self._buf = next(self._gen)
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        self.pulled += n
        return n


def plaintext_pieces(sha: Any) -> Iterator[bytes]:
    block = bytes(range(256)) * 39  # 9984 bytes: never aligned with the chunk size
    sent = 0
    for i in itertools.count():
        if sent >= TOTAL:
            return
        piece = (block[i % 256 :] + block[: i % 256])[: TOTAL - sent]
        sha.update(piece)
        sent += len(piece)
        yield piece


def test_decrypt_of_5_mib_is_streaming(alice: age.X25519Identity) -> None:
    sent = hashlib.sha256()
    key = new_file_key()
    header_bytes = build_header(key, [alice.recipient])
    ciphertext = itertools.chain([header_bytes], encrypt_stream(key, plaintext_pieces(sent)))
    raw = GeneratorReader(ciphertext)
    src = io.BufferedReader(raw)

    got = hashlib.sha256()
    sizes: list[int] = []
    pulled_at_first_chunk = None
    tracemalloc.start()
    try:
        header, hb = read_header(src)
        assert hb == header_bytes
        file_key = unwrap_file_key(header, hb, [alice])
        for chunk in decrypt_stream(file_key, src):
            if pulled_at_first_chunk is None:
                pulled_at_first_chunk = raw.pulled
            sizes.append(len(chunk))
            got.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert got.digest() == sent.digest()
    assert sum(sizes) == TOTAL
    assert max(sizes) <= CHUNK_SIZE
    # The first plaintext came out after reading about one chunk, not the whole file.
    assert pulled_at_first_chunk is not None and pulled_at_first_chunk < 4 * CHUNK_SIZE
    # Both ends together never held more than a handful of chunks.
    assert peak < 16 * CHUNK_SIZE, f"peak {peak} bytes"


def test_decrypt_to_sink_writes_chunk_by_chunk(alice: age.X25519Identity) -> None:
    sent = hashlib.sha256()
    key = new_file_key()
    stream = itertools.chain(
        [build_header(key, [alice.recipient])], encrypt_stream(key, plaintext_pieces(sent))
    )

    class Sink:
        def __init__(self) -> None:
            self.sha = hashlib.sha256()
            self.max_write = 0

        def write(self, data: bytes) -> int:
            self.sha.update(data)
            self.max_write = max(self.max_write, len(data))
            return len(data)

    sink = Sink()
    age.decrypt([alice], io.BufferedReader(GeneratorReader(stream)), sink)  # type: ignore[arg-type]
    assert sink.sha.digest() == sent.digest()
    assert 0 < sink.max_write <= CHUNK_SIZE


def test_encrypt_from_a_stream_is_incremental(alice: age.X25519Identity) -> None:
    sent = hashlib.sha256()
    src = io.BufferedReader(GeneratorReader(plaintext_pieces(sent)))

    class Sink:
        def __init__(self) -> None:
            self.parts: list[bytes] = []

        def write(self, data: bytes) -> int:
            self.parts.append(bytes(data))
            return len(data)

    sink = Sink()
    age.encrypt([alice.recipient], src, sink)  # type: ignore[arg-type]
    assert max(len(p) for p in sink.parts) <= CHUNK_SIZE + 16
    out = io.BytesIO()
    age.decrypt([alice], io.BytesIO(b"".join(sink.parts)), out)
    assert hashlib.sha256(out.getvalue()).digest() == sent.digest()
