"""Target 6: a mailbox of many letters. The rows are real (sealed summaries,
keyed blind index of the patient, inserted with the store API in one
transaction per 1,000); `inbox` (latest page) and `inbox --patient` are timed
as whole processes against the same commands on an empty mailbox."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from benchmarks.common import SECUREMSG, Report, Stats, run
from benchmarks.world import World, in_process_env, now


def add_patient(w: World) -> str:
    pat = w.root / "patient"
    w.cli(
        "--home",
        str(pat),
        "init",
        "--name",
        "Jeanne Dupont",
        "--role",
        "patient",
        "--birth-date",
        "1950-03-02",
    )
    card = w.root / "patient.card"
    w.cli("--home", str(pat), "card", "export", "-o", str(card))
    w.cli("--home", str(w.bob), "contacts", "add", str(card))
    return card.read_text()


def populate(home: Path, w: World, count: int, patient_fp: str, every: int = 100) -> None:
    from securemsg.store.home import Home
    from securemsg.store.mailbox import LetterRow, Mailbox

    in_process_env(w)
    box = Mailbox(Home(home, env=w.env))
    t = now() - count
    for start in range(0, count, 1000):
        with box.transaction():
            for i in range(start, min(count, start + 1000)):
                mid = os.urandom(16).hex()
                pfp = patient_fp if i % every == 0 else os.urandom(20).hex()
                box.insert_letter(
                    LetterRow(
                        id=mid,
                        folder="in",
                        stored_at=t + i,
                        date=t + i,
                        author=os.urandom(20).hex(),
                        kind="referral",
                        in_reply_to=None,
                        envelope_digest=os.urandom(32),
                        path=f"mail/in/{mid}.smsg",
                        summary={
                            "subject": f"Letter {i}",
                            "author_name": "Dr Somebody",
                            "patient": {"name": "Someone"},
                            "patient_fp": pfp,
                            "pseudonym": "",
                            "basis": "consent",
                            "domains": ["medical"],
                            "recipients": [box.card.fingerprint],
                        },
                        receipt=os.urandom(200),
                    ),
                    pfp,
                )
    box.home.close()


def _fp(w: World, home: Path) -> str:
    from securemsg.store.home import Home

    return Home(home, env=w.env).card().fingerprint


def measure(report: Report, w: World, count: int, runs: int) -> None:
    add_patient(w)
    from securemsg.store.contacts import Contacts
    from securemsg.store.home import Home

    in_process_env(w)
    pat_fp = Contacts(Home(w.bob, env=w.env)).find("Jeanne").fingerprint
    # Bob's mailbox holds the letters of the other benchmarks: start from an
    # emptied copy, and grow another copy of it.
    empty = w.root / "bob-empty"
    shutil.copytree(w.bob, empty)
    _empty_letters(empty)
    big = w.root / "bob-big"
    shutil.copytree(empty, big)
    db0 = _db_size(empty)
    half = count // 2
    populate(big, w, half, pat_fp)
    db_half = _db_size(big)
    populate(big, w, count - half, pat_fp)
    db_full = _db_size(big)
    report.say(f"## Scale: {count} letters in the mailbox ({runs} interleaved runs, ms)")
    report.say(
        f"  database: empty {db0 / 1024:.0f} KiB, {half} letters {db_half / 1e6:.1f} MB,"
        f" {count} letters {db_full / 1e6:.1f} MB"
        f" ({(db_full - db_half) / (count - half):.0f} B/letter for the second half vs"
        f" {(db_half - db0) / half:.0f} B/letter for the first: linear)"
    )
    cmds = {
        "inbox, empty": [*SECUREMSG, "--home", str(empty), "inbox"],
        f"inbox, {count}": [*SECUREMSG, "--home", str(big), "inbox"],
        "inbox --patient, empty": [
            *SECUREMSG,
            "--home",
            str(w.bob),
            "inbox",
            "--patient",
            "Jeanne",
        ],
        f"inbox --patient, {count}": [
            *SECUREMSG,
            "--home",
            str(big),
            "inbox",
            "--patient",
            "Jeanne",
        ],
    }
    for c in cmds.values():
        run(c, env=w.env)
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(runs):
        for k, c in cmds.items():
            times[k].append(run(c, env=w.env).seconds * 1000)
    stats = {k: Stats(v) for k, v in times.items()}
    for k, v in stats.items():
        report.say(f"  {k:<32} {v.fmt(' ms', 1)}")
    report.say("  query plans:")
    for line in plans(big, pat_fp, w):
        report.say(f"    {line}")
    for what in ("inbox", "inbox --patient"):
        full, empty = stats[f"{what}, {count}"].median, stats[f"{what}, empty"].median
        report.check(
            6,
            f"{what} with {count} letters vs empty",
            f"{full:.1f} ms vs {empty:.1f} ms",
            full / empty,
            "<= 1.5",
        )
    report.check(
        6,
        "database growth is linear (bytes/letter, 2nd half vs 1st)",
        f"{(db_full - db_half) / (count - half):.0f} vs {(db_half - db0) / half:.0f} B/letter",
        ((db_full - db_half) / (count - half)) / ((db_half - db0) / half),
        "<= 1.2",
    )


def _empty_letters(home: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(home / "securemsg.db")
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'letters'").fetchone():
        conn.execute("DELETE FROM letters")
        conn.commit()
    conn.execute("VACUUM")
    conn.close()
    for f in (home / "mail" / "in").glob("*.smsg"):
        f.unlink()


def _db_size(home: Path) -> int:
    return sum(f.stat().st_size for f in home.glob("securemsg.db*"))


def plans(home: Path, patient_fp: str, w: World) -> list[str]:
    import sqlite3

    from securemsg.store.home import Home
    from securemsg.store.mailbox import Mailbox

    box = Mailbox(Home(home, env=w.env))
    conn = sqlite3.connect(home / "securemsg.db")
    out = []
    for label, q, args in (
        (
            "inbox",
            "SELECT id FROM letters WHERE folder = ? ORDER BY date DESC, id LIMIT 50",
            ("in",),
        ),
        (
            "inbox --patient",
            "SELECT id FROM letters WHERE folder = ? AND patient_ix = ?"
            " ORDER BY date DESC, id LIMIT 50",
            ("in", box.patient_index(patient_fp)),
        ),
    ):
        rows = conn.execute("EXPLAIN QUERY PLAN " + q, args).fetchall()
        out.append(f"{label}: " + "; ".join(r[-1] for r in rows))
    conn.close()
    box.home.close()
    return out
