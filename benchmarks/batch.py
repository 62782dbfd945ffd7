"""Target 5: `receive --drop` of many small letters in one process (one unlock,
one transaction per letter), in letters per second."""

from __future__ import annotations

from benchmarks.common import SECUREMSG, Report, Stats, run
from benchmarks.world import World, in_process_env, now


def fill_drop(w: World, count: int) -> None:
    from securemsg.app.send import send_letter as send

    in_process_env(w)
    box = w.mailbox(w.alice)
    drop = w.root / "drop"
    drop.mkdir(exist_ok=True)
    note = w.root / "note.txt"
    note.write_bytes(b"results attached\n" * 20)
    for _ in range(count):
        req = w.send_request(note, None)  # type: ignore[arg-type]
        req.out_dir, req.drop = None, drop  # type: ignore[attr-defined]
        send(box, req, now())  # type: ignore[arg-type]
    w.clear_doubles()


def measure(report: Report, w: World, count: int, runs: int) -> None:
    report.say(f"## Batch receive: `receive --drop` of {count} small letters ({runs} runs)")
    times = []
    for _ in range(runs):
        fill_drop(w, count)
        r = run(
            [*SECUREMSG, "--home", str(w.bob), "--json", "receive", "--drop", str(w.root / "drop")],
            env=w.env,
        )
        accepted = r.stdout.count(b'"accepted"')
        if accepted != count:
            raise RuntimeError(f"expected {count} accepted letters, got {accepted}")
        times.append(r.seconds)
        w.clear_inbox()
    s = Stats(times)
    rate = Stats([count / t for t in times])
    report.say(f"  whole process: {s.fmt(' s', 2)} = {rate.fmt(' letters/s', 0)}")
    report.check(
        5,
        f"receive --drop of {count} letters",
        f"{rate.median:.0f} letters/s",
        rate.median / 300,
        ">= 1.0",
    )
