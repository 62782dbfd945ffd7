"""Item 2 of issue 5: the mutation sweep.

Real artefacts (from the ``sent`` fixture: a referral sent through the CLI) are
mutated in every single byte (xor 0x01, 0x80, 0xff), truncated at every point,
extended with garbage, and, for the 300 kB envelope, cut into its age STREAM
chunks (64 KiB of plaintext + 16-byte tag) which are duplicated, swapped and
dropped. Each mutation goes through the real verification path in-process:

- envelopes: ``app.receive.receive`` into the recipient's mailbox;
- consent: ``Grant.parse`` then ``ConsentStore.record`` (what ``consent import`` runs);
- card: ``Card.parse`` then ``Contacts.add`` (what ``contacts add`` runs);
- receipt: ``Receipt.verify`` then ``app.proofs.import_proof`` into the sender's mailbox.

Each must raise a SecureMsgError (any other exception is a crash) and leave the
store unchanged (StoreWatch: change counter, data_version, row counts, files).

Every position of the small objects is swept. The 300 kB envelope is sampled
(its age header and the next 272 bytes, 16 bytes around every chunk boundary,
its last 256 bytes, and 300 seeded random positions); ``SECUREMSG_SWEEP_FULL=1`` sweeps every
position of it (slow: about 900k receives).
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hostile_kit import FULL, StoreWatch, open_home, sweep

import tamper
from conftest import Sent
from securemsg.app.proofs import import_proof
from securemsg.app.receive import receive
from securemsg.core.card import END, Card
from securemsg.core.consent import Grant
from securemsg.core.letter.proofs import Receipt
from securemsg.store.consents import ConsentStore
from securemsg.store.contacts import Contacts
from securemsg.store.mailbox import Mailbox

# A slow suite: `make test` runs it, `make test-fast` does not (pyproject.toml, markers).
pytestmark = pytest.mark.slow

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


def sampled_truncations(envelope: bytes) -> list[int]:
    if FULL:
        return list(range(len(envelope)))
    n = len(envelope)
    picks = set(range(payload_start(envelope) + NONCE + 64))
    for a, b in chunk_ranges(envelope):
        picks.update(i for i in (a - 1, a, a + 1, b - 17, b - 16, b - 1) if 0 <= i < n)
    picks.update(random.Random(2027).sample(range(n), 100))
    return sorted(picks)


def report(tally: object) -> None:
    from hostile_kit import Tally

    assert isinstance(tally, Tally)
    print(tally.line())
    assert not tally.crashed, tally.crashed[:3]
    assert not tally.accepted, tally.accepted[:20]
    assert not tally.changed, tally.changed[:20]
    assert tally.refused == tally.tried


def receiver(path: Path) -> tuple[Mailbox, Callable[[bytes], object]]:
    box = Mailbox(open_home(path))
    now = int(time.time())
    return box, lambda data: receive(box, io.BytesIO(data), now)


@pytest.fixture(scope="module")
def s(sent: Sent) -> Sent:
    return sent


def test_small_envelope_every_byte(s: Sent) -> None:
    box, attempt = receiver(s.world.home("nurse"))
    watch = StoreWatch(box.home)
    tally = sweep("envelope (nurse, small)", everything(s.small), attempt, [watch], s.small)
    report(tally)
    # the same mailbox does accept the untouched envelope: the refusals above are earned
    accepted = attempt(s.small)
    assert accepted.manifest.id_hex == s.message_id  # type: ignore[attr-defined]
    watch.close()


def test_big_envelope_sampled_bytes_and_chunks(s: Sent) -> None:
    assert len(s.big) > 2 * CHUNK
    box, attempt = receiver(s.world.home("pat"))
    watch = StoreWatch(box.home)
    muts = (
        *byte_changes(s.big, iter(sampled_positions(s.big))),
        *truncations(s.big, iter(sampled_truncations(s.big))),
        *appended(s.big),
    )
    report(sweep("envelope (patient copy, 300 kB): bytes", iter(muts), attempt, [watch], s.big))
    report(
        sweep(
            "envelope (patient copy, 300 kB): chunks",
            chunk_mutations(s.big),
            attempt,
            [watch],
            s.big,
        )
    )
    assert attempt(s.big).manifest.id_hex == s.message_id  # type: ignore[attr-defined]
    watch.close()


def test_consent_every_byte(s: Sent) -> None:
    home = open_home(s.world.home("card"))
    store = ConsentStore(home)
    patient = s.world.card("pat")
    now = int(time.time())

    def attempt(data: bytes) -> object:
        Grant.verify(data, patient)
        return store.record(data, now)

    watch = StoreWatch(home)
    report(sweep("consent grant", everything(s.consent), attempt, [watch], s.consent))
    assert attempt(s.consent).status == "added"  # type: ignore[attr-defined]
    watch.close()


@pytest.mark.parametrize("form", ["text", "binary"])
def test_card_every_byte(s: Sent, form: str) -> None:
    home = open_home(s.world.home("out"))  # out does not know the nurse yet
    contacts = Contacts(home)
    now = int(time.time())
    original = s.card_text if form == "text" else s.card_bin

    def attempt(data: bytes) -> object:
        return contacts.add(Card.parse(data), now)

    if form == "text":
        # Text around the armour is ignored by design (a card pasted in a mail sits
        # among other text), so the sweep covers the BEGIN..END block itself.
        block = original.index(END.encode()) + len(END)
        muts = (
            *byte_changes(original, range(block)),
            *truncations(original, range(block)),
            ("garbage inside the block", original[:40] + b"\x00" + original[40:]),
        )
    else:
        muts = tuple(everything(original))
    watch = StoreWatch(home)
    report(sweep(f"card ({form})", iter(muts), attempt, [watch], original))
    assert attempt(original).status in ("added", "unchanged")  # type: ignore[attr-defined]
    watch.close()


def test_receipt_every_byte(s: Sent) -> None:
    box = Mailbox(open_home(s.world.home("gp")))
    signer = s.world.card("card")
    now = int(time.time())

    def attempt(data: bytes) -> object:
        Receipt.verify(data, signer)
        return import_proof(box, data, now)

    watch = StoreWatch(box.home)
    report(sweep("receipt", everything(s.receipt), attempt, [watch], s.receipt))
    assert attempt(s.receipt).status == "delivered"  # type: ignore[attr-defined]
    watch.close()
