"""The physical limit, measured in the same run from the raw primitives:
ChaCha20-Poly1305 (libsodium through nacl.bindings) on 64 KiB chunks, SHA-256
(hashlib), on one thread, on two threads as a pipeline (encrypt on one, hash
the ciphertext on the other: both release the GIL on large buffers), and on two
threads each doing all the work on half the bytes (the two-core ceiling). The
limit used for the targets is the best of the three."""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from nacl.bindings import (
    crypto_aead_chacha20poly1305_ietf_decrypt,
    crypto_aead_chacha20poly1305_ietf_encrypt,
)

from benchmarks.common import MiB, Report, Stats, timed

CHUNK = 64 * 1024
KEY = bytes(range(32))


def _nonce(i: int) -> bytes:
    return i.to_bytes(12, "big")


def encrypt_only(total: int) -> None:
    plain = bytes(CHUNK)
    for i in range(total // CHUNK):
        crypto_aead_chacha20poly1305_ietf_encrypt(plain, None, _nonce(i), KEY)


def decrypt_only(total: int, sealed: bytes) -> None:
    for _ in range(total // CHUNK):
        crypto_aead_chacha20poly1305_ietf_decrypt(sealed, None, _nonce(0), KEY)


def hash_only(total: int) -> None:
    plain = bytes(CHUNK)
    h = hashlib.sha256()
    for _ in range(total // CHUNK):
        h.update(plain)
    h.digest()


def enc_then_hash(total: int) -> None:
    """One thread: seal each chunk, then hash its ciphertext."""
    plain = bytes(CHUNK)
    h = hashlib.sha256()
    for i in range(total // CHUNK):
        h.update(crypto_aead_chacha20poly1305_ietf_encrypt(plain, None, _nonce(i), KEY))
    h.digest()


def enc_and_hash_two_threads(total: int, batch: int = 16) -> None:
    """Two threads: one seals, the other hashes the ciphertext (a bounded queue)."""
    q: queue.Queue[list[bytes] | None] = queue.Queue(maxsize=4)
    plain = bytes(CHUNK)

    def producer() -> None:
        n = total // CHUNK
        for start in range(0, n, batch):
            q.put(
                [
                    crypto_aead_chacha20poly1305_ietf_encrypt(plain, None, _nonce(i), KEY)
                    for i in range(start, min(n, start + batch))
                ]
            )
        q.put(None)

    t = threading.Thread(target=producer)
    t.start()
    h = hashlib.sha256()
    while (item := q.get()) is not None:
        for c in item:
            h.update(c)
    t.join()
    h.digest()


def dec_then_two_hashes(total: int, sealed: bytes) -> None:
    """One thread: hash the ciphertext, open it, hash the plaintext."""
    h1, h2 = hashlib.sha256(), hashlib.sha256()
    for _ in range(total // CHUNK):
        h1.update(sealed)
        h2.update(crypto_aead_chacha20poly1305_ietf_decrypt(sealed, None, _nonce(0), KEY))
    h1.digest(), h2.digest()


def dec_and_hashes_two_threads(total: int, sealed: bytes, batch: int = 16) -> None:
    """Two threads: one hashes the ciphertext, the other opens and hashes the plaintext."""
    q: queue.Queue[list[bytes] | None] = queue.Queue(maxsize=4)

    def reader() -> None:
        h1 = hashlib.sha256()
        n = total // CHUNK
        for start in range(0, n, batch):
            item = [sealed] * min(batch, n - start)
            for c in item:
                h1.update(c)
            q.put(item)
        q.put(None)
        h1.digest()

    t = threading.Thread(target=reader)
    t.start()
    h2 = hashlib.sha256()
    while (item := q.get()) is not None:
        for c in item:
            h2.update(crypto_aead_chacha20poly1305_ietf_decrypt(c, None, _nonce(0), KEY))
    t.join()
    h2.digest()


def halves(work: Callable[[int], None], total: int) -> None:
    """Two threads, each doing ``work`` on half the bytes: the two-core ceiling."""
    ts = [threading.Thread(target=work, args=(total // 2,)) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


@dataclass
class Limits:
    """MB/s (median over the runs)."""

    encrypt: float
    decrypt: float
    sha256: float
    enc_hash_1t: float
    enc_hash_2t: float
    enc_hash_halves: float
    dec_hash_1t: float
    dec_hash_2t: float
    dec_hash_halves: float

    @property
    def envelope(self) -> float:
        """Sealing with the ciphertext digest: the best of one thread, a two-thread
        pipeline, and two threads sharing the work (the two-core ceiling)."""
        return max(self.enc_hash_1t, self.enc_hash_2t, self.enc_hash_halves)

    @property
    def opening(self) -> float:
        return max(self.dec_hash_1t, self.dec_hash_2t, self.dec_hash_halves)

    def send_seconds(self, size: int, envelopes: int) -> float:
        """The least time a send of ``size`` attachment bytes can take with this
        format on two threads: one SHA-256 pass (the item digest must be in the
        signed manifest, before any envelope's payload), then per envelope the
        encryption with its ciphertext digest (on two threads if that is faster)."""
        return size / 1e6 / self.sha256 + envelopes * size / 1e6 / self.envelope

    def receive_seconds(self, size: int) -> float:
        """Open each chunk, hash the ciphertext (envelope digest) and the
        plaintext (item digest): on one thread or two, whichever is faster."""
        return size / 1e6 / self.opening


def measure(report: Report, total: int, runs: int) -> Limits:
    report.say(f"## Primitive limits ({total // MiB} MiB, {runs} runs, 64 KiB chunks)")
    sealed = crypto_aead_chacha20poly1305_ietf_encrypt(bytes(CHUNK), None, _nonce(0), KEY)
    rows: dict[str, Stats] = {
        "ChaCha20-Poly1305 seal, 1 thread": timed(lambda: encrypt_only(total), runs),
        "ChaCha20-Poly1305 open, 1 thread": timed(lambda: decrypt_only(total, sealed), runs),
        "SHA-256, 1 thread": timed(lambda: hash_only(total), runs),
        "seal then SHA-256 of the ciphertext, 1 thread": timed(lambda: enc_then_hash(total), runs),
        "seal || SHA-256, 2 threads (pipeline)": timed(
            lambda: enc_and_hash_two_threads(total), runs
        ),
        "seal + SHA-256, 2 threads x half": timed(lambda: halves(enc_then_hash, total), runs),
        "SHA-256 + open + SHA-256, 1 thread": timed(
            lambda: dec_then_two_hashes(total, sealed), runs
        ),
        "SHA-256 || open + SHA-256, 2 threads (pipeline)": timed(
            lambda: dec_and_hashes_two_threads(total, sealed), runs
        ),
        "SHA-256 + open + SHA-256, 2 threads x half": timed(
            lambda: halves(lambda n: dec_then_two_hashes(n, sealed), total), runs
        ),
    }
    rates = {k: v.rate(total) for k, v in rows.items()}
    for k, v in rates.items():
        report.say(f"  {k:<48} {v.fmt(' MB/s', 0)}")
    med = [v.median for v in rates.values()]
    return Limits(*med)
