"""Entry point: global options, command registration, and the one place where
errors become messages and exit codes (docs/cli.md, EXIT STATUS)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

import click

from securemsg import errors
from securemsg.cli import hardening
from securemsg.i18n import N_, _

if TYPE_CHECKING:
    from securemsg.app.home import Home


class Ctx:
    """The global options, handed to every command (no dataclass: start-up time)."""

    __slots__ = ("as_json", "home_option", "verbose", "warned")

    def __init__(self, home_option: str | None, as_json: bool, verbose: bool) -> None:
        self.home_option = home_option
        self.as_json = as_json
        self.verbose = verbose
        self.warned = False

    def __repr__(self) -> str:
        return (
            f"Ctx(home_option={self.home_option!r}, as_json={self.as_json!r}, "
            f"verbose={self.verbose!r})"
        )

    def home(self, warn: bool = True) -> Home:
        """The home; the first time, a one-line warning on stderr if my own card
        expires within 60 days or has expired (docs/cli.md, "card renew")."""
        from securemsg.app.home import open_home

        home = open_home(self.home_option, os.environ)
        if warn and not self.warned:
            self.warned = True
            expiry_warning(home, self.now())
        return home

    @staticmethod
    def now() -> int:
        return int(time.time())


pass_ctx = click.make_pass_decorator(Ctx)


def expiry_warning(home: Home, now: int) -> None:
    """Warn (stderr, one line, never in --json stdout) that my card expires soon."""
    if not home.exists():
        return
    try:
        card = home.card()
    except (errors.SecureMsgError, OSError):
        return  # the command itself reports a damaged home
    from securemsg.core.card import RENEW_GRACE_DAYS
    from securemsg.core.times import shown_day

    state = card.expiry_state(now)
    if state == "expires_soon":
        days = card.days_left(now)
        sys.stderr.write(
            _(
                "securemsg: warning: your card expires on {day} (in {days} days): renew it "
                "with `securemsg card renew` and give it to your correspondents"
            ).format(day=shown_day(card.expires), days=days)
            + "\n"
        )
    elif state == "expired":
        until = shown_day(card.expires + RENEW_GRACE_DAYS * 86400)
        sys.stderr.write(
            _(
                "securemsg: warning: your card expired on {day}: your correspondents refuse "
                "your letters; renew it with `securemsg card renew` (possible until {until})"
            ).format(day=shown_day(card.expires), until=until)
            + "\n"
        )


class LazyGroup(click.Group):
    """Sub-commands are imported only when run (start-up time matters)."""

    lazy: ClassVar[dict[str, tuple[str, str]]] = {
        "init": ("securemsg.cli.identity", "init"),
        "whoami": ("securemsg.cli.identity", "whoami"),
        "card": ("securemsg.cli.identity", "card"),
        "contacts": ("securemsg.cli.contacts", "contacts"),
        "send": ("securemsg.cli.letters", "send"),
        "reply": ("securemsg.cli.letters", "reply"),
        "receive": ("securemsg.cli.receiving", "receive"),
        "verify": ("securemsg.cli.receiving", "verify"),
        "inbox": ("securemsg.cli.mail", "inbox"),
        "sent": ("securemsg.cli.mail", "sent"),
        "read": ("securemsg.cli.mail", "read"),
        "thread": ("securemsg.cli.mail", "thread"),
        "receipts": ("securemsg.cli.mail", "receipts"),
        "log": ("securemsg.cli.logcheck", "log"),
        "consent": ("securemsg.cli.consent", "consent"),
        "drop": ("securemsg.cli.drop", "drop"),
        "backup": ("securemsg.cli.backup", "backup"),
        "restore": ("securemsg.cli.backup", "restore"),
        "device": ("securemsg.cli.device", "device"),
        "unlock": ("securemsg.cli.agent", "unlock"),
        "lock": ("securemsg.cli.agent", "lock"),
        "agent": ("securemsg.cli.agent", "agent"),
        "passphrase": ("securemsg.cli.agent", "passphrase"),
        "account": ("securemsg.cli.account", "account"),
        "key": ("securemsg.cli.keys", "key"),
        "settings": ("securemsg.cli.settings", "settings"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name != "whoami":  # before the command can unlock a key or read a letter
            hardening.not_dumpable()
        if cmd_name in self.lazy:
            import importlib

            module, attr = self.lazy[cmd_name]
            cmd: click.Command = getattr(importlib.import_module(module), attr)
            translate_help(cmd)
            return cmd
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _(HELP[name]) if name in HELP else "") for name in self.list_commands(ctx)]
        with formatter.section(_("Commands")):
            formatter.write_dl(rows)


HELP = {
    "init": N_("Create my identity (keys, profile, card)."),
    "whoami": N_("My profile, fingerprint and where my keys are kept."),
    "card": N_("Export or renew my signed public card."),
    "contacts": N_("Correspondents: add cards, list, show, verify."),
    "send": N_("Sign, encrypt and deliver a letter."),
    "reply": N_("Answer a letter: its author, patient and thread filled in."),
    "receive": N_("Verify and accept letters and receipts addressed to me."),
    "verify": N_("Check a letter addressed to me without storing it."),
    "inbox": N_("Received letters."),
    "sent": N_("My doubles and their receipts."),
    "read": N_("Read a letter under its verification panel."),
    "thread": N_("A letter and its replies."),
    "receipts": N_("Import receipts for letters I sent."),
    "log": N_("Verify the mailbox's tamper-evident log."),
    "consent": N_("Patient consent: grant, revoke, object, show, import, list."),
    "drop": N_("Set up a drop folder shared by several Unix accounts."),
    "backup": N_("Write the whole home into one passphrase-encrypted file."),
    "restore": N_("Restore a backup into an empty home, verified."),
    "device": N_("Use my identity on a second computer (add, join, sync, forget)."),
    "unlock": N_("Unlock my keys once, for a time (--for 8h): no more prompts."),
    "lock": N_("Stop the key agent: it forgets the keys."),
    "agent": N_("The key agent: status."),
    "passphrase": N_("Change the key file's passphrase."),
    "account": N_("Mail accounts for letters by mail: add, list, show, remove, test."),
    "key": N_("My key pair: rotate to a new one, revoke one."),
    "settings": N_("This home's language and time zone."),
}


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", "home", metavar="DIR", help=N_("Home folder (or SECUREMSG_HOME)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print results as JSON."))
@click.option("-v", "--verbose", is_flag=True, help=N_("Show tracebacks on errors."))
@click.version_option(package_name="securemsg")
@click.pass_context
def cli(ctx: click.Context, home: str | None, as_json: bool, verbose: bool) -> None:
    """securemsg: end-to-end encrypted letters between caregivers, with the
    patient's signed consent."""
    ctx.obj = Ctx(home, as_json, verbose)
    _set_display_zone(os.environ)
    from securemsg import i18n

    i18n.select(i18n.wanted(os.environ))
    _home_settings(ctx, os.environ)


