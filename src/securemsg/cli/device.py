"""device add, device join, device sync, device forget (docs/cli.md; the files:
docs/format-backup.md §7, §8)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from securemsg.app import device as app
from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit, keystore_shown, message
from securemsg.cli.terminal import open_terminal, show_code
from securemsg.core.consent import iso_time
from securemsg.core.times import rfc3339
from securemsg.errors import UsageError
from securemsg.i18n import _


class DeviceAdded:
    schema = "securemsg.device-add/1"

    def __init__(self, done: app.DeviceFile) -> None:
        self.done = done

    def to_json(self) -> dict[str, Any]:  # never the code: shown on the terminal only
        return {"schema": self.schema, "path": self.done.path, "fingerprint": self.done.fingerprint}

    def render(self, out: Printer) -> None:
        out.field(_("Device file"), self.done.path)
        out.line(_("Carry the file to the other computer and run there: "
                   "securemsg device join FILE"))  # fmt: skip


class DeviceJoined:
    schema = "securemsg.device-join/1"

    def __init__(self, done: app.Joined) -> None:
        self.done = done

    def to_json(self) -> dict[str, Any]:
        d = self.done
        return {"schema": self.schema, "home": d.home, "fingerprint": d.fingerprint,
                "log_chain": d.chain, "keystore": d.keystore}  # fmt: skip

    def render(self, out: Printer) -> None:
        d = self.done
        out.field(_("Home"), d.home)
        out.field(_("Fingerprint"), d.fingerprint)
        out.field(_("Keys kept in"), keystore_shown(d.keystore))
        out.field(_("Log chain"), d.chain)
        out.line(
            _(
                "Letters already received or sent are not copied. From now on, by mail "
                "(securemsg receive --mail on each computer), both receive every letter "
                "and each files the other's doubles under sent."
            )
        )


@click.group()
def device() -> None:
    """Use my identity on a second computer."""


@device.command("add")
@click.option(
    "-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
    help="The device file to write (must not exist).",
)  # fmt: skip
@pass_ctx
def device_add(ctx: Ctx, output: str) -> None:
    """Export my identity, contacts and consents for another computer."""
    tty = open_terminal(
        _("no terminal to show the one-time code on"),
        _("run device add from a terminal, where you can read the code: it is never "
          "written to the output or to a log"),
    )  # fmt: skip

    def show(code: str) -> None:
        advice = _(
            "Type it on the other computer (securemsg device join FILE). Anyone with the "
            "file and this code can act as you: do not write the code down next to the "
            "file, and delete the file once the other computer has joined."
        )
        show_code(tty, _("One-time code of this device file (shown only this once):"), code,
                  advice)  # fmt: skip

    try:
        done = app.device_add(ctx.home(), Path(output), ctx.now(), show)
    finally:
        tty.close()
    emit(DeviceAdded(done), ctx.as_json)


@device.command("join")
@click.argument("device_file", type=click.Path(dir_okay=False))
@pass_ctx
def device_join(ctx: Ctx, device_file: str) -> None:
    """Make this computer a new device of the identity in DEVICE_FILE."""
    done = app.device_join(ctx.home(), Path(device_file), ctx.now())
    if not ctx.as_json:
        said = _("This computer is now a device of {fingerprint}...")
        message(said.format(fingerprint=done.fingerprint[:16]), "green")
    emit(DeviceJoined(done), ctx.as_json)


class DeviceSynced:
    schema = "securemsg.device-sync/1"

    def __init__(self, done: Any) -> None:
        self.done = done  # app.devicesync.SyncWritten

    def to_json(self) -> dict[str, Any]:
        d = self.done
        since = rfc3339(d.since) if d.since else None
        return {"schema": self.schema, "path": d.path, "since": since,
                "letters": d.letters, "doubles": d.doubles, "proofs": d.proofs}  # fmt: skip

    def render(self, out: Printer) -> None:
        d = self.done
        out.field(_("Device sync file"), d.path)
        out.field(_("Since"), iso_time(d.since) if d.since else _("the beginning"))
        out.field(_("Letters received"), str(d.letters))
        out.field(_("Doubles"), str(d.doubles))
        out.field(_("Receipts and notices"), str(d.proofs))
        out.line(_("On the other computer: securemsg device sync FILE"))


@device.command("sync")
@click.argument("sync_file", required=False, type=click.Path(dir_okay=False))
@click.option(
    "-o", "--output", "output", type=click.Path(dir_okay=False),
    help="Write a device sync file for my other computer (must not exist).",
)  # fmt: skip
@click.option(
    "--all", "everything", is_flag=True,
    help="With -o: everything this computer holds, not only what came since its last sync file.",
)  # fmt: skip
@pass_ctx
def device_sync(ctx: Ctx, sync_file: str | None, output: str | None, everything: bool) -> None:
    """Carry letters, doubles and receipts to my other computer without mail."""
    from securemsg.app import devicesync

    if (sync_file is None) == (output is None):
        raise UsageError(
            _("give either -o FILE (to write a device sync file) or FILE (to import one)"),
            hint=_("securemsg device sync -o FILE on one computer, device sync FILE on the other"),
        )
    if output is not None:
        done = devicesync.export_sync(ctx.home(), Path(output), ctx.now(), everything)
        emit(DeviceSynced(done), ctx.as_json)
        return
    if everything:
        raise UsageError(_("--all goes with -o FILE"))
    from securemsg.cli.receiving import finish_report

    assert sync_file is not None
    finish_report(devicesync.import_sync(ctx.home(), Path(sync_file), ctx.now()), ctx.as_json)


class DeviceForgotten:
    schema = "securemsg.device-forget/1"

    def __init__(self, was_several: bool) -> None:
        self.was_several = was_several

    def to_json(self) -> dict[str, Any]:
        return {"schema": self.schema, "was_several": self.was_several, "several": False}

    def render(self, out: Printer) -> None:
        if not self.was_several:
            out.line(_("This computer was already your identity's only device: nothing changed."))
            return
        out.line(
            _(
                "This computer is now your identity's only device: send --mail no longer "
                "mails your doubles to your own address, and a mail account may move the "
                "mails it has received."
            ),
            "green",
        )
        out.line(
            _(
                "If another computer still uses your identity: securemsg device add -o FILE "
                "counts it again (then delete FILE)."
            )
        )


@device.command("forget")
@pass_ctx
def device_forget(ctx: Ctx) -> None:
    """My other computers are gone: this one is my identity's only device."""
    from securemsg.app.devices import forget

    emit(DeviceForgotten(forget(ctx.home()).was_several), ctx.as_json)
