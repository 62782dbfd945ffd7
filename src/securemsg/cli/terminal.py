"""Secrets shown once, on the controlling terminal only: a backup's recovery code
(``backup --recovery-code``) and a device file's one-time code (``device add``).
Never stdout or stderr, which scripts and services send to files and logs, and
never the JSON; without a terminal the command stops (NoTerminal) before it
writes anything."""

from __future__ import annotations

import os
from typing import TextIO

from securemsg.errors import NoTerminal


def open_terminal(missing: str, hint: str) -> TextIO:
    """The controlling terminal, opened for writing; ``missing`` and ``hint`` make
    the NoTerminal error when there is none."""
    try:
        fd = os.open("/dev/tty", os.O_WRONLY | os.O_NOCTTY)
    except OSError:
        raise NoTerminal(missing, hint=hint) from None
    return os.fdopen(fd, "w", encoding="utf-8")


def show_code(tty: TextIO, title: str, code: str, advice: str) -> None:
    """Show ``code`` on ``tty`` between its ``title`` and ``advice``."""
    tty.write("\n" + title + "\n\n")
    tty.write(f"    {code}\n\n")
    tty.write(advice + "\n\n")
    tty.flush()
