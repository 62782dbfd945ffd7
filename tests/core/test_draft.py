"""The prepared draft (core/letter/draft.py): round trip, strict reading, and
the letter commitment recomputed from the content."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fuzz"))
import harness

from securemsg.core import cbor, frozen
from securemsg.core.letter.container import END, record_head
from securemsg.core.letter.draft import Draft, DraftAttachment, review
from securemsg.errors import FormatError

SEED = harness.seeds("draft")[0]


def test_round_trip() -> None:
    d = Draft.parse(SEED)
    assert d.to_bytes() == SEED
    assert d.patient_copy and [a.name for a in d.attachments] == ["scan.pdf"]


def test_commitment_covers_every_item_and_recipient() -> None:
    d = Draft.parse(SEED)
    base = review(d).commitment
    other_att = frozen.replace(
        d, attachments=(DraftAttachment("scan.pdf", d.attachments[0].domain, b"%PDX"),)
    )
    assert review(other_att).commitment != base
    other_id = frozen.replace(d, message_id=bytes([1]) + bytes(15))
    assert review(other_id).commitment != base
    card, doms = d.recipients[0]
    fewer = frozen.replace(d, recipients=((card, frozenset(list(doms)[:1])),))
    assert review(fewer).commitment != base


@pytest.mark.parametrize(
    "data",
    [
        SEED + b"\x00",  # after END
        SEED[: len(SEED) - 9],  # no END
        SEED.replace(b"%PDF", b"%PDFX"),  # an attachment longer than its head says
        record_head(END, 0),
        cbor.dumps({"v": 1}),
    ],
)
def test_malformed_drafts_are_refused(data: bytes) -> None:
    with pytest.raises(FormatError):
        Draft.parse(data)


def test_one_salt_per_item() -> None:
    d = Draft.parse(SEED)
    with pytest.raises(FormatError):
        review(frozen.replace(d, salts=d.salts[:-1]))
