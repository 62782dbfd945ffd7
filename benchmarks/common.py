"""Shared helpers: timing statistics, targets, the machine, temp worlds, peers.

Everything the benchmarks write goes under one temp folder (on /dev/shm when
it exists, so "to /dev/null" means "to RAM"), removed at the end.
"""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

MiB = 1 << 20
GiB = 1 << 30
PASSPHRASE = "bench-passphrase"  # noqa: S105 (a throw-away test home)
SECUREMSG = [sys.executable, "-c", "from securemsg.cli.main import main; main()"]


@dataclass
class Stats:
    """Seconds (or any unit) over several runs."""

    values: list[float]

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def max(self) -> float:
        return max(self.values)

    def rate(self, nbytes: int) -> Stats:
        """The same runs as throughput in MB/s (10^6 bytes per second)."""
        return Stats([nbytes / v / 1e6 for v in self.values])

    def fmt(self, unit: str = "", digits: int = 1) -> str:
        f = f"{{:.{digits}f}}"
        return (
            f"{f.format(self.median)}{unit} "
            f"(min {f.format(self.min)}, max {f.format(self.max)}, n={len(self.values)})"
        )


def timed(fn: Callable[[], object], runs: int, setup: Callable[[], object] | None = None) -> Stats:
    out = []
    for _ in range(runs):
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return Stats(out)


@dataclass
class Target:
    number: int
    name: str
    figure: str  # what was measured, human-readable
    ratio: float | None  # None: could not be measured
    goal: str  # e.g. ">= 0.85"
    ok: bool | None

    @property
    def verdict(self) -> str:
        return "MISSING" if self.ok is None else ("PASS" if self.ok else "MISS")


@dataclass
class Report:
    targets: list[Target] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # free-form figures for the docs
    series: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # for the plot

    def say(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def check(self, number: int, name: str, figure: str, ratio: float | None, goal: str) -> Target:
        ok: bool | None
        if ratio is None:
            ok = None
        else:
            op, value = goal.split()
            ok = ratio >= float(value) if op == ">=" else ratio <= float(value)
        t = Target(number, name, figure, ratio, goal, ok)
        self.targets.append(t)
        r = "n/a" if ratio is None else f"{ratio:.2f}"
        self.say(f"  [{t.verdict}] target {number}: {name}: ratio {r} (goal {goal}) - {figure}")
        return t


def machine() -> dict[str, str]:
    import nacl

    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    flags = ""
    with contextlib.suppress(OSError):
        text = Path("/proc/cpuinfo").read_text()
        have = (
            set(text.split("flags", 1)[1].split("\n", 1)[0].split()) if "flags" in text else set()
        )
        flags = " ".join(f for f in ("sha_ni", "avx2", "avx512f", "aes") if f in have)
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "cpu flags": flags,
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "pynacl": f"{nacl.__version__} (bundled libsodium; its version string is not exported)",
        "openssl (hashlib)": __import__("ssl").OPENSSL_VERSION,
        "tmp": str(bench_root()),
    }


def bench_root() -> Path:
    shm = Path("/dev/shm")  # noqa: S108 (private mkdtemp inside)
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="securemsg-bench-", dir=bench_root()))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def child_env(work: Path) -> dict[str, str]:
    """The environment of every securemsg child: a file key store, bytecode
    cached in the temp folder (as an installed package would have it)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        SECUREMSG_PASSPHRASE=PASSPHRASE,
        SECUREMSG_KEYSTORE="file",
        PYTHONPYCACHEPREFIX=str(work / "pycache"),
        NO_COLOR="1",
    )
    src = Path(__file__).resolve().parent.parent / "src"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(src), env.get("PYTHONPATH", "")) if p)
    return env


@dataclass
class Run:
    seconds: float
    maxrss_kib: int
    rc: int
    stdout: bytes
    stderr: bytes
    cpu: float = 0.0  # the child's user + system CPU seconds


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(
    cmd: Sequence[str],
    env: dict[str, str] | None = None,
    check: bool = True,
    stdin: bytes | None = None,
) -> Run:
    """Run one child; its wall time and its CPU time (user + system, from this
    process's RUSAGE_CHILDREN before and after: one child at a time)."""
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    p = subprocess.Popen(
        list(cmd),
        env=env,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = p.communicate(stdin)
    seconds = time.perf_counter() - t0
    if check and p.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd[:6])}... failed ({p.returncode}): {err.decode()[-2000:]}"
        )
    return Run(seconds, 0, p.returncode, out, err, _children_cpu() - cpu0)


TIME = shutil.which("time", path="/usr/bin:/bin")


def rss_of(cmd: Sequence[str], env: dict[str, str] | None = None) -> tuple[int, float]:
    """Peak RSS (KiB) and wall time of one child.

    The peak comes from GNU time (``%M``) when it is installed: its child is
    forked from a small process. Measured from here with wait4, the peak would
    include this (large) benchmark process, copied at fork time.
    """
    with tempfile.NamedTemporaryFile(dir=bench_root(), prefix="rss-", mode="r") as out:
        full = [TIME, "-o", out.name, "-f", "%M", *cmd] if TIME else list(cmd)
        t0 = time.perf_counter()
        p = subprocess.run(
            full, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
        )
        seconds = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:6])}... failed: {p.stderr.decode()[-2000:]}")
        text = out.read().strip().splitlines()
    rss = int(text[-1]) if TIME and text else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return rss, seconds


WARM = True  # python -m benchmarks --cold turns it off


def warm_ram(directory: Path, nbytes: int) -> None:
    """Write ``nbytes`` to a new file in ``directory`` and delete it, before a
    timed run, for every tool alike.

    On the virtual machines this suite was written on, guest memory that was not
    touched recently costs the hypervisor about 3 s per GiB the first time it is
    touched (a 1 GiB file written to /dev/shm: 0.47 s, then 0.99 s, then 3.16 s for
    the third; 0.5 s each once warm), and freed memory turns cold again within
    seconds. Unwarmed, that cost lands on whichever tool writes first, so it
    measures the hypervisor rather than the tool (docs/performance.md)."""
    if not WARM or nbytes <= 0:
        return
    block = bytes(16 * MiB)
    path = directory / ".warm"
    with path.open("wb") as fh:
        left = nbytes
        while left:
            n = min(left, len(block))
            fh.write(block[:n] if n < len(block) else block)
            left -= n
    path.unlink()


def peer(name: str) -> str | None:
    return shutil.which(name)


def make_file(path: Path, size: int) -> Path:
    """Random (incompressible) content, written in 16 MiB pieces."""
    block = os.urandom(min(size, 16 * MiB)) if size else b""
    with path.open("wb") as fh:
        left = size
        while left:
            n = min(left, len(block))
            fh.write(block[:n])
            left -= n
    return path


def human(n: int) -> str:
    return f"{n // GiB} GiB" if n >= GiB and n % GiB == 0 else f"{n // MiB} MiB"
