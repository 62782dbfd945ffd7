"""Issue 11, items 1, 2 and 6: how a mailbox trusts a patient key, and whose
revocations and objections it applies.

Each hostile letter is built with the project's own library as a dishonest
practitioner with a valid key would build it, then received through the
installed executable: exit 3, the consent rule named, no home changed, and an
honest letter received in the same run is still delivered.

- item 1, forged patient key: a new key made with the patient's real name, INS
  and birth date signs a grant; a mailbox that holds her card (or pinned it from
  an earlier letter) refuses the letter (``patient_key_mismatch``), her own
  mailbox too (an alarm naming her); a carried card that expired is refused
  (``patient_card_expired``); a card carried for an unknown patient is pinned on
  first use, shown as "not verified by you" until ``contacts verify``.
- item 2: a revocation or objection of a patient who is not a contact is recorded
  with her card (``consent import --card``) and applied (``revoked``,
  ``recipient_objected``), also to a letter naming her under another key.
- item 6: an objection follows the practitioner across ``contacts add --replace``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from letterworld import BIRTH_DATE, INS, PATIENT_NAME, M, N, RefusedCheck, World, secret_of

import reference
from securemsg.core.card import Card
from securemsg.core.consent import Grant, Objection, Recipient, Revocation
from securemsg.core.digests import object_digest
from securemsg.core.domains import Domain, Purpose
from securemsg.core.identity import Profile, Role
from securemsg.core.letter import compose
from securemsg.core.letter.source import parse_letter

MN = frozenset({M, N})

# Whole runs of the executable (about 15 s): in `make test` (CI), not in the inner loop.
pytestmark = pytest.mark.slow


def forged_patient(world: World, *, expired: bool = False) -> tuple[Any, Card]:
    """A new key in the patient's real name, INS and birth date (the attack)."""
    secret = secret_of("forged-jeanne")
    now = int(time.time())
    card = Card.sign(
        secret,
        Profile(name=PATIENT_NAME, role=Role.PATIENT, ins=INS, birth_date=BIRTH_DATE),
        now - 400 * 86400 if expired else now - 60,
        validity_days=30 if expired else 365,
        test_key=True,
    )
    world.path("forged.card").write_text(card.to_text())
    return secret, card


def plan(
    world: World,
    to: list[tuple[Card, frozenset[Domain]]],
    patient: Card,
    consent: bytes | None,
    kind: Purpose = Purpose.REFERRAL,
    basis: str = "consent",
) -> compose.Planned:
    """world.plan() with cards given (a forged patient, a new key) instead of labels."""
    return compose.plan(
        source=parse_letter(world.path("letter.md").read_bytes(), "letter"),
        attachments=[],
        kind=kind,
        author=world.secret("gp"),
        author_card=world.card("gp"),
        recipients=to,
        basis=basis,
        now=int(time.time()),
        patient=patient,
        pseudonym=None,
        consent=consent,
        consent_digest=object_digest(consent) if consent else None,
        in_reply_to=None,
        phone_call=None,
    )


def forged_letter(world: World, to: str, *, expired: bool = False) -> Path:
    """The GP's letter to ``to`` under a grant signed with the forged key."""
    secret, card = forged_patient(world, expired=expired)
    grant = Grant.sign(
        secret,
        card,
        sender_fp=world.fp("gp"),
        recipients=[Recipient(fp=world.fp(to))],
        purpose=Purpose.REFERRAL,
        now=int(time.time()),
    )
    planned = plan(world, [(world.card(to), MN)], card, grant.encoded)
    return envelope_with(world, planned, to, card, grant.encoded, "forged.smsg")


def envelope_with(
    world: World,
    planned: compose.Planned,
    to: str,
    patient: Card,
    consent: bytes | None,
    name: str,
) -> Path:
    entry = planned.manifest.entry_for(world.fp(to))
    assert entry is not None
    data = b"".join(
        reference.envelope(
            planned, world.secret("gp"), world.card(to), entry.domains, consent, patient.encoded
        )
    )
    return world.write(name, data)


