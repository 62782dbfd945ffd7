"""``securemsg settings``: this home's language and time zone, over the locale and
the system's (issue 14; applied at start-up by cli/main.py)."""

from __future__ import annotations

from typing import Any

import click

from securemsg.cli.main import Ctx, pass_ctx
from securemsg.cli.output import Printer, emit
from securemsg.errors import UsageError
from securemsg.i18n import LANGUAGES, _

LANGUAGE_NAMES = {"fr": "français", "en": "English"}  # each in its own language


class SettingsView:
    schema = "securemsg.settings/1"

    def __init__(self, settings: dict[str, str]) -> None:
        self.settings = settings

    def to_json(self) -> dict[str, Any]:
        return {
            "language": self.settings.get("language"),
            "time_zone": self.settings.get("time_zone"),
        }

    def render(self, out: Printer) -> None:
        language = self.settings.get("language")
        out.field(
            _("Language"),
            LANGUAGE_NAMES.get(language, language)
            if language
            else _("from the locale (SECUREMSG_LANG, LC_ALL, LC_MESSAGES, LANG)"),
        )
        zone = self.settings.get("time_zone")
        out.field(_("Time zone"), zone or _("the system's (SECUREMSG_TZ, TZ, /etc/localtime)"))


def _language(value: str) -> str | None:
    code = value.strip().lower()
    if code == "auto":
        return None
    if code in LANGUAGES:
        return code
    raise UsageError(
        _("--language {value} is not a language securemsg speaks").format(value=repr(value)),
        hint=_("choose fr, en, or auto (follow the locale)"),
    )


def _time_zone(value: str) -> str | None:
    name = value.strip()
    if name.lower() == "auto":
        return None
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError) as exc:
        raise UsageError(
            _("--time-zone {value} is not a known time zone").format(value=repr(value)),
            hint=_("give an IANA zone name such as Europe/Paris, or auto (the system's)"),
        ) from exc
    return name


@click.command()
@click.option("--language", metavar="fr|en|auto", help="The language of this home's messages.")
@click.option(
    "--time-zone", metavar="ZONE|auto", help="The zone of the times shown, e.g. Europe/Paris."
)
@pass_ctx
def settings(ctx: Ctx, language: str | None, time_zone: str | None) -> None:
    """Show or set this home's language and time zone. They apply from the next
    command on, over the locale and the system's zone; SECUREMSG_LANG and
    SECUREMSG_TZ still win. `auto` removes a setting."""
    from securemsg.app.home import settings as home_settings

    changes: dict[str, str | None] = {}
    if language is not None:
        changes["language"] = _language(language)
    if time_zone is not None:
        changes["time_zone"] = _time_zone(time_zone)
    emit(SettingsView(home_settings(ctx.home(), changes)), ctx.as_json)
