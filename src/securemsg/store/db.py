"""The home's SQLite database: opened with private permissions, WAL, full sync;
its whole schema, and the migrations between versions (``PRAGMA user_version``).

Each table has one owner, the only module that runs SQL on it:
``contacts`` -> store/contacts.py; ``letters``, ``deliveries``, ``log`` and
``meta`` (the log head), ``letter_reads`` -> store/mailbox.py; ``consents`` -> store/consents.py;
``mail_accounts`` and ``mail_seen`` -> store/mailaccounts.py.
tests/test_layering.py holds every other module to that; tests/store/test_db.py
pins the schema.
"""

from __future__ import annotations

import os
import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path  # annotations only: the listings import no pathlib

from securemsg.i18n import _

# Version 1: every table below. Until the schema moved here, each owner made its
# own tables (IF NOT EXISTS) the first time it opened the database: a home at
# version 1 may lack some, and connect() adds them (the same statements, so the
# same schema). MIGRATIONS[v] takes a database from version v to v + 1.
SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS contacts (
    fp TEXT PRIMARY KEY,       -- fingerprint of the card's signing key
    state TEXT NOT NULL,       -- active | replaced
    blob BLOB NOT NULL         -- sealed CBOR record (card, verified, dates)
);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS letters (
    id TEXT NOT NULL,             -- message id, hex
    folder TEXT NOT NULL,         -- in | sent
    stored_at INTEGER NOT NULL,
    date INTEGER NOT NULL,
    author TEXT NOT NULL,         -- author's fingerprint
    kind TEXT NOT NULL,
    in_reply_to TEXT,
    patient_ix TEXT,              -- keyed blind index of the patient's fingerprint
    envelope_digest BLOB NOT NULL,
    path TEXT NOT NULL,           -- relative to HOME
    summary BLOB NOT NULL,        -- sealed CBOR
    receipt BLOB,                 -- the receipt we signed (folder in)
    PRIMARY KEY (id, folder)
);
CREATE INDEX IF NOT EXISTS letters_by_date ON letters(folder, date);
CREATE INDEX IF NOT EXISTS letters_by_patient ON letters(patient_ix, date);
CREATE INDEX IF NOT EXISTS letters_by_thread ON letters(in_reply_to);
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT NOT NULL,
    recipient TEXT NOT NULL,      -- fingerprint
    envelope_digest BLOB NOT NULL,
    status TEXT NOT NULL,         -- sent | delivered | refused
    proof BLOB,                   -- the receipt or refusal notice
    at INTEGER,
    PRIMARY KEY (id, recipient)
);
CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY,
    entry BLOB NOT NULL,
    hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS consents (
    id TEXT PRIMARY KEY,      -- hex object_digest of the signed object
    kind TEXT NOT NULL,       -- grant | revocation | objection
    patient TEXT NOT NULL,    -- blind index of the patient's fingerprint
    grant_id TEXT,            -- hex grant id (grant, revocation), else NULL
    blob BLOB NOT NULL        -- sealed CBOR {object, card, added, origin}
);
CREATE INDEX IF NOT EXISTS consents_patient ON consents(patient, kind);
"""
V1_OBJECTS = (
    "contacts", "meta", "letters", "letters_by_date", "letters_by_patient", "letters_by_thread",
    "deliveries", "log", "consents", "consents_patient",
)  # fmt: skip
# Version 2: the log is checkpointed (a signed head in meta, see store/mailbox.py). No
# table changes; the TEMP marker tells this connection's Home.database(), which holds
# the key, to sign the first checkpoint of a home made before (no other connection sees
# it): store/mailbox.py sign_first_checkpoint.
SCHEMA_V2 = "CREATE TEMP TABLE IF NOT EXISTS log_needs_checkpoint (x INTEGER);"
# Version 3: letters by mail (store/mailaccounts.py owns both tables). An account's
# settings and password are one sealed row; each mail of an IMAP folder that a
# receive finished with is one row, keyed by the folder's UIDVALIDITY and the UID.
SCHEMA_V3 = """
CREATE TABLE IF NOT EXISTS mail_accounts (
    name TEXT PRIMARY KEY,     -- the account's name (its address by default)
    blob BLOB NOT NULL         -- sealed CBOR (address, servers, login, password)
);
CREATE TABLE IF NOT EXISTS mail_seen (
    account TEXT NOT NULL,
    folder TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    status TEXT NOT NULL,      -- the outcome: accepted | refused | left ...
    PRIMARY KEY (account, folder, uidvalidity, uid)
);
"""
# Version 4: read/unread state, one row per letter read (its first reading), owned by
# store/mailbox.py. A table of its own: the pinned tables above stay as they are.
SCHEMA_V4 = """
CREATE TABLE IF NOT EXISTS letter_reads (
    id TEXT NOT NULL,             -- message id, hex
    folder TEXT NOT NULL,         -- in | sent
    at INTEGER NOT NULL,          -- when it was first read
    PRIMARY KEY (id, folder)
);
"""
MIGRATIONS: tuple[str, ...] = (SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4)
SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: str | Path) -> sqlite3.Connection:
    path = os.fspath(path)
    if not os.path.exists(path):
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version >= 1 and not _complete_v1(conn):
        version = 0  # a version-1 home made before the schema moved here: replay v1
    if version < SCHEMA_VERSION:
        _migrate(conn, version)
    for suffix in ("-wal", "-shm"):
        side = path + suffix
        if os.path.exists(side):
            os.chmod(side, 0o600)
    return conn


def needs_first_checkpoint(conn: sqlite3.Connection) -> bool:
    """This connection upgraded a home made before log checkpoints (version 2)."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_temp_master WHERE name = 'log_needs_checkpoint'"
    ).fetchone()
    return row is not None


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    steps = "".join(MIGRATIONS[version:])
    conn.executescript(f"BEGIN IMMEDIATE;{steps}PRAGMA user_version={SCHEMA_VERSION};COMMIT;")


def _complete_v1(conn: sqlite3.Connection) -> bool:
    marks = ",".join("?" * len(V1_OBJECTS))
    (n,) = conn.execute(
        f"SELECT count(*) FROM sqlite_master WHERE name IN ({marks})",  # noqa: S608 (marks only)
        V1_OBJECTS,
    ).fetchone()
    return int(n) == len(V1_OBJECTS)


def snapshot(path: Path, dest: Path) -> None:
    """A consistent copy of the database at ``path`` into ``dest`` (an existing
    empty 0600 file), through SQLite's online backup: what a backup carries."""
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def integrity_problem(path: Path) -> str | None:
    """SQLite's own check of a database file (``PRAGMA integrity_check``), and
    that it is a securemsg database of a version this code reads: None if
    sound, else what is wrong."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return _("cannot open the database ({exc})").format(exc=exc)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
        if [tuple(r) for r in rows] != [("ok",)]:
            return _("SQLite integrity check: {rows}").format(
                rows="; ".join(str(r[0]) for r in rows[:3])
            )
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if not 1 <= version <= SCHEMA_VERSION or not _complete_v1(conn):
            return _("not a securemsg database this version reads (version {version})").format(
                version=version
            )
    except sqlite3.Error as exc:
        return _("the database is not a sound SQLite file ({exc})").format(exc=exc)
    finally:
        conn.close()
    return None
