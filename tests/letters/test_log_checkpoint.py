"""Issue 11 item 10: the log's end is signed (a checkpoint), so a cut tail shows.

Through the installed executable: deleting the last entries and moving the
unsigned head is reported (exit 3); so is a deleted checkpoint; a home made
before checkpoints (user_version 1, no checkpoint) is upgraded by the first
process that opens it and stays intact.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from letterworld import PASSPHRASE, World

from clirun import run_cli, world_env

# Whole runs of the executable: in `make test` (CI), not in the inner loop.
pytestmark = pytest.mark.slow


def _db(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "securemsg.db", isolation_level=None)


def _scenario(world: World) -> None:
    world.send()
    world.send()
    for label in ("card", "nurse", "pat"):
        assert world.receive_drop(label)[0] == 0
    assert world.receive_drop("gp")[0] == 0


def _verify(world: World, label: str = "gp") -> tuple[int, dict, dict | None]:
    res = world.run(label, "--json", "log", "verify", executable=True)
    assert "internal error" not in (res.stdout + res.stderr).lower()
    return res.exit_code, res.json(), (res.error_json() if res.exit_code else None)


def test_truncated_tail_with_moved_head_is_reported(world: World) -> None:
    _scenario(world)
    home = world.home("gp")
    code, doc, _ = _verify(world)
    assert code == 0 and doc["ok"] is True
    conn = _db(home)
    (n,) = conn.execute("SELECT count(*) FROM log").fetchone()
    assert n >= 6
    conn.execute("DELETE FROM log WHERE seq >= ?", (n - 2,))
    (new_head,) = conn.execute("SELECT hash FROM log WHERE seq = ?", (n - 3,)).fetchone()
    conn.execute("UPDATE meta SET v = ? WHERE k = 'log_head'", (new_head.hex(),))
    conn.close()
    code, doc, err = _verify(world)
    assert code == 3, doc
    assert doc["ok"] is False
    assert err is not None and "inconsistent" in err["message"]
    assert "the last entries were removed" in doc["problem"]
    assert f"counts {n} entries, the log holds {n - 2}" in doc["problem"]


def test_deleted_checkpoint_is_reported(world: World) -> None:
    _scenario(world)
    home = world.home("gp")
    conn = _db(home)
    (n,) = conn.execute("SELECT count(*) FROM log").fetchone()
    conn.execute("DELETE FROM log WHERE seq = ?", (n - 1,))
    (new_head,) = conn.execute("SELECT hash FROM log WHERE seq = ?", (n - 2,)).fetchone()
    conn.execute("UPDATE meta SET v = ? WHERE k = 'log_head'", (new_head.hex(),))
    conn.execute("DELETE FROM meta WHERE k = 'log_checkpoint'")
    conn.close()
    code, doc, _ = _verify(world)
    assert code == 3, doc
    assert "signed checkpoint is missing" in doc["problem"]
    # the victim's mail is still there, and other letters are still delivered
    assert world.ok("gp", "sent")


def test_checkpoint_from_another_key_is_reported(world: World) -> None:
    from securemsg.core.log import Checkpoint

    _scenario(world)
    home = world.home("gp")
    conn = _db(home)
    (n,) = conn.execute("SELECT count(*) FROM log").fetchone()
    conn.execute("DELETE FROM log WHERE seq = ?", (n - 1,))
    (new_head,) = conn.execute("SELECT hash FROM log WHERE seq = ?", (n - 2,)).fetchone()
    conn.execute("UPDATE meta SET v = ? WHERE k = 'log_head'", (new_head.hex(),))
    forged = Checkpoint.sign(world.secret("nurse"), n - 1, new_head)
    conn.execute("UPDATE meta SET v = ? WHERE k = 'log_checkpoint'", (forged.encoded.hex(),))
    conn.close()
    code, doc, _ = _verify(world)
    assert code == 3, doc
    assert doc["problem"].startswith("checkpoint: ")


def test_a_home_made_before_checkpoints_is_upgraded(world: World) -> None:
    """An old home (version 1, unsigned head only) opens, is checkpointed, stays intact,
    and a cut tail is reported from then on."""
    _scenario(world)
    home = world.home("gp")
    conn = _db(home)
    conn.execute("DELETE FROM meta WHERE k = 'log_checkpoint'")
    conn.execute("PRAGMA user_version=1")
    conn.close()
    code, doc, _ = _verify(world)
    assert code == 0 and doc["ok"] is True, doc
    conn = _db(home)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 4  # 3: mail, 4: letter_reads
    assert conn.execute("SELECT 1 FROM meta WHERE k = 'log_checkpoint'").fetchone()
    (n,) = conn.execute("SELECT count(*) FROM log").fetchone()
    conn.execute("DELETE FROM log WHERE seq = ?", (n - 1,))
    (new_head,) = conn.execute("SELECT hash FROM log WHERE seq = ?", (n - 2,)).fetchone()
    conn.execute("UPDATE meta SET v = ? WHERE k = 'log_head'", (new_head.hex(),))
    conn.close()
    code, doc, _ = _verify(world)
    assert code == 3 and "the last entries were removed" in doc["problem"]


def test_a_home_upgraded_by_a_command_that_does_not_open_the_mailbox_is_checkpointed(
    world: World,
) -> None:
    """`contacts list` is the first command after the upgrade: it signs the checkpoint too
    (it was lost with the connection's TEMP marker, and the log then said "missing")."""
    _scenario(world)
    home = world.home("gp")
    conn = _db(home)
    conn.execute("DELETE FROM meta WHERE k = 'log_checkpoint'")
    conn.execute("PRAGMA user_version=1")
    conn.close()
    res = world.run("gp", "--json", "contacts", "list", executable=True)
    assert res.exit_code == 0, res.stderr
    conn = _db(home)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 4  # 3: mail, 4: letter_reads
    assert conn.execute("SELECT 1 FROM meta WHERE k = 'log_checkpoint'").fetchone()
    conn.close()
    code, doc, _ = _verify(world)
    assert code == 0 and doc["ok"] is True, doc


def test_log_checkpoint_repairs_a_home_left_without_one(world: World) -> None:
    """A home an older securemsg left at version 2 with no checkpoint: `log verify` says
    so and names the repair; `log checkpoint` signs one, once, over an intact chain only."""
    _scenario(world)
    home = world.home("gp")
    conn = _db(home)
    conn.execute("DELETE FROM meta WHERE k = 'log_checkpoint'")
    conn.close()
    code, doc, err = _verify(world)
    assert code == 3 and "signed checkpoint is missing" in doc["problem"]
    assert doc["problem_code"] == "checkpoint-missing"  # what a caller matches on
    assert err is not None and "securemsg log checkpoint" in err["hint"]
    # in French: the problem's text and the repair's hint (matched on the code, not on English)
    french = {"LANG": "fr_FR.UTF-8", "LC_ALL": None, "SECUREMSG_LANG": None}
    fr = run_cli(home, "log", "verify", executable=True, env={**world_env(PASSPHRASE), **french})
    assert fr.exit_code == 3
    assert "le point de contrôle signé est absent" in fr.stdout + fr.stderr
    assert "puis signez un point de contrôle avec `securemsg log checkpoint`" in fr.stderr
    res = world.run("gp", "--json", "log", "checkpoint", executable=True)
    assert res.exit_code == 0, res.stderr
    (n,) = _db(home).execute("SELECT count(*) FROM log").fetchone()
    assert res.json()["entries"] == n and res.json()["last_entry_time"].endswith("Z")
    code, doc, _ = _verify(world)
    assert code == 0 and doc["ok"] is True, doc
    again = world.run("gp", "--json", "log", "checkpoint", executable=True)
    assert again.exit_code != 0 and again.error_json()["error"] == "conflict"
    # a broken chain is never signed over
    conn = _db(home)
    before = conn.execute("SELECT v FROM meta WHERE k = 'log_checkpoint'").fetchone()
    conn.execute("DELETE FROM meta WHERE k = 'log_checkpoint'")
    conn.execute("DELETE FROM log WHERE seq = 1")
    conn.close()
    broken = world.run("gp", "--json", "log", "checkpoint", executable=True)
    assert broken.exit_code == 3, broken.stderr
    conn = _db(home)
    assert conn.execute("SELECT v FROM meta WHERE k = 'log_checkpoint'").fetchone() is None
    assert before is not None


# -- log verify cross-checks letters and deliveries against log events ------------------
def test_a_received_letter_without_its_accept_event_is_reported(world: World) -> None:
    _scenario(world)
    home = world.home("nurse")
    conn = _db(home)
    (mid,) = conn.execute("SELECT id FROM letters WHERE folder = 'in' LIMIT 1").fetchone()
    # a letter slipped into the in-box (here: its row re-keyed to an id the log never saw)
    conn.execute(
        "INSERT INTO letters SELECT ?, folder, stored_at, date, author, kind, in_reply_to,"
        " patient_ix, envelope_digest, path, summary, receipt FROM letters"
        " WHERE id = ? AND folder = 'in'",
        ("ab" * 16, mid),
    )
    conn.close()
    code, doc, err = _verify(world, "nurse")
    assert code == 3, doc
    assert err is not None and "inconsistent" in err["message"]
    assert f"received letter {'ab' * 16} has no matching accept event" in doc["problem"]


def test_a_delivery_without_its_send_or_receipt_event_is_reported(world: World) -> None:
    _scenario(world)
    home = world.home("gp")
    conn = _db(home)
    mid, rcpt = conn.execute(
        "SELECT id, recipient FROM deliveries WHERE status = 'delivered' LIMIT 1"
    ).fetchone()
    conn.execute(
        "INSERT INTO deliveries SELECT id, ?, envelope_digest, 'sent', NULL, at FROM deliveries"
        " WHERE id = ? AND recipient = ?",
        ("cd" * 20, mid, rcpt),
    )
    conn.close()
    code, doc, _ = _verify(world)
    assert code == 3, doc
    assert f"letter {mid} to {'cd' * 8} has no matching send event" in doc["problem"]
    conn = _db(home)
    conn.execute("DELETE FROM deliveries WHERE recipient = ?", ("cd" * 20,))
    # a receipt marked as imported that the log never recorded
    (other,) = conn.execute(
        "SELECT recipient FROM deliveries WHERE id = ? AND status = 'delivered'"
        " AND recipient != ? LIMIT 1",
        (mid, rcpt),
    ).fetchone()
    conn.close()
    code, doc, _ = _verify(world)
    assert code == 0, doc
    conn = _db(home)
    conn.execute(
        "UPDATE deliveries SET status = 'refused' WHERE id = ? AND recipient = ?", (mid, other)
    )
    conn.close()
    code, doc, _ = _verify(world)
    assert code == 3, doc
    assert f"marked refused for {other[:16]} with no matching refusal event" in doc["problem"]


# -- a correspondent's (seq, head) only moves forward --------------------------------------
def _snapshot(home: Path) -> dict[str, bytes | None]:
    """The database files as they stand (no securemsg process is running)."""
    out: dict[str, bytes | None] = {}
    for name in ("securemsg.db", "securemsg.db-wal"):
        f = home / name
        out[name] = f.read_bytes() if f.exists() else None
    return out


def _restore(home: Path, files: dict[str, bytes | None]) -> None:
    (home / "securemsg.db-shm").unlink(missing_ok=True)
    for name, data in files.items():
        if data is None:
            (home / name).unlink(missing_ok=True)
        else:
            (home / name).write_bytes(data)


def test_a_receipt_from_a_rolled_back_log_is_reported(world: World) -> None:
    """The nurse's home is put back to an older copy (which her own `log verify` cannot
    tell): her next receipt reuses a log position; the GP's mailbox reports it."""
    nurse = world.home("nurse")
    before = _snapshot(nurse)
    first = world.send()["message_id"]
    assert world.receive_drop("nurse")[0] == 0
    assert world.receive_drop("card")[0] == 0
    assert world.receive_drop("gp")[0] == 0
    _restore(nurse, before)
    assert world.ok("nurse", "log", "verify")["ok"] is True  # consistent in itself
    second = world.send()["message_id"]
    assert world.receive_drop("nurse")[0] == 0
    assert world.receive_drop("card")[0] == 0
    res = world.run("gp", "--json", "receive", "--drop", world.drop, executable=True)
    assert "internal error" not in (res.stdout + res.stderr).lower()
    assert res.exit_code == 3, (res.stdout, res.stderr)
    text = res.stdout
    assert "peer_log_rewritten" in text, text
    assert f"where their receipt for letter {first} already was" in text
    # the card's receipt for the second letter is still recorded; the nurse's is not
    conn = _db(world.home("gp"))
    status = dict(
        conn.execute(
            "SELECT recipient, status FROM deliveries WHERE id = ?",
            (second,),
        ).fetchall()
    )
    conn.close()
    assert status[world.fp("nurse")] == "sent"
    assert status[world.fp("card")] == "delivered"


def test_a_receipt_lower_in_the_log_yet_later_is_reported(world: World) -> None:
    """Two of the nurse's receipts (re-signed with her key): the later one, signed two
    hours after the other (beyond app.proofs.ORDER_MARGIN), sits lower in her log: her
    sequence went backwards."""
    nurse_fp = world.fp("nurse")
    _two_resigned_receipts(world, later_by=2 * 3600)
    res = world.run("gp", "--json", "receive", "--drop", world.drop, executable=True)
    assert "internal error" not in (res.stdout + res.stderr).lower()
    assert res.exit_code == 3, (res.stdout, res.stderr)
    assert "peer_log_rewritten" in res.stdout
    assert "log went backwards" in res.stdout, res.stdout
    conn = _db(world.home("gp"))
    rows = conn.execute(
        "SELECT id, status FROM deliveries WHERE recipient = ?", (nurse_fp,)
    ).fetchall()
    conn.close()
    assert sorted(s for _m, s in rows) == ["delivered", "sent"]  # the second one not recorded


def test_receipts_signed_close_together_are_not_ordered_by_time(world: World) -> None:
    """Two receive processes of one mailbox sign with their start times and commit in
    either order: receipts less than ORDER_MARGIN apart with crossed (time, seq) are
    genuine, not a rolled-back log."""
    _two_resigned_receipts(world, later_by=60)
    res = world.run("gp", "--json", "receive", "--drop", world.drop, executable=True)
    assert res.exit_code == 0, (res.stdout, res.stderr)
    assert [r["status"] for r in res.json()["results"]] == ["receipt: delivered"] * 2


def _two_resigned_receipts(world: World, later_by: int) -> None:
    """Send two letters to the nurse, let her receive them, then re-sign her two
    receipts with her key so that the second, signed ``later_by`` seconds after the
    first, sits lower in her log (seq 3 against 7)."""
    from securemsg.core import cbor, cose, labels
    from securemsg.core.fingerprint import fingerprint

    first = world.send()["message_id"]
    second = world.send()["message_id"]
    assert world.receive_drop("nurse")[0] == 0
    nurse_fp = world.fp("nurse")
    secret = world.secret("nurse")
    files = {
        mid: next(
            p
            for p in Path(world.drop).rglob(f"{mid}*")
            if p.suffix == ".receipt" and nurse_fp in p.name
        )
        for mid in (first, second)
    }
    payloads = {
        mid: cbor.loads(cose.parse(f.read_bytes()).payload, "receipt") for mid, f in files.items()
    }
    t0 = payloads[first]["time"]
    for mid, (seq, t) in {first: (7, t0), second: (3, t0 + later_by)}.items():
        p = dict(payloads[mid], log_seq=seq, time=t, log_head=bytes([seq]) * 32)
        files[mid].write_bytes(
            cose.sign(
                secret.signing_key,
                labels.COSE_RECEIPT,
                fingerprint(secret.sign_public),
                cbor.dumps(p),
            )
        )
