"""Run the benchmark suite: `python -m benchmarks [--quick] [--out DIR] [--only ...]`.

Prints every figure with min/median/max and a PASS/MISS line per target with its
ratio; with --out, also writes DIR/performance.png (the plot) and
DIR/performance-results.md (the last run). Temp files live under /dev/shm (or
the temp folder) and are removed at the end.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from benchmarks import batch, common, everyday, primitives, scale, startup, throughput, unlock
from benchmarks.common import GiB, MiB, Report, human, machine, workdir
from benchmarks.world import make_world

SECTIONS = ("throughput", "startup", "batch", "scale", "unlock", "everyday")


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks")
    ap.add_argument("--quick", action="store_true", help="64 MiB instead of 1 GiB, fewer runs")
    ap.add_argument(
        "--out", type=Path, help="write performance.png and performance-results.md here"
    )
    ap.add_argument("--only", choices=SECTIONS, action="append")
    ap.add_argument(
        "--cold",
        action="store_true",
        help="do not warm the RAM disk before each timed run (common.warm_ram)",
    )
    args = ap.parse_args()
    common.WARM = not args.cold
    only = set(args.only or SECTIONS)
    if args.quick:
        big, sweep, runs, limit_size = 64 * MiB, [1 * MiB, 8 * MiB, 64 * MiB], 3, 64 * MiB
        n_batch, n_scale, n_start = 1000, 10_000, 10
    else:
        big, sweep, runs, limit_size = GiB, [MiB, 16 * MiB, 64 * MiB, 256 * MiB, GiB], 3, 256 * MiB
        n_batch, n_scale, n_start = 1000, 100_000, 20
    report = Report()
    t0 = time.time()
    report.say(f"# securemsg benchmarks ({'quick' if args.quick else 'full'})")
    info = machine()
    for k, v in info.items():
        report.say(f"  {k}: {v}")
    report.say(
        "  RAM disk warmed before each timed file run: "
        + (
            "yes, 3x the file size, for every tool (common.warm_ram)"
            if common.WARM
            else "no (--cold)"
        )
    )
    results: list[throughput.SizeResult] = []
    with workdir() as root:
        w = make_world(root)
        if "throughput" in only:
            limits = primitives.measure(report, limit_size, 5)
            throughput.in_process(report, w, limits, big, 3 if args.quick else 5)
            p = throughput.setup_peers(report, root)
            try:
                for size in sweep:
                    results.append(throughput.processes(report, w, p, size, runs))
            finally:
                throughput.stop_peers(p)
            throughput.process_targets(report, results[-1], results[0], p)
        if "startup" in only:
            startup.measure(report, w, n_start)
        if "batch" in only:
            batch.measure(report, w, n_batch, 2)
        if "scale" in only:
            scale.measure(report, w, n_scale, 10)
        if "unlock" in only:
            unlock.measure(report, w, 10)
        if "everyday" in only:
            everyday.measure(report, w, 10 if args.quick else 15, 20_000)
    report.say()
    report.say(f"# Summary ({time.time() - t0:.0f} s)")
    table = summary(report)
    for line in table:
        report.say(line)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "performance-results.md").write_text(
            "# Last benchmark run\n\n```\n" + "\n".join(report.lines) + "\n```\n"
        )
        if results:
            plot(results, args.out / "performance.png")
    return 0


def summary(report: Report) -> list[str]:
    rows = ["| # | target | figure | ratio | goal | verdict |", "|---|---|---|---|---|---|"]
    for t in report.targets:
        r = "n/a" if t.ratio is None else f"{t.ratio:.2f}"
        rows.append(f"| {t.number} | {t.name} | {t.figure} | {r} | {t.goal} | {t.verdict} |")
    return rows


def plot(results: list[throughput.SizeResult], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot skipped: matplotlib is not installed (pip install '.[bench]')")
        return
    sizes = [r.size / MiB for r in results]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))

    def mbps(r: throughput.SizeResult, secs: float) -> float:
        return r.size / secs / 1e6

    ax1.plot(
        sizes,
        [mbps(r, r.send.median) for r in results],
        "o-",
        label="securemsg send (sign+encrypt, 2 envelopes)",
    )
    ax1.plot(
        sizes,
        [mbps(r, r.receive.median) for r in results],
        "o--",
        label="securemsg receive (verify)",
    )
    styles = {"age": ("s-", "s--"), "gpg": ("^-", "^--"), "gpg -z 0": ("v-", "v--")}
    for name, (e_style, d_style) in styles.items():
        if all(name in r.peers for r in results):
            op = "-se" if name.startswith("gpg") else "-e"
            ax1.plot(
                sizes,
                [mbps(r, r.peers[name][0].median) for r in results],
                e_style,
                label=f"{name} {op}",
            )
            ax1.plot(
                sizes,
                [mbps(r, r.peers[name][1].median) for r in results],
                d_style,
                label=f"{name} -d",
            )
    ax1.set_xscale("log", base=2)
    ax1.set_xlabel("file size (MiB)")
    ax1.set_ylabel("MB/s of the file, whole process (median)")
    ax1.set_title("Throughput against size")
    ax1.grid(True, alpha=0.3)
    ax1.legend(fontsize=8)
    ax2.plot(sizes, [r.send_rss / 1024 for r in results], "o-", label="securemsg send")
    ax2.plot(sizes, [r.receive_rss / 1024 for r in results], "o--", label="securemsg receive")
    ax2.axhline(64, color="red", linestyle=":", label="64 MiB target")
    ax2.set_xscale("log", base=2)
    ax2.set_ylim(0, 80)
    ax2.set_xlabel("attachment size (MiB)")
    ax2.set_ylabel("peak RSS (MiB)")
    ax2.set_title("Memory against size")
    ax2.grid(True, alpha=0.3)
    ax2.legend(fontsize=8)
    fig.suptitle(f"securemsg, age and gpg on {human(results[-1].size)} and below")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"plot written to {path}")


if __name__ == "__main__":
    sys.exit(main())
