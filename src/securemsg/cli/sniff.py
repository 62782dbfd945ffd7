"""A file given to the wrong command: say what it looks like and which command
takes it (core/sniff.py guesses; the command's own parser still decides)."""

from __future__ import annotations

import os
import stat
from collections.abc import Collection
from pathlib import Path
from typing import Any

import click

from securemsg.core.sniff import COMMANDS, HEAD, FileKind, sniff
from securemsg.errors import WrongCommand
from securemsg.i18n import N_, _

# What each command takes (anything else it recognises is refused with a hint).
TAKES: dict[str, Collection[FileKind]] = {
    "letter": {FileKind.LETTER_SOURCE},
    "receive": {
        FileKind.LETTER,
        FileKind.ARMORED_AGE,
        FileKind.RECEIPT,
        FileKind.REFUSAL,
        FileKind.KEY_SUCCESSION,
        FileKind.KEY_REVOCATION,
    },
    "card": {FileKind.CARD, FileKind.KEY_SUCCESSION, FileKind.KEY_REVOCATION},
    "consent": {FileKind.CONSENT, FileKind.REVOCATION, FileKind.OBJECTION},
}
WHAT = {
    "letter": N_("a letter's Markdown source"),
    "receive": N_("a letter, receipt or refusal notice"),
    "card": N_("a contact card"),
    "consent": N_("a consent grant, revocation or objection"),
}


def head_of(path: Path) -> bytes:
    """The first bytes of a regular file; nothing for anything else (a FIFO is
    opened without blocking and not read, a link not followed): the command's
    own reading says what is wrong with it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return b""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        return os.read(fd, HEAD)
    except OSError:
        return b""
    finally:
        os.close(fd)


def refuse_other_kind(path: Path, head: bytes | None, takes: str) -> None:
    """Refuse ``path`` if it is recognisably another kind of file than ``takes``."""
    kind = sniff(head_of(path) if head is None else head)
    if kind is None or kind in TAKES[takes]:
        return
    import shlex  # here: only to word the refusal

    raise WrongCommand(
        _("{path} is {kind}, not {what}").format(
            path=path, kind=_(kind.value), what=_(WHAT[takes])
        ),
        hint=_("use: {command}").format(
            command=_(COMMANDS[kind]).format(file=shlex.quote(str(path)))
        ),
    )


class FileOf(click.Path):
    """An existing file argument (not a folder) of the kind a command ``takes``:
    one recognisably of another kind is refused with the command for it."""

    def __init__(self, takes: str) -> None:
        super().__init__(exists=True, dir_okay=False, path_type=Path)
        self.takes = takes

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        converted = super().convert(value, param, ctx)  # a Path (path_type)
        path = converted if isinstance(converted, Path) else Path(os.fsdecode(converted))
        refuse_other_kind(path, None, self.takes)
        return path
