"""Issue 11, items 4, 5 and 7: the mailbox decides from what it verified itself,
not from what the author claims in the manifest.

Each hostile letter is built with the project's own library as a dishonest
practitioner with a valid key would build it (a manifest signed with the GP's
real key, stating a wrong role, a wrong patient identity, or a basis the
sending tool refuses), then received through the installed executable: exit 3,
the consent rule named, no home changed, and an honest letter received in the
same run is still delivered.

- item 4, roles: a mailbox checks its own role on its own card (``not_my_role``)
  and a contact's on the contact's card (role table, role-scoped grants and
  objections); a stated role only narrows.
- item 5, patient identity: the patient fields of the manifest equal the
  patient's verified card (``patient_identity_mismatch``); ``read`` shows the
  card's identity.
- item 7, basis rules on the receiving side: pseudonymous kinds
  (``not_pseudonymous_kind``), no patient card on a pseudonymous letter
  (``pseudonym_identifies_patient``), the patient's copy of an emergency report
  or phone follow-up (``patient_copy_required``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from letterworld import (
    BIRTH_DATE,
    INS,
    PATIENT_NAME,
    M,
    N,
    RefusedCheck,
    World,
    resign,
    run_cli,
)

from securemsg.core import frozen
from securemsg.core.consent import Grant, Recipient
from securemsg.core.domains import Domain, Purpose
from securemsg.core.identity import Role
from securemsg.core.letter.compose import Planned
from securemsg.core.letter.manifest import PhoneCall, RecipientEntry

# Whole runs of the executable: in `make test` (CI), not in the inner loop.
pytestmark = pytest.mark.slow

MN = frozenset({M, N})
EMERGENCY: dict[str, Any] = {"kind": Purpose.EMERGENCY_REPORT, "basis": "emergency"}


def _honest(world: World, label: str) -> Path:
    """An honest letter for ``label`` from the GP, that its mailbox accepts."""
    if label == "out":  # not in the patient's grant: an emergency report, with her copy
        return world.craft("out", to=(("out", MN), ("pat", MN)), **EMERGENCY)
    return world.craft(label, to=((label, MN if label == "card" else frozenset({N})),))


def refused_beside_honest(
    world: World, check: RefusedCheck, label: str, hostile: Path, rule: str, match: str
) -> dict[str, Any]:
    """``hostile`` alone: refused, no home changed. Then with an honest letter in
    the same run: the honest one is delivered, the hostile one refused again."""
    row = check(label, hostile, error="consent_refused", rule=rule, match=match, executable=True)
    honest = _honest(world, label)
    res = world.run(label, "--json", "receive", hostile, honest, executable=True)
    assert res.exit_code == 3, res.stderr
    first, second = res.json()["results"]
    assert (first["status"], first["rule"]) == ("refused", rule), first
    assert second["status"] == "accepted", second
    assert world.inbox_ids(label) == [second["message_id"]]
    return row


def _envelope(world: World, planned: Planned, label: str, name: str, **kw: Any) -> Path:
    return world.write(name, world.envelope(planned, label, **kw))


def _stated(planned: Planned, label_fp: str, role: Role) -> tuple[RecipientEntry, ...]:
    """The manifest's recipients, with ``role`` stated for ``label_fp``."""
    return tuple(
        frozen.replace(r, role=role) if r.fp == label_fp else r for r in planned.manifest.recipients
    )


# -- item 4: roles --------------------------------------------------------------------
def _nurse_as(world: World, role: Role, domains: frozenset[Domain] = MN, **kw: Any) -> Planned:
    """A letter to Bob and to the nurse, the manifest stating ``role`` for her."""
    planned = world.plan(to=(("card", MN), ("nurse", domains)), **kw)
    return resign(planned, world.secret("gp"), recipients=_stated(planned, world.fp("nurse"), role))


