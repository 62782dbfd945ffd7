"""Fixtures of the hostile suite, and the summary of its figures at the end of the run."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hostile_kit import FIGURES, TALLIES, World
from letterworld import _build


@pytest.fixture(scope="session")
def hostile_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile-world") / "world"
    _build(root)
    return root


@pytest.fixture
def world(hostile_template: Path, tmp_path: Path) -> World:
    root = tmp_path / "world"
    shutil.copytree(hostile_template, root)
    return World(root)


@dataclass(frozen=True)
class Sent:
    """A referral from gp to card + nurse (+ the patient's copy) with the scan attached;
    card has received it, so gp's drop folder holds card's receipt."""

    world: World
    message_id: str
    small: bytes  # the nurse's envelope (nursing section only)
    big: bytes  # the patient's envelope (every item, the 300 kB scan included)
    receipt: bytes  # card's receipt, signed by card's mailbox
    consent: bytes
    card_text: bytes  # nurse's card, text form
    card_bin: bytes  # nurse's card, binary COSE form


@pytest.fixture(scope="session")
def sent(hostile_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Sent:
    root = tmp_path_factory.mktemp("hostile-sent") / "world"
    shutil.copytree(hostile_template, root)
    w = World(root)
    doc = w.send("--attach", f"{w.path('scan.pdf')}:medical")
    mid = doc["message_id"]
    envelope = {lab: w.drop / w.fp(lab) / f"{mid}.smsg" for lab in ("card", "nurse", "pat")}
    small, big = envelope["nurse"].read_bytes(), envelope["pat"].read_bytes()
    code, _ = w.receive_drop("card")
    assert code == 0
    receipt = (w.drop / w.fp("gp") / f"{mid}.{w.fp('card')}.receipt").read_bytes()
    for p in envelope.values():  # the sweeps work in memory; keep the drop folder empty
        p.unlink(missing_ok=True)
    nurse = w.card("nurse")
    return Sent(
        w,
        mid,
        small,
        big,
        receipt,
        w.path("consent.cose").read_bytes(),
        (w.home("nurse") / "card.txt").read_bytes(),
        nurse.encoded,
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TALLIES and not FIGURES:
        return
    tr = terminalreporter
    tr.section("hostile suite figures")
    total = {"tried": 0, "refused": 0, "accepted": 0, "crashed": 0, "changed": 0}
    for tally in TALLIES.values():
        tr.write_line(tally.line())
        total["tried"] += tally.tried
        total["refused"] += tally.refused
        total["accepted"] += len(tally.accepted)
        total["crashed"] += len(tally.crashed)
        total["changed"] += len(tally.changed)
    if TALLIES:
        tr.write_line(
            f"TOTAL: {total['tried']} mutations, {total['refused']} refused, "
            f"{total['accepted']} accepted, {total['crashed']} crashed, "
            f"{total['changed']} changed the store"
        )
    for key, value in sorted(FIGURES.items()):
        tr.write_line(f"{key}: {value}")
    out = os.environ.get("SECUREMSG_HOSTILE_STATS")
    if out:
        doc = {
            "mutations": {k: t.as_json() for k, t in TALLIES.items()},
            "total": total,
            "figures": FIGURES,
        }
        Path(out).write_text(json.dumps(doc, indent=2, sort_keys=True))


from letterworld import refused_at_receive  # noqa: E402  (uses the ``world`` above)

__all__ = ["Sent", "refused_at_receive"]
