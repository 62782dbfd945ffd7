"""age as file objects: :class:`EncryptingWriter` (write plaintext, the age file
goes to ``out``) and :class:`DecryptingReader` (read the plaintext of an age
file). For producers and consumers that want a file, such as :mod:`tarfile` in
stream mode (``w|``, ``r|``): the backup (docs/format-backup.md). Memory is
bounded by a few 64 KiB chunks either way.

The reader releases plaintext only once its chunk authenticated; the end of the
payload (the last-chunk flag) is checked when ``read`` returns ``b""``: a
consumer that stops before that has not seen a truncation. Call
:meth:`DecryptingReader.drain` to read to the authenticated end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO

import nacl.utils

from securemsg.i18n import _

from .hazmat.file import (
    build_header,
    decrypt_payload,
    new_file_key,
    new_payload_nonce,
    read_header,
    unwrap_file_key,
)
from .hazmat.header import Header
from .hazmat.stream import ENC_CHUNK_SIZE, StreamEncryptor
from .keys import Identity, Recipient, ShareOpener

Rng = Callable[[int], bytes]


class EncryptingWriter:
    """Writes an age file to ``out``: the header now, the payload as it is written,
    the last chunk on :meth:`close` (without it the file does not decrypt)."""

    def __init__(
        self, recipients: Sequence[Recipient], out: BinaryIO, rng: Rng = nacl.utils.random
    ) -> None:
        file_key = new_file_key(rng)
        self._out = out
        self.header_bytes = build_header(file_key, recipients, rng)
        nonce = new_payload_nonce(rng)
        out.write(self.header_bytes)
        out.write(nonce)
        self._enc: StreamEncryptor | None = StreamEncryptor(file_key, nonce)
        self.written = 0

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        if self._enc is None:
            raise ValueError(_("write to a closed EncryptingWriter"))
        if sealed := self._enc.feed(data):
            self._out.write(sealed)
        self.written += len(data)
        return len(data)

    def close(self) -> None:
        """Seal the last chunk. ``out`` stays open (the caller owns it)."""
        if self._enc is not None:
            self._out.write(self._enc.finalize())
            self._enc = None


class DecryptingReader:
    """The plaintext of the age file in ``src``. The header is read and the file
    key found when constructed (raising the age errors of docs/format-age.md §7);
    payload errors are raised by ``read``."""

    def __init__(self, identities: Sequence[Identity | ShareOpener], src: BinaryIO) -> None:
        self.header: Header
        self.header, header_bytes = read_header(src)
        file_key = unwrap_file_key(self.header, header_bytes, identities)
        self._chunks: Iterator[bytearray] = decrypt_payload(file_key, src, ENC_CHUNK_SIZE)
        self._buf = bytearray()
        self._eof = False

    def _fill(self, n: int) -> None:
        while not self._eof and (n < 0 or len(self._buf) < n):
            chunk = next(self._chunks, None)
            if chunk is None:
                self._eof = True
            else:
                self._buf += chunk

    def read(self, size: int = -1, /) -> bytes:
        self._fill(size)
        if size < 0 or size >= len(self._buf):
            out = bytes(self._buf)
            self._buf.clear()
            return out
        out = bytes(self._buf[:size])
        del self._buf[:size]
        return out

    def drain(self) -> bool:
        """Read to the authenticated end (payload errors are raised here); True if
        every byte left was zero, False at the first that is not."""
        while data := self.read(1 << 16):
            if data.count(0) != len(data):
                return False
        return True
