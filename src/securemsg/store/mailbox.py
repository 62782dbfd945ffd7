"""The mailbox: letters (received and doubles), deliveries, and the signed log.

Letters are kept as the .smsg envelopes themselves, encrypted to this home's
key, under HOME/mail/{in,sent}/. The database holds, per letter, clear routing
columns (id, folder, dates, author fingerprint, kind, thread) and a summary
sealed with the storage key (subject, patient, recipients). The patient column
is a keyed blind index: lookups work, the patient's identity is not stored.

This module owns the tables letters, deliveries, log and meta (their schema is
in store/db.py), and letter_reads (read/unread): no other module runs SQL on them.

Long file: one owner for five tables and the log's chain and checkpoint; splitting
it would spread the SQL of one table over two modules. A second device's
log chain id (``device join``) is kept here too. The clean-up of crashed runs (in flight,
and the full sweep) stays here too, beside the transaction it completes and
the rows it checks.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from securemsg.core import cbor
from securemsg.core.card import Card
from securemsg.core.frozen import Frozen, _set
from securemsg.core.identity import KeyHolder
from securemsg.core.storage import StorageKeys
from securemsg.errors import (
    AmbiguousId,
    ConflictError,
    NotFoundError,
    UsageError,
    VerificationError,
)
from securemsg.i18n import N_, _
from securemsg.store.fs import ensure_private_dir
from securemsg.store.home import Home

if TYPE_CHECKING:  # core.log is imported where the log is used: listings need none of it
    from pathlib import Path  # nor pathlib: the listings open the mailbox by str paths

    from securemsg.core.letter.manifest import Manifest
    from securemsg.core.log import ChainReport, Checkpoint, LogEntry, Owner

PLACED = ".placed"  # mail/tmp/FOLDER-ID.placed: an envelope placed, its commit pending
_MESSAGE_ID = re.compile(r"[0-9a-f]{32}")

# A message id is 16 bytes, shown everywhere as its 32 hex digits (ID_LENGTH); any
# prefix of at least MIN_PREFIX digits that names one letter is accepted.
ID_LENGTH = 32
MIN_PREFIX = 6


class LetterRow(Frozen):
    """A letter's row (a frozen value, core.frozen: every everyday command
    builds this class at start-up)."""

    __slots__ = (  # noqa: RUF023 (field order)
        "id",
        "folder",
        "stored_at",
        "date",
        "author",
        "kind",
        "in_reply_to",
        "envelope_digest",
        "path",
        "summary",
        "receipt",
    )
    id: str
    folder: str
    stored_at: int
    date: int
    author: str
    kind: str
    in_reply_to: str | None
    envelope_digest: bytes
    path: str
    summary: dict[str, Any]
    receipt: bytes | None

    def __init__(
        self,
        id: str,
        folder: str,
        stored_at: int,
        date: int,
        author: str,
        kind: str,
        in_reply_to: str | None,
        envelope_digest: bytes,
        path: str,
        summary: dict[str, Any],
        receipt: bytes | None,
    ) -> None:
        _set(self, "id", id)
        _set(self, "folder", folder)
        _set(self, "stored_at", stored_at)
        _set(self, "date", date)
        _set(self, "author", author)
        _set(self, "kind", kind)
        _set(self, "in_reply_to", in_reply_to)
        _set(self, "envelope_digest", envelope_digest)
        _set(self, "path", path)
        _set(self, "summary", summary)
        _set(self, "receipt", receipt)

    @classmethod
    def of(
        cls,
        m: Manifest,
        folder: str,
        now: int,
        envelope_digest: bytes,
        path: str,
        author_name: str,
        domains: Iterable[str],
        receipt: bytes | None,
    ) -> LetterRow:
        """The row of a letter (received or double); the summary is sealed on insert."""
        summary = {
            "subject": m.subject,
            "author_name": author_name,
            "patient": dict(m.patient_ids),
            "patient_fp": m.patient_fp or "",
            "pseudonym": m.pseudonym or "",
            "basis": m.basis,
            "domains": sorted(domains),
            "recipients": [r.fp for r in m.recipients],
        }
        return cls(
            id=m.id_hex,
            folder=folder,
            stored_at=now,
            date=m.date,
            author=m.author,
            kind=m.kind.value,
            in_reply_to=m.in_reply_to.hex() if m.in_reply_to else None,
            envelope_digest=envelope_digest,
            path=path,
            summary=summary,
            receipt=receipt,
        )


class Mailbox:
    def __init__(self, home: Home) -> None:
        self.home = home
        self.secret: KeyHolder = home.unlock()
        self.keys: StorageKeys = home.storage_keys()
        self.card: Card = home.card()
        self.cards: list[Card] = [self.card, *home.previous_cards()]  # then older, newest first
        self._conn: sqlite3.Connection = home.database()  # tables: store/db.py
        mail = os.path.join(self.home.dir, "mail")
        ensure_private_dir(mail)  # mkdir(parents=True) left it 0755
        for folder in ("in", "sent", "tmp"):
            ensure_private_dir(os.path.join(mail, folder))
        self._placed: list[tuple[Path, Path]] = []  # (marker, envelope) until the commit
        # Every process with the mailbox open holds a shared lock on HOME/.mailbox.lock
        # (released by the kernel when it exits, even on SIGKILL). cleanup_in_flight
        # and sweep run only when they can take the lock exclusively: no other live
        # process then has a temp file or an uncommitted envelope in mail/.
        fd = os.open(os.path.join(self.home.dir, ".mailbox.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        self._lock = os.fdopen(fd, "rb")
        fcntl.flock(self._lock, fcntl.LOCK_SH)

    # -- paths ------------------------------------------------------------
    def letter_path(self, folder: str, message_id: str) -> Path:
        return self.home.path / "mail" / folder / f"{message_id}.smsg"

    def temp_dir(self, folder: str) -> Path:
        """Where the envelopes of ``folder`` are written before they are placed:
        ``mail/tmp``, which holds only what is in flight (so cleaning up after a
        crash costs nothing proportional to the mailbox)."""
        return self.home.path / "mail" / "tmp"

    def place(self, tmp: Path, folder: str, message_id: str) -> Path:
        """Inside a transaction: the written and fsynced envelope ``tmp`` (in
        :meth:`temp_dir`) becomes ``mail/FOLDER/ID.smsg``. A marker
        ``mail/tmp/FOLDER-ID.placed`` names it until the commit, so that a crash
        between the rename and the commit leaves a file :meth:`cleanup_in_flight`
        finds without listing the mailbox. The caller has checked, in this
        transaction, that no row names this letter: a file already there was
        left by a crash (every placement happens inside a write transaction)."""
        final = self.letter_path(folder, message_id)
        marker = self.temp_dir(folder) / f"{folder}-{message_id}{PLACED}"
        os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600))
        self._placed.append((marker, final))
        os.replace(tmp, final)
        return final

    # -- transactions -----------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            self._unplace(rolled_back=True)
            raise
        self._conn.execute("COMMIT")
        self._unplace(rolled_back=False)

    def _unplace(self, rolled_back: bool) -> None:
        """After the transaction: the markers of :meth:`place` go; on a rollback,
        the envelopes placed in it go too (no row names them)."""
        for marker, final in self._placed:
            if rolled_back:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(final)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(marker)
        self._placed.clear()

    # -- log --------------------------------------------------------------
    def log_head(self) -> tuple[int, bytes]:
        row = self._conn.execute("SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1").fetchone()
        from securemsg.core.log import GENESIS

        return (0, GENESIS) if row is None else (row[0] + 1, row[1])

    def append_log(
        self,
        now: int,
        event: str,
        message_id: bytes | None = None,
        peer: str | None = None,
        digest: bytes | None = None,
    ) -> LogEntry:
        """Inside a transaction: sign and append one entry."""
        seq, prev = self.log_head()
        from securemsg.core.log import Checkpoint, LogEntry

        entry = LogEntry.sign(self.secret, seq, prev, now, event, message_id, peer, digest)
        self._conn.execute(
            "INSERT INTO log(seq, entry, hash) VALUES (?, ?, ?)", (seq, entry.encoded, entry.hash)
        )
        self._conn.execute(
            "INSERT INTO meta(k, v) VALUES ('log_head', ?) "
            "ON CONFLICT(k) DO UPDATE SET v = excluded.v",
            (entry.hash.hex(),),
        )
        self._put_checkpoint(Checkpoint.sign(self.secret, seq + 1, entry.hash))
        return entry

    def _put_checkpoint(self, cp: Checkpoint) -> None:
        _put_checkpoint(self._conn, cp)

    def _chain(self) -> ChainReport:
        return _chain(self._conn, self.cards)

    def sign_missing_checkpoint(self) -> ChainReport:
        """`log checkpoint`: a home left without a checkpoint (upgraded by a version
        of securemsg that signed it only when the mailbox was opened) gets one over
        the chain as it is now, on the owner's explicit request. Refused when a
        checkpoint exists or the chain itself is broken."""
        with self.transaction():
            if self._conn.execute("SELECT 1 FROM meta WHERE k = 'log_checkpoint'").fetchone():
                raise ConflictError(
                    _("the log already has a signed checkpoint"),
                    hint=_("`securemsg log verify` checks the log against it"),
                )
            report = self._chain()
            if report.problem is not None:
                raise VerificationError(
                    _("the log is inconsistent: {problem}").format(problem=report.problem),
                    hint=_("a checkpoint is only signed over an intact chain"),
                )
            from securemsg.core.log import Checkpoint

            self._put_checkpoint(Checkpoint.sign(self.secret, report.entries, report.head))
        return report

    def verify_log(self) -> ChainReport:
        """The chain, held to the signed checkpoint."""
        from securemsg.core.log import ChainReport, LogEntry, check_checkpoint, cross_check

        cp = self._conn.execute("SELECT v FROM meta WHERE k = 'log_checkpoint'").fetchone()
        report = check_checkpoint(self._chain(), _hex(cp[0]) if cp else None, self.cards)
        if report.problem is not None:
            return report
        entries = [LogEntry.verify(e, self.cards) for _s, e in self.log_rows()]
        received = self._conn.execute(
            "SELECT id, author, envelope_digest FROM letters WHERE folder = 'in' ORDER BY id"
        ).fetchall()
        deliveries = self._conn.execute(
            "SELECT id, recipient, envelope_digest, status FROM deliveries ORDER BY id, recipient"
        ).fetchall()
        issue = cross_check(entries, received, deliveries)
        if issue is None:
            return report
        return ChainReport(report.entries, report.head, issue, None)

    def chain_id(self) -> bytes | None:
        """This device's log chain id (a device joined with ``device join``), named in
        its receipts; None on an identity's first device (docs/format.md §14)."""
        row = self._conn.execute("SELECT v FROM meta WHERE k = 'chain_id'").fetchone()
        return bytes.fromhex(row[0]) if row else None

    def log_rows(self) -> list[tuple[int, bytes]]:
        return [(s, e) for s, e in self._conn.execute("SELECT seq, entry FROM log ORDER BY seq")]

    # -- letters ----------------------------------------------------------
    def patient_index(self, patient_fp: str) -> str:
        return self.keys.blind_index(b"patient", bytes.fromhex(patient_fp))

    def _place(self, folder: str, message_id: str) -> bytes:
        return f"letters:{folder}:{message_id}".encode()

    def insert_letter(self, row: LetterRow, patient_fp: str | None) -> None:
        sealed = self.keys.seal(self._place(row.folder, row.id), cbor.dumps(row.summary))
        self._conn.execute(
            "INSERT INTO letters(id, folder, stored_at, date, author, kind, in_reply_to,"
            " patient_ix, envelope_digest, path, summary, receipt)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                row.id,
                row.folder,
                row.stored_at,
                row.date,
                row.author,
                row.kind,
                row.in_reply_to,
                self.patient_index(patient_fp) if patient_fp else None,
                row.envelope_digest,
                row.path,
                sealed,
                row.receipt,
            ),
        )

    def _row(self, r: tuple[Any, ...]) -> LetterRow:
        summary = cbor.loads(self.keys.open(self._place(r[1], r[0]), r[9]), N_("letter summary"))
        return LetterRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], summary, r[10])

    _COLS = (
        "id, folder, stored_at, date, author, kind, in_reply_to, envelope_digest, path,"
        " summary, receipt"
    )

    def get(self, message_id: str, folder: str | None = None) -> LetterRow | None:
        q = f"SELECT {self._COLS} FROM letters WHERE id = ?"  # noqa: S608 (fixed column list)
        args: tuple[Any, ...] = (message_id,)
        if folder:
            q += " AND folder = ?"
            args += (folder,)
        r = self._conn.execute(q + " ORDER BY folder", args).fetchone()
        return None if r is None else self._row(r)

    def find(self, prefix: str) -> LetterRow:
        """A letter by its id or a unique prefix of it (:data:`MIN_PREFIX` hex digits
        at least); both copies of a letter I sent to myself count as one."""
        prefix = prefix.strip().lower()
        if len(prefix) < MIN_PREFIX or any(ch not in "0123456789abcdef" for ch in prefix):
            raise UsageError(
                _(
                    "{prefix!r} is not a message id: give its {ID_LENGTH} hex digits, or at "
                    "least the first {MIN_PREFIX}, or `latest`"
                ).format(prefix=prefix, ID_LENGTH=ID_LENGTH, MIN_PREFIX=MIN_PREFIX),
                hint=_("see `securemsg inbox` and `securemsg sent`"),
            )
        rows = self._conn.execute(
            f"SELECT {self._COLS} FROM letters WHERE id >= ? AND id < ? ORDER BY folder",  # noqa: S608 (fixed column list)
            (prefix, prefix + "g"),
        ).fetchall()
        ids = sorted({r[0] for r in rows})
        if not rows:
            raise NotFoundError(
                _("no letter {prefix} in this mailbox").format(prefix=prefix),
                hint=_("see `securemsg inbox` and `securemsg sent`"),
            )
        if len(ids) > 1:
            found = {r[0]: self._row(r) for r in rows}
            listed = "; ".join(
                f"{i} ({found[i].summary.get('subject')}, {found[i].folder})" for i in ids[:10]
            )
            raise AmbiguousId(
                _("{prefix} is the start of {count} message ids: {listed}").format(
                    prefix=prefix, count=len(ids), listed=listed
                ),
                hint=_("give more of its digits"),
            )
        return self._row(rows[0])

    def latest(self, folder: str = "in") -> LetterRow:
        """The letter received (or sent) last."""
        r = self._conn.execute(
            f"SELECT {self._COLS} FROM letters WHERE folder = ?"  # noqa: S608 (fixed column list)
            " ORDER BY stored_at DESC, date DESC, id LIMIT 1",
            (folder,),
        ).fetchone()
        if r is None:
            raise NotFoundError(
                _("no letter received yet") if folder == "in" else _("nothing sent yet"),
                hint=_("securemsg receive --drop DROP-FOLDER, or securemsg receive FILE"),
            )
        return self._row(r)

    # -- read/unread ---------------------------------------------------------
    def mark_read(self, message_id: str, folder: str, now: int) -> None:
        """The first time a letter is read (later readings change nothing)."""
        self._conn.execute(
            "INSERT OR IGNORE INTO letter_reads(id, folder, at) VALUES (?, ?, ?)",
            (message_id, folder, now),
        )

    def read_times(self, ids: Iterable[str]) -> dict[tuple[str, str], int]:
        """(id, folder) -> when it was first read, for those of ``ids`` read."""
        wanted = list(ids)
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self._conn.execute(
            f"SELECT id, folder, at FROM letter_reads WHERE id IN ({marks})",  # noqa: S608 (marks only)
            wanted,
        )
        return {(i, f): at for i, f, at in rows}

    def listing(
        self, folder: str, limit: int = 50, offset: int = 0, patient_fp: str | None = None
    ) -> list[LetterRow]:
        q = f"SELECT {self._COLS} FROM letters WHERE folder = ?"  # noqa: S608 (fixed column list)
        args: tuple[Any, ...] = (folder,)
        if patient_fp is not None:
            q += " AND patient_ix = ?"
            args += (self.patient_index(patient_fp),)
        q += " ORDER BY date DESC, id LIMIT ? OFFSET ?"
        return [self._row(r) for r in self._conn.execute(q, (*args, limit, offset))]

    def thread(self, root: str) -> list[LetterRow]:
        """The whole conversation ``root`` belongs to: climb to the first letter
        held here, then collect every reply below it."""
        climbed = {root}
        while True:
            parent = self._conn.execute(
                "SELECT in_reply_to FROM letters WHERE id = ? AND in_reply_to IS NOT NULL",
                (root,),
            ).fetchone()
            if parent is None or parent[0] in climbed:
                break
            if self._conn.execute("SELECT 1 FROM letters WHERE id = ?", (parent[0],)).fetchone():
                root = parent[0]
                climbed.add(root)
            else:
                break
        seen: dict[tuple[str, str], LetterRow] = {}
        todo = [root]
        while todo:
            mid = todo.pop()
            for r in self._conn.execute(
                f"SELECT {self._COLS} FROM letters WHERE id = ? OR in_reply_to = ?",  # noqa: S608
                (mid, mid),
            ):
                if (r[0], r[1]) not in seen:
                    seen[(r[0], r[1])] = self._row(r)
                    if r[0] != mid:
                        todo.append(r[0])
        return sorted(seen.values(), key=lambda row: (row.date, row.folder))

    # -- deliveries --------------------------------------------------------
    def deliveries(self, message_id: str) -> list[tuple[str, str, int | None]]:
        return list(
            self._conn.execute(
                "SELECT recipient, status, at FROM deliveries WHERE id = ? ORDER BY recipient",
                (message_id,),
            )
        )

    def delivery(self, message_id: str, recipient: str) -> tuple[bytes, str] | None:
        r = self._conn.execute(
            "SELECT envelope_digest, status FROM deliveries WHERE id = ? AND recipient = ?",
            (message_id, recipient),
        ).fetchone()
        return None if r is None else (r[0], r[1])

    def proofs_from(self, recipient: str) -> list[bytes]:
        """The receipts and notices already recorded from one recipient."""
        rows = self._conn.execute(
            "SELECT proof FROM deliveries WHERE recipient = ? AND proof IS NOT NULL ORDER BY id",
            (recipient,),
        )
        return [bytes(r[0]) for r in rows]

    def delivered_since(self, recipient: str, since: int) -> bool:
        """A receipt recorded from ``recipient`` for a letter I sent at or after
        ``since`` (app/carry.py: they know my key of that time)."""
        row = self._conn.execute(
            "SELECT 1 FROM deliveries d JOIN letters l ON l.id = d.id AND l.folder = 'sent' "
            "WHERE d.recipient = ? AND d.status = 'delivered' AND l.date >= ? LIMIT 1",
            (recipient, since),
        ).fetchone()
        return row is not None

    def add_delivery(self, message_id: str, recipient: str, digest: bytes, now: int) -> None:
        """Inside a transaction: one envelope of a letter sent, awaiting its receipt."""
        self._conn.execute(
            "INSERT INTO deliveries(id, recipient, envelope_digest, status, at) "
            "VALUES (?, ?, ?, 'sent', ?)",
            (message_id, recipient, digest, now),
        )

    def settle_delivery(
        self, message_id: str, recipient: str, status: str, proof: bytes, now: int
    ) -> None:
        """Inside a transaction: the receipt or refusal notice a recipient sent back."""
        self._conn.execute(
            "UPDATE deliveries SET status = ?, proof = ?, at = ? WHERE id = ? AND recipient = ?",
            (status, proof, now, message_id, recipient),
        )

    # -- device sync (app/devicesync.py) ------------------------------------
    def stored_since(self, folder: str, since: int) -> list[str]:
        """The ids of ``folder``'s letters stored at or after ``since``, oldest first."""
        rows = self._conn.execute(
            "SELECT id FROM letters WHERE folder = ? AND stored_at >= ? ORDER BY stored_at, id",
            (folder, since),
        )
        return [str(r[0]) for r in rows]

    def proofs_since(self, since: int) -> list[tuple[str, str, str, bytes]]:
        """(id, recipient, status, proof) of the deliveries settled at or after ``since``."""
        rows = self._conn.execute(
            "SELECT id, recipient, status, proof FROM deliveries "
            "WHERE proof IS NOT NULL AND at >= ? ORDER BY at, id, recipient",
            (since,),
        )
        return [(str(i), str(r), str(st), bytes(p)) for i, r, st, p in rows]

    def synced_at(self) -> int:
        """When this device last wrote a device sync file (0: never)."""
        row = self._conn.execute("SELECT v FROM meta WHERE k = 'device_sync_at'").fetchone()
        return int(row[0]) if row and str(row[0]).isdigit() else 0

    def set_synced_at(self, when: int) -> None:
        self._conn.execute(
            "INSERT INTO meta(k, v) VALUES ('device_sync_at', ?) "
            "ON CONFLICT(k) DO UPDATE SET v = excluded.v",
            (str(when),),
        )

    def _exclusive(self, work: Callable[[], int]) -> int:
        """``work()`` while no other process has this mailbox open, else 0."""
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fcntl.flock(self._lock, fcntl.LOCK_SH)  # a failed upgrade may drop the lock
            return 0
        try:
            return work()
        finally:
            fcntl.flock(self._lock, fcntl.LOCK_SH)

    def cleanup_in_flight(self) -> int:
        """Remove what a crashed send or receive left in ``mail/tmp``: its temp
        files, and an envelope it placed but never committed (its marker says
        which). Costs one listing of ``mail/tmp`` (empty unless a run crashed),
        never one of the mailbox. Skipped (returns 0) while another process has
        this mailbox open: its temp files and its envelope being committed are
        not leftovers."""
        return self._exclusive(self._cleanup_in_flight)

    def _cleanup_in_flight(self) -> int:
        removed = 0
        tmp = self.temp_dir("in")
        for name in os.listdir(tmp):
            folder, _sep, rest = name.partition("-")
            message_id = rest[: -len(PLACED)]
            if (
                name.endswith(PLACED)
                and folder in ("in", "sent")
                and _MESSAGE_ID.fullmatch(message_id)
                and self.get(message_id, folder) is None  # placed, never committed
            ):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.letter_path(folder, message_id))
                    removed += 1
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp / name)
                removed += 1
        return removed

    def sweep(self) -> int:
        """The full consistency sweep (``securemsg log verify``): every file of
        ``mail/in`` and ``mail/sent`` that no row names (left by a crash of an
        older version, which wrote its temp files there), and everything in
        ``mail/tmp``. Proportional to the mailbox, so never run by send or
        receive. Skipped (returns 0) while another process has the mailbox open."""
        return self._exclusive(self._sweep)

    def _sweep(self) -> int:
        removed = self._cleanup_in_flight()
        for folder in ("in", "sent"):
            d = self.home.path / "mail" / folder
            known = {
                r[0]
                for r in self._conn.execute("SELECT path FROM letters WHERE folder = ?", (folder,))
            }
            for f in d.iterdir():
                rel = str(f.relative_to(self.home.path))
                if f.name.startswith(".") or (f.suffix == ".smsg" and rel not in known):
                    try:
                        f.unlink()
                        removed += 1
                    except FileNotFoundError:
                        pass
        return removed


