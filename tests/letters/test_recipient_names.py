"""Issue 13 (via issue 11): the author signs each recipient's display name into
the manifest, so a patient sees who received what, by name, even for a
practitioner whose card she does not hold; her own contact's name wins."""

from __future__ import annotations

import pytest
from letterworld import M, N, RefusedCheck, World, resign

from securemsg.core.domains import Purpose
from securemsg.core.letter.manifest import RecipientEntry

MN = frozenset({M, N})
EMERGENCY = {"kind": Purpose.EMERGENCY_REPORT, "basis": "emergency"}


def test_patient_sees_names_signed_by_the_author(world: World) -> None:
    """Jeanne holds Bob's card, not Dr Outsider's."""
    f = world.craft("pat", to=(("card", MN), ("out", MN), ("pat", MN)), **EMERGENCY)
    doc = world.ok("pat", "receive", f)
    mid = doc["results"][0]["message_id"]
    letter = world.ok("pat", "read", mid)
    by_fp = {r["fingerprint"]: r for r in letter["recipients"]}
    assert by_fp[world.fp("out")]["name"] == "Dr Oscar Outsider"
    assert by_fp[world.fp("out")]["named_by"] == "author"
    assert by_fp[world.fp("card")]["named_by"] == "you"
    assert by_fp[world.fp("pat")]["named_by"] == "you"
    text = world.run("pat", "read", mid)
    assert text.exit_code == 0, text.stderr
    assert "Dr Oscar Outsider (named by the author)" in text.stdout
    assert "Dr Bob Durand (named by the author)" not in text.stdout


def test_contact_name_wins_over_the_name_the_author_wrote(world: World) -> None:
    planned = world.plan(to=(("card", MN), ("pat", MN)), **EMERGENCY)
    renamed = tuple(
        RecipientEntry(r.fp, r.role, r.domains, "Dr Someone Else") if r.fp == world.fp("card")
        else r
        for r in planned.manifest.recipients
    )  # fmt: skip
    f = world.write("renamed.smsg", world.envelope(resign(planned, world.secret("gp"),
                                                          recipients=renamed), "pat"))  # fmt: skip
    mid = world.ok("pat", "receive", f)["results"][0]["message_id"]
    by_fp = {r["fingerprint"]: r for r in world.ok("pat", "read", mid)["recipients"]}
    assert by_fp[world.fp("card")]["name"] == "Dr Bob Durand"


@pytest.mark.slow
def test_recipient_name_with_a_bidi_control_is_refused(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    planned = world.plan(to=(("card", MN), ("out", MN), ("pat", MN)), **EMERGENCY)
    spoofed = tuple(
        RecipientEntry(r.fp, r.role, r.domains, "Dr Oscar \u202eOutsider")
        if r.fp == world.fp("out") else r
        for r in planned.manifest.recipients
    )  # fmt: skip
    f = world.write("spoofed.smsg", world.envelope(resign(planned, world.secret("gp"),
                                                          recipients=spoofed), "pat"))  # fmt: skip
    refused_at_receive("pat", f, error="bad_text", executable=True)
