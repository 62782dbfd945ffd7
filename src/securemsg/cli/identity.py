"""init, whoami, card export."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import click

from securemsg.app import identity
from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit, keystore_shown, message
from securemsg.core.card import Card
from securemsg.core.times import rfc3339, shown_date, shown_day
from securemsg.errors import UsageError
from securemsg.i18n import N_, _

# No pathlib at import (start-up time of whoami): file options arrive as str.


def profile_json(card: Card) -> dict[str, Any]:
    p = card.profile
    return {
        "name": p.name,
        "role": p.role.value,
        "rpps": p.rpps,
        "specialty": p.specialty,
        "ins": p.ins,
        "birth_date": p.birth_date,
        "email": p.email,
        "fingerprint": card.fingerprint,
        "created": rfc3339(card.created),
        "expires": rfc3339(card.expires),
        "test_key": card.test_key,
    }


def _role_code(value: str) -> str:
    from securemsg.cli.names import role_code  # not on whoami's path

    return role_code(value)


def _role_shown(code: str) -> str:
    """A role in the language: the code in English (cli/names.py only in French)."""
    from securemsg import i18n

    if i18n.language() == "en":
        return code
    from securemsg.cli.names import role

    return role(code)


def render_profile(out: Printer, card: Card) -> None:
    p = card.profile
    out.field(_("Name"), p.name)
    out.field(_("Role"), _role_shown(p.role.value))
    for label, value in (
        (N_("RPPS"), p.rpps),
        (N_("Specialty"), p.specialty),
        (N_("INS"), p.ins),
        (N_("Birth date"), shown_date(p.birth_date) if p.birth_date else None),
        (N_("Email"), p.email),
    ):
        if value:
            out.field(_(label), value)
    out.field(_("Fingerprint"), card.display_fingerprint, "cyan")
    valid = _("{start} to {end}").format(start=shown_day(card.created), end=shown_day(card.expires))
    out.field(_("Card valid"), valid)
    if card.test_key:
        out.line(
            _("PUBLIC TEST KEY: for demos and tests only, never for real patients"), "bold red"
        )


class WhoAmI:
    """The result of init and whoami (no dataclass: start-up time)."""

    schema = "securemsg.whoami/2"

    def __init__(self, card: Card, home: str, keystore: str) -> None:
        self.card = card
        self.home = home
        self.keystore = keystore

    def __repr__(self) -> str:
        return f"WhoAmI(card={self.card!r}, home={self.home!r}, keystore={self.keystore!r})"

    def to_json(self) -> dict[str, Any]:
        return {**profile_json(self.card), "home": str(self.home), "keystore": self.keystore}

    def render(self, out: Printer) -> None:
        render_profile(out, self.card)
        out.field(_("Home"), str(self.home))
        out.field(_("Keys kept in"), keystore_shown(self.keystore))


def _complete_roles(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    # here, not at import: whoami's import path (CONTRIBUTING.md, "Start-up time")
    from securemsg.cli.complete import roles

    return list(roles(ctx, param, incomplete))


@click.command()
@click.option("--name", required=True, help="Display name, e.g. 'Dr Alice Martin'.")
@click.option(
    "--role",
    required=True,
    help="gp, specialist, emergency, hospital, nurse, "
    "physiotherapist, medical-adviser, expert or patient.",
    shell_complete=_complete_roles,
    callback=lambda _c, _p, v: _role_code(v),
)
@click.option("--rpps", help="Practitioner's RPPS number (11 digits).")
@click.option("--specialty", help="Practitioner's specialty.")
@click.option("--ins", help="Patient's INS (national health identifier).")
@click.option(
    "--birth-date",
    callback=lambda _c, _p, v: birth_date(v, os.environ),
    help="Patient's birth date, YYYY-MM-DD (or JJ/MM/AAAA in a French locale).",
)
@click.option("--email", help="Contact e-mail.")
@click.option(
    "--test-key",
    "test_key",
    type=click.Path(exists=True, dir_okay=False),
    hidden=True,
    help="Use a PUBLIC TEST KEY from keys/ (demos and tests only).",
)
@click.option(
    "--revocation-file",
    "revocation_file",
    type=click.Path(dir_okay=False),
    help="Where to write the prepared revocation statement "
    "(default: HOME/revocation-<fingerprint>.cose, in the securemsg home).",
)
@pass_ctx
def init(ctx: Ctx, /, **profile: str | None) -> None:
    """Create my identity: key pairs, profile and signed card."""
    # the options are app.identity.init's keyword arguments, one for one
    me = identity.init(ctx.home(), now=ctx.now(), **profile)  # type: ignore[arg-type]
    if not ctx.as_json:
        message(_("Identity created in {home}").format(home=me.home), "green")
    emit(WhoAmI(me.card, me.home, me.keystore), ctx.as_json)
    if me.revocation_file is None or ctx.as_json:
        return
    message(
        _(
            "A revocation statement for this key is in {file}: copy it "
            "offline (a USB key in a drawer); if this computer is lost or the key stolen, "
            "give it to your correspondents (they import it with securemsg contacts add)."
        ).format(file=me.revocation_file)
    )


@click.command()
@pass_ctx
def whoami(ctx: Ctx) -> None:
    """My profile, fingerprint, and which store holds my keys."""
    me = identity.whoami(ctx.home())
    emit(WhoAmI(me.card, me.home, me.keystore), ctx.as_json)


@click.group()
def card() -> None:
    """My signed public card."""


@card.command("export")
@click.option(
    "-o",
    "--output",
    "output_name",
    type=click.Path(dir_okay=False),
    help="Write to FILE instead of stdout.",
)
@pass_ctx
def card_export(ctx: Ctx, output_name: str | None) -> None:
    """Print or write my card, to mail or paste to correspondents."""
    exported = identity.export_card(ctx.home(), output_name)
    if exported.written_to is None:
        click.echo(exported.text, nl=False)
        return
    message(_("Card written to {path}").format(path=exported.written_to))


@card.command("send")
@click.option("--to", "to", multiple=True, required=True, metavar="ADDRESS")
@click.option("--account", metavar="NAME", help="The mail account to send from.")
@pass_ctx
def card_send(ctx: Ctx, to: tuple[str, ...], account: str | None) -> None:
    """Mail my card to ADDRESS (the receiver is offered it, never trusts it)."""
    from securemsg.cli.account import mail_card  # off whoami's import path

    mail_card(ctx, to, account)


def birth_date(value: str | None, env: Mapping[str, str]) -> str | None:
    """A birth date as typed: ISO everywhere; JJ/MM/AAAA where the locale is French
    (LC_ALL, LC_MESSAGES or LANG), day first as in France. Returns YYYY-MM-DD."""
    if value is None or "/" not in value:
        return value  # ISO (checked by the profile like any other date)
    lang = env.get("LC_ALL") or env.get("LC_MESSAGES") or env.get("LANG") or ""
    parts = value.split("/")
    if not lang.lower().startswith("fr"):
        raise UsageError(
            _("birth date {value}: write it as YYYY-MM-DD").format(value=repr(value)),
            hint=_("day/month/year is accepted in a French locale (LANG=fr_FR.UTF-8)"),
        )
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts) or len(parts[2]) != 4:
        raise UsageError(
            _("birth date {value}: write it as DD/MM/YYYY or YYYY-MM-DD").format(value=repr(value)),
            hint=_("for example 02/03/1955 for 2 March 1955"),
        )
    day, month, year = (int(p) for p in parts)
    return f"{year:04d}-{month:02d}-{day:02d}"


def parse_validity(value: str) -> int:
    """``--valid-for``: days as ``N``, ``Nd`` or years as ``Ny`` (365 days each)."""
    from securemsg.core.card import MAX_VALIDITY_DAYS

    text = value.strip().lower()
    unit = 365 if text.endswith("y") else 1
    digits = text[:-1] if text[-1:] in ("d", "y") else text
    if not digits.isascii() or not digits.isdigit() or not 1 <= int(digits) * unit <= 99999:
        raise UsageError(
            _("--valid-for {value} is not a duration").format(value=repr(value)),
            hint=_("give days (730 or 730d) or years (2y)"),
        )
    days = int(digits) * unit
    if days > MAX_VALIDITY_DAYS:
        raise UsageError(
            _("--valid-for {value} is longer than {max} days").format(
                value=repr(value), max=MAX_VALIDITY_DAYS
            ),
            hint=_("a card is renewed every two years or so; choose at most 3y"),
        )
    return days


class RenewedView:
    """The result of card renew (no dataclass: this module is on whoami's path)."""

    schema = "securemsg.card-renewed/1"

    def __init__(self, card: Card, previous_expires: int, written_to: str | None) -> None:
        self.card = card
        self.previous_expires = previous_expires
        self.written_to = written_to

    def to_json(self) -> dict[str, Any]:
        return {
            **profile_json(self.card),
            "previous_expires": rfc3339(self.previous_expires),
            "written_to": self.written_to,
            "card": self.card.to_text(),
        }

    def render(self, out: Printer) -> None:
        render_profile(out, self.card)


@card.command("renew")
@click.option(
    "--valid-for",
    "valid_for",
    default="730d",
    show_default=True,
    metavar="DURATION",
    help="New validity from now: days (730, 730d) or years (2y); at most 3y.",
)
@click.option(
    "-o",
    "--output",
    "output_name",
    type=click.Path(dir_okay=False),
    help="Also write the renewed card to FILE (never over a file).",
)
@pass_ctx
def card_renew(ctx: Ctx, valid_for: str, output_name: str | None) -> None:
    """Re-sign my card with a new validity, and print it to hand out."""
    days = parse_validity(valid_for)
    done = identity.renew_card(ctx.home(warn=False), ctx.now(), days, output_name)
    message(
        _(
            "Card renewed: valid until {until} (was {was}); give it to your correspondents "
            "(they add it with: securemsg contacts add FILE)"
        ).format(until=shown_day(done.card.expires), was=shown_day(done.previous_expires)),
        "green",
    )
    if done.written_to is not None:
        message(_("Card written to {file}").format(file=done.written_to))
    if ctx.as_json:
        emit(RenewedView(done.card, done.previous_expires, done.written_to), True)
    elif done.written_to is None:
        click.echo(done.card.to_text(), nl=False)
