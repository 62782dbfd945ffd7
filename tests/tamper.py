"""The tamper helper shared by every adversarial test (core, age, key store, CLI,
hostile suite): flip a byte, truncate, insert, delete, duplicate, swap, append.

Each function returns new bytes and never mutates its input; an offset or range
outside the data raises ``IndexError``. The generators (``byte_flips``,
``all_bit_flips``, ``all_truncations``...) enumerate a family of mutations,
yielding ``(description, mutated)`` so a failing case names itself.
"""

from __future__ import annotations

from collections.abc import Iterator

Mutation = tuple[str, bytes]


def _check(data: bytes, i: int) -> None:
    if not 0 <= i < len(data):
        raise IndexError(f"offset {i} outside 0..{len(data) - 1}")


def flip(data: bytes, i: int, mask: int = 0x01) -> bytes:
    """XOR the byte at ``i`` with ``mask`` (non-zero)."""
    _check(data, i)
    if not 0 < mask < 256:
        raise ValueError("mask must be 1..255")
    return data[:i] + bytes([data[i] ^ mask]) + data[i + 1 :]


def set_byte(data: bytes, i: int, value: int) -> bytes:
    _check(data, i)
    return data[:i] + bytes([value]) + data[i + 1 :]


def truncate(data: bytes, i: int) -> bytes:
    """Keep the first ``i`` bytes (``0 <= i < len(data)``)."""
    if not 0 <= i < len(data):
        raise IndexError(f"truncation length {i} must be shorter than {len(data)}")
    return data[:i]


def delete(data: bytes, start: int, end: int) -> bytes:
    if not 0 <= start < end <= len(data):
        raise IndexError("bad range")
    return data[:start] + data[end:]


def insert(data: bytes, i: int, extra: bytes) -> bytes:
    if not 0 <= i <= len(data):
        raise IndexError("bad offset")
    return data[:i] + extra + data[i:]


def duplicate(data: bytes, start: int, end: int) -> bytes:
    """Repeat ``data[start:end]`` right after itself."""
    if not 0 <= start < end <= len(data):
        raise IndexError("bad range")
    return data[:end] + data[start:end] + data[end:]


def swap(data: bytes, a: tuple[int, int], b: tuple[int, int]) -> bytes:
    """Exchange two non-overlapping ranges ``a`` and ``b`` (half-open)."""
    (a0, a1), (b0, b1) = sorted([a, b])
    if not (0 <= a0 < a1 <= b0 < b1 <= len(data)):
        raise IndexError("ranges must be non-empty, ordered and not overlap")
    return data[:a0] + data[b0:b1] + data[a1:b0] + data[a0:a1] + data[b1:]


def append(data: bytes, garbage: bytes = b"\x00") -> bytes:
    return data + garbage


def byte_flips(data: bytes, masks: tuple[int, ...]) -> Iterator[Mutation]:
    """Every byte XORed with each of ``masks``."""
    for i in range(len(data)):
        for m in masks:
            yield f"flip byte {i} ^ {m:#04x}", flip(data, i, m)


def all_bit_flips(data: bytes, extra_masks: tuple[int, ...] = (0xFF,)) -> Iterator[Mutation]:
    """Every single-bit flip of every byte, plus each of ``extra_masks``."""
    return byte_flips(data, (1, 2, 4, 8, 16, 32, 64, 128, *extra_masks))


def all_truncations(data: bytes) -> Iterator[Mutation]:
    for i in range(len(data)):
        yield f"truncate to {i}", truncate(data, i)


def some_appends(data: bytes) -> Iterator[Mutation]:
    for garbage in (b"\x00", b"\xff", b"\n", b" ", b"\x80", data[:1], data):
        yield f"append {garbage[:8]!r}", append(data, garbage)


def chunk_swaps(data: bytes, size: int) -> Iterator[Mutation]:
    """Swap adjacent ``size``-byte blocks, at every block boundary."""
    for start in range(0, len(data) - 2 * size + 1, size):
        a, b = (start, start + size), (start + size, start + 2 * size)
        if data[a[0] : a[1]] != data[b[0] : b[1]]:
            yield f"swap [{a[0]}:{a[1]}] <-> [{b[0]}:{b[1]}]", swap(data, a, b)


def chunk_duplicates(data: bytes, size: int) -> Iterator[Mutation]:
    for start in range(0, len(data) - size + 1, size):
        yield f"duplicate [{start}:{start + size}]", duplicate(data, start, start + size)
