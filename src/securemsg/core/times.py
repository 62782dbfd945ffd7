"""How times are written: RFC 3339 in UTC for machines (JSON), short forms for people.

Every time in a `--json` document goes through :func:`rfc3339`, so the JSON schemas
have one time format (``YYYY-MM-DDTHH:MM:SSZ``). Dates that are not times (a birth
date) stay RFC 3339 full-dates (``YYYY-MM-DD``).

Times shown to people (:func:`shown`) are in the display zone, with the zone named:
``2026-12-01 09:30 CET`` for a call made at 09:30 in Paris. The zone is UTC until
the command line sets it (:func:`set_display_zone`, from ``SECUREMSG_TZ``, ``TZ``
or the system's local zone: cli/main.py); this module reads no environment.
"""

from __future__ import annotations

import datetime as _dt

# None: the system's local zone, as the C library knows it (TZ, /etc/localtime),
# with its summer time rules; else a fixed tzinfo (a zoneinfo.ZoneInfo).
_display_zone: _dt.tzinfo | None = _dt.UTC


# The formats allow times up to 2^40 (year 36812; docs/format.md §1), which no
# datetime (nor RFC 3339, four-digit years) can write: a time after LAST (a
# colleague's card "valid until" such a year, a manifest's date) is written as
# LAST, never a crash of the command showing it. LAST leaves a day for any
# zone's offset before 9999-12-31T23:59:59Z.
LAST = 253402214400  # 9999-12-31T00:00:00Z


def _utc(ts: int) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(min(max(ts, 0), LAST), tz=_dt.UTC)


def set_display_zone(zone: _dt.tzinfo | None) -> None:
    """The zone of every time shown to people from now on (None: the system's)."""
    global _display_zone
    _display_zone = zone


def shown(ts: int) -> str:
    """A Unix time for people, in the display zone: ``YYYY-MM-DD HH:MM ZONE``; in
    French ``JJ/MM/AAAA HH:MM ZONE`` (written by hand: Babel's format_datetime
    would cost 25-45 ms of import and locale data on each command, issue 14)."""
    from securemsg import i18n

    when = _utc(ts).astimezone(_display_zone)
    form = "%d/%m/%Y %H:%M " if i18n.language() == "fr" else "%Y-%m-%d %H:%M "
    return when.strftime(form) + (when.tzname() or when.strftime("%z"))


def shown_day(ts: int) -> str:
    """The day of a Unix time for people, in the display zone: ``YYYY-MM-DD``; in
    French ``JJ/MM/AAAA`` (a card's expiry, a key's revocation)."""
    from securemsg import i18n

    when = _utc(ts).astimezone(_display_zone)
    return when.strftime("%d/%m/%Y" if i18n.language() == "fr" else "%Y-%m-%d")


def shown_date(day: str) -> str:
    """A full-date (``YYYY-MM-DD``, a birth date) for people: in French ``JJ/MM/AAAA``."""
    from securemsg import i18n

    parts = day.split("-")
    if i18n.language() != "fr" or len(parts) != 3 or not all(p.isdigit() for p in parts):
        return day
    return f"{parts[2]}/{parts[1]}/{parts[0]}"


def rfc3339(ts: int) -> str:
    """A Unix time as an RFC 3339 UTC timestamp, e.g. ``2026-12-01T08:30:00Z``
    (a time after :data:`LAST` as LAST)."""
    return _utc(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


iso_time = shown  # the name the views and core.consent use for it
