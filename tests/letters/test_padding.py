"""Issue 11, "what a withheld part reveals": every envelope's plaintext is
padded (docs/format.md §11.1), and the padding is checked on open.

- the sizes of the envelopes of a shared drop folder do not tell the nurse the
  length of the medical sections withheld from her;
- a padding of the wrong length, non-zero, or missing is refused with
  ``bad_padding`` (exit 3) through the installed executable, no home changed,
  an honest letter in the same run still delivered;
- a letter already in the mailbox from before padding still reads.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from letterworld import LETTER, MEDICAL_TEXT, M, N, RefusedCheck, World, resign

from reference import ref_padded_size
from securemsg.core import frozen
from securemsg.core.letter.compose import Planned
from securemsg.core.letter.container import (
    MIN_PADDED,
    PADDING,
    padded_size,
    padding_length,
    padme,
    record_head,
)
from securemsg.core.letter.opening import Opening
from securemsg.errors import FormatError, PaddingError

MN = frozenset({M, N})


# -- the scheme ----------------------------------------------------------------------------
@settings(max_examples=500, deadline=None)
@given(st.integers(0, 2**44))
def test_padded_size_is_padme_with_a_minimum(length: int) -> None:
    size = padded_size(length)
    assert size == ref_padded_size(length)
    assert size >= max(length, MIN_PADDED)
    if length >= MIN_PADDED:
        assert size - length <= length * 0.12  # Padmé adds at most 12 %
        assert padded_size(size) == size  # a padded size is its own bucket


def test_padme_known_values() -> None:
    # L = 1000: E = 9, S = 4, 5 low bits cleared, rounded up
    assert padme(1000) == 1024
    assert padme(100_000) == 100_352  # E = 16, S = 5: multiples of 2^11
    assert padme(2**20) == 2**20
    assert padme(2**20 + 1) == 2**20 + 2**15  # E = 20, S = 5: multiples of 2^15


# -- sizes in a shared folder ----------------------------------------------------------------
def _sizes(world: World, letter: Path) -> dict[str, int]:
    sent = world.send(letter=letter)
    return {o["role"]: Path(o["file"]).stat().st_size for o in sent["outputs"]}


def test_withheld_medical_length_does_not_show_in_envelope_sizes(world: World) -> None:
    """Two letters whose medical sections (withheld from the nurse) differ by
    300 bytes: every envelope in the drop folder has the same size in both."""
    short = world.write("short.md", LETTER.encode())
    longer_text = LETTER.replace(MEDICAL_TEXT, MEDICAL_TEXT + " Detail." * 37 + "xxxx")
    assert len(longer_text) - len(LETTER) == 300
    longer = world.write("longer.md", longer_text.encode())
    a, b = _sizes(world, short), _sizes(world, longer)
    assert set(a) == {"specialist", "nurse", "patient"}
    assert a == b, (a, b)


# -- tampered padding, through the executable -----------------------------------------------
def _pad(kind: str):  # type: ignore[no-untyped-def]
    def pad(before: int) -> bytes:
        length = padding_length(before)
        if kind == "missing":
            return b""
        if kind == "long":
            return record_head(PADDING, length + 1) + bytes(length + 1)
        if kind == "short":
            return record_head(PADDING, length - 1) + bytes(length - 1)
        return record_head(PADDING, length) + b"\x80" + bytes(length - 1)

    return pad


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["nonzero", "long", "short", "missing"])
def test_tampered_padding_is_refused(
    world: World, refused_at_receive: RefusedCheck, kind: str
) -> None:
    planned = world.plan(to=(("card", MN),))
    bad = world.write(f"pad-{kind}.smsg", world.envelope(planned, "card", padding=_pad(kind)))
    row = refused_at_receive("card", bad, error="bad_padding", executable=True)
    assert "padd" in row["detail"]
    honest = world.craft("card", name="honest.smsg")
    res = world.run("card", "--json", "receive", bad, honest, executable=True)
    assert res.exit_code == 3, res.stderr
    first, second = res.json()["results"]
    assert (first["status"], first["error"]) == ("refused", "bad_padding"), first
    assert second["status"] == "accepted", second
    assert world.inbox_ids("card") == [second["message_id"]]


def _format_1(world: World) -> Planned:
    """A letter as an earlier version wrote it: manifest format 1 (no recipient
    names), envelope without padding."""
    planned = world.plan(to=(("card", MN),))
    old = tuple(frozen.replace(r, name=None) for r in planned.manifest.recipients)
    return resign(planned, world.secret("gp"), version=1, recipients=old)


def test_format_1_letter_already_in_the_mailbox_still_opens(world: World) -> None:
    """``read`` opens stored letters with require_padding=False: a format-1
    letter (unpadded) opens; receive and verify refuse it."""
    data = world.envelope(_format_1(world), "card", padding=_pad("missing"))
    card = world.card("card")

    def items(require: bool) -> int:
        env = Opening(
            io.BytesIO(data), world.secret("card"), card.fingerprint, require_padding=require
        )
        env.verify(world.card("gp"))
        env.basis_records()
        n = 0
        for _head, _item, chunks in env.items():
            for _piece in chunks:
                pass
            n += 1
        env.finish()
        return n

    assert items(False) == 3
    with pytest.raises(FormatError, match="format 1"):
        items(True)


def test_format_2_letter_is_always_padded(world: World) -> None:
    planned = world.plan(to=(("card", MN),))
    data = world.envelope(planned, "card", padding=_pad("missing"))
    env = Opening(io.BytesIO(data), world.secret("card"), world.fp("card"), require_padding=False)
    env.verify(world.card("gp"))
    env.basis_records()
    with pytest.raises(PaddingError):
        for _head, _item, chunks in env.items():
            for _piece in chunks:
                pass


@pytest.mark.slow
def test_format_1_letter_is_refused_at_receive(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    f = world.write("format-1.smsg", world.envelope(_format_1(world), "card",
                                                    padding=_pad("missing")))  # fmt: skip
    row = refused_at_receive("card", f, error="malformed", executable=True)
    assert "format 1" in row["detail"]
