"""inbox, sent, read, thread, receipts import, log verify."""

from __future__ import annotations

import click

from securemsg.app import mailbox
from securemsg.cli import complete
from securemsg.cli.listview import ListView
from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit, page


def _listing(ctx: Ctx, folder: str, limit: int, page: int, patient: str | None) -> None:
    emit(ListView.of(mailbox.listing(ctx.home(), folder, limit, page, patient)), ctx.as_json)


@click.command()
@click.option(
    "--patient",
    help="Only letters about this patient (a contact).",
    shell_complete=complete.contacts,
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--page", default=1, show_default=True, type=click.IntRange(1))
@pass_ctx
def inbox(ctx: Ctx, patient: str | None, limit: int, page: int) -> None:
    """Received letters, newest first."""
    _listing(ctx, "in", limit, page, patient)


@click.command()
@click.option(
    "--patient",
    help="Only letters about this patient (a contact).",
    shell_complete=complete.contacts,
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--page", default=1, show_default=True, type=click.IntRange(1))
@pass_ctx
def sent(ctx: Ctx, patient: str | None, limit: int, page: int) -> None:
    """My doubles, with each recipient's receipt status."""
    _listing(ctx, "sent", limit, page, patient)


def is_letter_file(ref: str) -> bool:
    """``read``/``verify`` take a message id (a prefix, ``latest``) or a letter file:
    a file is named by a path that exists, or that has a folder or ``.smsg`` in it."""
    from pathlib import Path  # here: the listings of this module import no pathlib

    return Path(ref).is_file() or "/" in ref or ref.endswith(".smsg")


@click.command()
@click.argument("message_id", metavar="ID|latest|FILE", shell_complete=complete.message_ids)
@click.option(
    "--save-attachments",
    type=click.Path(file_okay=False),  # made a Path in read(): no pathlib for the listings
    help="Write the attachments into DIR.",
)
@click.option("--plain", "style", flag_value="plain", help="Plain text: no frame, no layout.")
@click.option("--markdown", "style", flag_value="markdown", help="One Markdown document.")
@click.option("--no-pager", is_flag=True, help="Never page a long letter on a terminal.")
@pass_ctx
def read(
    ctx: Ctx, message_id: str, save_attachments: str | None, style: str | None, no_pager: bool
) -> None:
    """Show a letter under its verification panel: a stored one by its id (32 hex
    digits, or a unique prefix of 6 or more) or `latest` (the one received last),
    or a letter FILE addressed to me, checked as `receive` would, not stored."""
    import sys
    from pathlib import Path

    from securemsg.app.read import read as read_letter
    from securemsg.app.read import read_file
    from securemsg.cli.view import LetterView

    save_dir = None if save_attachments is None else Path(save_attachments)
    if is_letter_file(message_id):
        r = read_file(ctx.home(), Path(message_id), ctx.now(), save_dir=save_dir)
    else:
        r = read_letter(ctx.home(), message_id, ctx.now(), save_dir=save_dir)
    view = LetterView(
        r.opened,
        r.me,
        names=r.names,
        folder=r.folder,
        replied_to=r.replied_to,
        received_at=r.received_at,
        first_read_at=r.first_read_at,
        status="read" if r.folder is not None else "verified",
    )
    if ctx.as_json:
        emit(view, True)
    elif style == "markdown":
        sys.stdout.write(view.to_markdown())
    elif style == "plain":
        view.render(Printer(force_plain=True))
    elif not no_pager and sys.stdout.isatty() and sys.stdin.isatty():
        page(view)
    else:
        emit(view, False)


@click.command()
@click.argument("message_id", metavar="ID|latest", shell_complete=complete.message_ids)
@pass_ctx
def thread(ctx: Ctx, message_id: str) -> None:
    """A letter's whole conversation, as a tree of who answered whom."""
    view = ListView.of(mailbox.thread(ctx.home(), message_id))
    view.schema = "securemsg.thread/3"
    emit(view, ctx.as_json)


@click.group()
def receipts() -> None:
    """Receipts and refusal notices for letters I sent."""


@receipts.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@pass_ctx
def receipts_import(ctx: Ctx, files: tuple[str, ...]) -> None:
    """Match receipts (or refusal notices) to the doubles they prove."""
    from pathlib import Path

    from securemsg.app.receive import import_proofs
    from securemsg.cli.receiving import finish_report

    finish_report(import_proofs(ctx.home(), [Path(f) for f in files], ctx.now()), ctx.as_json)
