"""Letter-bound consent on the command line: what ``send --prepare`` reports,
and the review the patient confirms before ``consent grant --draft`` signs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from securemsg.app import consent as consenting
from securemsg.app import draft as drafting
from securemsg.app.consent import ConsentInfo
from securemsg.cli import names
from securemsg.cli.main import Ctx
from securemsg.cli.output import Printer, message
from securemsg.errors import UsageError
from securemsg.i18n import _


class PreparedView:
    """A prepared draft, as shown (a plain class, not a dataclass: start-up time)."""

    __slots__ = ("prepared", "schema")

    def __init__(self, prepared: drafting.Prepared, schema: str = "securemsg.prepare/1") -> None:
        self.prepared = prepared
        self.schema = schema

    def to_json(self) -> dict[str, Any]:
        p = self.prepared
        d = p.draft
        return {
            "draft": str(p.file),
            "message_id": d.message_id.hex(),
            "commitment": p.reviewed.commitment.hex(),
            "items": len(p.reviewed.items),
            "recipients": [
                {
                    "name": c.name,
                    "fingerprint": c.fingerprint,
                    "role": c.profile.role.value,
                    "domains": sorted(x.value for x in doms),
                }
                for c, doms in d.recipients
            ],
            "withheld": [{"recipient": n, "domains": list(x)} for n, x in p.withheld],
        }

    def render(self, out: Printer) -> None:
        p = self.prepared
        out.field(_("Draft"), str(p.file), "cyan")
        out.field(_("Letter commitment"), p.reviewed.commitment.hex())
        rows = [
            [c.name, names.role(c.profile.role.value), names.domains(doms)]
            for c, doms in p.draft.recipients
        ]
        out.table(_("Prepared for"), [_("Recipient"), _("Role"), _("Receives")], rows)
        out.line(
            _(
                "Give {file} to {patient} to review and sign "
                "(securemsg consent grant --draft); then send it with "
                "securemsg send --draft DRAFT --consent GRANT."
            ).format(file=p.file, patient=p.draft.patient.name)
        )


def show_review(review: drafting.Review) -> None:
    """The whole prepared letter on stderr: who wrote it, every item with its
    name, size and domain, who receives what, then the text of every section."""
    d, r = review.draft, review.reviewed
    author, _mine = review.name_of(d.author)
    message(
        _("Letter prepared by {author} ({role}) for a {kind}").format(
            author=author,
            role=names.role(d.author.profile.role.value),
            kind=names.kind(d.kind.value),
        )
    )
    message(_("Subject: {subject}").format(subject=r.source.subject))
    message(_("Message id: {id}").format(id=d.message_id.hex()))
    message(_("Items (every one of them, attachments included):"))
    for item, out in r.items:
        if item.kind == "section":
            text = _("{n}. section {name}: {size} bytes, {domain}")
        else:
            text = _("{n}. attachment {name}: {size} bytes, {domain}")
        said = text.format(
            n=item.n,
            name=repr(out.name or _("(opening)")),
            size=out.size,
            domain=names.domain(str(item.domain)),
        )
        message("  " + said)
    message(_("Who receives what:"))
    for card, domains in d.recipients:
        name, mine = review.name_of(card)
        note = "" if mine else " " + _("(card carried in the draft, not verified by you)")
        role = names.role(card.profile.role.value)
        message(f"  {name} ({role}){note}: {names.domains(domains)}")
    message("")
    for section in r.source.sections:
        message(f"[{names.domain(section.domain.value)}]")
        for line in section.text.split("\n"):
            message(line)
        message("")
    message(_("Letter commitment: {commitment}").format(commitment=r.commitment.hex()))


def confirm_review(review: drafting.Review, yes: bool) -> bool:
    show_review(review)
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(
            _("confirm the letter on a terminal"),
            hint=_("run the command in a terminal, or pass --yes from a script"),
        )
    return click.confirm(
        _("Do you consent to this exact letter going to these recipients?"), err=True
    )


def grant_draft(ctx: Ctx, draft: Path, seconds: int, yes: bool, output: Path) -> ConsentInfo:
    """``consent grant --draft``: review, confirm, sign, write and keep the grant."""
    home = ctx.home()
    me = consenting.require_patient(home)
    consenting.check_new_file(output)
    now = ctx.now()
    signed = drafting.grant_from_draft(
        home, me, draft, seconds, output, now, lambda review: confirm_review(review, yes)
    )
    if signed is None:
        raise UsageError(_("not signed: you did not confirm the letter"))
    return consenting.write_and_keep(home, signed, output, now)


def check_draft_send(given: dict[str, object], consent: bytes | None) -> bytes:
    """``send --draft``: every option that makes a letter is fixed by the draft."""
    fixed = [name for name, value in given.items() if value]
    if fixed:
        raise UsageError(
            _("{options}: fixed by the prepared draft").format(options=", ".join(fixed)),
            hint=_("give only --draft DRAFT, --consent GRANT and -o DIR or --drop DIR"),
        )
    if consent is None:
        raise UsageError(_("a prepared draft is sent under the consent signed for it: --consent"))
    return consent
