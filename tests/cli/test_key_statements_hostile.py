"""A thief with a correspondent's stolen key, against the key statements
(issue 16; the red team of session 4), through the installed executable.

A succession's time ``at`` is written by whoever holds the old key: a thief can
date it as they like, as a letter. So "was the key revoked when it vouched?" is
decided by what this mailbox saw itself (the revocation imported, the time the
succession is imported), never by ``at`` alone."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import test_key_rotation as base
from test_key_rotation import ALICE, World, card_of, contact, ok, prepared_revocation, sm

from securemsg.core.card import Card
from securemsg.core.identity import SecretIdentity
from securemsg.core.keychange import KeyRevocation, Reason, Succession
from securemsg.store.home import Home

pytestmark = pytest.mark.slow
world = base.world  # the fixture: Alice and Bob, each the other's verified contact
MONTH = 30 * 86400


def stolen_key(home: Path) -> SecretIdentity:
    h = Home(home, env={"SECUREMSG_PASSPHRASE": base.PASSPHRASE})
    try:
        return h.unlock_history().current
    finally:
        h.close()


def thiefs_succession(alice: Path, at: int) -> bytes:
    """Alice's stolen key vouching for the thief's key, on a card of Alice's profile."""
    thief = SecretIdentity.generate()
    card = Card.sign(thief, card_of(alice).profile, int(time.time()))
    return Succession.sign(stolen_key(alice), thief, card, at).encoded


def test_a_backdated_succession_by_a_revoked_key_is_refused(world: World, snapshot) -> None:
    """Bob has imported Alice's revocation; the thief signs a succession dated a
    month before it. Before: accepted, Bob's contact moved to the thief's key,
    still verified."""
    a, b = world.alice, world.bob
    ok(sm(b, "--json", "contacts", "add", prepared_revocation(a)))
    forged = world.tmp / "backdated.cose"
    forged.write_bytes(thiefs_succession(a, int(time.time()) - MONTH))
    before = snapshot(b)
    res = sm(b, "--json", "contacts", "add", forged)
    assert res.exit_code == 3, res.stdout
    assert res.error_json()["error"] == "key_revoked"
    assert snapshot(b) == before


def test_a_revocation_stated_before_an_imported_succession_unverifies_it(world: World) -> None:
    """The thief's succession, dated a month back, reaches Bob first; then Alice's
    revocation as of the day of the theft (before the succession was imported
    here). The successor it vouched for must not stay verified: Bob took it in
    after T, whatever date the thief wrote. Before: still verified (``at`` < T)."""
    a, b = world.alice, world.bob
    stolen_at = int(time.time()) - 2
    forged = world.tmp / "first.cose"
    forged.write_bytes(thiefs_succession(a, stolen_at - MONTH))
    res = ok(sm(b, "--json", "contacts", "add", forged))
    new_fp = res.json()["fingerprint"]
    assert contact(b, new_fp)["verified"] is True  # nothing to tell it from a real rotation yet
    day = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stolen_at))
    revocation = world.tmp / "rev.cose"
    ok(sm(a, "key", "revoke", "--as-of", day, "-o", revocation))
    res = ok(sm(b, "--json", "contacts", "add", revocation))
    assert res.json()["status"] == "revoked"
    assert contact(b, new_fp)["verified"] is False
    assert card_of(a).profile.name == ALICE


def test_a_key_revoked_as_of_a_future_time_vouches_for_nothing_either(
    world: World, snapshot
) -> None:
    """A revocation dated a year ahead (signed with the key: the CLI refuses a
    future --as-of, a crafted statement does not): receive refuses the key's
    letters at once, and the key vouches for no successor either."""
    a, b = world.alice, world.bob
    rev = KeyRevocation.sign(stolen_key(a), Reason.COMPROMISED, int(time.time()),
                             int(time.time()) + 12 * MONTH)  # fmt: skip
    ahead = world.tmp / "ahead.cose"
    ahead.write_bytes(rev.encoded)
    ok(sm(b, "--json", "contacts", "add", ahead))
    forged = world.tmp / "succ.cose"
    forged.write_bytes(thiefs_succession(a, int(time.time())))
    before = snapshot(b)
    res = sm(b, "--json", "contacts", "add", forged)
    assert res.exit_code == 3 and res.error_json()["error"] == "key_revoked", res.stdout
    assert snapshot(b) == before


def test_a_compromised_key_vouches_for_nothing_even_before_its_revocation(world: World) -> None:
    """The thief's succession reaches Bob before Alice's prepared revocation (reason
    "compromised", no T: T is the day Bob imports it, after the succession). The
    key may have been in the thief's hands long before: the successor it vouched
    for is not verified any more. Before: it stayed verified."""
    a, b = world.alice, world.bob
    forged = world.tmp / "first.cose"
    forged.write_bytes(thiefs_succession(a, int(time.time())))
    new_fp = ok(sm(b, "--json", "contacts", "add", forged)).json()["fingerprint"]
    assert contact(b, new_fp)["verified"] is True
    res = ok(sm(b, "--json", "contacts", "add", prepared_revocation(a)))
    assert res.json()["status"] == "revoked"
    assert contact(b, new_fp)["verified"] is False


def test_a_key_retired_after_a_rotation_still_vouches_for_its_successor(world: World) -> None:
    """The counterpart: Alice rotates, then her old key is revoked as "superseded"
    (not compromised): Bob keeps her new key verified."""
    a, b = world.alice, world.bob
    old = stolen_key(a)
    succ = world.tmp / "s.cose"
    ok(sm(a, "key", "rotate", "-o", succ))
    new_fp = ok(sm(b, "--json", "contacts", "add", succ)).json()["fingerprint"]
    rev = KeyRevocation.sign(old, Reason.SUPERSEDED, int(time.time()), None)
    retired = world.tmp / "retired.cose"
    retired.write_bytes(rev.encoded)
    time.sleep(1.1)  # T, the import time, strictly after the succession was taken in
    res = ok(sm(b, "--json", "contacts", "add", retired))
    assert res.json()["status"] == "revoked"
    assert contact(b, new_fp)["verified"] is True
