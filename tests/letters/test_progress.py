"""The send progress bar is fed by the bytes actually read and ends full."""

from __future__ import annotations

import pytest
from letterworld import World

from securemsg.cli import progress


class RecordingBar(progress.Bar):
    made: list[RecordingBar] = []  # noqa: RUF012 (test-only registry)

    def __init__(self, total: int, description: str) -> None:
        super().__init__(total, description)
        self.done = 0
        RecordingBar.made.append(self)

    def advance(self, n: int) -> None:
        self.done += n


@pytest.mark.parametrize("recipients", [["Bob"], ["Bob", "Claire"]])
def test_bar_total_is_what_a_send_reads(
    world: World, monkeypatch: pytest.MonkeyPatch, recipients: list[str]
) -> None:
    RecordingBar.made = []
    monkeypatch.setattr(progress, "Bar", RecordingBar)
    to = [arg for name in recipients for arg in ("--to", name)]
    world.send(*to, "--attach", f"{world.path('scan.pdf')}:medical")
    (bar,) = RecordingBar.made
    size = world.path("scan.pdf").stat().st_size
    assert bar.done == bar.total == size * 2  # hashed once, encrypted once for all envelopes
