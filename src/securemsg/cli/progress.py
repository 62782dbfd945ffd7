"""A progress bar on the terminal (stderr) for large attachments."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from securemsg.app.send import AttachmentFile
from securemsg.core.frozen import _set
from securemsg.i18n import _

if TYPE_CHECKING:
    from pathlib import Path

    from securemsg.core.domains import Domain

THRESHOLD = 16 * 1024 * 1024  # below this, no bar


class Bar:
    """Lazily creates a rich progress bar; silent when stderr is not a terminal."""

    def __init__(self, total: int, description: str) -> None:
        self.total, self.description = total, description
        self._progress: Any = None
        self._task: Any = None
        self.enabled = sys.stderr.isatty() and total >= THRESHOLD

    def advance(self, n: int) -> None:
        if not self.enabled:
            return
        if self._progress is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._progress = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=self.total)
        self._progress.advance(self._task, n)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


class ProgressAttachment(AttachmentFile):
    """An attachment whose reading advances a bar (a core.frozen value, as its base)."""

    __slots__ = ("bar",)
    bar: Bar | None

    def __init__(self, path: Path, domain: Domain, bar: Bar | None = None) -> None:
        super().__init__(path, domain)
        _set(self, "bar", bar)

    def chunks(self) -> Iterator[bytes]:
        for piece in AttachmentFile.chunks(self):
            if self.bar is not None:
                self.bar.advance(len(piece))
            yield piece


def with_progress(attachments: list[AttachmentFile]) -> tuple[list[AttachmentFile], Bar]:
    """The bar advances by the bytes actually read; its total is what a send reads
    (``AttachmentFile.READS`` passes over each attachment), so it ends full."""
    total = sum(a.size() for a in attachments) * AttachmentFile.READS
    bar = Bar(total, _("Signing and encrypting attachments"))
    return [ProgressAttachment(a.path, a.domain, bar) for a in attachments], bar
