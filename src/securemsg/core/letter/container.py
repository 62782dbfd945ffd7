"""The plaintext inside one letter envelope (the age payload).

A sequence of records, each ``type (1 byte) || length (8 bytes, big endian) ||
body``, in this order and no other::

    MANIFEST  BINDING  [CONSENT]  [PATIENT_CARD]  (ITEM_HEAD ITEM_BODY)*  END

ITEM_HEAD is canonical CBOR {"n", "salt", "name"}; ITEM_BODY is the item's
content, of any size, streamed. Nothing may follow END. Spec: docs/format.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from securemsg.core import cbor
from securemsg.errors import FormatError

MANIFEST, BINDING, CONSENT, PATIENT_CARD, ITEM_HEAD, ITEM_BODY, END = 1, 2, 3, 4, 5, 6, 0xFF
MAX_SMALL = 1 << 20  # any record but ITEM_BODY
MAX_ITEM = 1 << 40


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


def write_envelopes(
    manifest: bytes,
    bindings: Sequence[bytes],
    consent: bytes | None,
    patient_card: bytes | None,
    items: Iterable[OutItem],
    includes: Sequence[Callable[[OutItem], bool]],
) -> Iterator[tuple[tuple[int, ...], bytes]]:
    """The plaintext of several envelopes of one letter at once, reading each item
    once: pairs ``(envelopes, bytes)``, where ``envelopes`` are the indexes (into
    ``bindings``) of the envelopes the bytes belong to, in order. Envelope ``k``
    holds the items ``includes[k]`` accepts; its bytes, concatenated, are its
    records in the order of the format (docs/format.md)."""
    every = tuple(range(len(bindings)))
    for k, binding in enumerate(bindings):
        start = [small_record(MANIFEST, manifest), small_record(BINDING, binding)]
        if consent is not None:
            start.append(small_record(CONSENT, consent))
        if patient_card is not None:
            start.append(small_record(PATIENT_CARD, patient_card))
        yield (k,), b"".join(start)
    for item in items:
        who = tuple(k for k in every if includes[k](item))
        if not who:
            continue
        head = cbor.dumps({"n": item.n, "salt": item.salt, "name": item.name})
        yield who, small_record(ITEM_HEAD, head) + record_head(ITEM_BODY, item.size)
        written = 0
        for piece in item.content():
            written += len(piece)
            yield who, piece
        if written != item.size:
            raise FormatError(f"attachment {item.name!r} changed size while it was being sent")
    yield every, record_head(END, 0)


@dataclass(frozen=True, slots=True)
class InItemHead:
    n: int
    salt: bytes
    name: str
    size: int


class EnvelopeReader:
    """Reads records from an iterator of plaintext chunks, in bounded memory.

    Item bodies are handed out as views of the chunks, without copies (the
    chunks must not change afterwards: bytes, or buffers never reused)."""

    def __init__(self, chunks: Iterator[bytes | bytearray | memoryview]) -> None:
        self._chunks = chunks
        self._cur = memoryview(b"")
        self._off = 0

    def _more(self) -> None:
        """Make the next non-empty chunk current (the current one is used up)."""
        while self._off == len(self._cur):
            try:
                self._cur = memoryview(next(self._chunks)).cast("B")
            except StopIteration:
                raise FormatError("the letter ends in the middle of a record") from None
            self._off = 0

    def _take(self, n: int) -> bytes:
        parts: list[bytes] = []
        while n:
            if self._off == len(self._cur):
                self._more()
            k = min(n, len(self._cur) - self._off)
            parts.append(bytes(self._cur[self._off : self._off + k]))
            self._off += k
            n -= k
        return b"".join(parts)

    def _head(self) -> tuple[int, int]:
        head = self._take(9)
        return head[0], int.from_bytes(head[1:], "big")

    def peek_type(self) -> int:
        self._more()
        return self._cur[self._off]

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

    def body(self, size: int) -> Iterator[memoryview]:
        left = size
        while left:
            self._more()
            take = min(left, len(self._cur) - self._off)
            piece = self._cur[self._off : self._off + take]
            self._off += take
            left -= take
            yield piece

    def _fill_end(self) -> None:
        if self._off < len(self._cur):
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
