"""The plaintext inside one letter envelope (the age payload).

A sequence of records, each ``type (1 byte) || length (8 bytes, big endian) ||
body``, in this order and no other::

    MANIFEST  BINDING  [CONSENT]  [PATIENT_CARD]  (ITEM_HEAD ITEM_BODY)*  PADDING  END

ITEM_HEAD is canonical CBOR {"n", "salt", "name"}; ITEM_BODY is the item's
content, of any size, streamed. PADDING is zero bytes that bring the whole
plaintext to :func:`padded_size` of its unpadded length (so an envelope's size
tells little about the items it holds). Nothing may follow END. Spec:
docs/format.md §11.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from securemsg.core import cbor
from securemsg.core.frozen import Frozen, _set
from securemsg.errors import FormatError, PaddingError
from securemsg.i18n import N_, _

MANIFEST, BINDING, CONSENT, PATIENT_CARD, ITEM_HEAD, ITEM_BODY, PADDING, END = (
    1, 2, 3, 4, 5, 6, 7, 0xFF
)  # fmt: skip
MAX_SMALL = 1 << 20  # any record but ITEM_BODY
MAX_ITEM = 1 << 40
HEAD = 9  # a record's type and length
MIN_PADDED = 1 << 16  # every envelope's plaintext is at least this long
_ZEROS = bytes(1 << 16)


def padme(length: int) -> int:
    """Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files
    and Communication with PURBs", PETS 2019): ``length`` rounded up so that
    only its top ~log2(log2(length)) + 1 bits may be non-zero (at most 12 %
    more)."""
    if length < 2:
        return length
    e = length.bit_length() - 1  # floor(log2(length))
    s = e.bit_length()  # floor(log2(e)) + 1
    mask = (1 << (e - s)) - 1
    return (length + mask) & ~mask


def padded_size(unpadded: int) -> int:
    """The plaintext length of an envelope whose records, PADDING head and END
    record included, come to ``unpadded`` bytes: at least 64 KiB, else Padmé."""
    return max(MIN_PADDED, padme(unpadded))


def padding_length(before: int) -> int:
    """The PADDING body after ``before`` bytes of records (docs/format.md §11)."""
    unpadded = before + 2 * HEAD  # the PADDING head and the END record
    return padded_size(unpadded) - unpadded


def padding_record(before: int) -> Iterator[bytes]:
    length = padding_length(before)
    yield record_head(PADDING, length)
    while length:
        take = min(length, len(_ZEROS))
        yield _ZEROS if take == len(_ZEROS) else _ZEROS[:take]
        length -= take


def record_head(rtype: int, length: int) -> bytes:
    return bytes([rtype]) + length.to_bytes(8, "big")


def small_record(rtype: int, body: bytes) -> bytes:
    return record_head(rtype, len(body)) + body


class OutItem(Frozen):
    """An item to put in an envelope: its content is re-readable (attachments
    are opened again for each recipient)."""

    __slots__ = (  # noqa: RUF023 (field order)
        "n",
        "salt",
        "name",
        "size",
        "content",
    )
    n: int
    salt: bytes
    name: str
    size: int
    content: Callable[[], Iterable[bytes]]

    def __init__(
        self, n: int, salt: bytes, name: str, size: int, content: Callable[[], Iterable[bytes]]
    ) -> None:
        _set(self, "n", n)
        _set(self, "salt", salt)
        _set(self, "name", name)
        _set(self, "size", size)
        _set(self, "content", content)


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
    written = [0] * len(bindings)  # plaintext bytes of each envelope so far
    for k, binding in enumerate(bindings):
        start = [small_record(MANIFEST, manifest), small_record(BINDING, binding)]
        if consent is not None:
            start.append(small_record(CONSENT, consent))
        if patient_card is not None:
            start.append(small_record(PATIENT_CARD, patient_card))
        first = b"".join(start)
        written[k] += len(first)
        yield (k,), first
    for item in items:
        who = tuple(k for k in every if includes[k](item))
        if not who:
            continue
        head = cbor.dumps({"n": item.n, "salt": item.salt, "name": item.name})
        heads = small_record(ITEM_HEAD, head) + record_head(ITEM_BODY, item.size)
        for k in who:
            written[k] += len(heads) + item.size
        yield who, heads
        seen = 0
        for piece in item.content():
            seen += len(piece)
            yield who, piece
        if seen != item.size:
            raise FormatError(
                _("attachment {name!r} changed size while it was being sent").format(name=item.name)
            )
    for k in every:
        for piece in padding_record(written[k]):
            yield (k,), piece
    yield every, record_head(END, 0)


class InItemHead(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "n",
        "salt",
        "name",
        "size",
    )
    n: int
    salt: bytes
    name: str
    size: int

    def __init__(self, n: int, salt: bytes, name: str, size: int) -> None:
        _set(self, "n", n)
        _set(self, "salt", salt)
        _set(self, "name", name)
        _set(self, "size", size)


class EnvelopeReader:
    """Reads records from an iterator of plaintext chunks, in bounded memory.

    Item bodies are handed out as views of the chunks, without copies (the
    chunks must not change afterwards: bytes, or buffers never reused)."""

    def __init__(
        self, chunks: Iterator[bytes | bytearray | memoryview], require_padding: bool = True
    ) -> None:
        self._chunks = chunks
        self.require_padding = require_padding
        self._cur = memoryview(b"")
        self._off = 0
        self.pos = 0  # plaintext bytes read so far
        self.padded = False  # a PADDING record was read (and checked)

    def _more(self) -> None:
        """Make the next non-empty chunk current (the current one is used up)."""
        while self._off == len(self._cur):
            try:
                self._cur = memoryview(next(self._chunks)).cast("B")
            except StopIteration:
                raise FormatError(_("the letter ends in the middle of a record")) from None
            self._off = 0

    def _take(self, n: int) -> bytes:
        parts: list[bytes] = []
        while n:
            if self._off == len(self._cur):
                self._more()
            k = min(n, len(self._cur) - self._off)
            parts.append(bytes(self._cur[self._off : self._off + k]))
            self._off += k
            self.pos += k
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
            raise FormatError(
                _("the letter has a {got} record where its {what} should be").format(
                    got=_name(got), what=_(what)
                )
            )
        if length > MAX_SMALL:
            raise FormatError(
                _("the letter's {what} record is too large ({length} bytes)").format(
                    what=_(what), length=length
                )
            )
        return self._take(length)

    def optional(self, rtype: int, what: str) -> bytes | None:
        return self.small(rtype, what) if self.peek_type() == rtype else None

    def next_item(self) -> InItemHead | None:
        """The next item's head, or None at END (which must close the stream).
        A PADDING record before END is checked (:meth:`_padding`)."""
        if self.peek_type() == PADDING:
            self._padding()
            if self.peek_type() != END:
                raise PaddingError(_("the letter's padding is not followed by its end"))
        if self.peek_type() == END:
            if self.require_padding and not self.padded:
                raise PaddingError(
                    _("the letter is not padded: an earlier version of securemsg wrote it"),
                    hint=_("ask its author to update securemsg and send it again"),
                )
            rtype, length = self._head()
            if length != 0:
                raise FormatError(_("the letter's end record is malformed"))
            self._fill_end()
            return None
        raw = self.small(ITEM_HEAD, N_("item head"))
        head: Any = cbor.loads(raw, N_("item head"))
        if not isinstance(head, dict) or set(head) != {"n", "salt", "name"}:
            raise FormatError(_("an item head has unknown or missing fields"))
        n, salt, name = head["n"], head["salt"], head["name"]
        if type(n) is not int or not isinstance(salt, bytes) or not isinstance(name, str):
            raise FormatError(_("an item head has fields of the wrong type"))
        rtype, size = self._head()
        if rtype != ITEM_BODY or size > MAX_ITEM:
            raise FormatError(_("an item head is not followed by its body"))
        return InItemHead(n, salt, name, size)

    def body(self, size: int) -> Iterator[memoryview]:
        left = size
        while left:
            self._more()
            take = min(left, len(self._cur) - self._off)
            piece = self._cur[self._off : self._off + take]
            self._off += take
            self.pos += take
            left -= take
            yield piece

    def _padding(self) -> None:
        """A PADDING record: exactly :func:`padding_length` zero bytes."""
        before = self.pos
        _rtype, length = self._head()
        if length != padding_length(before):
            raise PaddingError(
                _(
                    "the letter's padding is {length} bytes, not the {before} its size calls for"
                ).format(length=length, before=padding_length(before))
            )
        for piece in self.body(length):
            if bytes(piece).count(0) != len(piece):
                raise PaddingError(_("the letter's padding is not all zero bytes"))
        self.padded = True

    def _fill_end(self) -> None:
        if self._off < len(self._cur):
            raise FormatError(_("data follows the end of the letter"))
        for extra in self._chunks:
            if extra:
                raise FormatError(_("data follows the end of the letter"))


def _name(rtype: int) -> str:
    return {
        MANIFEST: N_("manifest"),
        BINDING: N_("binding"),
        CONSENT: N_("consent"),
        PATIENT_CARD: N_("patient card"),
        ITEM_HEAD: N_("item head"),
        ITEM_BODY: N_("item body"),
        PADDING: N_("padding"),
        END: N_("end"),
    }.get(rtype) or _("unknown (type {rtype})").format(rtype=rtype)
