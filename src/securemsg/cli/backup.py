"""backup, restore (docs/cli.md; the format: docs/format-backup.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

import click

from securemsg.app import backup as app
from securemsg.cli import names
from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit, message, warn
from securemsg.cli.progress import Bar
from securemsg.cli.terminal import open_terminal, show_code
from securemsg.core.times import rfc3339, shown
from securemsg.i18n import N_, _, ngettext


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
            "protection": "recovery_code" if d.recovery_code else "passphrase",
        }

    def render(self, out: Printer) -> None:
        d = self.done
        out.field(_("Backup"), d.path)
        out.field(_("Made"), shown(d.created))
        out.field(_("Files"), _("{n} ({size} bytes)").format(n=d.files, size=d.total_bytes))
        if d.recovery_code:
            out.field(_("Protection"), _("recovery code, scrypt 2^{n}").format(n=d.work_factor))
        else:
            out.field(_("Protection"), _("passphrase, scrypt 2^{n}").format(n=d.work_factor))
        if d.key_exported and d.recovery_code:
            out.line(_("Your key came from the system's key store; in the backup it is "
                       "sealed under the recovery code."))  # fmt: skip
        elif d.key_exported:
            out.line(_("Your key came from the system's key store; in the backup it is "
                       "sealed under the backup passphrase."))  # fmt: skip
        if d.recovery_code:
            out.line(_("Keep the backup and the written-down recovery code apart; without "
                       "the code nobody, not even you, can open it."))  # fmt: skip
        else:
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
            "name": d.name,
            "role": d.role,
            "files": d.files,
            "letters_received": d.letters_in,
            "letters_sent": d.letters_sent,
            "log_entries": d.log_entries,
            "last_log_entry": rfc3339(d.last_log_time) if d.last_log_time else None,
            "key_sealed_by": "backup" if d.key_from_backup else "key file",
            "verified": True,
        }

    def render(self, out: Printer) -> None:
        d = self.done
        out.field(_("Restored into"), d.home)
        identity = _("{name} ({role}), fingerprint {fingerprint}")
        role = names.role(d.role)
        out.field(_("Identity"), identity.format(name=d.name, role=role, fingerprint=d.fingerprint))
        out.field(_("Backup made"), shown(d.created))
        last = shown(d.last_log_time) if d.last_log_time else _("none (empty log)")
        out.field(_("Last log entry"), last)
        since = shown(d.last_log_time or d.created)
        letters = _("{received} received, {sent} sent")
        out.field(_("Letters"), letters.format(received=d.letters_in, sent=d.letters_sent))
        verified = ngettext(
            "database, log chain ({n} entries), every letter",
            "database, log chain ({n} entries), every letter",
            d.log_entries,
        )
        out.field(_("Verified"), verified.format(n=d.log_entries))
        if d.key_from_backup:
            out.line(_("Your key is now in a key file sealed under this backup's passphrase or "
                       "recovery code, exactly as it was shown: choose your own passphrase "
                       "with `securemsg passphrase change`."))  # fmt: skip
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
@click.option(
    "--recovery-code", "recovery_code", is_flag=True,
    help=N_("Protect the backup with a recovery code drawn for you and shown once on "
            "the terminal, instead of a passphrase of your own."),
)  # fmt: skip
@pass_ctx
def backup(ctx: Ctx, output: str, recovery_code: bool) -> None:
    """Write the whole home into one passphrase-encrypted age file."""
    bars: list[Bar] = []
    tty = _terminal() if recovery_code else None

    def progress(total: int) -> Any:
        bar = Bar(total, _("Backing up"))
        bars.append(bar)
        return bar.advance

    def show(code: str) -> None:
        if tty is not None:
            _show_code(tty, code)

    try:
        done = app.backup(ctx.home(), Path(output), ctx.now(), progress=progress,
                          show_code=show if tty is not None else None)  # fmt: skip
    finally:
        for bar in bars:
            bar.close()
        if tty is not None:
            tty.close()
    if not ctx.as_json:
        message(_("Backup written to {path}").format(path=done.path), "green")
    emit(BackupWritten(done), ctx.as_json)


def _terminal() -> TextIO:
    return open_terminal(
        _("no terminal to show the recovery code on"),
        _("run the backup from a terminal, where you can write the code down; "
          "scripts use a passphrase (SECUREMSG_BACKUP_PASSPHRASE) instead"),
    )  # fmt: skip


def _show_code(tty: TextIO, code: str) -> None:
    advice = _(
        "Write it down now, exactly, and keep it apart from the backup: without it "
        "nobody, not even you, can open the backup. To restore, type it in any "
        "case, with or without the dashes (age -d: type it as shown)."
    )
    show_code(tty, _("Recovery code of this backup (shown only this once):"), code, advice)


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
            ).format(date=shown(done.created))
        )
    emit(Restored(done), ctx.as_json)
