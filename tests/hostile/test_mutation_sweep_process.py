"""Issue 12, item 1: the mutation sweep through the real ``securemsg`` executable.

The in-process sweep (``test_mutation_sweep.py``) could not see a crash of the
process itself: a SIGSEGV in libsodium's buffer handling killed ``receive`` while
every in-process test passed. Here the same mutations (``mutations.py``) go to
the installed executable, as an attacker would deliver them:

- envelopes and receipts in the victim's folder of a drop folder, a batch at a time,
  one ``securemsg --json receive --drop`` per batch (``fuzz/process_kit.py``);
- consents and cards as files, one ``consent import`` / ``contacts add`` each.

Any death by a signal, any "internal error", any input not reported as refused,
any change to the victim's home is a failure. A batch of refused letters costs
about a millisecond a letter, so every mutation of the small envelope (its header
and first 4 kB whole, its 64 KiB of padding sampled: mutations.py) and
every receipt mutation runs, as in-process. A card or a consent costs a process
(about 0.07 and 0.17 s), and a 300 kB envelope about 6 ms: of those, a
deterministic part runs, every STRIDE-th mutation in order (strides coprime with
the three xor values, so every value comes up), and every STREAM chunk mutation of
the big envelope. ``SECUREMSG_SWEEP_FULL=1`` runs every mutation, the big
envelope at every byte (hours). At the end the untouched artefact is accepted by
the same home through the same command, so the refusals are earned.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from hostile_kit import FIGURES, FULL, World, subprocess_env
from mutations import (
    appended,
    byte_changes,
    card_block_mutations,
    chunk_mutations,
    distinct,
    everything,
    padded_envelope,
    sampled_positions,
    sampled_truncations,
    truncations,
)

from conftest import Sent

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fuzz"))
from process_kit import Counts, Victim, drop_batch, one_file, warm_up

pytestmark = pytest.mark.slow

# every STRIDE-th distinct mutation (all with SECUREMSG_SWEEP_FULL=1); inputs per process
STRIDE = {"small": 1, "big": 4, "receipt": 1, "consent": 59, "card": 59}
BATCH = {"small": 500, "big": 60, "receipt": 500}


def every(kind: str, mutations: Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    return list(mutations) if FULL else list(mutations[:: STRIDE[kind]])


def batches(items: list[tuple[str, bytes]], size: int) -> list[list[tuple[str, bytes]]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


@dataclass(frozen=True)
class ExeWorld:
    world: World
    sent: Sent
    drop: Path

    def victim(self, label: str) -> Victim:
        return Victim(self.world.home(label), subprocess_env(), self.drop, self.world.fp(label))


@pytest.fixture(scope="module")
def exe(sent: Sent, tmp_path_factory: pytest.TempPathFactory) -> ExeWorld:
    root = tmp_path_factory.mktemp("exe-sweep") / "world"
    shutil.copytree(sent.world.root, root)
    drop = root / "hostile-drop"
    drop.mkdir()
    return ExeWorld(World(root), sent, drop)


def check(counts: Counts) -> None:
    FIGURES[f"executable sweep, {counts.name}"] = counts.line().split(": ", 1)[1]
    print(counts.line())
    assert not counts.crashed, counts.crashed[:5]
    assert not counts.accepted, counts.accepted[:5]
    assert not counts.unreported, counts.unreported[:5]
    assert not counts.changed, counts.changed[:5]
    assert counts.refused == counts.tried > 0


def earned(victim: Victim, data: bytes, name: str) -> str:
    """The untouched artefact, put in the drop folder: its status in the report."""
    assert victim.drop is not None
    (victim.folder / name).write_bytes(data)
    proc = victim.run("receive", "--drop", str(victim.drop))
    (row,) = json.loads(proc.stdout)["results"]
    return str(row["status"])


def test_envelopes(exe: ExeWorld) -> None:
    s = exe.sent
    nurse, pat = exe.victim("nurse"), exe.victim("pat")
    warm_up(nurse)
    warm_up(pat)
    small = Counts("envelope (nurse, padded to 64 KiB)")
    for batch in batches(
        every("small", distinct(padded_envelope(s.small), s.small)), BATCH["small"]
    ):
        drop_batch(nurse, small, batch)
    big_muts = [
        *byte_changes(s.big, iter(sampled_positions(s.big))),
        *truncations(s.big, iter(sampled_truncations(s.big))),
        *appended(s.big),
    ]
    big = Counts("envelope (patient copy, 300 kB)")
    for batch in batches(
        [*every("big", distinct(big_muts, s.big)), *distinct(chunk_mutations(s.big), s.big)],
        BATCH["big"],
    ):
        drop_batch(pat, big, batch)
    check(small)
    check(big)
    assert earned(nurse, s.small, f"{s.message_id}.smsg") in ("accepted", "duplicate")
    assert earned(pat, s.big, f"{s.message_id}.smsg") in ("accepted", "duplicate")


def test_receipts(exe: ExeWorld) -> None:
    s, w = exe.sent, exe.world
    gp = exe.victim("gp")
    warm_up(gp)
    name = f"{{i:032x}}.{w.fp('card')}.receipt"
    counts = Counts("receipt")
    for batch in batches(
        every("receipt", distinct(everything(s.receipt), s.receipt)), BATCH["receipt"]
    ):
        drop_batch(gp, counts, batch, name)
    check(counts)
    status = earned(gp, s.receipt, f"{s.message_id}.{w.fp('card')}.receipt")
    assert status in ("receipt: delivered", "receipt: already recorded")


def test_consents(exe: ExeWorld, tmp_path: Path) -> None:
    s = exe.sent
    card = exe.victim("card")
    counts = Counts("consent grant")
    for desc, data in every("consent", distinct(everything(s.consent), s.consent)):
        one_file(card, counts, ["consent", "import"], desc, data, tmp_path / "consent.cose")
    check(counts)
    (tmp_path / "consent.cose").write_bytes(s.consent)
    assert card.run("consent", "import", str(tmp_path / "consent.cose")).returncode == 0


@pytest.mark.parametrize("form", ["text", "binary"])
def test_cards(exe: ExeWorld, tmp_path: Path, form: str) -> None:
    s = exe.sent
    out = exe.victim("out")  # out does not know the nurse
    original = s.card_text if form == "text" else s.card_bin
    counts = Counts(f"card ({form})")
    for desc, data in every("card", distinct(card_block_mutations(original, form), original)):
        one_file(out, counts, ["contacts", "add"], desc, data, tmp_path / "nurse.card")
    check(counts)
    (tmp_path / "nurse.card").write_bytes(original)
    assert out.run("contacts", "add", str(tmp_path / "nurse.card")).returncode == 0
