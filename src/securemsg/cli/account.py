"""account add, list, show, remove, test: mail accounts for letters by mail; and
the report of ``send --mail``."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from securemsg.cli import names
from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit
from securemsg.errors import UsageError
from securemsg.i18n import _, ngettext

if TYPE_CHECKING:
    from securemsg.app.carry import Carried
    from securemsg.app.send import SendResult

TLS_MODES = click.Choice(["implicit", "starttls"])


@dataclass
class MailSentView:
    result: SendResult
    mails: tuple[tuple[str, str, int], ...]
    account: str
    schema: str = "securemsg.send-mail/1"
    double_to: str | None = None  # several devices: the double mailed to my own address
    double_problem: Any = None  # a SecureMsgError: the double could not be mailed

    def to_json(self) -> dict[str, Any]:
        from securemsg.cli.compose import SentView

        doc = SentView(self.result).to_json()
        for o in doc["outputs"]:
            del o["file"]  # the outbox file is gone once mailed
        doc["account"] = self.account
        doc["mails"] = [{"recipient": n, "address": a, "bytes": b} for n, a, b in self.mails]
        if self.double_to is not None or self.double_problem is not None:
            p = self.double_problem
            doc["double_mailed_to"] = self.double_to
            doc["double_problem"] = (
                None if p is None else {"error": p.code, "detail": p.message, "hint": p.hint}
            )
        return doc

    def render(self, out: Printer) -> None:
        r = self.result
        out.field(_("Message id"), r.message_id, "cyan")
        out.field(_("Legal basis"), names.basis(r.basis))
        rows = [[n, a, _("{n} bytes").format(n=b)] for n, a, b in self.mails]
        cols = [_("Recipient"), _("Address"), _("Mail")]
        out.table(_("Sent by mail from {account}").format(account=self.account), cols, rows)
        for name, doms in r.withheld:
            out.line(
                _(
                    "Withheld from {name}: {domains} (not their care domain or not consented)"
                ).format(name=name, domains=", ".join(names.domain(d) for d in doms))
            )
        out.field(_("Double kept"), str(r.double))
        if self.double_to is not None:
            out.field(_("Double mailed to your other devices at"), self.double_to)
        if self.double_problem is not None:
            out.line(
                _(
                    "The double could not be mailed to your other devices: {detail} "
                    "(the letter itself was sent; they will not see it in sent)"
                ).format(detail=self.double_problem.message)
            )


def _view(a: Any) -> dict[str, Any]:
    """An account as shown: everything but the password."""
    return {
        "name": a.name,
        "address": a.address,
        "imap": {"host": a.imap_host, "port": a.imap_port, "tls": a.imap_tls.value},
        "smtp": {"host": a.smtp_host, "port": a.smtp_port, "tls": a.smtp_tls.value},
        "login": a.login,
        "ca_file": a.ca_file,
        "after": a.after.value,
        "done_folder": a.done_folder,
        "max_mail": a.max_mail,
    }


@dataclass
class AccountsView:
    accounts: list[dict[str, Any]]
    schema: str = "securemsg.accounts/1"

    def to_json(self) -> dict[str, Any]:
        return {"accounts": self.accounts}

    def render(self, out: Printer) -> None:
        if not self.accounts:
            out.line(_("No mail account (securemsg account add)."))
            return
        rows = [
            [
                a["name"],
                a["address"],
                f"{a['imap']['host']}:{a['imap']['port']} ({a['imap']['tls']})",
                f"{a['smtp']['host']}:{a['smtp']['port']} ({a['smtp']['tls']})",
                a["after"],
            ]
            for a in self.accounts
        ]
        cols = [_("Name"), _("Address"), "IMAP", "SMTP", _("After")]
        out.table(_("Mail accounts"), cols, rows)


@dataclass
class CheckView:
    check: Any
    schema: str = "securemsg.account-test/1"

    def to_json(self) -> dict[str, Any]:
        c = self.check
        return {
            "account": c.account.name,
            "smtp_size_limit": c.smtp_size,
            "imap_uidvalidity": c.imap_uidvalidity,
            "waiting": c.waiting,
            "ok": True,
        }

    def render(self, out: Printer) -> None:
        c = self.check
        said = _("{name}: SMTP and IMAP logins succeeded over verified TLS")
        out.line(said.format(name=c.account.name), "green")
        largest = _("{n} bytes").format(n=c.smtp_size) if c.smtp_size else _("not announced")
        out.field(_("Largest mail"), largest)
        out.field(
            _("Waiting"),
            ngettext(
                "{n} securemsg mails in INBOX", "{n} securemsg mails in INBOX", c.waiting
            ).format(n=c.waiting),
        )


def send_mail(ctx: Ctx, req: Any, account: str | None, asked: bool) -> MailSentView:
    """``send --mail``; and ``send`` with none of -o, --drop, --mail (``asked``
    False): by mail if the home has a mail account (its default transport), else
    a usage error."""
    from securemsg.app.mail import accounts, send_by_mail

    home = ctx.home()
    if not asked and not accounts(home):
        raise UsageError(
            _("give -o DIR or --drop DIR (or --mail)"),
            hint=_("with a mail account (securemsg account add), letters go by mail"),
        )
    sent = send_by_mail(home, req, account, ctx.now())
    if sent.carried is not None:
        say_carried(sent.carried)
    return MailSentView(
        sent.result, sent.mails, sent.account, double_to=sent.double_to,
        double_problem=sent.double_problem,
    )  # fmt: skip


def say_carried(carried: Carried) -> None:
    """My key succession sent along with a letter (app/carry.py), on stderr."""
    from securemsg.cli.output import message, warn

    if carried.names:
        message(
            _(
                "your key succession went with the letter to {names}: their receive moves "
                "you to your new key"
            ).format(names=", ".join(carried.names))
        )
    for name, exc in carried.problems:
        warn(
            _("your key succession could not go with the letter to {name}: {message}").format(
                name=name, message=exc.message
            )
        )


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
    else:
        from securemsg.app.mail import read_terminal

        entered = read_terminal(_("Mail password: "))
        if entered is None:
            raise UsageError(
                _("no terminal to ask the mail password on"),
                hint=_("give --password-stdin and write the password on standard input"),
            )
        password = entered
    if not password:
        raise UsageError(_("the mail password is empty"))
    return password


@click.group()
def account() -> None:
    """Mail accounts for letters by mail (IMAP and SMTP over TLS)."""


@account.command("add")
@click.argument("address")
@click.option("--name", help="A name for the account (default: ADDRESS).")
@click.option("--imap-host", required=True)
@click.option("--imap-port", type=click.IntRange(1, 65535), default=993, show_default=True)
@click.option("--imap-tls", type=TLS_MODES, default="implicit", show_default=True)
@click.option("--smtp-host", required=True)
@click.option("--smtp-port", type=click.IntRange(1, 65535), default=587, show_default=True)
@click.option("--smtp-tls", type=TLS_MODES, default="starttls", show_default=True)
@click.option("--login", help="The login (default: ADDRESS).")
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Trust only this CA for the servers' certificates (default: the system's).",
)
@click.option(
    "--after",
    type=click.Choice(["flag", "move"]),
    default="flag",
    show_default=True,
    help="What receive --mail does with a processed mail.",
)
@click.option("--done-folder", default="securemsg-done", show_default=True)
@click.option(
    "--max-mail",
    type=click.IntRange(4096),
    default=64 << 20,
    show_default=True,
    help="The largest mail receive --mail fetches, in bytes (larger: refused, left).",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_ctx
def account_add(
    ctx: Ctx,
    address: str,
    name: str | None,
    imap_host: str,
    imap_port: int,
    imap_tls: str,
    smtp_host: str,
    smtp_port: int,
    smtp_tls: str,
    login: str | None,
    ca_file: str | None,
    after: str,
    done_folder: str,
    max_mail: int,
    password_stdin: bool,
) -> None:
    """Add a mail account; its password is sealed in the home with the identity's
    storage key, never written in clear."""
    import os

    from securemsg.app import mail
    from securemsg.app.mail import TLS, Account, After

    home = ctx.home()
    home.unlock()  # before the password is asked: a locked home fails first
    a = Account(
        name or address,
        address,
        imap_host,
        imap_port,
        TLS(imap_tls),
        smtp_host,
        smtp_port,
        TLS(smtp_tls),
        login or address,
        read_password(password_stdin),
        os.path.abspath(ca_file) if ca_file else None,
        After(after),
        done_folder,
        max_mail,
    )
    emit(AccountsView([_view(mail.add_account(home, a))]), ctx.as_json)


@account.command("list")
@pass_ctx
def account_list(ctx: Ctx) -> None:
    """The mail accounts (never their passwords)."""
    from securemsg.app import mail

    emit(AccountsView([_view(a) for a in mail.accounts(ctx.home())]), ctx.as_json)


@account.command("show")
@click.argument("name", required=False)
@pass_ctx
def account_show(ctx: Ctx, name: str | None) -> None:
    """One mail account's settings (never its password)."""
    from securemsg.app import mail

    emit(AccountsView([_view(mail.account(ctx.home(), name))]), ctx.as_json)