def _home_settings(ctx: click.Context, env: Mapping[str, str]) -> None:
    """The home's language and time zone (`securemsg settings`), over the locale and
    the system's zone; SECUREMSG_LANG and SECUREMSG_TZ still win."""
    if env.get("SECUREMSG_LANG") and env.get("SECUREMSG_TZ"):
        return  # both chosen by the environment: no file to read
    from securemsg import i18n
    from securemsg.app.home import start_settings

    found = start_settings(ctx.obj.home_option, env)
    language = found.get("language")
    wanted = language in i18n.LANGUAGES and not env.get("SECUREMSG_LANG")
    if wanted and language != i18n.language():
        i18n.select(str(language))
        from securemsg.cli.clicktexts import translate_click

        translate_click()  # click's texts (and type names) in that language
        translate_help(cli)
        if ctx.invoked_subcommand:  # loaded before this callback: its help again
            cli.get_command(ctx, ctx.invoked_subcommand)
    zone = found.get("time_zone")
    if zone and not env.get("SECUREMSG_TZ"):
        _set_display_zone({"SECUREMSG_TZ": zone})


def choose_language(env: Mapping[str, str]) -> None:
    """The language of every text from now on (before click reads --help), and
    the global options' help in it; click's own texts too (cli/clicktexts.py)."""
    from securemsg import i18n

    i18n.select(i18n.wanted(env))
    if i18n.language() != "en":
        from securemsg.cli.clicktexts import translate_click

        translate_click()
    translate_help(cli)


