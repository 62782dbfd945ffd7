"""Issue 11, item 3: letter-bound consent covers every item and recipient.

The honest flow: the GP prepares a draft (``send --prepare``), the patient
reviews it and signs a grant bound to its letter commitment (``consent grant
--draft``), the GP sends exactly that letter (``send --draft``). The hostile
cases are built with the project's own library, as the GP (a valid key)
would build them, with a grant the patient really signed for another set of
items, then received through the installed executable: exit 3, rule
``bound_letter_mismatch`` (or ``bound_to_source_only`` for the old binding to a
Markdown source), no home changed, and an honest letter in the same run still
delivered.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from letterworld import (
    MEDICAL_TEXT,
    NURSING_TEXT,
    SECRETS,
    M,
    N,
    RefusedCheck,
    World,
    replace_items,
    resign,
)

from securemsg.core import frozen
from securemsg.core.consent import Grant, Recipient
from securemsg.core.digests import letter_digest, object_digest
from securemsg.core.domains import Purpose
from securemsg.core.identity import Role
from securemsg.core.letter.compose import Planned
from securemsg.core.letter.container import OutItem
from securemsg.core.letter.manifest import Item, RecipientEntry, item_digest

MN = frozenset({M, N})
SCAN = b"%PDF-1.4 echocardiogram scan Ec9\n" * 40


def _bound_grant(world: World, planned: Planned) -> bytes:
    """What the patient signs for ``planned``: bound to its letter commitment."""
    return Grant.sign(
        world.secret("pat"),
        world.card("pat"),
        sender_fp=world.fp("gp"),
        recipients=[Recipient(fp=world.fp("card")), Recipient(fp=world.fp("nurse"))],
        purpose=Purpose.REFERRAL,
        now=int(time.time()),
        commitment=planned.manifest.commitment(),
    ).encoded


def _reviewed_letter(world: World) -> tuple[Planned, bytes]:
    """The letter the patient reviewed (to Bob, with a scan attachment) and her grant."""
    planned = world.plan(to=(("card", MN),), attachments=(("echo.pdf", M, SCAN),))
    grant = _bound_grant(world, planned)
    return resign(planned, world.secret("gp"), consent_digest=_digest(grant)), grant


def _digest(grant: bytes) -> bytes:
    return object_digest(grant)


def _write(world: World, planned: Planned, grant: bytes, name: str) -> Path:
    return world.write(name, world.envelope(planned, "card", consent=grant))


def _refused_beside_honest(
    world: World, check: RefusedCheck, hostile: Path, honest: Path, rule: str
) -> dict[str, Any]:
    row = check("card", hostile, error="consent_refused", rule=rule, executable=True)
    res = world.run("card", "--json", "receive", hostile, honest, executable=True)
    assert res.exit_code == 3, res.stderr
    first, second = res.json()["results"]
    assert (first["status"], first["rule"]) == ("refused", rule), first
    assert second["status"] == "accepted", second
    assert world.inbox_ids("card") == [second["message_id"]]
    return row


def _extra_item(planned: Planned, content: bytes) -> tuple[Item, OutItem]:
    n = len(planned.items)
    salt = bytes(range(16))
    digest = item_digest(n, "attachment", M, "extra.pdf", salt, (content,), len(content))
    return Item(n, "attachment", M, digest), OutItem(
        n, salt, "extra.pdf", len(content), lambda: (content,)
    )


# -- the honest letter is accepted under its bound grant --------------------------------
def test_reviewed_letter_is_accepted_under_its_bound_grant(world: World) -> None:
    planned, grant = _reviewed_letter(world)
    f = _write(world, planned, grant, "honest-bound.smsg")
    res = world.run("card", "--json", "receive", f, executable=True)
    assert res.exit_code == 0, res.stderr
    assert res.json()["results"][0]["status"] == "accepted"


# -- hostile senders -----------------------------------------------------------------------
@pytest.mark.slow
def test_item_added_under_a_bound_grant_is_refused(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    planned, grant = _reviewed_letter(world)
    honest = _write(world, planned, grant, "honest.smsg")
    item, out = _extra_item(planned, b"an attachment the patient never saw")
    added = resign(
        frozen.replace(planned, items=(*planned.items, (item, out))),
        world.secret("gp"),
        items=(*planned.manifest.items, item),
    )
    f = _write(world, added, grant, "added.smsg")
    row = _refused_beside_honest(world, refused_at_receive, f, honest, "bound_letter_mismatch")
    assert "not the ones the patient reviewed" in row["detail"]


@pytest.mark.slow
def test_item_dropped_under_a_bound_grant_is_refused(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    planned, grant = _reviewed_letter(world)
    honest = _write(world, planned, grant, "honest.smsg")
    dropped = resign(
        frozen.replace(planned, items=planned.items[:-1]),
        world.secret("gp"),
        items=planned.manifest.items[:-1],
    )
    f = _write(world, dropped, grant, "dropped.smsg")
    _refused_beside_honest(world, refused_at_receive, f, honest, "bound_letter_mismatch")


@pytest.mark.slow
def test_item_changed_under_a_bound_grant_is_refused(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    planned, grant = _reviewed_letter(world)
    honest = _write(world, planned, grant, "honest.smsg")
    last = planned.items[-1][1]
    other = b"another scan, not the one reviewed" * 10
    digest = item_digest(last.n, "attachment", M, last.name, last.salt, (other,), len(other))
    changed_items = tuple(
        frozen.replace(i, digest=digest) if i.n == last.n else i for i in planned.manifest.items
    )
    changed = resign(replace_items(planned, last.n, other), world.secret("gp"), items=changed_items)
    f = _write(world, changed, grant, "changed.smsg")
    _refused_beside_honest(world, refused_at_receive, f, honest, "bound_letter_mismatch")


@pytest.mark.slow
def test_recipient_domains_changed_under_a_bound_grant_is_refused(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    """The patient reviewed a letter to Bob alone; the GP adds the nurse."""
    planned, grant = _reviewed_letter(world)
    honest = _write(world, planned, grant, "honest.smsg")
    widened = resign(
        planned,
        world.secret("gp"),
        recipients=(
            *planned.manifest.recipients,
            RecipientEntry(world.fp("nurse"), Role.NURSE, frozenset({N})),
        ),
    )
    f = _write(world, widened, grant, "widened.smsg")
    _refused_beside_honest(world, refused_at_receive, f, honest, "bound_letter_mismatch")


@pytest.mark.slow
def test_bound_grant_reused_for_another_letter_is_refused(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    """Same items, same recipients, a new letter (message id): not the one reviewed."""
    planned, grant = _reviewed_letter(world)
    honest = _write(world, planned, grant, "honest.smsg")
    again = resign(planned, world.secret("gp"), message_id=bytes(16))
    f = _write(world, again, grant, "reused.smsg")
    _refused_beside_honest(world, refused_at_receive, f, honest, "bound_letter_mismatch")


@pytest.mark.slow
def test_grant_bound_to_a_markdown_source_only_is_refused(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    """The old binding (``letter``: the source's digest) covers no attachment."""
    planned, good = _reviewed_letter(world)
    honest = _write(world, planned, good, "honest.smsg")
    old = Grant.sign(
        world.secret("pat"),
        world.card("pat"),
        sender_fp=world.fp("gp"),
        recipients=[Recipient(fp=world.fp("card"))],
        purpose=Purpose.REFERRAL,
        now=int(time.time()),
        letter_digest=letter_digest(world.path("letter.md").read_bytes()),
    ).encoded
    with_old = resign(planned, world.secret("gp"), consent_digest=_digest(old))
    f = _write(world, with_old, old, "source-bound.smsg")
    row = _refused_beside_honest(world, refused_at_receive, f, honest, "bound_to_source_only")
    assert "Markdown text" in row["detail"]


# -- the flow through the command line ------------------------------------------------------
def _prepare(world: World, *extra: str) -> Path:
    draft = world.path("referral.draft")
    world.ok(
        "gp", "send", world.path("letter.md"), "--to", "Bob", "--to", "Claire",
        "--kind", "referral", "--patient", "Jeanne",
        "--attach", f"{world.path('scan.pdf')}:medical", "--prepare", draft, *extra,
    )  # fmt: skip
    return draft


def test_prepare_review_grant_send_receive(world: World) -> None:
    draft = _prepare(world)
    data = draft.read_bytes()
    assert data.startswith(b"age-encryption.org/v1\n")
    for secret in (*SECRETS, "scan.pdf"):
        assert secret.encode() not in data
    res = world.run("pat", "consent", "grant", "--draft", draft, "--yes", "-o",
                    world.path("bound.cose"), executable=True)  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert "attachment 'scan.pdf': 300000 bytes, medical" in res.stderr
    assert "Claire Petit (nurse): administrative, nursing" not in res.stderr  # only her domains:
    assert "Claire Petit (nurse): nursing" in res.stderr
    assert MEDICAL_TEXT in res.stderr and NURSING_TEXT in res.stderr
    sent = world.ok("gp", "send", "--draft", draft, "--consent", world.path("bound.cose"),
                    "--drop", world.drop)  # fmt: skip
    assert len(sent["outputs"]) == 3
    for label in ("card", "nurse", "pat"):
        code, doc = world.receive_drop(label)
        assert code == 0, doc
        assert [r["status"] for r in doc["results"]] == ["accepted"], doc


def test_bound_grant_refuses_a_send_without_the_draft(world: World) -> None:
    """The sender's tool: the same letter sent without --draft (new salts and id)."""
    draft = _prepare(world)
    world.ok("pat", "consent", "grant", "--draft", draft, "--yes", "-o", world.path("b.cose"))
    before = world.snap("gp")
    res = world.run("gp", "--json", "send", world.path("letter.md"), "--to", "Bob", "--to",
                    "Claire", "--kind", "referral", "--patient", "Jeanne", "--consent",
                    world.path("b.cose"), "--drop", world.drop, executable=True)  # fmt: skip
    assert res.exit_code == 3, res.stderr
    assert res.error_json()["rule"] == "bound_letter_mismatch"
    assert world.snap("gp") == before


def test_draft_options_are_fixed(world: World) -> None:
    draft = _prepare(world)
    world.ok("pat", "consent", "grant", "--draft", draft, "--yes", "-o", world.path("b.cose"))
    res = world.run("gp", "send", "--draft", draft, "--consent", world.path("b.cose"),
                    "--attach", world.path("scan.pdf"), "--drop", world.drop)  # fmt: skip
    assert res.exit_code == 2
    assert "--attach: fixed by the prepared draft" in res.stderr


def test_grant_from_draft_needs_a_terminal_or_yes(world: World) -> None:
    draft = _prepare(world)
    before = world.snap("pat")
    res = world.run("pat", "consent", "grant", "--draft", draft, "-o", world.path("b.cose"))
    assert res.exit_code == 2, res.stderr
    assert "confirm the letter on a terminal" in res.stderr
    assert not world.path("b.cose").exists()
    assert world.snap("pat") == before


def test_draft_is_only_for_its_patient(world: World) -> None:
    draft = _prepare(world)
    res = world.run("nurse", "consent", "grant", "--draft", draft, "--yes", "-o",
                    world.path("b.cose"))  # fmt: skip
    assert res.exit_code != 0
    assert not world.path("b.cose").exists()


def test_letter_option_is_refused_with_a_hint(world: World) -> None:
    letter = world.path("letter.md")
    res = world.run("pat", "consent", "grant", "--from", "Alice", "--to", "Bob", "--purpose",
                    "referral", "--letter", letter, "-o", world.path("x.cose"))  # fmt: skip
    assert res.exit_code == 2
    assert "--draft" in res.stderr
