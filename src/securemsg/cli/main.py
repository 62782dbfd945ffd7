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
    from securemsg.core.card import RENEW_GRACE_DAYS, iso_day

    state = card.expiry_state(now)
    if state == "expires_soon":
        days = card.days_left(now)
        sys.stderr.write(
            f"securemsg: warning: your card expires on {iso_day(card.expires)} (in {days} "
            "days): renew it with `securemsg card renew` and give it to your correspondents\n"
        )
    elif state == "expired":
        until = iso_day(card.expires + RENEW_GRACE_DAYS * 86400)
        sys.stderr.write(
            f"securemsg: warning: your card expired on {iso_day(card.expires)}: your "
            f"correspondents refuse your letters; renew it with `securemsg card renew` "
            f"(possible until {until})\n"
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
        "log": ("securemsg.cli.mail", "log"),
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
            return cmd
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


HELP = {
    "init": "Create my identity (keys, profile, card).",
    "whoami": "My profile, fingerprint and where my keys are kept.",
    "card": "Export or renew my signed public card.",
    "contacts": "Correspondents: add cards, list, show, verify.",
    "send": "Sign, encrypt and deliver a letter.",
    "reply": "Answer a letter: its author, patient and thread filled in.",
    "receive": "Verify and accept letters and receipts addressed to me.",
    "verify": "Check a letter addressed to me without storing it.",
    "inbox": "Received letters.",
    "sent": "My doubles and their receipts.",
    "read": "Read a letter under its verification panel.",
    "thread": "A letter and its replies.",
    "receipts": "Import receipts for letters I sent.",
    "log": "Verify the mailbox's tamper-evident log.",
    "consent": "Patient consent: grant, revoke, object, show, import, list.",
    "drop": "Set up a drop folder shared by several Unix accounts.",
    "backup": "Write the whole home into one passphrase-encrypted file.",
    "restore": "Restore a backup into an empty home, verified.",
    "device": "Use my identity on a second computer (add, join).",
    "unlock": "Unlock my keys once, for a time (--for 8h): no more prompts.",
    "lock": "Stop the key agent: it forgets the keys.",
    "agent": "The key agent: status.",
    "passphrase": "Change the key file's passphrase.",
    "account": "Mail accounts for letters by mail: add, list, show, remove, test.",
    "key": "My key pair: rotate to a new one, revoke one.",
}


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", "home", metavar="DIR", help="Home folder (or SECUREMSG_HOME).")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks on errors.")
@click.version_option(package_name="securemsg")
@click.pass_context
def cli(ctx: click.Context, home: str | None, as_json: bool, verbose: bool) -> None:
    """securemsg: end-to-end encrypted letters between caregivers, with the
    patient's signed consent."""
    ctx.obj = Ctx(home, as_json, verbose)
    _set_display_zone(os.environ)
    from securemsg import i18n

    i18n.select(i18n.wanted(os.environ))


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
            f"SECUREMSG_TZ={name!r} is not a known time zone",
            hint="give an IANA zone name such as Europe/Paris, or unset it to use the system's",
        ) from exc


def main(argv: list[str] | None = None) -> None:
    hardening.no_core_dumps()  # a crash must not leave keys or letters in a core file
    args = sys.argv[1:] if argv is None else argv
    as_json = "--json" in args
    verbose = "-v" in args or "--verbose" in args
    try:
        rc = cli.main(args=args, prog_name="securemsg", standalone_mode=False)
    except errors.SecureMsgError as exc:
        sys.exit(report(exc, as_json, verbose))
    except click.exceptions.Abort:
        sys.stderr.write("interrupted\n")
        sys.exit(errors.EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
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
        sys.stderr.write(f"internal error: {type(exc).__name__}; rerun with -v for details\n")
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
        sys.stderr.write(f"securemsg: error: {for_terminal(exc.message)}\n")
        if exc.hint:
            sys.stderr.write(f"  hint: {for_terminal(exc.hint)}\n")
    return exc.exit_code
