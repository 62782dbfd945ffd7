"""``receive --mail`` killed (SIGKILL, through the installed executable) at every
stage of a mail: after the letter is accepted, after its receipt is mailed back,
after the mail is recorded (UIDVALIDITY/UID), after it is flagged; mail by
mail (``--batch 1``) and a whole group at once. After each
kill the next run takes up where it stopped: every letter is in the inbox once,
every receipt recorded once on the sender's side, no securemsg mail is left
unprocessed and none is processed twice into the mailbox.

The kill point is ``SECUREMSG_TEST_KILL_AT=STAGE:N`` (app/mail.py): the process
SIGKILLs itself the N-th time it reaches STAGE.
"""

from __future__ import annotations

import signal
import sqlite3

import pytest
from mailworld import MailWorld

pytestmark = pytest.mark.slow

LETTERS = 4
# Each kill leaves work for the next: 4 mails, 6 runs killed (mail by mail, or the
# 4 in one group: --batch), then one that finishes.
KILLS = (
    ("accepted:1", "1"),
    ("proof_sent:1", "1"),
    ("accepted:3", "100"),
    ("recorded:1", "1"),
    ("flagged:1", "1"),
    ("proof_sent:1", "100"),
)


def _seen(w: MailWorld) -> list[tuple[int, str]]:
    conn = sqlite3.connect(w.home("card") / "securemsg.db")
    try:
        return conn.execute("SELECT uid, status FROM mail_seen ORDER BY uid").fetchall()
    finally:
        conn.close()


def test_receive_mail_killed_at_each_stage_loses_and_duplicates_nothing(
    mail_world: MailWorld,
) -> None:
    w = mail_world
    ids = [w.send("--no-patient-copy")["message_id"] for _ in range(LETTERS)]
    w.wait("card", LETTERS)
    for point, batch in KILLS:
        res = w.run(
            "card", "--json", "receive", "--mail", "--batch", batch, executable=True,
            extra_env={"SECUREMSG_TEST_KILL_AT": point},
        )  # fmt: skip
        assert res.exit_code == -signal.SIGKILL, (point, res.exit_code, res.stderr)
    w.ok("card", "receive", "--mail")
    inbox = w.ok("card", "inbox")["letters"]
    assert sorted(x["message_id"] for x in inbox) == sorted(ids)  # each exactly once
    seen = _seen(w)  # a mail accepted before a kill is recorded as a duplicate after
    assert len(seen) == LETTERS and {s for _u, s in seen} <= {"accepted", "duplicate"}
    assert w.ok("card", "receive", "--mail")["results"] == []  # nothing left, nothing redone
    # the sender: every receipt came back by mail, each recorded once
    n = w.in_box("gp")
    assert n >= LETTERS
    rows = w.ok("gp", "receive", "--mail")["results"]
    delivered = [r["message_id"] for r in rows if r["status"] == "receipt: delivered"]
    assert sorted(delivered) == sorted(ids)
    assert all(r["status"] in ("receipt: delivered", "receipt: already recorded") for r in rows)
    sent = w.ok("gp", "sent")["letters"]
    assert {(x["message_id"], d["status"]) for x in sent for d in x["deliveries"]} == {
        (i, "delivered") for i in ids
    }
    log = w.ok("gp", "log", "verify", "--show")
    assert log["ok"] is True
    assert sum(1 for e in log["log"] if e["event"] == "receipt") == LETTERS
    theirs = w.ok("card", "log", "verify", "--show")
    assert theirs["ok"] is True
    assert sorted(e["message_id"] for e in theirs["log"] if e["event"] == "accept") == sorted(ids)
