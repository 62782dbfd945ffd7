"""How times are written: RFC 3339 in UTC for machines (JSON), short forms for people.

Every time in a `--json` document goes through :func:`rfc3339`, so the JSON schemas
have one time format (``YYYY-MM-DDTHH:MM:SSZ``). Dates that are not times (a birth
date) stay RFC 3339 full-dates (``YYYY-MM-DD``).
"""

from __future__ import annotations

import datetime as _dt


def rfc3339(ts: int) -> str:
    """A Unix time as an RFC 3339 UTC timestamp, e.g. ``2026-12-01T08:30:00Z``."""
    return _dt.datetime.fromtimestamp(ts, tz=_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
