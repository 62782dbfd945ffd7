"""store.db: the one schema of a home's database, pinned, and how older files open.

The statements below are the schema as it stood before it moved into
store/db.py (user_version 1), copied from sqlite_master. A home's database
must keep exactly these tables and indexes, and opening a file made by an
older securemsg must leave its rows as they are; it is then at version 4
(2: the log checkpoint, no table changes, see tests/letters/test_log_checkpoint.py;
3: the mail tables; 4: the table letter_reads, read/unread state).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from securemsg.store import db

PINNED = {
    (
        "table",
        "contacts",
        "CREATE TABLE contacts (\n"
        "    fp TEXT PRIMARY KEY,       -- fingerprint of the card's signing key\n"
        "    state TEXT NOT NULL,       -- active | replaced\n"
        "    blob BLOB NOT NULL         -- sealed CBOR record (card, verified, dates)\n"
        ")",
    ),
    ("table", "meta", "CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)"),
    (
        "table",
        "letters",
        "CREATE TABLE letters (\n"
        "    id TEXT NOT NULL,             -- message id, hex\n"
        "    folder TEXT NOT NULL,         -- in | sent\n"
        "    stored_at INTEGER NOT NULL,\n"
        "    date INTEGER NOT NULL,\n"
        "    author TEXT NOT NULL,         -- author's fingerprint\n"
        "    kind TEXT NOT NULL,\n"
        "    in_reply_to TEXT,\n"
        "    patient_ix TEXT,              -- keyed blind index of the patient's fingerprint\n"
        "    envelope_digest BLOB NOT NULL,\n"
        "    path TEXT NOT NULL,           -- relative to HOME\n"
        "    summary BLOB NOT NULL,        -- sealed CBOR\n"
        "    receipt BLOB,                 -- the receipt we signed (folder in)\n"
        "    PRIMARY KEY (id, folder)\n"
        ")",
    ),
    ("index", "letters_by_date", "CREATE INDEX letters_by_date ON letters(folder, date)"),
    (
        "index",
        "letters_by_patient",
        "CREATE INDEX letters_by_patient ON letters(patient_ix, date)",
    ),
    ("index", "letters_by_thread", "CREATE INDEX letters_by_thread ON letters(in_reply_to)"),
    (
        "table",
        "deliveries",
        "CREATE TABLE deliveries (\n"
        "    id TEXT NOT NULL,\n"
        "    recipient TEXT NOT NULL,      -- fingerprint\n"
        "    envelope_digest BLOB NOT NULL,\n"
        "    status TEXT NOT NULL,         -- sent | delivered | refused\n"
        "    proof BLOB,                   -- the receipt or refusal notice\n"
        "    at INTEGER,\n"
        "    PRIMARY KEY (id, recipient)\n"
        ")",
    ),
    (
        "table",
        "log",
        "CREATE TABLE log (\n    seq INTEGER PRIMARY KEY,\n    entry BLOB NOT NULL,\n"
        "    hash BLOB NOT NULL\n)",
    ),
    (
        "table",
        "consents",
        "CREATE TABLE consents (\n"
        "    id TEXT PRIMARY KEY,      -- hex object_digest of the signed object\n"
        "    kind TEXT NOT NULL,       -- grant | revocation | objection\n"
        "    patient TEXT NOT NULL,    -- blind index of the patient's fingerprint\n"
        "    grant_id TEXT,            -- hex grant id (grant, revocation), else NULL\n"
        "    blob BLOB NOT NULL        -- sealed CBOR {object, card, added, origin}\n"
        ")",
    ),
    ("index", "consents_patient", "CREATE INDEX consents_patient ON consents(patient, kind)"),
    # version 3: letters by mail (store/mailaccounts.py)
    (
        "table",
        "mail_accounts",
        "CREATE TABLE mail_accounts (\n"
        "    name TEXT PRIMARY KEY,     -- the account's name (its address by default)\n"
        "    blob BLOB NOT NULL         -- sealed CBOR (address, servers, login, password)\n"
        ")",
    ),
    (
        "table",
        "mail_seen",
        "CREATE TABLE mail_seen (\n"
        "    account TEXT NOT NULL,\n"
        "    folder TEXT NOT NULL,\n"
        "    uidvalidity INTEGER NOT NULL,\n"
        "    uid INTEGER NOT NULL,\n"
        "    status TEXT NOT NULL,      -- the outcome: accepted | refused | left ...\n"
        "    PRIMARY KEY (account, folder, uidvalidity, uid)\n"
        ")",
    ),
    # version 4: read/unread state (store/mailbox.py)
    (
        "table",
        "letter_reads",
        "CREATE TABLE letter_reads (\n"
        "    id TEXT NOT NULL,             -- message id, hex\n"
        "    folder TEXT NOT NULL,         -- in | sent\n"
        "    at INTEGER NOT NULL,          -- when it was first read\n"
        "    PRIMARY KEY (id, folder)\n"
        ")",
    ),
}
# The named objects an older home may hold: only `init` and `contacts` ran
# (contacts, meta), or the mailbox or the consent store was opened too.
OLDER_SUBSETS = (
    {"contacts", "meta"},
    {"contacts", "meta", "letters", "deliveries", "log"},
    {"contacts", "meta", "consents"},
)


def schema(path: Path) -> set[tuple[str, str, str]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL")
        return {(t, n, s) for t, n, s in rows}
    finally:
        conn.close()


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def older_file(path: Path, tables: set[str]) -> None:
    """A database as an older securemsg left it: some of the pinned tables, version 1."""
    conn = sqlite3.connect(path)
    for _type, name, sql in sorted(PINNED, key=lambda p: p[0] == "index"):
        table = name.split("_by_")[0].removesuffix("_patient")
        if table in tables:
            conn.execute(sql)
    if "contacts" in tables:
        conn.execute("INSERT INTO contacts(fp, state, blob) VALUES ('ab', 'active', x'00')")
    conn.execute("PRAGMA user_version=1")
    conn.commit()
    conn.close()


def test_a_new_database_has_the_pinned_schema(tmp_path: Path) -> None:
    path = tmp_path / "securemsg.db"
    db.connect(path).close()
    assert schema(path) == PINNED
    assert user_version(path) == db.SCHEMA_VERSION == 4


def test_an_older_file_opens_with_its_version_and_rows(tmp_path: Path) -> None:
    for k, tables in enumerate(OLDER_SUBSETS):
        path = tmp_path / f"old{k}.db"
        older_file(path, tables)
        before = schema(path)
        assert {n for _t, n, _s in before} <= {n for _t, n, _s in PINNED}
        conn = db.connect(path)
        assert conn.execute("SELECT fp, state FROM contacts").fetchall() == [("ab", "active")]
        conn.close()
        assert schema(path) == PINNED  # the tables it lacked, as the owners made them
        assert user_version(path) == 4


def test_a_complete_file_is_not_written_to(tmp_path: Path) -> None:
    path = tmp_path / "securemsg.db"
    db.connect(path).close()
    conn = sqlite3.connect(path)
    before = conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes
    db.connect(path).close()
    after = conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes
    conn.close()
    assert before == after
    assert schema(path) == PINNED
