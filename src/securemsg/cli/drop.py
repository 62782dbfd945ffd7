"""drop init: a drop folder shared by several Unix accounts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from securemsg.app.drop import DropSetup
from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit
from securemsg.i18n import _


@dataclass
class DropView:
    setup: DropSetup
    schema: str = "securemsg.drop/1"

    def to_json(self) -> dict[str, Any]:
        s = self.setup
        return {
            "drop": str(s.drop),
            "group": s.group,
            "created": s.created,
            "changed": s.changed,
            "modes": {
                "drop": f"{s.drop_mode:04o}",
                "folders": f"{s.folder_mode:04o}",
                "files": f"{s.file_mode:04o}",
            },
            "repaired": s.repaired,
            "left": [{"path": str(p), "why": why} for p, why in s.left],
        }

    def render(self, out: Printer) -> None:
        s = self.setup
        if s.created:
            state = _("made and set up")
        else:
            state = _("set up") if s.changed else _("already set up")
        out.field(_("Drop folder"), f"{s.drop} ({state})", "cyan")
        out.field(_("Group"), s.group)
        out.field(
            _("Modes"),
            _(
                "{drop} (setgid, sticky); each mailbox's folder {folder}, "
                "made by its owner; files {file}"
            ).format(
                drop=f"{s.drop_mode:04o}", folder=f"{s.folder_mode:04o}", file=f"{s.file_mode:04o}"
            ),
        )
        if s.repaired:
            out.field(
                _("Repaired"),
                _("{n} folders and files given the group and mode").format(n=s.repaired),
            )
        if s.left:
            rows = [[str(p), w] for p, w in s.left]
            out.table(_("Left as they were"), [_("Path"), _("Why")], rows)
        out.line(
            _(
                "Each member of {group} runs `securemsg receive --drop {drop}` once, "
                "before anyone sends to them: it makes their own folder."
            ).format(group=s.group, drop=s.drop)
        )


@click.group()
def drop() -> None:
    """A drop folder shared by several Unix accounts."""


@drop.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--group", required=True, metavar="GROUP", help="The Unix group of the drop folder's users."
)
@pass_ctx
def drop_init(ctx: Ctx, directory: Path, group: str) -> None:
    """Set up DIRECTORY (made if needed) as a drop folder shared by the accounts
    of GROUP: run once by its owner (a member of GROUP) or by root."""
    from securemsg.app.drop import init

    emit(DropView(init(directory, group)), ctx.as_json)
