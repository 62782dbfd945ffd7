"""The plaintext inside one letter envelope (the age payload).

A sequence of records, each ``type (1 byte) || length (8 bytes, big endian) ||
body``, in this order and no other::

    MANIFEST  BINDING  [CONSENT]  [PATIENT_CARD]  (ITEM_HEAD ITEM_BODY)*  END

ITEM_HEAD is canonical CBOR {"n", "salt", "name"}; ITEM_BODY is the item's
content, of any size, streamed. Nothing may follow END. Spec: docs/format.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from securemsg.core import cbor
from securemsg.errors import FormatError

MANIFEST, BINDING, CONSENT, PATIENT_CARD, ITEM_HEAD, ITEM_BODY, END = 1, 2, 3, 4, 5, 6, 0xFF
MAX_SMALL = 1 << 20  # any record but ITEM_BODY
MAX_ITEM = 1 << 40
PIECE = 64 * 1024


def record_head(rtype: int, length: int) -> bytes:
    return bytes([rtype]) + length.to_bytes(8, "big")


def small_record(rtype: int, body: bytes) -> bytes:
    return record_head(rtype, len(body)) + body


@dataclass(frozen=True, slots=True)
class OutItem:
    """An item to put in an envelope: its content is re-readable (attachments
    are opened again for each recipient)."""

    n: int
    salt: bytes
    name: str
    size: int
    content: Callable[[], Iterable[bytes]]


def write_envelope(
    manifest: bytes,
    binding: bytes,
    consent: bytes | None,
    patient_card: bytes | None,
    items: Iterable[OutItem],
) -> Iterator[bytes]:
    yield small_record(MANIFEST, manifest)
    yield small_record(BINDING, binding)
    if consent is not None:
        yield small_record(CONSENT, consent)
    if patient_card is not None:
        yield small_record(PATIENT_CARD, patient_card)
    for item in items:
        yield small_record(
            ITEM_HEAD, cbor.dumps({"n": item.n, "salt": item.salt, "name": item.name})
        )
        yield record_head(ITEM_BODY, item.size)
        written = 0
        for piece in item.content():
            written += len(piece)
            yield piece
        if written != item.size:
            raise FormatError(f"attachment {item.name!r} changed size while it was being sent")
    yield record_head(END, 0)


@dataclass(frozen=True, slots=True)
class InItemHead:
    n: int
    salt: bytes
    name: str
    size: int


class EnvelopeReader:
    """Reads records from an iterator of plaintext chunks, in bounded memory."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = bytearray()
        self._pending: int | None = None  # type of a record head already read

    def _fill(self, n: int) -> None:
        while len(self._buf) < n:
            try:
                self._buf += next(self._chunks)
            except StopIteration:
                raise FormatError("the letter ends in the middle of a record") from None

    def _take(self, n: int) -> bytes:
        self._fill(n)
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def _head(self) -> tuple[int, int]:
        head = self._take(9)
        return head[0], int.from_bytes(head[1:], "big")

    def peek_type(self) -> int:
        self._fill(1)
        return self._buf[0]

    def small(self, rtype: int, what: str) -> bytes:
        got, length = self._head()
        if got != rtype:
            raise FormatError(f"the letter has a {_name(got)} record where its {what} should be")
        if length > MAX_SMALL:
            raise FormatError(f"the letter's {what} record is too large ({length} bytes)")
        return self._take(length)

    def optional(self, rtype: int, what: str) -> bytes | None:
        return self.small(rtype, what) if self.peek_type() == rtype else None

    def next_item(self) -> InItemHead | None:
        """The next item's head, or None at END (which must close the stream)."""
        if self.peek_type() == END:
            rtype, length = self._head()
            if length != 0:
                raise FormatError("the letter's end record is malformed")
            self._fill_end()
            return None
        raw = self.small(ITEM_HEAD, "item head")
        head: Any = cbor.loads(raw, "item head")
        if not isinstance(head, dict) or set(head) != {"n", "salt", "name"}:
            raise FormatError("an item head has unknown or missing fields")
        n, salt, name = head["n"], head["salt"], head["name"]
        if type(n) is not int or not isinstance(salt, bytes) or not isinstance(name, str):
            raise FormatError("an item head has fields of the wrong type")
        rtype, size = self._head()
        if rtype != ITEM_BODY or size > MAX_ITEM:
            raise FormatError("an item head is not followed by its body")
        return InItemHead(n, salt, name, size)

    def body(self, size: int) -> Iterator[bytes]:
        left = size
        while left:
            if not self._buf:
                self._fill(1)
            take = min(left, len(self._buf), PIECE * 4)
            piece = bytes(self._buf[:take])
            del self._buf[:take]
            left -= take
            yield piece

    def _fill_end(self) -> None:
        if self._buf:
            raise FormatError("data follows the end of the letter")
        for extra in self._chunks:
            if extra:
                raise FormatError("data follows the end of the letter")


def _name(rtype: int) -> str:
    return {
        MANIFEST: "manifest",
        BINDING: "binding",
        CONSENT: "consent",
        PATIENT_CARD: "patient card",
        ITEM_HEAD: "item head",
        ITEM_BODY: "item body",
        END: "end",
    }.get(rtype, f"unknown (type {rtype})")
