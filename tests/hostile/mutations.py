"""The mutations of the mutation sweep (issue 5, item 2), shared by its two drivers:
in-process (``test_mutation_sweep.py``, every mutation) and through the real
executable (``test_mutation_sweep_process.py``, a deterministic part of them).

Real artefacts are mutated in every single byte (xor 0x01, 0x80, 0xff), truncated
at every point, extended with garbage, and, for the 300 kB envelope, cut into its
age STREAM chunks (64 KiB of plaintext + 16-byte tag) which are duplicated, swapped
and dropped. The 300 kB envelope is sampled (its age header and the next 272 bytes,
16 bytes around every chunk boundary, its last 256 bytes, and 300 seeded random
positions); ``SECUREMSG_SWEEP_FULL=1`` sweeps every position of it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator

from hostile_kit import FULL

import tamper
from securemsg.core.card import END

MASKS = (0x01, 0x80, 0xFF)
CHUNK = 64 * 1024 + 16  # age STREAM: 64 KiB of plaintext and a 16-byte Poly1305 tag
NONCE = 16


def byte_changes(data: bytes, positions: Iterator[int] | range) -> Iterator[tuple[str, bytes]]:
    for i in positions:
        for m in MASKS:
            yield f"byte {i} ^ {m:#04x}", tamper.flip(data, i, m)


def truncations(data: bytes, positions: Iterator[int] | range) -> Iterator[tuple[str, bytes]]:
    for i in positions:
        yield f"truncate to {i}", tamper.truncate(data, i)


def appended(data: bytes) -> Iterator[tuple[str, bytes]]:
    yield from tamper.some_appends(data)
    yield "append 64 KiB of zeros", data + bytes(65536)
    yield "append random 100 bytes", data + random.Random(5).randbytes(100)


def everything(data: bytes) -> Iterator[tuple[str, bytes]]:
    yield from byte_changes(data, range(len(data)))
    yield from truncations(data, range(len(data)))
    yield from appended(data)


def payload_start(envelope: bytes) -> int:
    mac = envelope.index(b"\n--- ") + 1
    return envelope.index(b"\n", mac) + 1


def chunk_ranges(envelope: bytes) -> list[tuple[int, int]]:
    start = payload_start(envelope) + NONCE
    return [(s, min(s + CHUNK, len(envelope))) for s in range(start, len(envelope), CHUNK)]


def chunk_mutations(envelope: bytes) -> Iterator[tuple[str, bytes]]:
    chunks = chunk_ranges(envelope)
    assert len(chunks) >= 3, "the big envelope must span several STREAM chunks"
    for k, (a, b) in enumerate(chunks):
        yield f"duplicate chunk {k}", tamper.duplicate(envelope, a, b)
        yield f"drop chunk {k}", tamper.delete(envelope, a, b)
        yield f"duplicate chunk {k} at the end", envelope + envelope[a:b]
    for k in range(len(chunks)):
        for j in range(k + 1, len(chunks)):
            yield f"swap chunks {k} and {j}", tamper.swap(envelope, chunks[k], chunks[j])
    # and blocks of exactly 64 KiB, not aligned on the STREAM chunks
    yield from tamper.chunk_swaps(envelope, 64 * 1024)
    yield from tamper.chunk_duplicates(envelope, 64 * 1024)


def sampled_positions(envelope: bytes) -> list[int]:
    if FULL:
        return list(range(len(envelope)))
    n = len(envelope)
    head = payload_start(envelope) + NONCE + 256
    picks = set(range(min(head, n)))
    for a, _b in chunk_ranges(envelope):
        picks.update(range(max(0, a - 8), min(n, a + 8)))
    picks.update(range(max(0, n - 256), n))
    picks.update(random.Random(2026).sample(range(n), 300))
    return sorted(picks)


# The nurse's envelope is padded to 64 KiB (docs/format.md §11.1): one age STREAM
# chunk of which the manifest and items are the first few kB and the rest zero
# padding, all under one Poly1305 tag. Every byte of its age header and of the
# first SMALL_WHOLE payload bytes is swept; of the rest, every STREAM boundary, the
# last 256 bytes and 600 seeded positions (every byte with SECUREMSG_SWEEP_FULL=1).
SMALL_WHOLE = 4096


def padded_envelope(envelope: bytes) -> Iterator[tuple[str, bytes]]:
    """The mutations of a small, padded envelope (see SMALL_WHOLE)."""
    n = len(envelope)
    if FULL or n <= payload_start(envelope) + SMALL_WHOLE:
        yield from everything(envelope)
        return
    whole = payload_start(envelope) + SMALL_WHOLE
    picks = set(range(whole))
    for a, _b in chunk_ranges(envelope):
        picks.update(range(max(0, a - 16), min(n, a + 16)))
    picks.update(range(max(0, n - 256), n))
    picks.update(random.Random(2028).sample(range(whole, n), 600))
    cuts = set(range(whole)) | {n - 1, n - 16, n - 17}
    cuts.update(random.Random(2029).sample(range(whole, n), 200))
    yield from byte_changes(envelope, iter(sorted(picks)))
    yield from truncations(envelope, iter(sorted(cuts)))
    yield from appended(envelope)


def sampled_truncations(envelope: bytes) -> list[int]:
    if FULL:
        return list(range(len(envelope)))
    n = len(envelope)
    picks = set(range(payload_start(envelope) + NONCE + 64))
    for a, b in chunk_ranges(envelope):
        picks.update(i for i in (a - 1, a, a + 1, b - 17, b - 16, b - 1) if 0 <= i < n)
    picks.update(random.Random(2027).sample(range(n), 100))
    return sorted(picks)


def distinct(mutations: Iterable[tuple[str, bytes]], original: bytes) -> list[tuple[str, bytes]]:
    """The mutations in order, without those that give back the original or repeat an
    earlier one (the in-process sweep skips the same ones)."""
    seen: set[bytes] = {original}
    out = []
    for desc, data in mutations:
        if data not in seen:
            seen.add(data)
            out.append((desc, data))
    return out


def card_block_mutations(original: bytes, form: str) -> list[tuple[str, bytes]]:
    """A card's mutations. Text around the armour is ignored by design (a card pasted
    in a mail sits among other text), so the text form is swept in its BEGIN..END
    block."""
    if form != "text":
        return list(everything(original))
    block = original.index(END.encode()) + len(END)
    return [
        *byte_changes(original, range(block)),
        *truncations(original, range(block)),
        ("garbage inside the block", original[:40] + b"\x00" + original[40:]),
    ]
