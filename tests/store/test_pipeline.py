"""store/pipeline.py: the two-thread helpers give the same bytes, in the same
order, as the plain loops they replace; errors reach the caller; an early stop
stops the worker. (No timing here: benchmarks/ measures speed.)"""

from __future__ import annotations

import hashlib
import io
import threading

import pytest

from securemsg.store import pipeline
from securemsg.store.pipeline import TeeAhead, ahead


def test_ahead_same_chunks_in_order() -> None:
    chunks = [bytes([i % 251]) * (i * 977 % 70_000) for i in range(300)]
    assert list(ahead(iter(chunks))) == chunks
    assert list(ahead(iter([]))) == []


def test_ahead_raises_the_producer_error_after_what_came_before() -> None:
    def gen():
        yield b"a" * (2 << 20)
        raise ValueError("boom")

    got = []
    with pytest.raises(ValueError, match="boom"):
        for c in ahead(gen()):
            got.append(c)
    assert got == [b"a" * (2 << 20)]


def test_ahead_early_stop_closes_the_producer() -> None:
    closed = threading.Event()

    def gen():
        try:
            while True:
                yield b"x" * 65536
        finally:
            closed.set()

    it = ahead(gen())
    next(it)
    it.close()  # the consumer gives up (a refusal, an error)
    assert closed.wait(5)


def _tee(data: bytes, limit: int = 1 << 40) -> tuple[TeeAhead, io.BytesIO]:
    sink = io.BytesIO()
    return TeeAhead(io.BytesIO(data), sink, hashlib.sha256(), limit, lambda: OverflowError()), sink


@pytest.mark.parametrize(
    "size", [0, 1, 100, pipeline.BATCH - 1, pipeline.BATCH, 3 * pipeline.BATCH + 7]
)
def test_tee_reads_like_the_file_and_copies_it_all(size: int) -> None:
    data = b"".join(bytes([i % 256]) + b"\n" * (i % 3) for i in range(size))[:size]
    tee, sink = _tee(data)
    ref = io.BytesIO(data)
    try:
        for step in range(200):
            if step % 3 == 0:
                assert tee.readline() == ref.readline()
            elif step % 3 == 1:
                assert tee.readline(5) == ref.readline(5)
            else:
                n = (step * 7919) % 70_000
                assert tee.read(n) == ref.read(n)
        tee.drain()
    finally:
        tee.close()
    assert sink.getvalue() == data
    assert tee.hasher.digest() == hashlib.sha256(data).digest()  # type: ignore[attr-defined]
    assert tee.size == len(data)


def test_tee_limit_raises_in_the_caller() -> None:
    tee, _sink = _tee(b"z" * (3 * pipeline.BATCH), limit=pipeline.BATCH + 1)
    try:
        with pytest.raises(OverflowError):
            while tee.read(65536):
                pass
    finally:
        tee.close()


def test_tee_close_early_stops_the_worker() -> None:
    tee, _sink = _tee(b"q" * (20 * pipeline.BATCH))
    assert tee.read(10) == b"q" * 10
    tee.close()
    assert not tee._worker.thread.is_alive()
