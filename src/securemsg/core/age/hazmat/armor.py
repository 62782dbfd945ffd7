"""Strict ASCII armor for age files (PEM-like, canonical base64, 64 columns).

::

    -----BEGIN AGE ENCRYPTED FILE-----
    <base64, exactly 64 columns per line, padded, last line 1..64 columns>
    -----END AGE ENCRYPTED FILE-----

Accepted leniencies, all from the age spec and vectors: LF or CRLF line endings,
up to 1 KiB of whitespace before BEGIN and after END, and no newline after END.
Everything else is an :class:`ArmorError`: headers, empty lines, short or long
lines before the last, stray whitespace, missing padding, non-canonical base64,
checksums, other labels. Decoding is streaming and linear; no line is buffered
beyond 66 bytes (1 KiB in the leading whitespace).
"""

from __future__ import annotations

import binascii
from typing import Protocol

from securemsg.errors import ArmorError
from securemsg.i18n import _

BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
END = b"-----END AGE ENCRYPTED FILE-----"
COLUMNS = 64
BYTES_PER_LINE = COLUMNS // 4 * 3
MAX_WHITESPACE = 1024
_WHITESPACE = b" \t\r\n"
_READ_SIZE = 64 * 1024
_FAST_LINES = 1024


class Reader(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Writer(Protocol):
    def write(self, data: bytes, /) -> object: ...


def _lines(b64: bytes) -> bytes:
    return b"".join(b64[i : i + COLUMNS] + b"\n" for i in range(0, len(b64), COLUMNS))


class ArmorWriter:
    """Streams armored output into ``out``; call :meth:`close` to write the END line."""

    def __init__(self, out: Writer) -> None:
        self._out = out
        self._buf = bytearray()
        self._closed = False
        out.write(BEGIN + b"\n")

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._closed:
            raise ValueError(_("ArmorWriter is closed"))
        self._buf += data
        full = len(self._buf) // BYTES_PER_LINE * BYTES_PER_LINE
        if full >= _READ_SIZE:
            self._out.write(_lines(binascii.b2a_base64(self._buf[:full], newline=False)))
            del self._buf[:full]
        return len(data)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._out.write(_lines(binascii.b2a_base64(self._buf, newline=False)) + END + b"\n")
        self._buf.clear()


def _decode_line(line: bytes) -> bytes:
    if not line or len(line) % 4:
        raise ArmorError(_("invalid armor: a base64 line has the wrong length"))
    try:
        data = binascii.a2b_base64(line, strict_mode=True)
    except binascii.Error:
        raise ArmorError(_("invalid armor: malformed base64")) from None
    if binascii.b2a_base64(data, newline=False) != line:
        raise ArmorError(_("invalid armor: non-canonical base64"))
    return data


class ArmorReader:
    """A read-only binary stream of the bytes inside the armor of ``src``.

    ``prefix`` are bytes already read from ``src`` (e.g. while sniffing the format).
    Raises :class:`ArmorError` from ``read``/``readline`` as soon as the armor is
    found invalid; data before that point is returned normally.
    """

    def __init__(self, src: Reader, prefix: bytes = b"") -> None:
        self._src = src
        self._raw = bytearray(prefix)
        self._src_eof = False
        self._out = bytearray()
        self._started = False
        self._expect_end = False
        self._finished = False
        self._slow_lines = 0  # lines to decode one by one before retrying the fast path

    # -- raw lines ----------------------------------------------------------
    def _fill_raw(self) -> bool:
        if self._src_eof:
            return False
        data = self._src.read(_READ_SIZE)
        if not data:
            self._src_eof = True
            return False
        self._raw += data
        return True

    def _raw_line(self, limit: int) -> tuple[bytes, bool]:
        """Next line without its LF or CRLF, and whether it had a line ending."""
        while True:
            idx = self._raw.find(b"\n", 0, limit + 1)
            if idx >= 0:
                line = bytes(self._raw[:idx])
                del self._raw[: idx + 1]
                return (line[:-1] if line.endswith(b"\r") else line), True
            if len(self._raw) > limit:
                raise ArmorError(_("invalid armor: line too long"))
            if not self._fill_raw():
                line = bytes(self._raw)
                self._raw.clear()
                return line, False

    # -- state machine ------------------------------------------------------
    def _start(self) -> None:
        skipped = 0
        while True:
            line, eol = self._raw_line(MAX_WHITESPACE)
            skipped += len(line) + 1
            line = line.lstrip(_WHITESPACE)  # whitespace before the block is allowed
            skipped -= len(line)
            if skipped > MAX_WHITESPACE:
                raise ArmorError(_("invalid armor: too much whitespace before the BEGIN line"))
            if line:
                break
            if not eol:
                raise ArmorError(_("invalid armor: no BEGIN line"))
        if line != BEGIN or not eol:
            raise ArmorError(
                _("invalid armor: the first line must be {line}").format(line=BEGIN.decode())
            )
        self._started = True

    def _finish(self) -> None:
        self._finished = True
        while len(self._raw) <= MAX_WHITESPACE and self._fill_raw():
            pass
        if self._raw.strip(_WHITESPACE):
            raise ArmorError(_("invalid armor: data after the END line"))
        if len(self._raw) > MAX_WHITESPACE:
            raise ArmorError(_("invalid armor: too much whitespace after the END line"))
        self._raw.clear()

    def _step(self) -> bool:
        """Decode one more line into the output buffer; False at the end."""
        if self._finished:
            return False
        if not self._started:
            self._start()
        if self._slow_lines == 0 and self._fast_block():
            return True
        self._slow_lines = max(0, self._slow_lines - 1)
        line, eol = self._raw_line(COLUMNS + 2)
        if line == END:
            self._finish()
            return False
        if self._expect_end:
            raise ArmorError(_("invalid armor: expected the END line after a short line"))
        if not eol:
            raise ArmorError(_("invalid armor: the file ends without an END line"))
        if len(line) > COLUMNS:
            raise ArmorError(_("invalid armor: line longer than 64 columns"))
        data = _decode_line(line)
        if len(data) < BYTES_PER_LINE:
            self._expect_end = True
        self._out += data
        return True

    def _fast_block(self) -> bool:
        """Decode a run of full LF-terminated 64-column lines in one go.

        Only the common case of the canonical encoding: exactly 64 base64 characters
        then LF, no padding, so every line decodes to 48 bytes and is canonical by
        construction. Anything else (CRLF, the last lines, errors) falls back to the
        line-by-line path for the lines examined, so the work stays linear.
        """
        k = min(len(self._raw) // (COLUMNS + 1), _FAST_LINES)
        if k < 2:
            return False
        size = k * (COLUMNS + 1)
        block = bytes(self._raw[:size])
        if block[COLUMNS :: COLUMNS + 1] == b"\n" * k and block.count(b"\n") == k:
            try:
                data = binascii.a2b_base64(block.replace(b"\n", b""), strict_mode=True)
            except binascii.Error:
                data = b""
            if len(data) == k * BYTES_PER_LINE:
                del self._raw[:size]
                self._out += data
                return True
        self._slow_lines = k
        return False

    # -- stream API ---------------------------------------------------------
    def read(self, size: int = -1, /) -> bytes:
        while (size < 0 or len(self._out) < size) and self._step():
            pass
        n = len(self._out) if size < 0 else min(size, len(self._out))
        data = bytes(self._out[:n])
        del self._out[:n]
        return data

    def readline(self, size: int = -1, /) -> bytes:
        start = 0
        while True:
            limit = len(self._out) if size < 0 else min(size, len(self._out))
            idx = self._out.find(b"\n", start, limit)
            if idx >= 0:
                return self.read(idx + 1)
            if (size >= 0 and len(self._out) >= size) or not self._step():
                return self.read(size)
            start = limit


def sniff(src: Reader) -> tuple[bool, bytes]:
    """Whether ``src`` looks armored (first non-whitespace byte is ``-``), and the
    bytes read to decide, which the caller must put back in front of the stream."""
    seen = bytearray()
    while len(seen) <= MAX_WHITESPACE:
        b = src.read(1)
        if not b:
            return False, bytes(seen)
        seen += b
        if b not in _WHITESPACE:
            return b == b"-", bytes(seen)
    return False, bytes(seen)