def test_nurse_listed_as_specialist_is_refused_by_her_own_mailbox(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    planned = _nurse_as(world, Role.SPECIALIST)
    f = _envelope(world, planned, "nurse", "nurse-as-specialist.smsg")
    row = refused_beside_honest(
        world, refused_at_receive, "nurse", f, "not_my_role", "lists you as a specialist"
    )
    assert "your card says you are a nurse" in row["detail"]


def test_nurse_listed_as_specialist_is_refused_by_a_recipient_holding_her_card(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    """Bob holds the nurse's card: the medical sections may not go to a nurse (R2)."""
    planned = _nurse_as(world, Role.SPECIALIST)
    f = _envelope(world, planned, "card", "bob-nurse-as-specialist.smsg")
    refused_beside_honest(
        world,
        refused_at_receive,
        "card",
        f,
        "domain_not_for_role",
        "Claire Petit (nurse) may not receive medical",
    )


def test_role_scoped_grant_is_matched_on_the_card_role(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    """The patient let Bob and any specialist be told; the nurse, stated as a
    specialist, is not one."""
    grant = Grant.sign(
        world.secret("pat"),
        world.card("pat"),
        sender_fp=world.fp("gp"),
        recipients=[Recipient(fp=world.fp("card")), Recipient(role=Role.SPECIALIST)],
        purpose=Purpose.REFERRAL,
        now=int(time.time()),
    ).encoded
    planned = _nurse_as(world, Role.SPECIALIST, frozenset({N}), consent=grant)
    f = _envelope(world, planned, "card", "role-grant.smsg", consent=grant)
    refused_beside_honest(
        world,
        refused_at_receive,
        "card",
        f,
        "recipient_not_allowed",
        "does not allow informing Claire Petit (nurse)",
    )


def test_role_scoped_objection_follows_the_card_role(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    """The patient objected to any nurse; stating the nurse as a GP does not escape it."""
    world.ok("pat", "consent", "object", "--to", "nurse", "-o", world.path("obj.cose"))
    world.ok("card", "consent", "import", world.path("obj.cose"))
    planned = _nurse_as(world, Role.GP, frozenset({N}))
    f = _envelope(world, planned, "card", "role-objection.smsg")
    check = refused_at_receive
    row = check("card", f, error="consent_refused", rule="recipient_objected", executable=True)
    assert "Claire Petit (nurse)" in row["detail"]
    # a letter to Bob alone is still delivered in the same run
    honest = world.craft("card", to=(("card", MN),))
    res = world.run("card", "--json", "receive", f, honest, executable=True)
    assert res.exit_code == 3
    assert [r["status"] for r in res.json()["results"]] == ["refused", "accepted"]


# -- item 5: the patient's identity ----------------------------------------------------
@pytest.mark.parametrize(
    ("ids", "differ"),
    [
        ((("name", "Marc Autre"), ("ins", INS), ("birth_date", BIRTH_DATE)), "name differs"),
        (  # a valid INS (key checked), not hers: a mismatch, not a malformed field
            (("name", PATIENT_NAME), ("ins", "160017512345670"), ("birth_date", BIRTH_DATE)),
            "INS differs",
        ),
        (
            (("name", PATIENT_NAME), ("ins", INS), ("birth_date", "1960-01-01")),
            "birth date differs",
        ),
        ((("name", PATIENT_NAME),), "INS and birth date differ"),
    ],
    ids=["name", "ins", "birth-date", "fields-left-out"],
)
def test_patient_fields_must_equal_the_patient_card(
    world: World, refused_at_receive: RefusedCheck, ids: tuple[tuple[str, str], ...], differ: str
) -> None:
    """Bob holds Jeanne's card; the manifest names her key, under other fields
    (the letter would be filed under another patient's name)."""
    planned = resign(world.plan(), world.secret("gp"), patient_ids=ids)
    f = _envelope(world, planned, "card", "other-patient.smsg")
    row = refused_beside_honest(
        world, refused_at_receive, "card", f, "patient_identity_mismatch", f"patient {differ} from"
    )
    assert "Marc" not in row["detail"]  # the refusal names fields, not the claimed values


def test_patient_fields_checked_against_the_carried_card(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    """The outsider does not know Jeanne: the card the letter carries is the one
    checked (emergency basis: no grant to compare with)."""
    planned = world.plan(to=(("out", MN), ("pat", MN)), **EMERGENCY)
    ids = (("name", "Marc Autre"), ("birth_date", "1960-01-01"))
    planned = resign(planned, world.secret("gp"), patient_ids=ids)
    f = _envelope(world, planned, "out", "carried-card.smsg")
    refused_beside_honest(
        world, refused_at_receive, "out", f, "patient_identity_mismatch", "name, INS and birth date"
    )


def test_read_shows_the_patient_card_identity_not_the_manifest(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A letter kept before the rule existed (simulated: the basis check skipped
    at receive) is shown under the patient's card, not under the name it states."""
    ids = (("name", "Marc Autre"), ("birth_date", "1960-01-01"))
    planned = resign(world.plan(), world.secret("gp"), patient_ids=ids)
    f = _envelope(world, planned, "card", "kept-before.smsg")
    monkeypatch.setattr("securemsg.app.receive.check_basis", lambda *a: (None, None))
    assert world.ok("card", "receive", f)["results"][0]["status"] == "accepted"
    monkeypatch.undo()
    doc = world.ok("card", "read", planned.manifest.id_hex[:12])
    assert doc["patient"] == {
        "fingerprint": world.fp("pat"),
        "name": PATIENT_NAME,
        "ins": INS,
        "birth_date": BIRTH_DATE,
        "key": "not_verified",  # Bob added her card and did not verify it
    }
    text = run_cli(world.home("card"), "read", planned.manifest.id_hex[:12])
    assert text.exit_code == 0, text.stderr
    assert PATIENT_NAME in text.stdout and "Marc Autre" not in text.stdout


# -- item 7: the basis rules, on the receiving side -----------------------------------------
PSEUDONYMOUS: dict[str, Any] = {"basis": "pseudonymous", "patient": None, "pseudonym": "P-17"}


def test_pseudonymous_referral(world: World, refused_at_receive: RefusedCheck) -> None:
    f = world.craft("card", kind=Purpose.REFERRAL, **PSEUDONYMOUS)
    refused_beside_honest(
        world,
        refused_at_receive,
        "card",
        f,
        "not_pseudonymous_kind",
        "only tele-expertise and second-opinion letters may be pseudonymous",
    )


def test_pseudonymous_letter_carrying_the_patient_card(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    planned = world.plan(to=(("card", MN),), kind=Purpose.TELE_EXPERTISE, **PSEUDONYMOUS)
    f = _envelope(world, planned, "card", "pseudonym-with-card.smsg", patient="pat")
    refused_beside_honest(
        world,
        refused_at_receive,
        "card",
        f,
        "pseudonym_identifies_patient",
        "carries the patient's card",
    )
    # without the card, the same tele-expertise is accepted
    ok = _envelope(world, planned, "card", "pseudonym.smsg")
    assert world.ok("card", "receive", ok)["results"][0]["status"] == "accepted"


@pytest.mark.parametrize(
    ("to", "kw", "match"),
    [
        ((("card", MN),), EMERGENCY, "an emergency report goes to the patient too"),
        ((("card", MN), ("pat", frozenset({N}))), EMERGENCY, "withholds part of it"),
        ((("card", MN),), {"phone_call": "phone"}, "a phone follow-up goes to the patient"),
    ],
    ids=["emergency-no-copy", "emergency-partial-copy", "phone-follow-up-no-copy"],
)
def test_patient_copy_required(
    world: World,
    refused_at_receive: RefusedCheck,
    to: tuple[tuple[str, frozenset[Domain]], ...],
    kw: dict[str, Any],
    match: str,
) -> None:
    if kw.get("phone_call") == "phone":
        kw = {"phone_call": PhoneCall(int(time.time()) - 3600, world.fp("card"))}
    f = world.craft("card", to=to, **kw)
    refused_beside_honest(world, refused_at_receive, "card", f, "patient_copy_required", match)
