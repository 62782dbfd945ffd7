"""backup, restore (docs/cli.md; the format: docs/format-backup.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from securemsg.app import backup as app
from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit, message, warn
from securemsg.cli.progress import Bar
from securemsg.core.times import rfc3339
from securemsg.i18n import _


class BackupWritten:
    schema = "securemsg.backup/1"

    def __init__(self, done: app.BackupDone) -> None:
        self.done = done

    def to_json(self) -> dict[str, Any]:
        d = self.done
        return {
            "schema": self.schema,
            "path": d.path,
            "created": rfc3339(d.created),
            "fingerprint": d.fingerprint,
            "files": d.files,
            "bytes": d.total_bytes,
            "scrypt_work_factor": d.work_factor,
            "key_exported": d.key_exported,
        }

    def render(self, out: Printer) -> None:
        d = self.done
        out.field(_("Backup"), d.path)
        out.field(_("Made"), rfc3339(d.created))
        out.field(_("Files"), _("{n} ({size} bytes)").format(n=d.files, size=d.total_bytes))
        out.field(_("Protection"), _("passphrase, scrypt 2^{n}").format(n=d.work_factor))
        if d.key_exported:
            out.line(_("Your key came from the system's key store; in the backup it is "
                       "sealed under the backup passphrase."))  # fmt: skip
        out.line(_("Keep the backup and its passphrase apart; without the passphrase "
                   "nobody, not even you, can open it."))  # fmt: skip


class Restored:
    schema = "securemsg.restore/1"

    def __init__(self, done: app.RestoreDone) -> None:
        self.done = done

    def to_json(self) -> dict[str, Any]:
        d = self.done
        return {
            "schema": self.schema,
            "home": d.home,
            "backup_created": rfc3339(d.created),
            "fingerprint": d.fingerprint,
            "files": d.files,
            "letters_received": d.letters_in,
            "letters_sent": d.letters_sent,
            "log_entries": d.log_entries,
            "last_log_entry": rfc3339(d.last_log_time) if d.last_log_time else None,
            "verified": True,
        }

    def render(self, out: Printer) -> None:
        d = self.done
        out.field(_("Restored into"), d.home)
        out.field(_("Backup made"), rfc3339(d.created))
        last = rfc3339(d.last_log_time) if d.last_log_time else _("none (empty log)")
        out.field(_("Last log entry"), last)
        since = rfc3339(d.last_log_time or d.created)
        letters = _("{received} received, {sent} sent")
        out.field(_("Letters"), letters.format(received=d.letters_in, sent=d.letters_sent))
        verified = _("database, log chain ({n} entries), every letter")
        out.field(_("Verified"), verified.format(n=d.log_entries))
        out.line(
            _(
                "Not in this backup: anything received, sent, receipted or consented after "
                "{since}. Ask your correspondents to send again what they sent you since, "
                "and re-import receipts that arrived since."
            ).format(since=since)
        )


@click.command()
@click.option(
    "-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
    help="The backup file to write (must not exist).",
)  # fmt: skip
@pass_ctx
def backup(ctx: Ctx, output: str) -> None:
    """Write the whole home into one passphrase-encrypted age file."""
    bars: list[Bar] = []

    def progress(total: int) -> Any:
        bar = Bar(total, _("Backing up"))
        bars.append(bar)
        return bar.advance

    try:
        done = app.backup(ctx.home(), Path(output), ctx.now(), progress=progress)
    finally:
        for bar in bars:
            bar.close()
    if not ctx.as_json:
        message(_("Backup written to {path}").format(path=done.path), "green")
    emit(BackupWritten(done), ctx.as_json)


@click.command()
@click.argument("backup_file", type=click.Path(dir_okay=False))
@pass_ctx
def restore(ctx: Ctx, backup_file: str) -> None:
    """Restore a backup into an empty home, verified before it is declared done."""
    done = app.restore(ctx.home(), Path(backup_file), ctx.now())
    if not ctx.as_json:
        message(_("Backup restored and verified in {home}").format(home=done.home), "green")
        warn(
            _(
                "This backup was made {date}: letters, receipts and consents "
                "after its last log entry are not in it."
            ).format(date=rfc3339(done.created))
        )
    emit(Restored(done), ctx.as_json)
