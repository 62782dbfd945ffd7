"""contacts add / list / show / verify."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from securemsg.app import contacts as book
from securemsg.app.contacts import AddStatus, Contact
from securemsg.cli import complete, names
from securemsg.cli.identity import profile_json, render_profile
from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit, message, warn
from securemsg.core.card import Card
from securemsg.core.fingerprint import safety_number
from securemsg.core.times import rfc3339, shown_day
from securemsg.core.times import shown as local_time
from securemsg.errors import FormatError
from securemsg.i18n import _, ngettext

if TYPE_CHECKING:  # `contacts add` makes its Path: `contacts list` imports no pathlib
    from pathlib import Path

MAX_CARD_FILE = 64 * 1024


def contact_json(c: Contact, me: Card | None = None) -> dict[str, Any]:
    doc = {
        **profile_json(c.card),
        "verified": c.verified,
        "state": c.state,
        "added": rfc3339(c.added),
        "replaces": c.replaces,
        "replaced_by": c.replaced_by,
        "pinned": c.pinned,  # a patient card learnt from a letter (not added by you)
        "revoked_as_of": rfc3339(c.revoked_as_of) if c.revoked_as_of is not None else None,
    }
    if me is not None:
        doc["safety_number"] = safety_number(
            (me.sign_public, me.enc_public), (c.card.sign_public, c.card.enc_public)
        )
    return doc


def status_text(c: Contact) -> str:
    if c.revoked_as_of is not None:
        return _("key revoked as of {day}").format(day=shown_day(c.revoked_as_of))
    if c.state == "replaced":
        return _("replaced on {day}").format(day=shown_day(c.replaced_at or 0))
    if c.unverified_pin:
        return _("patient key not verified by you (learnt from a letter)")
    return _("verified") if c.verified else _("not verified")


class ContactView:
    """One contact as shown (a plain class, not a dataclass: start-up time)."""

    __slots__ = ("contact", "me", "status", "warnings", "schema", "kept_letters")  # noqa: RUF023

    def __init__(
        self,
        contact: Contact,
        me: Card,
        status: str = "shown",
        warnings: tuple[str, ...] = (),
        schema: str = "securemsg.contact/2",
        kept_letters: list[dict[str, Any]] | None = None,  # `contacts add`: letters kept aside
    ) -> None:
        self.contact = contact
        self.me = me
        self.status = status
        self.warnings = warnings
        self.schema = schema
        self.kept_letters = kept_letters

    def to_json(self) -> dict[str, Any]:
        doc = {"status": self.status, **contact_json(self.contact, self.me)}
        extra = {} if self.kept_letters is None else {"kept_letters": self.kept_letters}
        return {**doc, "warnings": list(self.warnings), **extra}

    def render(self, out: Printer) -> None:
        c = self.contact
        render_profile(out, c.card)
        out.field(_("Status"), status_text(c), "green" if c.verified else "yellow")
        if c.replaces:
            out.field(
                _("Key changed"),
                _("replaces key {key}... (TOFU key change)").format(key=c.replaces[:16]),
                "yellow",
            )
        sn = safety_number(
            (self.me.sign_public, self.me.enc_public), (c.card.sign_public, c.card.enc_public)
        )
        out.field(_("Safety number"), sn)
        if not c.verified:
            out.line(
                _("Compare the fingerprint or safety number with them by phone or in person, then:")
            )
            out.line(
                _("  securemsg contacts verify {name} FINGERPRINT|SAFETY_NUMBER").format(
                    name="'" + c.name + "'"
                )
            )


def expiry_text(card: Card, now: int) -> str:
    """The card's last day, and how soon that is when within 60 days (or past)."""
    state = card.expiry_state(now)
    if state == "expired":
        return _("{day} EXPIRED").format(day=shown_day(card.expires))
    if state == "expires_soon":
        return ngettext("{day} (in {n} days)", "{day} (in {n} days)", card.days_left(now)).format(
            day=shown_day(card.expires), n=card.days_left(now)
        )
    return shown_day(card.expires)


