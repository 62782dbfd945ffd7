"""Times the formats allow but no calendar can write (red team of session 4).

A time is any integer below 2^40 (docs/format.md §1): the year 36812. A
colleague with a valid key can sign a card "valid until" then; before, adding
it ended in ``internal error: ValueError`` after the card was stored, and
``contacts list`` failed the same way from then on (text and JSON). Such a time
is now written as core.times.LAST (9999-12-31), through the executable."""

from __future__ import annotations

import time
from pathlib import Path

from clirun import run_cli


def test_a_card_valid_until_the_year_36812_is_listed(make_home, make_card) -> None:
    home: Path = make_home("Dr Alice Martin", "gp")
    now = int(time.time())
    far = make_card("Dr Far Future", "specialist", validity_days=(2**40 - 1 - now) // 86400,
                    binary=True)  # fmt: skip
    assert far.card.expires > 253402300800  # after 9999-12-31
    res = run_cli(home, "contacts", "add", far.path, executable=True)
    assert res.exit_code == 0, res.stderr
    for args in (("contacts", "list"), ("--json", "contacts", "list"), ("contacts", "show", "Far")):
        res = run_cli(home, *args, executable=True)
        assert res.exit_code == 0, (args, res.stderr)
        assert "internal error" not in res.stderr
    doc = run_cli(home, "--json", "contacts", "show", "Far", executable=True).json()
    assert doc["expires"] == "9999-12-31T00:00:00Z"
