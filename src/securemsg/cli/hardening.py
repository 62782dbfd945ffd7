"""Process hardening at start-up (issue 12, item 1): a crash leaves no core dump.

A core dump of ``securemsg`` would hold what the process had in memory: the
Ed25519 seed and the X25519 secret once the key store is unlocked, the
passphrase, a letter's text. Two settings, both made by ``cli/main.py``:

- :func:`no_core_dumps`, for every run, first thing in ``main()``: RLIMIT_CORE
  set to (0, 0). The kernel writes no core file, and systemd-coredump (behind a
  pipe in ``core_pattern``) stores none; the hard limit 0 means nothing later in
  the process can raise it again. Other collectors behind a pipe may ignore the
  limit: hence the second setting.
- :func:`not_dumpable`, for every command but ``whoami``, before the command's
  module is imported (``LazyGroup.get_command``): ``prctl(PR_SET_DUMPABLE, 0)``
  (Linux). The kernel dumps no core at all whatever the limit or the collector
  (unless an administrator set ``fs.suid_dumpable=2``, which dumps for root
  only), and other processes of the same user can no longer ptrace this one or
  read its ``/proc/PID/mem`` and ``environ`` (``/proc/PID`` becomes root's).

Both fail soft: where the call does not exist (another OS, a libc without
``prctl``) or is refused, the command runs as before. Neither is observable by
the command itself; the tests watch the real executable from outside
(``tests/cli/test_hardening.py``).

Start-up time: this module is on ``whoami``'s import path (CONTRIBUTING.md,
"Start-up time"). ``resource`` costs about 0.2 ms and is imported where it is
used; ``ctypes`` costs about 1.5 ms, so :func:`not_dumpable` imports it, and
``whoami`` does not call it: it unlocks no key and reads no letter (the
passphrase in the environment is still covered by the core limit).
"""

from __future__ import annotations

import sys

PR_SET_DUMPABLE = 4  # <linux/prctl.h>


def no_core_dumps() -> bool:
    """Set RLIMIT_CORE to (0, 0). True if it is now 0."""
    try:
        import resource  # Unix only: absent on Windows
    except ImportError:  # pragma: no cover - not on the platforms we run on
        return False
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (OSError, ValueError):  # pragma: no cover - lowering a limit is always allowed
        return False
    return True


def not_dumpable() -> bool:
    """``prctl(PR_SET_DUMPABLE, 0)`` on Linux. True if the call succeeded."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes  # here, not at import: about 1.5 ms, and whoami does without

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - a libc without prctl
        return False
    prctl.restype = ctypes.c_int
    prctl.argtypes = [ctypes.c_int, *[ctypes.c_ulong] * 4]
    return bool(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0)