class ContactList:
    """The contacts as listed (a plain class, not a dataclass: start-up time)."""

    __slots__ = ("contacts", "now", "schema")

    def __init__(
        self, contacts: list[Contact], now: int, schema: str = "securemsg.contacts/2"
    ) -> None:
        self.contacts = contacts
        self.now = now
        self.schema = schema

    def to_json(self) -> dict[str, Any]:
        return {
            "contacts": [
                {**contact_json(c), "card_expiry": c.card.expiry_state(self.now)}
                for c in self.contacts
            ]
        }

    def render(self, out: Printer) -> None:
        if not self.contacts:
            out.line(_("No contacts yet. Add a card with: securemsg contacts add FILE"))
            return
        rows = [
            [
                c.name,
                names.role(c.card.profile.role.value),
                c.card.display_fingerprint[:24],
                status_text(c),
                expiry_text(c.card, self.now),
            ]
            for c in self.contacts
        ]
        cols = [_("Name"), _("Role"), _("Fingerprint"), _("Status"), _("Card expires")]
        out.table(_("Contacts"), cols, rows)
        ending = [c for c in self.contacts if c.state == "active" and c.card.expiry_state(self.now)]
        for c in ending:
            out.line(_ending_line(c, self.now), "yellow")


def _ending_line(c: Contact, now: int) -> str:
    day = shown_day(c.card.expires)
    if c.card.is_expired(now):
        return _("The card of {name} expired on {day}: ask them for their renewed card.").format(
            name=c.name, day=day
        )
    return _(
        "The card of {name} expires on {day} (in {n} days): "
        "they should renew it (securemsg card renew) and send it to you."
    ).format(name=c.name, day=day, n=c.card.days_left(now))


@click.group()
def contacts() -> None:
    """Correspondents, from their signed cards."""


@contacts.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option(
    "--replace",
    "replace_key",
    is_flag=True,
    help="Accept a new key for someone already known, or a re-issued card that changes "
    "its holder's name, role, RPPS, INS or birth date (after checking it with them).",
)
@pass_ctx
def contacts_add(ctx: Ctx, file: str, replace_key: bool) -> None:
    """Add a correspondent from their card (FILE, or - for stdin)."""
    from pathlib import Path

    path = Path(file)
    data = sys.stdin.buffer.read(MAX_CARD_FILE + 1) if str(path) == "-" else _read(path)
    from securemsg.cli.sniff import refuse_other_kind

    refuse_other_kind(path, data[:1024], "card")  # a letter, consent...: say which command
    if len(data) > MAX_CARD_FILE:
        raise FormatError(_("this file is too large to be a card"))
    from securemsg.app import keys

    statement = keys.statement_type(data)
    if statement is not None:  # a key succession or revocation (docs/cli.md, "Keys")
        _import_statement(ctx, statement, data)
        return
    card = Card.parse(data)
    result = book.add(ctx.home(), card, ctx.now(), replace_key=replace_key)
    if result.status is AddStatus.REPLACED and result.previous is not None:
        warn(
            _("the key of {name} changed: {old} -> {new}. The new key is NOT verified.").format(
                name=card.name,
                old=result.previous.card.display_fingerprint,
                new=card.display_fingerprint,
            )
        )
    elif result.status is AddStatus.UNCHANGED and not ctx.as_json:
        message(_("{name} is already a contact with this key").format(name=result.contact.name))
    # names close to a known one, a re-issued card's changes (store/contacts.py)
    for text in result.warnings:
        warn(text)
    view = ContactView(result.contact, result.me, result.status.value, result.warnings)
    view.kept_letters = _receive_kept(ctx, card)
    emit(view, ctx.as_json)


