"""age v1 (C2SP) with X25519 recipients: the composed API.

Encryption::

    header_bytes = encrypt(recipients, plaintext, out)          # all at once
    # or, to bind a signature to the header before streaming the payload:
    file_key = new_file_key()
    header_bytes = build_header(file_key, recipients)
    out.write(header_bytes); out.writelines(encrypt_stream(file_key, chunks))

Decryption::

    header = decrypt(identities, src, out)                      # all at once
    # or, step by step:
    header, header_bytes = read_header(src)
    file_key = unwrap_file_key(header, header_bytes, identities)
    for chunk in decrypt_stream(file_key, src): ...

"Header bytes" are always the complete header as it is on the wire, from
``age-encryption.org/v1`` through the ``--- <mac>`` line and its newline:
``build_header`` returns them and ``read_header`` returns the same bytes back.
The profile, limits and errors are specified in docs/format-age.md.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import BinaryIO

import nacl.utils

from . import x25519
from .armor import ArmorReader, ArmorWriter, sniff
from .errors import (
    AgeError,
    ArmorError,
    HeaderError,
    HMACError,
    KeyFormatError,
    NoIdentityMatchError,
    PayloadError,
)
from .header import (
    Header,
    LineReader,
    Stanza,
    compute_mac,
    encode_without_mac,
    header_mac_input,
    parse,
)
from .keys import X25519Identity, X25519Recipient
from .stream import CHUNK_SIZE, ENC_CHUNK_SIZE, NONCE_SIZE, StreamDecryptor, StreamEncryptor

__all__ = [
    "CHUNK_SIZE",
    "FILE_KEY_SIZE",
    "NONCE_SIZE",
    "AgeError",
    "ArmorError",
    "HMACError",
    "Header",
    "HeaderError",
    "KeyFormatError",
    "NoIdentityMatchError",
    "PayloadError",
    "Stanza",
    "StreamDecryptor",
    "StreamEncryptor",
    "X25519Identity",
    "X25519Recipient",
    "build_header",
    "decrypt",
    "decrypt_payload",
    "decrypt_stream",
    "encrypt",
    "encrypt_stream",
    "header_mac_input",
    "new_file_key",
    "new_payload_nonce",
    "read_header",
    "unwrap_file_key",
]

Rng = Callable[[int], bytes]
FILE_KEY_SIZE = x25519.FILE_KEY_SIZE


def new_file_key(rng: Rng = nacl.utils.random) -> bytes:
    key = bytes(rng(FILE_KEY_SIZE))
    if len(key) != FILE_KEY_SIZE:
        raise ValueError("rng returned the wrong number of bytes")
    return key


def build_header(
    file_key: bytes, recipients: Sequence[X25519Recipient], rng: Rng = nacl.utils.random
) -> bytes:
    """The full header (through ``--- <mac>\\n``) wrapping ``file_key`` to each recipient."""
    if not recipients:
        raise ValueError("at least one recipient is required")
    stanzas = tuple(x25519.wrap(file_key, r, rng) for r in recipients)
    mac_input = encode_without_mac(stanzas)
    return Header(stanzas, compute_mac(file_key, mac_input)).encode()


def new_payload_nonce(rng: Rng = nacl.utils.random) -> bytes:
    nonce = bytes(rng(NONCE_SIZE))
    if len(nonce) != NONCE_SIZE:
        raise ValueError("rng returned the wrong number of bytes")
    return nonce


def encrypt_stream(
    file_key: bytes, src_chunks: Iterable[bytes], rng: Rng = nacl.utils.random
) -> Iterator[bytes | bytearray]:
    """The payload: the 16-byte nonce, then the sealed chunks as they are ready."""
    nonce = new_payload_nonce(rng)
    yield nonce
    enc = StreamEncryptor(file_key, nonce)
    for chunk in src_chunks:
        if sealed := enc.feed(chunk):
            yield sealed
    yield enc.finalize()


def _pieces(src: bytes | bytearray | memoryview | BinaryIO) -> Iterator[bytes | memoryview]:
    """``src`` in pieces of one chunk (so each write is at most one sealed chunk)."""
    if isinstance(src, bytes | bytearray | memoryview):
        with memoryview(src) as view:
            for at in range(0, len(view), CHUNK_SIZE):
                yield view[at : at + CHUNK_SIZE]
        return
    while data := src.read(CHUNK_SIZE):
        yield data


def encrypt(
    recipients: Sequence[X25519Recipient],
    plaintext: bytes | BinaryIO,
    out: BinaryIO,
    rng: Rng = nacl.utils.random,
    armor: bool = False,
) -> bytes:
    """Encrypt ``plaintext`` to ``recipients`` into ``out``; return the header bytes."""
    file_key = new_file_key(rng)
    header_bytes = build_header(file_key, recipients, rng)
    nonce = new_payload_nonce(rng)
    writer = ArmorWriter(out) if armor else None
    write = writer.write if writer is not None else out.write
    write(header_bytes)
    write(nonce)
    enc = StreamEncryptor(file_key, nonce)
    for piece in _pieces(plaintext):
        if sealed := enc.feed(piece):
            write(sealed)
    write(enc.finalize())
    if writer is not None:
        writer.close()
    return header_bytes


def read_header(src: LineReader) -> tuple[Header, bytes]:
    """Parse the header at the start of ``src``; return it and its exact bytes.

    ``src`` is left positioned at the payload nonce.
    """
    return parse(src)


def unwrap_file_key(
    header: Header, header_bytes: bytes, identities: Sequence[X25519Identity]
) -> bytes:
    """Find the file key with ``identities`` and check the header MAC."""
    if header.encode() != header_bytes:
        raise HeaderError("the header bytes do not match the parsed header")
    file_key = None
    for identity in identities:
        for stanza in header.stanzas:
            file_key = x25519.unwrap(stanza, identity)
            if file_key is not None:
                break
        if file_key is not None:
            break
    if file_key is None:
        raise NoIdentityMatchError("no identity matched any of the file's recipients")
    expected = compute_mac(file_key, header_mac_input(header_bytes))
    if not hmac.compare_digest(expected, header.mac):
        raise HMACError("the header MAC is wrong: the header was altered")
    return file_key


def _read_exact(src: LineReader, n: int) -> bytes:
    buf = b""
    while len(buf) < n and (data := src.read(n - len(buf))):
        buf += data
    return buf


BLOCK = 16 * ENC_CHUNK_SIZE


def decrypt_payload(file_key: bytes, src: LineReader, block: int = BLOCK) -> Iterator[bytearray]:
    """The plaintext of the payload in ``src``, as it authenticates: reads ``src`` in
    pieces of up to ``block`` bytes (with ``read1`` if it has one) and yields the
    plaintext of the whole chunks each completes (new buffers the caller owns; see
    stream.py). Raises :class:`PayloadError` when the payload turns out bad, after
    yielding what authenticated before; a missing nonce is a :class:`HeaderError`."""
    nonce = _read_exact(src, NONCE_SIZE)
    if len(nonce) != NONCE_SIZE:
        raise HeaderError("the file ends before the payload nonce")
    dec = StreamDecryptor(file_key, nonce)
    read = getattr(src, "read1", src.read)
    while data := read(block):
        if plain := dec.feed(data):
            yield plain
    if last := dec.finalize():
        yield last


def decrypt_stream(file_key: bytes, src: LineReader) -> Iterator[bytearray]:
    """Plaintext chunks (at most 64 KiB each) of the payload in ``src``."""
    return decrypt_payload(file_key, src, ENC_CHUNK_SIZE)


class _Prefixed:
    """``src`` with ``prefix`` (bytes already read from it) put back in front."""

    def __init__(self, prefix: bytes, src: LineReader) -> None:
        self._prefix = prefix
        self._src = src

    def _take(self, n: int) -> bytes:
        head, self._prefix = self._prefix[:n], self._prefix[n:]
        return head

    def read(self, size: int = -1, /) -> bytes:
        if not self._prefix:
            return self._src.read(size)
        if 0 <= size <= len(self._prefix):
            return self._take(size)
        head = self._take(len(self._prefix))
        return head + self._src.read(-1 if size < 0 else size - len(head))

    def readline(self, size: int = -1, /) -> bytes:
        if not self._prefix:
            return self._src.readline(size)
        idx = self._prefix.find(b"\n")
        if idx >= 0 and (size < 0 or idx < size):
            return self._take(idx + 1)
        if 0 <= size <= len(self._prefix):
            return self._take(size)
        head = self._take(len(self._prefix))
        return head + self._src.readline(-1 if size < 0 else size - len(head))


def decrypt(
    identities: Sequence[X25519Identity],
    src: BinaryIO,
    out: BinaryIO,
    armored: bool | None = None,
) -> Header:
    """Decrypt ``src`` into ``out``, streaming; return the header.

    ``armored=None`` detects ASCII armor (first non-whitespace byte ``-``);
    ``True``/``False`` force it. On an error, ``out`` may already hold plaintext
    that authenticated: write to a temporary file and discard it on error.
    """
    prefix = b""
    if armored is None:
        armored, prefix = sniff(src)
    reader: LineReader = ArmorReader(src, prefix) if armored else _Prefixed(prefix, src)
    header, header_bytes = read_header(reader)
    file_key = unwrap_file_key(header, header_bytes, identities)
    for chunk in decrypt_payload(file_key, reader, ENC_CHUNK_SIZE):
        out.write(chunk)
    return header