def translate_help(cmd: click.Command) -> None:
    """Help texts of ``cmd``, its options and sub-commands in the selected
    language (they are written, and marked, in English: click reads them at import)."""
    source = getattr(cmd, "_securemsg_source", None)
    if source is None:  # first time: keep the English texts
        source = (cmd.help, cmd.short_help, [getattr(p, "help", None) for p in cmd.params])
        cmd._securemsg_source = source  # type: ignore[attr-defined]
    text, short, helps = source
    cmd.help = _(text) if text else text
    cmd.short_help = _(short) if short else short
    for param, help_text in zip(cmd.params, helps, strict=True):
        if help_text and isinstance(param, click.Option):
            param.help = _(help_text)
    for sub in getattr(cmd, "commands", {}).values():
        translate_help(sub)


def _set_display_zone(env: Mapping[str, str]) -> None:
    """Times shown to people: in SECUREMSG_TZ (an IANA name such as Europe/Paris),
    else in the system's local zone (TZ, /etc/localtime). JSON stays UTC."""
    from securemsg.core.times import set_display_zone

    name = env.get("SECUREMSG_TZ", "")
    if not name:
        set_display_zone(None)
        return
    import zoneinfo

    try:
        set_display_zone(zoneinfo.ZoneInfo(name))
    except (ValueError, zoneinfo.ZoneInfoNotFoundError) as exc:
        raise errors.UsageError(
            _("SECUREMSG_TZ={name} is not a known time zone").format(name=repr(name)),
            hint=_("give an IANA zone name such as Europe/Paris, or unset it to use the system's"),
        ) from exc


def main(argv: list[str] | None = None) -> None:
    hardening.no_core_dumps()  # a crash must not leave keys or letters in a core file
    args = sys.argv[1:] if argv is None else argv
    choose_language(os.environ)
    as_json = "--json" in args
    verbose = "-v" in args or "--verbose" in args
    try:
        rc = cli.main(args=args, prog_name="securemsg", standalone_mode=False)
    except errors.SecureMsgError as exc:
        sys.exit(report(exc, as_json, verbose))
    except click.exceptions.Abort:
        sys.stderr.write(_("interrupted") + "\n")
        sys.exit(errors.EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        sys.stderr.write(_("interrupted") + "\n")
        sys.exit(errors.EXIT_INTERRUPTED)
    except click.ClickException as exc:
        code = errors.EXIT_USAGE if isinstance(exc, click.UsageError) else errors.EXIT_ERROR
        if not as_json:
            exc.show()
            sys.exit(code)
        wrapped = errors.UsageError(exc.format_message())
        wrapped.exit_code = code
        sys.exit(report(wrapped, as_json, verbose))
    except Exception as exc:  # a bug: say so clearly, never dump secrets
        if isinstance(exc, OSError):
            from securemsg.app.home import disk_full, permission_denied

            # a full disk, a file this account may not touch: no bug; say so
            known = disk_full(exc) or permission_denied(exc)
            if known is not None:
                sys.exit(report(known, as_json, verbose))
        if verbose:
            raise
        text = _("internal error: {name}; rerun with -v for details").format(
            name=type(exc).__name__
        )
        sys.stderr.write(text + "\n")
        sys.exit(errors.EXIT_ERROR)
    sys.exit(rc if isinstance(rc, int) else errors.EXIT_OK)


def report(exc: errors.SecureMsgError, as_json: bool, verbose: bool) -> int:
    if verbose:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    from securemsg.cli.output import dumps
    from securemsg.core.text import for_terminal  # a message may quote someone else's text

    if as_json:
        doc = {
            "schema": "securemsg.error/1",
            "error": exc.code,
            "message": exc.message,
            "hint": exc.hint,
            "exit": exc.exit_code,
        }
        for key in ("rule", "party"):
            if getattr(exc, key, None) is not None:
                doc[key] = getattr(exc, key)
        sys.stderr.write(dumps(doc, indent=None) + "\n")
    else:
        said = _("securemsg: error: {message}").format(message=for_terminal(exc.message))
        sys.stderr.write(said + "\n")
        if exc.hint:
            sys.stderr.write(_("  hint: {hint}").format(hint=for_terminal(exc.hint)) + "\n")
    return exc.exit_code
