"""Code for tests only, moved out of ``src/`` in issue 10: securemsg itself never
calls it.

- A reference STREAM (:class:`RefStreamEncryptor`, :class:`RefStreamDecryptor`),
  for comparison only: one chunk at a time, through PyNaCl's public API
  (``nacl.bindings``), with none of the buffer tricks of the real stream
  (``securemsg.core.age.hazmat.stream``). The property tests check that the real
  stream gives the same bytes and the same release and error behaviour for any
  split of the input. (This is the ``update``/``iter_update`` code that shipped
  in ``src/`` next to ``feed`` until the stream kept one path per direction.)
- One-shot helpers over the real code: :func:`encrypt_stream` and
  :func:`decrypt_stream` (an age payload as an iterator of pieces),
  :func:`armor_encode` and :func:`armor_decode` (armor held in memory).
- One letter envelope at a time: :func:`envelope` (with ``extra_recipients``,
  the attack knob), :func:`write_envelope` and :func:`items_for`. The sender
  writes every envelope of a letter at once (``compose.envelopes``);
  tests/letters/test_lockstep.py checks that each comes out byte for byte as
  :func:`envelope` writes it, and scripts/make_vectors.py builds the envelope
  vectors with it.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import nacl.exceptions
import nacl.utils
from nacl.bindings import crypto_aead_chacha20poly1305_ietf_decrypt as _open
from nacl.bindings import crypto_aead_chacha20poly1305_ietf_encrypt as _seal

from securemsg.core import age, cbor
from securemsg.core.age import PayloadError
from securemsg.core.age.hazmat import armor, x25519
from securemsg.core.age.hazmat.file import (
    build_header,
    decrypt_payload,
    new_file_key,
    new_payload_nonce,
)
from securemsg.core.age.hazmat.header import (
    Header,
    LineReader,
    Stanza,
    compute_mac,
    encode_without_mac,
)
from securemsg.core.age.hazmat.stream import (
    CHUNK_SIZE,
    ENC_CHUNK_SIZE,
    TAG_SIZE,
    StreamEncryptor,
    _chunk_nonce,
    payload_key,
)
from securemsg.core.card import Card
from securemsg.core.domains import Domain
from securemsg.core.identity import SecretIdentity
from securemsg.core.letter.compose import Planned
from securemsg.core.letter.container import (
    BINDING,
    CONSENT,
    END,
    ITEM_BODY,
    ITEM_HEAD,
    MANIFEST,
    PADDING,
    PATIENT_CARD,
    OutItem,
    record_head,
    small_record,
)
from securemsg.core.letter.proofs import Binding
from securemsg.errors import FormatError

Rng = Callable[[int], bytes]


# -- the reference STREAM ------------------------------------------------------------------
class RefStreamEncryptor:
    """``update`` returns the sealed chunks that are complete and known not to be
    last; ``finalize`` seals the rest as the final chunk."""

    def __init__(self, file_key: bytes, nonce: bytes) -> None:
        self._key = payload_key(file_key, nonce)
        self._counter = 0
        self._buf = bytearray()
        self._done = False

    def iter_update(self, data: bytes | bytearray | memoryview) -> Iterator[bytes]:
        """The sealed chunks that are complete and known not to be last."""
        if self._done:
            raise ValueError("already finalized")
        view = memoryview(data).cast("B")
        pos = 0
        if self._buf:
            take = min(CHUNK_SIZE - len(self._buf), len(view))
            self._buf += view[:take]
            pos = take
            if len(self._buf) < CHUNK_SIZE or pos == len(view):
                return  # buffer not full, or full but maybe the last chunk
            yield self._seal(bytes(self._buf), last=False)
            self._buf.clear()
        # Keep at least one byte back: a full chunk is non-final only if more follows.
        while len(view) - pos > CHUNK_SIZE:
            yield self._seal(bytes(view[pos : pos + CHUNK_SIZE]), last=False)
            pos += CHUNK_SIZE
        self._buf += view[pos:]

    def update(self, data: bytes | bytearray | memoryview) -> bytes:
        return b"".join(self.iter_update(data))

    def finalize(self) -> bytes:
        if self._done:
            raise ValueError("already finalized")
        self._done = True
        out = self._seal(bytes(self._buf), last=True)
        self._buf.clear()
        return out

    def _seal(self, chunk: bytes, last: bool) -> bytes:
        out: bytes = _seal(chunk, None, _chunk_nonce(self._counter, last), self._key)
        self._counter += 1
        return out


class RefStreamDecryptor:
    """``update`` and ``finalize`` return the plaintext chunks that authenticated,
    one per chunk. If an error is found after some chunks were released in the
    same call, those chunks are returned and the error is raised by the next call;
    after an error every call raises it again."""

    def __init__(self, file_key: bytes, nonce: bytes) -> None:
        self._key = payload_key(file_key, nonce)
        self._counter = 0
        self._buf = bytearray()
        self._done = False
        self._error: str | None = None

    def update(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        self._check()
        view = memoryview(data).cast("B")
        out: list[bytes] = []
        if not view:
            return out
        try:
            pos = 0
            if self._buf:
                pos = min(ENC_CHUNK_SIZE - len(self._buf), len(view))
                self._buf += view[:pos]
                if len(self._buf) < ENC_CHUNK_SIZE:
                    return out
                out.append(self._open_full(bytes(self._buf)))
                self._buf.clear()
            while len(view) - pos >= ENC_CHUNK_SIZE:
                end = pos + ENC_CHUNK_SIZE
                out.append(self._open_full(bytes(view[pos:end])))
                pos = end
            if self._done and pos < len(view):
                raise PayloadError("trailing data after the end of the encrypted payload")
            self._buf += view[pos:]
        except PayloadError as exc:
            self._error = exc.message
            if not out:
                raise
        return out

    def finalize(self) -> list[bytes]:
        self._check()
        try:
            if self._done:
                return []
            chunk = bytes(self._buf)
            self._buf.clear()
            if not chunk:
                raise PayloadError("the payload is truncated: no final chunk")
            if len(chunk) < TAG_SIZE:
                raise PayloadError("the payload is truncated inside a chunk")
            if len(chunk) == TAG_SIZE and self._counter > 0:
                raise PayloadError("the final chunk is empty (only allowed for empty files)")
            plain = self._try_open(chunk, last=True)
            if plain is None:
                raise PayloadError("payload chunk failed to authenticate")
            self._done = True
            self._counter += 1
            return [plain]
        except PayloadError as exc:
            self._error = exc.message
            raise

    def _check(self) -> None:
        if self._error is not None:
            raise PayloadError(self._error)

    def _try_open(self, chunk: bytes, last: bool) -> bytes | None:
        try:
            plain: bytes = _open(chunk, None, _chunk_nonce(self._counter, last), self._key)
        except nacl.exceptions.CryptoError:
            return None
        return plain

    def _open_full(self, chunk: bytes) -> bytes:
        if self._done:
            raise PayloadError("trailing data after the end of the encrypted payload")
        plain = self._try_open(chunk, last=False)
        if plain is None:
            plain = self._try_open(chunk, last=True)
            if plain is None:
                raise PayloadError("payload chunk failed to authenticate")
            self._done = True
        self._counter += 1
        return plain


# -- one-shot helpers over the real code -----------------------------------------------------
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


def decrypt_stream(file_key: bytes, src: LineReader) -> Iterator[bytearray]:
    """Plaintext pieces (at most one 64 KiB chunk each) of the payload in ``src``."""
    return decrypt_payload(file_key, src, ENC_CHUNK_SIZE)


def armor_encode(data: bytes) -> bytes:
    sink = io.BytesIO()
    writer = armor.ArmorWriter(sink)
    writer.write(data)
    writer.close()
    return sink.getvalue()


def armor_decode(text: bytes) -> bytes:
    """Decode a whole armored file held in memory."""
    return armor.ArmorReader(io.BytesIO(text)).read()


# -- one envelope at a time ------------------------------------------------------------------
def items_for(planned: Planned, domains: frozenset[Domain]) -> list[OutItem]:
    return [out for item, out in planned.items if item.domain in domains]


def ref_padded_size(unpadded: int) -> int:
    """Padmé as the paper states it (E = floor(log2 L), S = floor(log2 E) + 1,
    zero the E - S low bits, rounding up), at least 64 KiB: written apart from
    core's bit tricks, for comparison."""
    if unpadded < 2:
        return max(1 << 16, unpadded)
    e = math.floor(math.log2(unpadded))
    while 2 ** (e + 1) <= unpadded:  # float log2 may be off by one near powers of 2
        e += 1
    while 2**e > unpadded:
        e -= 1
    s = math.floor(math.log2(e)) + 1 if e > 0 else 0
    step = 2 ** (e - s)
    return max(1 << 16, -(-unpadded // step) * step)


def write_envelope(
    manifest: bytes,
    binding: bytes,
    consent: bytes | None,
    patient_card: bytes | None,
    items: Iterable[OutItem],
    padding: Callable[[int], bytes] | None = None,
) -> Iterator[bytes]:
    """The plaintext records of one envelope (docs/format.md), streamed.
    ``padding``: the attack knob, the PADDING record (head included) for the
    number of bytes before it (default: the format's)."""
    count = 0

    def counted(data: bytes) -> bytes:
        nonlocal count
        count += len(data)
        return data

    yield counted(small_record(MANIFEST, manifest))
    yield counted(small_record(BINDING, binding))
    if consent is not None:
        yield counted(small_record(CONSENT, consent))
    if patient_card is not None:
        yield counted(small_record(PATIENT_CARD, patient_card))
    for item in items:
        yield counted(
            small_record(ITEM_HEAD, cbor.dumps({"n": item.n, "salt": item.salt, "name": item.name}))
        )
        yield counted(record_head(ITEM_BODY, item.size))
        written = 0
        for piece in item.content():
            written += len(piece)
            count += len(piece)
            yield piece
        if written != item.size:
            raise FormatError(f"attachment {item.name!r} changed size while it was being sent")
    if padding is not None:
        yield padding(count)
    else:
        pad = ref_padded_size(count + 18) - count - 18
        yield record_head(PADDING, pad) + bytes(pad)
    yield record_head(END, 0)


def envelope(
    planned: Planned,
    author: SecretIdentity,
    recipient: Card,
    domains: frozenset[Domain],
    consent: bytes | None,
    patient_card: bytes | None,
    rng: Rng = nacl.utils.random,
    extra_recipients: Mapping[str, bytes] | None = None,
    extra_stanzas: Sequence[Stanza] = (),
    padding: Callable[[int], bytes] | None = None,
) -> Iterator[bytes | bytearray]:
    """The bytes of one recipient's .smsg file, streamed: age header, then payload.

    ``extra_recipients`` and ``extra_stanzas`` are for the attack tests (stanzas
    added before signing: the header MAC and the binding cover them).
    """
    keys = [age.X25519Recipient.from_bytes(recipient.enc_public)]
    for public in (extra_recipients or {}).values():
        keys.append(age.X25519Recipient.from_bytes(public))
    file_key = new_file_key(rng)
    if extra_stanzas:
        stanzas = (*(x25519.wrap(file_key, k, rng) for k in keys), *extra_stanzas)
        header = Header(stanzas, compute_mac(file_key, encode_without_mac(stanzas))).encode()
    else:
        header = build_header(file_key, keys, rng)
    binding = bytes(Binding.sign(author, planned.manifest.encoded, header, recipient.fingerprint))
    records = write_envelope(
        planned.manifest.encoded,
        binding,
        consent,
        patient_card,
        items_for(planned, domains),
        padding,
    )
    yield header
    yield from encrypt_stream(file_key, records, rng)
