"""age v1 (C2SP) with X25519 and scrypt (passphrase) recipients: the composed API.

::

    header_bytes = encrypt(recipients, plaintext, out)     # all at once
    header = decrypt(identities, src, out)                 # all at once, streaming

These two, the key types and the errors are all this package exports. The
building blocks (file key, header, stanzas, STREAM, HKDF, armor, bech32) live
in :mod:`securemsg.core.age.hazmat`, for callers that must act between the
steps (securemsg letters sign the header before the payload); import them from
there explicitly. The profile, limits and errors: docs/format-age.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

import nacl.utils

from securemsg.errors import (
    AgeError,
    ArmorError,
    HeaderError,
    HMACError,
    KeyFormatError,
    NoIdentityMatchError,
    PayloadError,
)

_KEY_TYPES = frozenset(
    {
        "Identity",
        "Recipient",
        "ScryptIdentity",
        "ScryptRecipient",
        "X25519Identity",
        "X25519Recipient",
    }
)

if TYPE_CHECKING:
    from .hazmat.header import Header, LineReader
    from .keys import (
        Identity,
        Recipient,
        ScryptIdentity,
        ScryptRecipient,
        X25519Identity,
        X25519Recipient,
    )


def __getattr__(name: str) -> Any:
    """The key types, imported when first asked for. This package's modules are
    imported on the way to :mod:`.hazmat.hkdf` too (the storage keys' HKDF, on
    every command's path), which needs none of age's classes (start-up time,
    docs/performance.md)."""
    if name in _KEY_TYPES:
        from . import keys

        return getattr(keys, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AgeError",
    "ArmorError",
    "HMACError",
    "HeaderError",
    "KeyFormatError",
    "NoIdentityMatchError",
    "PayloadError",
    "ScryptIdentity",
    "ScryptRecipient",
    "X25519Identity",
    "X25519Recipient",
    "decrypt",
    "encrypt",
]

Rng = Callable[[int], bytes]


def _pieces(src: bytes | bytearray | memoryview | BinaryIO) -> Iterator[bytes | memoryview]:
    """``src`` in pieces of one chunk (so each write is at most one sealed chunk)."""
    from .hazmat.stream import CHUNK_SIZE

    if isinstance(src, bytes | bytearray | memoryview):
        with memoryview(src) as view:
            for at in range(0, len(view), CHUNK_SIZE):
                yield view[at : at + CHUNK_SIZE]
        return
    while data := src.read(CHUNK_SIZE):
        yield data


def encrypt(
    recipients: Sequence[Recipient],
    plaintext: bytes | BinaryIO,
    out: BinaryIO,
    rng: Rng = nacl.utils.random,
    armor: bool = False,
) -> bytes:
    """Encrypt ``plaintext`` to ``recipients`` into ``out``; return the header bytes."""
    from .hazmat.armor import ArmorWriter
    from .hazmat.file import build_header, new_file_key, new_payload_nonce
    from .hazmat.stream import StreamEncryptor

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
    identities: Sequence[Identity],
    src: BinaryIO,
    out: BinaryIO,
    armored: bool | None = None,
) -> Header:
    """Decrypt ``src`` into ``out``, streaming; return the header.

    ``armored=None`` detects ASCII armor (first non-whitespace byte ``-``);
    ``True``/``False`` force it. On an error, ``out`` may already hold plaintext
    that authenticated: write to a temporary file and discard it on error.
    """
    from .hazmat.armor import ArmorReader, sniff
    from .hazmat.file import decrypt_payload, read_header, unwrap_file_key
    from .hazmat.stream import ENC_CHUNK_SIZE

    prefix = b""
    if armored is None:
        armored, prefix = sniff(src)
    reader: LineReader = ArmorReader(src, prefix) if armored else _Prefixed(prefix, src)
    header, header_bytes = read_header(reader)
    file_key = unwrap_file_key(header, header_bytes, identities)
    for chunk in decrypt_payload(file_key, reader, ENC_CHUNK_SIZE):  # one chunk per write
        out.write(chunk)
    return header
