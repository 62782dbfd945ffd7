"""send and reply: the options they share, the summary of what each recipient
got (or, with --dry-run, will get), and the question before sending to a key
nobody verified.

Unverified keys: on a terminal (stdin and stderr both a terminal), send warns
and asks before writing anything; --yes skips the warning and the question.
Otherwise (a script, a pipe) it warns on stderr and sends: scripts that worked
keep working, and the warning is in their log. With --json, stderr carries only
an error document: each copy's ``verified`` in the result says it instead.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from securemsg.app import send as sending
from securemsg.app.send import AttachmentFile, Copy, SendRequest, SendResult
from securemsg.cli import names
from securemsg.cli.output import Printer, emit, warn
from securemsg.core.frozen import Frozen, _set
from securemsg.errors import Cancelled, FormatError, SendRefused, UsageError
from securemsg.i18n import _

MAX_CONSENT_FILE = 64 * 1024
F = TypeVar("F", bound=Callable[..., Any])


def _items(items: tuple[tuple[str, str], ...]) -> str:
    untitled = _("(untitled text)")
    return "; ".join(f"{t or untitled} [{names.domain(d)}]" for t, d in items) or "-"


def _copy_json(c: Copy) -> dict[str, Any]:
    def items(xs: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
        return [{"name": n, "domain": d} for n, d in xs]

    return {
        "recipient": c.name,
        "fingerprint": c.fp,
        "role": c.role,
        "verified": c.verified,
        "patient_copy": c.patient_copy,
        "sections": items(c.sections),
        "attachments": items(c.attachments),
        "withheld_sections": items(c.withheld_sections),
        "withheld_attachments": items(c.withheld_attachments),
    }


def _who(c: Copy) -> str:
    extra = " " + _("(patient's copy)") if c.patient_copy else ""
    return c.name + extra + ("" if c.verified else " " + _("[key NOT verified]"))


class SentView:
    """What `send` did, as shown (a plain class, not a dataclass: start-up time)."""

    __slots__ = ("result", "schema")

    def __init__(self, result: SendResult, schema: str = "securemsg.send/1") -> None:
        self.result = result
        self.schema = schema

    def to_json(self) -> dict[str, Any]:
        r = self.result
        files = {o.fp: o for o in r.outputs}
        return {
            "message_id": r.message_id,
            "basis": r.basis,
            "outputs": [
                {
                    "recipient": o.name,
                    "fingerprint": o.fp,
                    "role": o.role,
                    "domains": list(o.domains),
                    "file": str(o.path),
                    "patient_copy": o.patient_copy,
                }
                for o in r.outputs
            ],
            "withheld": [{"recipient": n, "domains": list(d)} for n, d in r.withheld],
            "double": str(r.double),
            "copies": [_copy_json(c) for c in r.copies if c.fp in files],
        }

    def render(self, out: Printer) -> None:
        r = self.result
        out.field(_("Message id"), r.message_id, "cyan")
        out.field(_("Legal basis"), names.basis(r.basis))
        atts = {c.fp: c for c in r.copies}
        rows = []
        for o in r.outputs:
            c = atts.get(o.fp)
            who = _who(c) if c else o.name
            sent = _items(c.attachments) if c else "-"
            domains = ", ".join(names.domain(d) for d in o.domains)
            rows.append([who, names.role(o.role), domains, sent, str(o.path)])
        cols = [_("Recipient"), _("Role"), _("Receives"), _("Attachments"), _("File")]
        out.table(_("Sent"), cols, rows)
        for name, doms in r.withheld:
            out.line(
                _(
                    "Withheld from {name}: {domains} (not their care domain or not consented)"
                ).format(name=name, domains=", ".join(names.domain(d) for d in doms))
            )
        out.field(_("Double kept"), str(r.double))


class PreviewView:
    """``send --dry-run``: each recipient's copy, nothing written or signed (a
    plain class, not a dataclass: start-up time)."""

    __slots__ = ("result", "schema")

    def __init__(self, result: SendResult, schema: str = "securemsg.send-preview/1") -> None:
        self.result = result
        self.schema = schema

    def to_json(self) -> dict[str, Any]:
        r = self.result
        return {
            "dry_run": True,
            "subject": r.subject,
            "basis": r.basis,
            "copies": [_copy_json(c) for c in r.copies],
        }

    def render(self, out: Printer) -> None:
        r = self.result
        out.line(_("Dry run: nothing was written, signed or sent."), "bold")
        out.field(_("Subject"), r.subject)
        out.field(_("Legal basis"), names.basis(r.basis))
        labels = (_("sections:"), _("attachments:"), _("withheld:"))
        width = max(len(label) for label in labels) + 2
        for c in r.copies:
            out.line()
            out.line(f"{_who(c)} ({names.role(c.role)})", "bold")
            out.line(f"  {labels[0]:<{width}}{_items(c.sections)}")
            out.line(f"  {labels[1]:<{width}}{_items(c.attachments)}")
            if c.withheld_sections or c.withheld_attachments:
                held = c.withheld_sections + c.withheld_attachments
                out.line(f"  {labels[2]:<{width}}{_items(held)}")


def confirm_unverified(yes: bool, as_json: bool) -> Callable[[tuple[Copy, ...]], None]:
    """The check run before anything is written (see the module docstring)."""

    def check(copies: tuple[Copy, ...]) -> None:
        unverified = [c.name for c in copies if not c.verified]
        if not unverified or yes or as_json:  # JSON: each copy's "verified" says it
            return
        text = _(
            "the key of {names} is not verified: compare the safety number with them "
            "(securemsg contacts show NAME, then contacts verify)"
        ).format(names=", ".join(unverified))
        warn(text)
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            return
        if not click.confirm(_("Send anyway?"), default=False, err=True):
            raise Cancelled(_("nothing was sent"), hint=_("verify the keys first, or answer yes"))

    return check


def send_options(f: F) -> F:
    """The options send and reply share (after their own)."""
    options = [
        click.option(
            "--consent",
            "consent",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="The patient's signed consent grant (names the patient).",
        ),
        click.option("--attach", multiple=True, metavar="FILE[:DOMAIN]", help="Attach a file."),
        click.option(
            "--phone-call", metavar="ISO-DATETIME", help="The phone call this letter confirms."
        ),
        click.option("--no-patient-copy", is_flag=True, help="Do not send the patient a copy."),
        click.option(
            "-o",
            "--output",
            "out_dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Write one .smsg file per recipient into DIR (it must exist).",
        ),
        click.option(
            "--drop",
            type=click.Path(file_okay=False, readable=False, path_type=Path),
            help="Deliver into a shared drop folder.",
        ),
        click.option("--mail", "by_mail", is_flag=True, help="Send by mail (docs/cli.md)."),
        click.option("--account", metavar="NAME", help="The mail account to send from."),
        click.option(
            "--dry-run",
            is_flag=True,
            help="Show what each recipient would get; write, sign and send nothing.",
        ),
        click.option("--yes", "-y", is_flag=True, help="Do not ask about unverified keys."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def read_consent(consent: Path | None) -> bytes | None:
    if consent is None:
        return None
    with consent.open("rb") as fh:  # bounded read: never load a huge file
        data = fh.read(MAX_CONSENT_FILE + 1)
    if len(data) > MAX_CONSENT_FILE:
        raise FormatError(_("{file} is too large to be a consent grant").format(file=consent))
    return data


class Delivery(Frozen):
    """How the letter leaves, besides -o/--drop (in the request), and --yes."""

    __slots__ = (  # noqa: RUF023 (field order)
        "by_mail",
        "account",
        "yes",
    )
    by_mail: bool
    account: str | None
    yes: bool

    def __init__(self, by_mail: bool, account: str | None, yes: bool) -> None:
        _set(self, "by_mail", by_mail)
        _set(self, "account", account)
        _set(self, "yes", yes)


def run_send(ctx: Any, req: SendRequest, how: Delivery, words: Callable[..., str]) -> None:
    """Send (or preview) ``req`` and print the result: into -o DIR or --drop DIR,
    else by mail (cli/account.py: --mail, or the home's mail account)."""
    from securemsg.cli.progress import with_progress

    if how.by_mail and (req.out_dir is not None or req.drop is not None):
        raise UsageError(_("give one of -o DIR, --drop DIR or --mail"))
    req.confirm = confirm_unverified(how.yes, ctx.as_json)
    bar = None
    if not req.dry_run:
        files = [a for a in req.attachments if isinstance(a, AttachmentFile)]
        shown, bar = with_progress(files)
        req.attachments = list(shown)
    view: Any
    try:
        if not req.dry_run and (how.by_mail or (req.out_dir is None and req.drop is None)):
            from securemsg.cli.account import send_mail

            view = send_mail(ctx, req, how.account, how.by_mail)
        else:
            result = sending.send(ctx.home(), req, ctx.now())
            view = PreviewView(result) if result.dry_run else SentView(result)
            if req.drop is not None and not result.dry_run:  # my key succession along
                from securemsg.app import carry
                from securemsg.cli.account import say_carried

                to = [(o.name, o.fp) for o in result.outputs]
                say_carried(carry.by_drop(ctx.home(), req.drop, to, ctx.now()))
    except SendRefused as exc:
        raise UsageError(words(exc), hint=exc.hint) from exc
    finally:
        if bar is not None:
            bar.close()
    emit(view, ctx.as_json)
