"""unlock, lock, agent status: the key agent (docs/cli.md, "Unlock once");
passphrase change."""

from __future__ import annotations

from typing import Any

import click

from securemsg.app import agent as app_agent
from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit, keystore_shown, message
from securemsg.core.times import rfc3339, shown
from securemsg.i18n import _


class AgentReport:
    """The agent of a home as ``unlock``, ``lock`` and ``agent status`` report it."""

    schema = "securemsg.agent/1"

    def __init__(self, info: app_agent.AgentInfo, action: str) -> None:
        self.info = info
        self.action = action

    def to_json(self) -> dict[str, Any]:
        i = self.info
        return {
            "action": self.action,
            "running": i.running and self.action != "lock",
            "started": i.started,
            "pid": i.pid,
            "expires": rfc3339(i.expires) if i.expires is not None else None,
            "socket": i.socket,
        }

    def render(self, out: Printer) -> None:
        i = self.info
        if self.action == "lock":
            out.line(
                _("Locked: the agent forgot the keys") if i.running else _("No agent was running")
            )
            return
        if not i.running:
            out.line(_("Locked: no agent runs for this home"))
            return
        out.field(_("Agent"), _("running (pid {pid})").format(pid=i.pid), "green")
        if i.expires is not None:
            out.field(_("Keys kept until"), shown(i.expires))
        out.field(_("Socket"), i.socket)


@click.command()
@click.option(
    "--for",
    "duration",
    default=app_agent.DEFAULT_FOR,
    show_default=True,
    metavar="DURATION",
    help="How long the agent keeps the keys: 8h, 90m, 1h30m, 30s, 1d (at most 7 days).",
)
@pass_ctx
def unlock(ctx: Ctx, duration: str) -> None:
    """Unlock my keys once: an agent keeps them for the time set, and commands
    no longer ask for the passphrase."""
    seconds = app_agent.parse_duration(duration)
    info = app_agent.unlock(ctx.home(), seconds)
    if not ctx.as_json:
        if info.started:
            message(_("Unlocked: commands will not ask for the passphrase"), "green")
        else:
            message(_("Already unlocked (run `securemsg lock` first to change the time)"))
    emit(AgentReport(info, "unlock"), ctx.as_json)


@click.command()
@pass_ctx
def lock(ctx: Ctx) -> None:
    """Stop the agent: it forgets the keys at once."""
    emit(AgentReport(app_agent.lock(ctx.home()), "lock"), ctx.as_json)


@click.group()
def agent() -> None:
    """The key agent started by `securemsg unlock`."""


@agent.command("status")
@pass_ctx
def agent_status(ctx: Ctx) -> None:
    """Whether the agent runs for this home, and until when."""
    emit(AgentReport(app_agent.status(ctx.home()), "status"), ctx.as_json)


class PassphraseReport:
    schema = "securemsg.passphrase/1"

    def __init__(self, key_file: str, keystore: str) -> None:
        self.key_file = key_file
        self.keystore = keystore

    def to_json(self) -> dict[str, Any]:
        return {"changed": True, "key_file": self.key_file, "keystore": self.keystore}

    def render(self, out: Printer) -> None:
        out.field(_("Passphrase changed"), self.key_file, "green")
        out.field(_("Keys kept in"), keystore_shown(self.keystore))


@click.group()
def passphrase() -> None:
    """The passphrase of the key file."""


@passphrase.command("change")
@pass_ctx
def passphrase_change(ctx: Ctx) -> None:
    """Change the key file's passphrase (the old one is asked first; the new one
    twice, or SECUREMSG_PASSPHRASE and SECUREMSG_NEW_PASSPHRASE). A running
    agent keeps working: it holds the keys, which do not change."""
    from securemsg.app.passphrase import change  # only this command re-seals

    done = change(ctx.home())
    emit(PassphraseReport(done.key_file, done.params), ctx.as_json)
