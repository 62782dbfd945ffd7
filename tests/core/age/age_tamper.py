"""The tamper helper shared by the adversarial age tests.

Each function returns a modified copy; none returns its input unchanged (a
mutation that would be a no-op raises ``ValueError`` so a property test cannot
pass vacuously).
"""

from __future__ import annotations


def flip(data: bytes, index: int, bit: int = 0) -> bytes:
    """Flip one bit of byte ``index``."""
    out = bytearray(data)
    out[index] ^= 1 << (bit % 8)
    return bytes(out)


def truncate(data: bytes, length: int) -> bytes:
    if not 0 <= length < len(data):
        raise ValueError("truncation must remove at least one byte")
    return data[:length]


def extend(data: bytes, extra: bytes) -> bytes:
    if not extra:
        raise ValueError("nothing to append")
    return data + extra


def duplicate(data: bytes, start: int, end: int) -> bytes:
    """Repeat ``data[start:end]`` right after itself."""
    if not 0 <= start < end <= len(data):
        raise ValueError("empty range")
    return data[:end] + data[start:end] + data[end:]


def delete(data: bytes, start: int, end: int) -> bytes:
    if not 0 <= start < end <= len(data):
        raise ValueError("empty range")
    return data[:start] + data[end:]


def swap(data: bytes, a: int, b: int, length: int) -> bytes:
    """Exchange the non-overlapping ranges ``[a, a+length)`` and ``[b, b+length)``."""
    a, b = min(a, b), max(a, b)
    if length <= 0 or a + length > b or b + length > len(data):
        raise ValueError("ranges overlap or fall outside the data")
    if data[a : a + length] == data[b : b + length]:
        raise ValueError("swapping equal ranges is a no-op")
    return (
        data[:a]
        + data[b : b + length]
        + data[a + length : b]
        + data[a : a + length]
        + data[b + length :]
    )
