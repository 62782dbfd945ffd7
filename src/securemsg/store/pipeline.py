"""Two-thread pipelines for the large-file paths (docs/performance.md).

libsodium (through cffi) and hashlib release the GIL on large buffers, so a
producer on a worker thread and a consumer on the calling thread overlap:

* :class:`Behind`: the sender reads each attachment once on the calling
  thread and hands every piece to one worker per envelope, which encrypts it,
  hashes the ciphertext and writes it (docs/performance.md).
* :class:`TeeAhead`: the receiver reads the envelope file, copies it into the
  mailbox and hashes it on the worker while the calling thread decrypts and
  checks the item digests.

All hand over batches of about 1 MiB through a bounded queue (memory stays
bounded), re-raise the worker's exception in the caller, and stop the worker
when the caller stops early (a refusal, an error, an interrupt).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
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


class Behind:
    """Runs ``consume(item)`` on a worker thread for each item :meth:`put`, in
    order, then ``done()`` at :meth:`finish`.

    The queue is bounded (``put`` blocks while the worker is :data:`DEPTH` items
    behind). The worker's exception is raised by the next ``put`` or by
    ``finish``; after it the worker only discards. :meth:`abort` stops it without
    ``done()``. Call ``finish`` or ``abort`` exactly once.
    """

    def __init__(self, consume: Callable[[object], None], done: Callable[[], None]) -> None:
        self.q: queue.Queue[object] = queue.Queue(maxsize=DEPTH)
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._consume, self._done = consume, done
        self.thread = threading.Thread(target=self._run, daemon=True, name="securemsg-pipeline")
        self.thread.start()

    def _run(self) -> None:
        ended = False
        try:
            while (item := self.q.get()) is not _END:
                if not self._stop.is_set():
                    self._consume(item)
            ended = True
            if not self._stop.is_set():
                self._done()
        except BaseException as exc:  # handed to the caller, raised there
            self.error = exc
            while not ended:  # keep draining: put never blocks for ever
                ended = self.q.get() is _END

    def put(self, item: object) -> None:
        if self.error is not None:
            raise self.error
        self.q.put(item)

    def finish(self) -> None:
        self.q.put(_END)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        self._stop.set()
        self.q.put(_END)
        self.thread.join()


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

    def read1(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes (at least one, unless at the end): what is buffered,
        else the worker's next batch, handed over whole, without a copy."""
        if self._pos < len(self._buf):
            avail = len(self._buf) - self._pos
            return self._take(avail if size < 0 else min(avail, size))
        if self._eof or size == 0:
            return b""
        item = self._worker.get()
        if item is _END:
            self._eof = True
            return b""
        assert isinstance(item, bytes)
        self._buf.clear()
        self._pos = 0
        if 0 <= size < len(item):
            self._buf += item[size:]
            item = item[:size]
        self.size += len(item)
        return item

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