def emergency_to(world: World, to: str, patient: Card, name: str) -> Path:
    """An emergency report to ``to`` with the patient's copy (no grant needed)."""
    planned = plan(
        world,
        [(world.card(to), MN), (patient, MN)],
        patient,
        None,
        kind=Purpose.EMERGENCY_REPORT,
        basis="emergency",
    )
    return envelope_with(world, planned, to, patient, None, name)


def refused_beside_honest(
    world: World, check: RefusedCheck, label: str, hostile: Path, honest: Path, rule: str
) -> dict[str, Any]:
    row = check(label, hostile, error="consent_refused", rule=rule, executable=True)
    res = world.run(label, "--json", "receive", hostile, honest, executable=True)
    assert res.exit_code == 3, res.stderr
    first, second = res.json()["results"]
    assert (first["status"], first["rule"]) == ("refused", rule), first
    assert second["status"] == "accepted", second
    assert second["message_id"] in world.inbox_ids(label)
    return row


# -- item 1: a forged patient key --------------------------------------------------------
def test_forged_patient_key_refused_by_a_mailbox_holding_her_card(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    """Bob holds Jeanne's card; the letter carries a new key in her name."""
    hostile = forged_letter(world, "card")
    honest = world.craft("card", to=(("card", MN),))
    row = refused_beside_honest(
        world, refused_at_receive, "card", hostile, honest, "patient_key_mismatch"
    )
    assert "known here with another key" in row["detail"]


def test_carried_patient_card_is_pinned_then_a_forged_key_refused(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    """Oscar does not know Jeanne: the first letter's card is pinned, shown as not
    verified by him; a letter with another key in her name is then refused."""
    first = emergency_to(world, "out", world.card("pat"), "first.smsg")
    res = world.run("out", "--json", "receive", first, executable=True)
    assert res.exit_code == 0, res.stderr
    (row,) = res.json()["results"]
    doc = world.ok("out", "read", row["message_id"][:12])
    assert doc["patient"]["key"] == "pinned"
    assert doc["patient"]["fingerprint"] == world.fp("pat")
    text = world.run("out", "read", row["message_id"][:12], executable=True)
    assert "NOT verified by you" in text.stdout
    (listed,) = world.ok("out", "inbox")["letters"]
    assert listed["patient_key_not_verified_by_you"] is True
    assert "patient key not verified by you" in world.run("out", "inbox").stdout
    shown = world.ok("out", "contacts", "show", world.fp("pat"))
    assert (shown["pinned"], shown["verified"]) == (True, False)

    hostile = forged_letter(world, "out")
    _, forged = forged_patient(world)
    honest = emergency_to(world, "out", world.card("pat"), "honest.smsg")
    refused_beside_honest(world, refused_at_receive, "out", hostile, honest, "patient_key_mismatch")
    assert world.run("out", "contacts", "show", forged.fingerprint).exit_code != 0

    # contacts verify works for a pinned patient: then "verified"
    world.ok("out", "contacts", "verify", PATIENT_NAME, world.fp("pat"))
    assert world.ok("out", "read", row["message_id"][:12])["patient"]["key"] == "verified"
    assert world.ok("out", "inbox")["letters"][0]["patient_key_not_verified_by_you"] is False


def test_forged_key_in_the_patients_own_mailbox_raises_an_alarm(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    """A letter that names Jeanne under another key, received by Jeanne."""
    _, card = forged_patient(world)
    planned = plan(
        world,
        [(world.card("pat"), MN), (card, MN)],
        card,
        None,
        kind=Purpose.EMERGENCY_REPORT,
        basis="emergency",
    )
    hostile = envelope_with(world, planned, "pat", card, None, "alarm.smsg")
    honest = world.write("honest-pat.smsg", world.envelope(world.plan(to=(("pat", MN),)), "pat"))
    row = refused_beside_honest(
        world, refused_at_receive, "pat", hostile, honest, "patient_key_mismatch"
    )
    assert "names you as its patient, but under another key" in row["detail"]


def test_expired_carried_patient_card_is_refused(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    hostile = forged_letter(world, "out", expired=True)
    honest = emergency_to(world, "out", world.card("pat"), "honest.smsg")
    row = refused_beside_honest(
        world, refused_at_receive, "out", hostile, honest, "patient_card_expired"
    )
    assert "expired" in row["detail"]


# -- item 2: revocations and objections of a patient who is not a contact ------------------
def _import(world: World, label: str, obj: bytes, name: str) -> None:
    path = world.write(name, obj)
    res = world.run(label, "--json", "consent", "import", path, executable=True)
    assert res.exit_code == 3, res.stderr  # before: "not one of your contacts"
    assert "unknown_patient" in res.stderr, res.stderr
    res = world.run(
        label, "--json", "consent", "import", path, "--card", world.path("pat.card"),
        executable=True,
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr


def test_revocation_recorded_without_the_patients_card(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    pat, now = world.card("pat"), int(time.time())
    grant = Grant.sign(
        world.secret("pat"),
        pat,
        sender_fp=world.fp("gp"),
        recipients=[Recipient(fp=world.fp("out"))],
        purpose=Purpose.REFERRAL,
        now=now,
    )
    planned = plan(world, [(world.card("out"), MN)], pat, grant.encoded)
    hostile = envelope_with(world, planned, "out", pat, grant.encoded, "revoked.smsg")
    revocation = Revocation.sign(world.secret("pat"), pat, grant, now)
    _import(world, "out", revocation.encoded, "rev.cose")
    honest = emergency_to(world, "out", pat, "honest.smsg")
    refused_beside_honest(world, refused_at_receive, "out", hostile, honest, "revoked")


def test_objection_recorded_without_the_card_applies_to_any_key_in_her_name(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    """Jeanne objects to Oscar; Oscar records it with her card, then refuses a
    letter naming her under her key, and one naming her under a forged key."""
    pat = world.card("pat")
    objection = Objection.sign(
        world.secret("pat"), pat, Recipient(fp=world.fp("out")), int(time.time())
    )
    _import(world, "out", objection.encoded, "obj.cose")
    honest = emergency_to(world, "out", world.card("pat2"), "honest.smsg")
    hostile = emergency_to(world, "out", pat, "objected.smsg")
    refused_beside_honest(world, refused_at_receive, "out", hostile, honest, "recipient_objected")
    _, forged = forged_patient(world)
    hostile = emergency_to(world, "out", forged, "objected-forged.smsg")
    honest = emergency_to(world, "out", world.card("pat2"), "honest.smsg")
    refused_beside_honest(world, refused_at_receive, "out", hostile, honest, "recipient_objected")


# -- item 6: an objection follows the practitioner across key replacement -----------------
def test_objection_follows_a_replaced_key(world: World, refused_at_receive: RefusedCheck) -> None:
    """Jeanne objected to Claire; Claire's key is replaced (Bob: contacts add
    --replace); a letter to Bob and the new Claire is refused by Bob."""
    pat = world.card("pat")
    objection = Objection.sign(
        world.secret("pat"), pat, Recipient(fp=world.fp("nurse")), int(time.time())
    )
    world.ok("card", "consent", "import", world.write("obj.cose", objection.encoded))
    claire2 = Card.sign(
        secret_of("nurse-new-key"),
        Profile(name="Claire Petit", role=Role.NURSE),
        int(time.time()) - 60,
        test_key=True,
    )
    world.path("claire2.card").write_text(claire2.to_text())
    world.ok("card", "contacts", "add", world.path("claire2.card"), "--replace")
    planned = plan(
        world,
        [(world.card("card"), MN), (claire2, frozenset({N})), (pat, MN)],
        pat,
        None,
        kind=Purpose.EMERGENCY_REPORT,
        basis="emergency",
    )
    hostile = envelope_with(world, planned, "card", pat, None, "to-new-claire.smsg")
    honest = world.craft("card", to=(("card", MN),))
    row = refused_beside_honest(
        world, refused_at_receive, "card", hostile, honest, "recipient_objected"
    )
    assert "Claire Petit" in row["detail"]
