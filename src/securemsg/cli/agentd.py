"""The agent process's entry point: ``python -m securemsg.cli.agentd SOCKET SECONDS``.

Started by ``securemsg unlock`` only (store/agent/spawn.py), never by hand:
the keys arrive on standard input. First thing, before reading them: no core
dumps (RLIMIT_CORE 0) and not dumpable (PR_SET_DUMPABLE 0: no core, no ptrace
or /proc/PID/mem by other processes of the user). Then app.agent.run_agent.
"""

from __future__ import annotations

import os
import sys

from securemsg.cli import hardening


def main(argv: list[str]) -> int:
    hardening.no_core_dumps()
    hardening.not_dumpable()
    if len(argv) != 2 or not argv[1].isdigit():
        sys.stderr.write("securemsg.cli.agentd is started by `securemsg unlock`\n")
        return 2
    from securemsg.app.agent import run_agent

    ready = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)  # nothing else reaches the unlocking command's pipe
    return run_agent(argv[0], int(argv[1]), 0, ready)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
