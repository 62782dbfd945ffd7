"""Issue 12, item 1: a crash of ``securemsg`` leaves no core dump (cli/hardening.py).

Watched from outside, with no hook in the code:

- the installed executable, stopped where it waits for input (``contacts add``
  reading a FIFO nobody writes to), shows ``Max core file size 0 0`` in
  ``/proc/PID/limits``;
- killed there with SIGSEGV, it dumps no core, even when the limit is raised
  again from outside (``prlimit``, root only): what is left then is
  ``PR_SET_DUMPABLE 0``. A plain Python process started the same way and killed
  the same way is the control: where it dumps no core either (a ``core_pattern``
  that pipes to a collector or writes elsewhere, limits we cannot raise), the
  comparison is skipped and says why;
- another process of the same user and the same capabilities (as root, the
  probe and the watched processes run without CAP_SYS_PTRACE), cannot open the running executable's
  ``/proc/PID/mem`` (its memory: the keys once unlocked, the passphrase), and
  can open a plain Python process's: that is ``PR_SET_DUMPABLE 0`` at work, and
  the check that needs no CAP_SYS_RESOURCE. (``/proc/PID/environ`` is no
  observable: the kernel of the build machine, 6.18, lets the same user read it
  even from a non-dumpable process);
- the entry point run in a fresh interpreter reads back its own state with
  ``prctl(PR_GET_DUMPABLE)`` and ``getrlimit``: not dumpable for a command,
  still dumpable for ``whoami`` (start-up time, see cli/hardening.py), core limit
  (0, 0) for both.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clirun import child_env, cli_command

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

UNLIMITED = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
PR_CAPBSET_DROP, CAP_SYS_PTRACE = 24, 19  # <linux/prctl.h>, <linux/capability.h>


def allow_cores() -> None:
    """In the child before exec: core dumps allowed, as after ``ulimit -c unlimited``;
    and, if the tests run as root, no CAP_SYS_PTRACE after exec (dropped from the
    bounding set), so that a snooping process without it is its peer (see SNOOP)."""
    ctypes.CDLL(None).prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE, 0, 0, 0)  # fails if not root
    try:
        resource.setrlimit(resource.RLIMIT_CORE, UNLIMITED)
    except (OSError, ValueError):  # not root: up to the hard limit only
        hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def core_limit(pid: int) -> list[str]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max core file size"):
            return line.split()[4:6]
    raise AssertionError(f"no core line in /proc/{pid}/limits")


def reap(proc: subprocess.Popen[bytes]) -> int:
    """Wait for ``proc`` and return its raw wait status (WCOREDUMP is in it)."""
    _, status = os.waitpid(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return status


@contextlib.contextmanager
def blocked_securemsg(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``securemsg contacts add FIFO``, waiting for the card nobody writes: past
    start-up and command lookup, so past every hardening step."""
    fifo = tmp_path / "card.fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        [*cli_command(), "--home", str(tmp_path / "home"), "contacts", "add", str(fifo)],
        cwd=tmp_path,
        env=child_env({"PYTHONFAULTHANDLER": None}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=allow_cores,
    )
    writer = -1
    try:
        deadline = time.monotonic() + 60
        while writer < 0:  # a non-blocking writer gets in only once the reader opened it
            try:
                writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:
                    raise
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
                assert time.monotonic() < deadline, "securemsg never opened the FIFO"
                time.sleep(0.01)
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            reap(proc)
        if proc.stderr:
            proc.stderr.close()
        if writer >= 0:
            os.close(writer)


def test_the_running_executable_has_core_limit_zero(tmp_path: Path) -> None:
    with blocked_securemsg(tmp_path) as proc:
        assert core_limit(proc.pid) == ["0", "0"]


def dumps_here() -> str | None:
    """Why a core dump would not land in the child's folder, or None if it would."""
    pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
    if pattern.startswith("|") or "/" in pattern:
        return f"core_pattern {pattern!r} sends dumps elsewhere"
    return None