def _hex(v: object) -> bytes:
    """A hex meta value; anything else (edited outside securemsg) reads as 1 byte of junk."""
    try:
        return bytes.fromhex(str(v))
    except ValueError:
        return b"\x00"


def _put_checkpoint(conn: sqlite3.Connection, cp: Checkpoint) -> None:
    conn.execute(
        "INSERT INTO meta(k, v) VALUES ('log_checkpoint', ?) "
        "ON CONFLICT(k) DO UPDATE SET v = excluded.v",
        (cp.encoded.hex(),),
    )


def _chain(conn: sqlite3.Connection, card: Owner) -> ChainReport:
    from securemsg.core.log import verify_chain

    rows = conn.execute("SELECT seq, entry, hash FROM log ORDER BY seq").fetchall()
    head = conn.execute("SELECT v FROM meta WHERE k = 'log_head'").fetchone()
    return verify_chain(rows, card, _hex(head[0]) if head else None)


def sign_first_checkpoint(conn: sqlite3.Connection, secret: KeyHolder, card: Card) -> None:
    """A home made before checkpoints, upgraded by this very connection (db.py's
    migration to version 2 leaves a TEMP marker, seen by no other connection):
    sign the chain as found, if it is whole and matches the unsigned head.

    Called by Home.database() for whichever store opened the database first
    (contacts, consents or the mailbox), so that no command can upgrade a home
    and leave it without a checkpoint."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("DROP TABLE temp.log_needs_checkpoint")
        if conn.execute("SELECT v FROM meta WHERE k = 'log_checkpoint'").fetchone() is None:
            report = _chain(conn, card)
            if report.problem is None:
                from securemsg.core.log import Checkpoint

                _put_checkpoint(conn, Checkpoint.sign(secret, report.entries, report.head))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def strip_for_new_device(db_path: Path, chain_id: bytes) -> None:
    """Make the database copy at ``db_path`` a new device's: no letters, no
    deliveries, an empty log of its own chain ``chain_id`` (contacts and consents
    stay). For ``device add``'s copy, never for a home's live database."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.executescript(
            "BEGIN; DELETE FROM letters; DELETE FROM deliveries; DELETE FROM log;"
            " DELETE FROM meta WHERE k IN ('log_head', 'log_checkpoint', 'chain_id'); COMMIT;"
        )
        conn.execute("INSERT INTO meta(k, v) VALUES ('chain_id', ?)", (chain_id.hex(),))
        conn.execute("VACUUM")
    finally:
        conn.close()
