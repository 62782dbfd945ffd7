"""key rotate / key revoke (issue 16; docs/cli.md, "Keys")."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from securemsg.app import keys
from securemsg.cli import names
from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit, message, warn
from securemsg.core.card import Card
from securemsg.core.keychange import Reason
from securemsg.core.times import rfc3339, shown, shown_day
from securemsg.errors import EXIT_ERROR, UsageError
from securemsg.i18n import N_, _

OUT = click.Path(dir_okay=False, path_type=Path)


@dataclass
class RotatedView:
    old: Card
    new: Card
    written_to: Path
    schema: str = "securemsg.key-rotated/1"

    def to_json(self) -> dict[str, Any]:
        return {
            "old_fingerprint": self.old.fingerprint,
            "new_fingerprint": self.new.fingerprint,
            "expires": rfc3339(self.new.expires),
            "written_to": str(self.written_to),
            "card": self.new.to_text(),
        }

    def render(self, out: Printer) -> None:
        out.field(_("Old key"), self.old.display_fingerprint)
        out.field(_("New key"), self.new.display_fingerprint, "cyan")
        valid = _("{start} to {end}").format(
            start=shown_day(self.new.created), end=shown_day(self.new.expires)
        )
        out.field(_("Card valid"), valid)
        out.field(_("Succession"), str(self.written_to))


@click.group()
def key() -> None:
    """My key pair: rotate to a new one, revoke one."""


@key.command("rotate")
@click.option(
    "-o", "--output", "output", type=OUT, required=True, help="Succession statement FILE."
)
@pass_ctx
def key_rotate(ctx: Ctx, output: Path) -> None:
    """Make a new key pair; the old key vouches for it (a succession statement)."""
    done = keys.rotate(ctx.home(), ctx.now(), output)
    message(
        _(
            "New key {key}; give {file} to every "
            "correspondent (they import it with: securemsg contacts add FILE). Your old key "
            "is kept, sealed, to open old letters."
        ).format(key=done.new.display_fingerprint, file=done.written_to),
        "green",
    )
    message(_("To send it to every contact: securemsg key announce --drop DIR (or --mail)"))
    emit(RotatedView(done.old, done.new, done.written_to), ctx.as_json)


def parse_time(value: str) -> int:
    """--as-of: YYYY-MM-DD (00:00 UTC) or YYYY-MM-DDTHH:MM:SSZ."""
    import datetime as dt

    try:
        if len(value) == 10:
            when = dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.UTC)
        else:
            when = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError as exc:
        raise UsageError(
            _("--as-of {value} is not a time").format(value=repr(value)),
            hint=_("give YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)"),
        ) from exc
    return int(when.timestamp())


@dataclass
class RevocationView:
    fingerprint: str
    reason: str
    as_of: int | None
    written_to: Path
    schema: str = "securemsg.key-revocation/1"

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "reason": self.reason,
            "as_of": rfc3339(self.as_of) if self.as_of is not None else None,
            "written_to": str(self.written_to),
        }

    def render(self, out: Printer) -> None:
        out.field(_("Revoked key"), self.fingerprint)
        out.field(_("Reason"), names.reason(self.reason))
        out.field(_("As of"), shown(self.as_of) if self.as_of is not None else _("when imported"))
        out.field(_("Statement"), str(self.written_to))


@key.command("revoke")
@click.option("-o", "--output", "output", type=OUT, required=True, help="Revocation FILE.")
@click.option(
    "--reason",
    type=click.Choice([r.value for r in Reason]),
    default=Reason.COMPROMISED.value,
    show_default=True,
)
@click.option("--as-of", "as_of", help="Revoked from this time (UTC; default: now).")
@pass_ctx
def key_revoke(ctx: Ctx, output: Path, reason: str, as_of: str | None) -> None:
    """Declare my current key revoked as of a time, with a reason (needs the key;
    without it, hand out the statement prepared at init)."""
    when = parse_time(as_of) if as_of is not None else None
    done = keys.revoke_own(ctx.home(), ctx.now(), output, Reason(reason), when)
    r = done.revocation
    warn(
        _(
            "give {file} to every correspondent (securemsg contacts add FILE), then make a "
            "new key: securemsg key rotate (your correspondents will verify it by safety number)"
        ).format(file=output)
    )
    said = _("To send it to every contact: securemsg key announce {file} --drop DIR (or --mail)")
    message(said.format(file=output))
    emit(RevocationView(r.fingerprint, r.reason.value, r.as_of, output), ctx.as_json)


STATEMENT_KINDS = {"key succession": N_("key succession"), "key revocation": N_("key revocation")}


@dataclass
class AnnouncedView:
    kind: str
    key: str
    by: str
    rows: list[dict[str, Any]]
    schema: str = "securemsg.key-announced/1"

    def to_json(self) -> dict[str, Any]:
        return {"statement": self.kind, "key": self.key, "by": self.by, "to": self.rows}

    def render(self, out: Printer) -> None:
        table = [
            [r["name"], _("sent") if r["status"] == "sent" else _("failed"), r["detail"]]
            for r in self.rows
        ]
        title = _("Announced: {what} of {key}").format(
            what=_(STATEMENT_KINDS[self.kind]), key=self.key[:16]
        )
        out.table(title, [_("Contact"), _("Status"), _("Where")], table)


@key.command("announce")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--to",
    "to",
    multiple=True,
    metavar="CONTACT",
    help="Only this contact (repeatable). Default: every contact whose key is not revoked.",
)
@click.option(
    "--drop",
    type=click.Path(exists=True, file_okay=False, readable=False, path_type=Path),
    help="Put it in each contact's folder of this drop folder.",
)
@click.option("--mail", "by_mail", is_flag=True, help="Mail it to the address on each card.")
@click.option("--account", metavar="NAME", help="The mail account (with --mail).")
@pass_ctx
def key_announce(
    ctx: Ctx,
    file: Path | None,
    to: tuple[str, ...],
    drop: Path | None,
    by_mail: bool,
    account: str | None,
) -> None:
    """Send my key succession (default: the latest, from key rotate) or a key
    revocation FILE to my contacts, by the drop folder or by mail."""
    if (drop is not None) == by_mail:
        raise UsageError(
            _("give --drop DIR or --mail, one of them"),
            hint=_("securemsg key announce --drop DROP-FOLDER, or securemsg key announce --mail"),
        )
    if account and not by_mail:
        raise UsageError(_("--account goes with --mail"))
    from securemsg.app import announce

    done = announce.announce(ctx.home(), file, list(to), drop, account)
    rows: list[dict[str, Any]] = []
    for d in done.deliveries:
        row: dict[str, Any] = {"name": d.name, "fingerprint": d.fingerprint}
        if d.error is None:
            row.update({"status": "sent", "detail": d.where or ""})
        else:
            e = d.error
            row.update({"status": "failed", "error": e.code, "detail": e.message, "hint": e.hint})
        rows.append(row)
    emit(AnnouncedView(done.kind, done.key, done.by, rows), ctx.as_json)
    failed = [r for r in rows if r["status"] == "failed"]
    for r in failed:
        message(f"{r['name']}: {r['detail']}", "red")
        if r.get("hint"):
            message(_("  hint: {hint}").format(hint=r["hint"]))
    if failed:
        raise click.exceptions.Exit(EXIT_ERROR)
