"""Two-thread pipelines for the large-file paths (docs/performance.md).

libsodium (through cffi) and hashlib release the GIL on large buffers, so a
producer on a worker thread and a consumer on the calling thread overlap:

* :func:`ahead`: the sender encrypts an envelope on the worker while the
  calling thread hashes the ciphertext and writes it.
* :class:`TeeAhead`: the receiver reads the envelope file, copies it into the
  mailbox and hashes it on the worker while the calling thread decrypts and
  checks the item digests.

Both hand over batches of about 1 MiB through a bounded queue (memory stays
bounded), re-raise the worker's exception in the caller, and stop the worker
when the caller stops early (a refusal, an error, an interrupt).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

BATCH = 1 << 20
DEPTH = 4
_END = object()


class _Worker:
    """Runs ``produce(put)`` on a daemon thread; ``put`` returns False once stopped."""

    def __init__(self, produce: Callable[[Callable[[object], bool]], None]) -> None:
        self.q: queue.Queue[object] = queue.Queue(maxsize=DEPTH)
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._produce = produce
        self.thread = threading.Thread(target=self._run, daemon=True, name="securemsg-pipeline")
        self.thread.start()

    def put(self, item: object) -> bool:
        while not self.stop.is_set():
            try:
                self.q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            self._produce(self.put)
        except BaseException as exc:  # handed to the caller, raised there
            self.error = exc
        self.put(_END)

    def get(self) -> object:
        item = self.q.get()
        if item is _END and self.error is not None:
            raise self.error
        return item

    def close(self) -> None:
        self.stop.set()
        while True:  # unblock a worker waiting on a full queue
            try:
                self.q.get_nowait()
            except queue.Empty:
                break
        self.thread.join()


def ahead(chunks: Iterable[bytes], batch: int = BATCH) -> Iterator[bytes]:
    """``chunks``, produced on a worker thread, about ``batch`` bytes ahead."""

    def produce(put: Callable[[object], bool]) -> None:
        it = iter(chunks)
        try:
            pending: list[bytes] = []
            size = 0
            for chunk in it:
                pending.append(chunk)
                size += len(chunk)
                if size >= batch:
                    if not put(pending):
                        return
                    pending, size = [], 0
            if pending:
                put(pending)
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    worker = _Worker(produce)
    try:
        while (item := worker.get()) is not _END:
            assert isinstance(item, list)
            yield from item
    finally:
        worker.close()


class TeeAhead:
    """Reads ``src`` ahead on a worker thread, copying every byte to ``sink`` and
    into ``hasher`` there; the caller reads the same bytes with read/readline.

    ``limit`` caps the total size (``too_large()`` is raised past it). Call
    :meth:`drain` to copy the rest of ``src``, and :meth:`close` always (before
    ``sink`` is closed).
    """

    def __init__(
        self,
        src: BinaryIO,
        sink: BinaryIO,
        hasher: object,
        limit: int,
        too_large: Callable[[], BaseException],
    ) -> None:
        self.hasher = hasher
        self.size = 0
        self._buf = bytearray()
        self._pos = 0
        self._eof = False
        update = hasher.update  # type: ignore[attr-defined]

        def produce(put: Callable[[object], bool]) -> None:
            total = 0
            while data := src.read(BATCH):
                total += len(data)
                if total > limit:
                    raise too_large()
                sink.write(data)
                update(data)
                if not put(data):
                    return

        self._worker = _Worker(produce)

    def _fill(self, n: int) -> None:
        """Buffer at least ``n`` unread bytes, or everything up to the end."""
        while len(self._buf) - self._pos < n and not self._eof:
            item = self._worker.get()
            if item is _END:
                self._eof = True
                break
            assert isinstance(item, bytes)
            if self._pos:
                del self._buf[: self._pos]
                self._pos = 0
            self._buf += item

    def _take(self, n: int) -> bytes:
        with memoryview(self._buf) as view:
            out = bytes(view[self._pos : self._pos + n])
        self._pos += len(out)
        self.size += len(out)
        return out

    def read(self, size: int = -1, /) -> bytes:
        if size < 0:
            self._fill(1 << 62)
            return self._take(len(self._buf) - self._pos)
        self._fill(size)
        return self._take(min(size, len(self._buf) - self._pos))

    def readline(self, size: int = -1, /) -> bytes:
        scanned = 0  # unread bytes already searched for a newline
        while True:
            idx = self._buf.find(b"\n", self._pos + scanned)
            avail = len(self._buf) - self._pos
            if idx >= 0:
                n = idx + 1 - self._pos
                return self._take(n if size < 0 else min(n, size))
            if 0 <= size <= avail or self._eof:
                return self._take(avail if size < 0 else min(avail, size))
            scanned = avail
            self._fill(avail + 1)  # may move the buffer: positions are relative

    def drain(self) -> None:
        """Let the worker copy the rest of ``src``; the unread bytes are dropped."""
        self.size += len(self._buf) - self._pos
        self._buf.clear()
        self._pos = 0
        while not self._eof:
            item = self._worker.get()
            if item is _END:
                self._eof = True
            else:
                assert isinstance(item, bytes)
                self.size += len(item)

    def close(self) -> None:
        self._worker.close()