def _import_statement(ctx: Ctx, statement: str, data: bytes) -> None:
    from securemsg.app import keys
    from securemsg.core import labels

    home = ctx.home()
    me = home.card()
    if statement == labels.COSE_KEY_SUCCESSION:
        moved = keys.import_succession(home, data, ctx.now())
        c = moved.contact
        if moved.status == "succeeded" and not ctx.as_json:
            text = (
                _(
                    "{name} has a new key: {old} -> {new}; their old key vouches for it "
                    "(still verified)"
                )
                if c.verified
                else _("{name} has a new key: {old} -> {new}; their old key vouches for it")
            )
            old, new = moved.previous.card.display_fingerprint, c.card.display_fingerprint
            message(text.format(name=c.name, old=old, new=new), "green")
        emit(ContactView(c, me, moved.status), ctx.as_json)
        return
    done = keys.import_revocation(home, data, ctx.now())
    c = done.contact
    warn(
        _(
            "the key {fingerprint} of {name} is revoked as of {time} ({reason}): its letters "
            "from then on are refused, and nothing is encrypted to it any more"
        ).format(
            fingerprint=c.card.display_fingerprint,
            name=c.name,
            time=local_time(c.revoked_as_of or 0),
            reason=names.reason(done.revocation.reason.value),
        )
    )
    if done.unvouched is not None:
        warn(
            _(
                "{name}'s key {fingerprint}, which the revoked key vouched for, is NOT "
                "verified any more; compare the safety number with them (securemsg contacts "
                "verify)"
            ).format(name=c.name, fingerprint=done.unvouched.card.display_fingerprint)
        )
    emit(ContactView(c, me, done.status), ctx.as_json)


def _receive_kept(ctx: Ctx, card: Card) -> list[dict[str, Any]]:
    """Letters from this author kept aside (refused while they were a stranger),
    received now (app/retry.py); each one said on stderr."""
    from securemsg.app.retry import retry, waiting
    from securemsg.cli.receiving import received_row

    home = ctx.home()
    if not waiting(home, card.fingerprint):
        return []
    rows = [received_row(r) for r in retry(home, ctx.now(), card.fingerprint)]
    for r in rows:
        if r["status"] in ("accepted", "duplicate"):
            message(
                _("received the letter kept aside from {name}: {id} {detail}")
                .format(name=card.name, id=r["message_id"], detail=r.get("detail") or "")
                .rstrip(),
                "green",
            )
        else:
            message(
                _("the letter kept aside from {name} ({file}): {detail}").format(
                    name=card.name, file=r["file"], detail=r["detail"]
                ),
                "red",
            )
        if "proof_file" in r:
            message(
                _(
                    "  its receipt is in {file}: give it to {name} "
                    "(their securemsg receive or receipts import records it)"
                ).format(file=r["proof_file"], name=card.name)
            )
    return rows


def _read(file: Path) -> bytes:
    with file.open("rb") as fh:
        return fh.read(MAX_CARD_FILE + 1)


@contacts.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include replaced keys.")
@pass_ctx
def contacts_list(ctx: Ctx, show_all: bool) -> None:
    """List correspondents."""
    listed = book.listing(ctx.home(), include_replaced=show_all)
    emit(ContactList(listed, ctx.now()), ctx.as_json)


@contacts.command("show")
@click.argument("contact", shell_complete=complete.contacts)
@pass_ctx
def contacts_show(ctx: Ctx, contact: str) -> None:
    """Show a contact, its fingerprint and our safety number."""
    shown = book.show(ctx.home(), contact)
    emit(ContactView(shown.contact, shown.me), ctx.as_json)


@contacts.command("verify")
@click.argument("contact", shell_complete=complete.contacts)
@click.argument("evidence", nargs=-1, required=True)
@pass_ctx
def contacts_verify(ctx: Ctx, contact: str, evidence: tuple[str, ...]) -> None:
    """Mark CONTACT verified after comparing its FINGERPRINT or SAFETY_NUMBER out of band."""
    verified = book.verify(ctx.home(), contact, " ".join(evidence))
    if not ctx.as_json:
        message(_("{name} is now verified").format(name=verified.contact.name), "green")
    emit(ContactView(verified.contact, verified.me, "verified"), ctx.as_json)