@pytest.mark.parametrize("raised_from_outside", [False, True])
def test_a_killed_executable_leaves_no_core(tmp_path: Path, raised_from_outside: bool) -> None:
    if reason := dumps_here():
        pytest.skip(reason)
    control_dir = tmp_path / "control"
    control_dir.mkdir()
    control = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        cwd=control_dir,
        env=child_env({"PYTHONFAULTHANDLER": None}),
        preexec_fn=allow_cores,
    )
    time.sleep(0.2)
    os.kill(control.pid, signal.SIGSEGV)
    if not os.WCOREDUMP(reap(control)):
        pytest.skip("a plain Python process killed by SIGSEGV dumps no core here either")
    assert list(control_dir.iterdir()), "the control dumped, somewhere else"

    work = tmp_path / "securemsg"
    work.mkdir()
    with blocked_securemsg(work) as proc:
        if raised_from_outside:  # the limit undone: only PR_SET_DUMPABLE 0 is left
            try:
                resource.prlimit(proc.pid, resource.RLIMIT_CORE, UNLIMITED)
            except PermissionError:
                pytest.skip("raising another process's hard limit needs CAP_SYS_RESOURCE")
            assert core_limit(proc.pid) == ["unlimited", "unlimited"]
        os.kill(proc.pid, signal.SIGSEGV)
        status = reap(proc)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSEGV, status
    assert not os.WCOREDUMP(status), "securemsg dumped core"
    assert sorted(p.name for p in work.iterdir()) == ["card.fifo"], "a core file was written"


# The snoop drops CAP_SYS_PTRACE from its effective set; its targets were started
# without it (allow_cores), so it is their peer: same user, same capabilities. The
# kernel then refuses /proc/PID/mem for one reason only, a target not dumpable.
SNOOP = """
import ctypes, sys

class Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

class Data(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint32) for n in ("effective", "permitted", "inheritable")]

libc = ctypes.CDLL(None, use_errno=True)
header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3
if libc.capget(ctypes.byref(header), data) != 0:
    sys.exit("capget failed")
data[0].effective &= ~(1 << 19)  # CAP_SYS_PTRACE
if libc.capset(ctypes.byref(header), data) != 0:
    sys.exit("capset failed")
try:
    with open(f"/proc/{sys.argv[1]}/mem", "rb"):
        print("opened")
except PermissionError:
    print("denied")
"""


def snoop(pid: int) -> str:
    """What a process of the same user without CAP_SYS_PTRACE gets from /proc/PID/mem."""
    res = subprocess.run(
        [sys.executable, "-c", SNOOP, str(pid)], capture_output=True, text=True, check=True
    )
    return res.stdout.split()[0]


def test_the_same_user_cannot_read_the_running_executable(tmp_path: Path) -> None:
    control = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], preexec_fn=allow_cores
    )
    try:
        time.sleep(0.2)
        assert snoop(control.pid) == "opened"  # what any process of the user shows
    finally:
        control.kill()
        control.wait()
    with blocked_securemsg(tmp_path) as proc:
        assert snoop(proc.pid) == "denied"


PROBE = """
import ctypes, json, resource, sys
from securemsg.cli.main import main
try:
    main()
except SystemExit:
    pass
dumpable = ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)  # PR_GET_DUMPABLE
limit = resource.getrlimit(resource.RLIMIT_CORE)
sys.stderr.write("\\nPROBE " + json.dumps([dumpable, list(limit)]) + "\\n")
"""


def probe(home: Path, *args: str) -> tuple[int, list[int]]:
    res = subprocess.run(
        [sys.executable, "-c", PROBE, "--home", str(home), *args],
        env=child_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=allow_cores,
        check=False,
    )
    dumpable, limit = json.loads(res.stderr.rsplit("PROBE ", 1)[1])
    return dumpable, limit


@pytest.mark.parametrize(
    ("args", "dumpable"),
    [
        (("contacts", "list"), 0),
        (("inbox",), 0),
        (("receive", "--drop", "/nonexistent"), 0),  # refused by click, after the lookup
        (("whoami",), 1),  # start-up time: no ctypes (cli/hardening.py)
        (("--version",), 1),
    ],
)
def test_entry_point_state(
    make_home: object, tmp_path: Path, args: tuple[str, ...], dumpable: int
) -> None:
    home = make_home("Dr Ada Weiss", "gp")  # type: ignore[operator]
    assert probe(home, *args) == (dumpable, [0, 0])
