"""Receiving, issue 13: a letter refused because its author was not yet a contact is
kept aside and received after ``contacts add`` (or ``receive --retry``); receipts
go where the sender finds them, and the user is told where; refused files of the
drop folder are removed after a set time. Through the installed executable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from letterworld import World

pytestmark = pytest.mark.slow  # executable-driven: several seconds (CONTRIBUTING.md)


def _stranger_letter(world: World, *where: str | Path) -> dict[str, Any]:
    """Dr Oscar Outsider (not one of the nurse's contacts) writes to her."""
    res = world.run("out", "contacts", "add", world.path("nurse.card"))
    assert res.exit_code == 0, res.stderr
    return world.ok(  # type: ignore[no-any-return]
        "out",
        "send",
        world.path("letter.md"),
        "--to",
        "Claire",
        "--kind",
        "tele-expertise",
        "--pseudonym",
        "case-1",
        *where,
    )


def _kept(world: World, label: str) -> list[Path]:
    q = world.home(label) / "quarantine"
    return sorted(q.glob("*.smsg")) if q.is_dir() else []


def test_letter_from_a_stranger_is_kept_aside_then_received_after_contacts_add(
    world: World,
) -> None:
    inbox = world.path("mailin")
    inbox.mkdir()
    sent = _stranger_letter(world, "-o", inbox)
    letter = Path(sent["outputs"][0]["file"])
    res = world.run("nurse", "--json", "receive", letter, executable=True)
    assert res.exit_code == 3, res.stderr
    (row,) = res.json()["results"]
    assert row["error"] == "unknown_sender" and row["kept_aside"] is True
    assert "kept aside" in row["hint"] and "contacts add" in row["hint"]
    assert len(_kept(world, "nurse")) == 1
    assert world.inbox_ids("nurse") == []

    res = world.run("nurse", "--json", "contacts", "add", world.path("out.card"), executable=True)
    assert res.exit_code == 0, res.stderr
    (got,) = res.json()["kept_letters"]
    assert got["status"] == "accepted" and got["message_id"] == sent["message_id"]
    assert "received the letter kept aside from Dr Oscar Outsider" in res.stderr
    receipt = Path(got["proof_file"])
    assert receipt.parent == inbox and receipt.suffix == ".receipt"
    assert f"its receipt is in {receipt}: give it to Dr Oscar Outsider" in res.stderr
    assert _kept(world, "nurse") == []
    assert world.inbox_ids("nurse") == [sent["message_id"]]
    # the receipt is the real one: the author records the delivery
    res = world.run("out", "--json", "receipts", "import", receipt, executable=True)
    assert res.exit_code == 0, res.stderr
    assert res.json()["results"][0]["status"] == "receipt: delivered"


def test_receive_retry_keeps_a_letter_whose_author_is_still_unknown(world: World) -> None:
    _stranger_letter(world, "--drop", world.drop)
    res = world.run("nurse", "--json", "receive", "--drop", world.drop, executable=True)
    assert res.exit_code == 3
    assert res.json()["results"][0]["kept_aside"] is True
    mine = world.drop / world.fp("nurse")
    assert list(mine.iterdir()) == []  # kept in the home: nothing left in the drop folder
    res = world.run("nurse", "--json", "receive", "--retry", executable=True)
    assert res.exit_code == 3
    (row,) = res.json()["results"]
    assert row["error"] == "unknown_sender" and row["kept_aside"] is True
    assert len(_kept(world, "nurse")) == 1


def test_a_kept_letter_from_a_drop_folder_sends_its_receipt_to_the_authors_folder(
    world: World,
) -> None:
    sent = _stranger_letter(world, "--drop", world.drop)
    assert world.run("nurse", "receive", "--drop", world.drop).exit_code == 3
    res = world.run("nurse", "contacts", "add", world.path("out.card"), executable=True)
    assert res.exit_code == 0, res.stderr
    assert "received the letter kept aside from Dr Oscar Outsider" in res.stderr
    mid = sent["message_id"]
    proof = world.drop / world.fp("out") / f"{mid}.{world.fp('nurse')}.receipt"
    assert proof.is_file()
    res = world.run("out", "--json", "receive", "--drop", world.drop, executable=True)
    assert res.exit_code == 0, res.stderr
    assert res.json()["results"][0]["status"] == "receipt: delivered"


def test_receive_file_says_where_the_receipt_is_and_whom_to_give_it(world: World) -> None:
    sent = world.send("-o", world.path("outbox"))
    f = next(Path(o["file"]) for o in sent["outputs"] if o["role"] == "specialist")
    res = world.run("card", "receive", f, executable=True)
    assert res.exit_code == 0, res.stderr
    receipt = f.with_suffix(".receipt")
    assert receipt.is_file()
    assert f"receipt for {f.name} written to {receipt}: give it to Dr Alice Martin" in res.stderr


def test_receipt_out_takes_a_folder_for_several_letters(world: World) -> None:
    sent = world.send("-o", world.path("outbox"))
    files = [Path(o["file"]) for o in sent["outputs"] if o["role"] == "specialist"]
    other = world.send("-o", world.path("outbox"))
    files += [Path(o["file"]) for o in other["outputs"] if o["role"] == "specialist"]
    receipts = world.path("receipts")
    receipts.mkdir()
    res = world.run("card", "--json", "receive", *files, "--receipt-out", receipts, executable=True)
    assert res.exit_code == 0, res.stderr
    written = sorted(Path(r["proof_file"]) for r in res.json()["results"])
    assert written == sorted(receipts / f"{f.stem}.receipt" for f in files)
    assert all(p.is_file() for p in written)


def test_refused_files_of_the_drop_folder_are_removed_after_the_set_time(world: World) -> None:
    mine = world.drop / world.fp("card")
    mine.mkdir(exist_ok=True)
    old = mine / ("ab" * 16 + ".smsg.refused")
    old.write_bytes(b"junk")
    res = world.run("card", "receive", "--drop", world.drop, executable=True)
    assert res.exit_code == 0, res.stderr
    assert old.exists()  # kept 30 days by default
    res = world.run(
        "card", "receive", "--drop", world.drop, "--keep-refused-days", "0", executable=True
    )
    assert res.exit_code == 0, res.stderr
    assert not old.exists()


def test_receive_with_nothing_to_do_says_what_to_give(world: World) -> None:
    res = world.run("card", "receive", executable=True)
    assert res.exit_code == 2
    assert "--retry" in res.stderr and "receive LETTER.smsg" in res.stderr
    assert os.path.isdir(world.home("card"))
