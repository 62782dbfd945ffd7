"""Every time in every --json document is RFC 3339 in UTC (``YYYY-MM-DDTHH:MM:SSZ``),
one format across all schemas; dates that are not times (birth dates) are full-dates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from letterworld import World

RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
TIME_KEYS = {"date", "time", "added", "created", "expires", "not_after", "issued_at"}
DATE_KEYS = {"birth_date"}


def walk(doc: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield path + "." + key, key, value
            yield from walk(value, path + "." + key)
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from walk(value, f"{path}[{i}]")


def check(doc: Any) -> int:
    """Assert the format of every time and date field; return how many were seen."""
    seen = 0
    for where, key, value in walk(doc):
        if key in TIME_KEYS and value is not None:
            assert isinstance(value, str) and RFC3339_UTC.fullmatch(value), (where, value)
            seen += 1
        if key in DATE_KEYS and value is not None:
            assert isinstance(value, str) and FULL_DATE.fullmatch(value), (where, value)
    return seen


def test_every_json_time_is_rfc3339_utc(world: World) -> None:
    mid = world.send("--phone-call", "2026-01-15T10:30+01:00")["message_id"]
    assert world.receive_drop("card")[0] == 0
    assert world.receive_drop("pat")[0] == 0
    docs = {
        "whoami": world.ok("gp", "whoami"),
        "contacts list": world.ok("gp", "contacts", "list"),
        "contacts show": world.ok("gp", "contacts", "show", "Bob"),
        "inbox": world.ok("card", "inbox"),
        "sent": world.ok("gp", "sent"),
        "read": world.ok("card", "read", mid),
        "read (patient)": world.ok("pat", "read", mid),
        "consent show": world.ok("pat", "consent", "show", world.path("consent.cose")),
        "consent list": world.ok("pat", "consent", "list"),
        "log": world.ok("card", "log", "verify", "--show"),
    }
    counts = {name: check(doc) for name, doc in docs.items()}
    # each document that carries a time was actually checked (the walk is not vacuous)
    assert all(counts[name] > 0 for name in docs if name != "consent list"), counts
    assert docs["read"]["phone_call"]["time"] == "2026-01-15T09:30:00Z"
    assert docs["whoami"]["schema"] == "securemsg.whoami/2"
    assert docs["log"]["schema"] == "securemsg.log/2"
    assert docs["inbox"]["schema"] == "securemsg.letters/3"
    assert docs["read"]["schema"] == "securemsg.letter/3"