@account.command("remove")
@click.argument("name")
@pass_ctx
def account_remove(ctx: Ctx, name: str) -> None:
    """Remove a mail account, its password and what receive --mail remembered of it."""
    from securemsg.app import mail

    emit(AccountsView([_view(mail.remove_account(ctx.home(), name))]), ctx.as_json)


@account.command("test")
@click.argument("name", required=False)
@pass_ctx
def account_test(ctx: Ctx, name: str | None) -> None:
    """Log in to the SMTP and IMAP servers (TLS verified) and read their limits."""
    from securemsg.app import mail

    emit(CheckView(mail.test_account(ctx.home(), name)), ctx.as_json)


@dataclass
class MailedView:
    mailed: Any
    schema: str = "securemsg.mailed/1"

    def to_json(self) -> dict[str, Any]:
        m = self.mailed
        return {
            "account": m.account,
            "what": m.what,
            "to": [{"to": who, "address": a} for who, a in m.to],
        }

    def render(self, out: Printer) -> None:
        m = self.mailed
        for who, address in m.to:
            out.line(
                _("Sent the {what} by mail to {who} <{address}> (from {account})").format(
                    what=_(m.what), who=who, address=address, account=m.account
                )
            )


def mail_card(ctx: Ctx, to: tuple[str, ...], account: str | None) -> None:
    """``card send`` (registered in cli/identity.py, on whoami's import path)."""
    from securemsg.app.mailobjects import send_card

    emit(MailedView(send_card(ctx.home(), list(to), account)), ctx.as_json)


@click.command("send")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--to", "to", multiple=True, required=True, metavar="CONTACT")
@click.option("--account", metavar="NAME", help="The mail account to send from.")
@pass_ctx
def consent_send(ctx: Ctx, file: Path, to: tuple[str, ...], account: str | None) -> None:
    """Mail a grant, revocation or objection to contacts (their card's address)."""
    from securemsg.app.mailobjects import send_consent

    emit(MailedView(send_consent(ctx.home(), file, list(to), account, ctx.now())), ctx.as_json)
