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

Every position of the small objects is swept (of the nurse's envelope, padded to
64 KiB: its header and first 4 kB, the rest sampled, mutations.py). The 300 kB envelope is sampled
(its age header and the next 272 bytes, 16 bytes around every chunk boundary,
its last 256 bytes, and 300 seeded random positions); ``SECUREMSG_SWEEP_FULL=1`` sweeps every
position of it (slow: about 900k receives). The mutations are in ``mutations.py``;
``test_mutation_sweep_process.py`` feeds a part of them to the real executable.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile_kit import StoreWatch, open_home, sweep
from mutations import (
    CHUNK,
    appended,
    byte_changes,
    card_block_mutations,
    chunk_mutations,
    everything,
    padded_envelope,
    sampled_positions,
    sampled_truncations,
    truncations,
)

from conftest import Sent
from securemsg.app.proofs import import_proof
from securemsg.app.receive import receive
from securemsg.core.card import Card
from securemsg.core.consent import Grant
from securemsg.core.letter.proofs import Receipt
from securemsg.store.consents import ConsentStore
from securemsg.store.contacts import Contacts
from securemsg.store.mailbox import Mailbox

# A slow suite: `make test` runs it, `make test-fast` does not (pyproject.toml, markers).
pytestmark = pytest.mark.slow


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


def test_small_envelope_mutations(s: Sent) -> None:
    box, attempt = receiver(s.world.home("nurse"))
    watch = StoreWatch(box.home)
    tally = sweep("envelope (nurse, small)", padded_envelope(s.small), attempt, [watch], s.small)
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

    muts = card_block_mutations(original, form)
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
