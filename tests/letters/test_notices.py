"""Refusal notices are signed only about what the mailbox checked itself (issue 11,
item 8): never from a manifest whose signature did not verify, with the digest of
the file that was read, at most MAX_NOTICES_PER_AUTHOR to one author per run; and
at the author's side, a notice from someone who was not a recipient of the letter
is an unverified report, never "refused by recipient". Through the installed
executable."""

from __future__ import annotations

import os
import time
from pathlib import Path

import dropkit as kit
from letterworld import M, N, World, replace_items

from securemsg.core import cbor, cose, frozen, labels
from securemsg.core.letter.proofs import EnvelopeHasher, Refusal

MAX_NOTICES_PER_AUTHOR = 5  # documented in docs/format.md (app/receive.py)


def _notices(world: World) -> list[Path]:
    gp = world.drop / world.fp("gp")
    return sorted(gp.glob("*.refusal")) if gp.is_dir() else []


def _bad_items_letter(world: World) -> tuple[str, bytes]:
    """A letter whose manifest is the GP's own, signed by her; an item does not
    match its digest: refused after the signature verified."""
    planned = replace_items(world.plan(), 1, b"not what the author signed")
    return planned.manifest.id_hex, world.envelope(planned, "card")


# -- (a) a manifest whose signature does not verify: no notice ---------------------------
def test_no_notice_about_a_manifest_whose_signature_did_not_verify(world: World) -> None:
    """The outsider, without the GP's key, writes a manifest naming the GP as author
    and the id of the GP's genuine letter: before, Bob signed a notice saying that
    letter was refused. Now it is refused with nothing signed or written."""
    honest = kit.drop_letter(world)
    planned = world.plan(to=(("card", frozenset({M, N})),))
    payload = planned.manifest.to_payload()
    payload["id"] = bytes.fromhex(honest)
    encoded = cose.sign(
        world.secret("out").signing_key,
        labels.COSE_LETTER_MANIFEST,
        bytes.fromhex(world.fp("gp")),
        cbor.dumps(payload),
    )
    forged = frozen.replace(planned.manifest, encoded=encoded)
    data = world.envelope(frozen.replace(planned, manifest=forged), "card")
    fake = os.urandom(16).hex()
    (kit.folder(world, "card") / f"{fake}.smsg").write_bytes(data)
    before = world.snap("gp", "nurse", "pat", "out")
    res = kit.receive_drop(world, "card")
    kit.no_internal_error(res)
    assert res.exit_code == 3, (res.stdout, res.stderr)
    rows = kit.rows(res)
    row = rows[f"{fake}.smsg"]
    assert row["status"] == "refused" and row["error"] == "bad_signature", row
    assert row["notice"] is False and "message_id" not in row, row
    assert _notices(world) == []  # nothing signed, nothing written for the GP
    assert rows[f"{honest}.smsg"]["status"] == "accepted"
    assert world.inbox_ids("card") == [honest]
    assert world.snap("gp", "nurse", "pat", "out") == before
    # the GP's folder holds only the genuine letter's receipt
    gp = world.drop / world.fp("gp")
    assert [p.name for p in gp.iterdir()] == [f"{honest}.{world.fp('card')}.receipt"]


# -- (b) the digest a notice carries ------------------------------------------------------
def test_notice_names_the_digest_of_the_file_read(world: World) -> None:
    """The file is opened once (through the checked folder descriptor) and the
    digest is read from that same open file: it is the refused file's digest."""
    mid, data = _bad_items_letter(world)
    (kit.folder(world, "card") / f"{mid}.smsg").write_bytes(data)
    other = kit.drop_letter(world)
    res = kit.receive_drop(world, "card")
    kit.no_internal_error(res)
    assert res.exit_code == 3
    rows = kit.rows(res)
    assert rows[f"{mid}.smsg"]["notice"] is True and rows[f"{other}.smsg"]["status"] == "accepted"
    (path,) = _notices(world)
    notice = Refusal.verify(path.read_bytes(), world.card("card"))
    h = EnvelopeHasher()
    h.update(data)
    assert notice.envelope_digest == h.digest()
    assert notice.message_id.hex() == mid
    refused = kit.folder(world, "card") / f"{mid}.smsg.refused"
    assert refused.read_bytes() == data


# -- (c) a cap on notices per author per run ----------------------------------------------
def test_notices_per_author_per_run_are_capped(world: World) -> None:
    from securemsg.app import receive

    assert getattr(receive, "MAX_NOTICES_PER_AUTHOR", None) in (None, MAX_NOTICES_PER_AUTHOR)
    n = MAX_NOTICES_PER_AUTHOR + 2
    mids = []
    for _ in range(n):
        mid, data = _bad_items_letter(world)
        (kit.folder(world, "card") / f"{mid}.smsg").write_bytes(data)
        mids.append(mid)
    other = kit.drop_letter(world)
    before = world.snap("card")
    res = kit.receive_drop(world, "card")
    kit.no_internal_error(res)
    assert res.exit_code == 3
    rows = kit.rows(res)
    refused = [rows[f"{m}.smsg"] for m in mids]
    assert all(r["status"] == "refused" and "digest" in r["detail"] for r in refused), refused
    assert sum(r["notice"] for r in refused) == MAX_NOTICES_PER_AUTHOR
    assert len(_notices(world)) == MAX_NOTICES_PER_AUTHOR
    assert rows[f"{other}.smsg"]["status"] == "accepted"
    assert world.inbox_ids("card") == [other]
    assert world.snap("card")["card"] != before["card"]  # the good one was received
    # every refused letter is still reported and set aside
    assert all((kit.folder(world, "card") / f"{m}.smsg.refused").is_file() for m in mids)


# -- (d) the author's side: a notice from someone who was not a recipient -----------------
def test_notice_from_a_non_recipient_is_an_unverified_report(world: World) -> None:
    mid = kit.send_referral(world).json()["message_id"]  # to Bob and Claire, not Oscar
    notice = Refusal.sign(
        world.secret("out"),
        bytes.fromhex(mid),
        bytes(32),
        world.fp("out"),
        int(time.time()),
        "revoked",
        "consent revoked",
    )
    f = world.write("oscar.refusal", notice.encoded)
    before = world.snap()
    res = kit.run(world, "gp", "receipts", "import", f)
    kit.no_internal_error(res)
    assert res.exit_code == 1, (res.stdout, res.stderr)
    (row,) = kit.rows(res).values()
    assert row["status"] == "notice: unverified report", row
    assert row["unverified"] is True and row["message_id"] == mid
    assert "was not a recipient" in row["detail"]
    assert "unverified report" in res.stderr
    assert world.snap() == before  # nothing recorded
    (letter,) = world.ok("gp", "sent")["letters"]
    assert {d["status"] for d in letter["deliveries"]} == {"sent"}
