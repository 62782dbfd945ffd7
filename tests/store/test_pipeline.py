"""store/pipeline.py: the two-thread helpers give the same bytes, in the same
order, as the plain loops they replace; errors reach the caller; an early stop
stops the worker. (No timing here: benchmarks/ measures speed.)"""

from __future__ import annotations

import hashlib
import io
import threading

import pytest

from securemsg.store import pipeline
from securemsg.store.pipeline import Behind, TeeAhead


def test_behind_consumes_in_order_then_done() -> None:
    got: list[object] = []
    w = Behind(got.append, lambda: got.append("done"))
    items = [bytes([i % 251]) * (i * 977 % 70_000) for i in range(300)]
    for item in items:
        w.put(item)
    w.finish()
    assert got == [*items, "done"]


def test_behind_raises_the_worker_error_and_never_blocks() -> None:
    def consume(item: object) -> None:
        if item == 3:
            raise ValueError("boom")

    w = Behind(consume, lambda: None)
    with pytest.raises(ValueError, match="boom"):
        for i in range(10_000):  # far more than the queue holds
            w.put(i)
    with pytest.raises(ValueError, match="boom"):
        w.finish()


def test_behind_error_in_done_reaches_finish() -> None:
    def done() -> None:
        raise OSError("disk full")

    w = Behind(lambda item: None, done)
    w.put(1)
    with pytest.raises(OSError, match="disk full"):
        w.finish()


def test_behind_abort_skips_done() -> None:
    started, release, done = threading.Event(), threading.Event(), threading.Event()

    def consume(item: object) -> None:
        started.set()
        release.wait(5)

    w = Behind(consume, done.set)
    for i in range(pipeline.DEPTH + 1):
        w.put(i)
    assert started.wait(5)
    release.set()
    w.abort()
    assert not w.thread.is_alive() and not done.is_set()


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
            if step % 4 == 0:
                assert tee.readline() == ref.readline()
            elif step % 4 == 1:
                assert tee.readline(5) == ref.readline(5)
            elif step % 4 == 2:
                n = (step * 7919) % 70_000
                assert tee.read(n) == ref.read(n)
            else:  # read1: up to n bytes, empty only at the end
                n = (step * 7919) % (2 * pipeline.BATCH) + 1
                got = tee.read1(n)
                assert len(got) <= n and got == ref.read(len(got))
                assert got or ref.read(1) == b""
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
