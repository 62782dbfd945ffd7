"""Target 4: start-up of `securemsg --help` and `securemsg whoami` against
`python -c "import click, nacl.signing"`, all whole processes, interleaved,
bytecode cached (as an installed package has it), stdout to a pipe."""

from __future__ import annotations

import sys

from benchmarks.common import SECUREMSG, Report, Stats, run
from benchmarks.world import World


def measure(report: Report, w: World, runs: int) -> None:
    cmds = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import click, nacl.signing'": [
            sys.executable,
            "-c",
            "import click, nacl.signing",
        ],
        "securemsg --help": [*SECUREMSG, "--help"],
        "securemsg whoami": [*SECUREMSG, "--home", str(w.alice), "whoami"],
        "securemsg --json whoami": [*SECUREMSG, "--home", str(w.alice), "--json", "whoami"],
    }
    for cmd in cmds.values():  # warm the bytecode cache and the page cache
        run(cmd, env=w.env)
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(runs):
        for name, cmd in cmds.items():
            times[name].append(run(cmd, env=w.env).seconds * 1000)
    report.say(f"## Start-up ({runs} interleaved runs, ms)")
    stats = {k: Stats(v) for k, v in times.items()}
    for k, v in stats.items():
        report.say(f"  {k:<42} {v.fmt(' ms', 1)}")
    base = stats["python -c 'import click, nacl.signing'"].median
    for name in ("securemsg --help", "securemsg whoami"):
        report.check(
            4,
            f"{name} vs import click, nacl.signing",
            f"{stats[name].median:.1f} ms vs {base:.1f} ms",
            stats[name].median / base,
            "<= 1.3",
        )
