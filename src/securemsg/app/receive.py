"""Receiving: letters (verified completely, then kept, with a receipt) and the
receipts and refusal notices that come back for my own letters.

From files (``receive FILE...``: each proof written beside its letter, or to
``--receipt-out``) or from a drop folder (``receive --drop``: each proof put in
the author's folder there). One file at a time, each committed or refused on
its own; a refused letter gets a signed refusal notice only when its manifest
signature verified before the refusal, at most MAX_NOTICES_PER_AUTHOR per author
per run (the notice names the rule only, never the reason's details). A letter
refused only because its author is not a contact is kept aside (app/aside.py)
and received again later (app/retry.py).

Long file: one letter, the proofs, files and the drop folder are one flow (the
same notice cap and outcome rows run through all of them); the keeping aside and
the retry live apart.
"""

from __future__ import annotations

import enum
import functools
from pathlib import Path
from typing import BinaryIO

from securemsg.app.aside import keep_aside
from securemsg.app.proofs import MAX_PROOF, import_proof
from securemsg.app.trust import author_card, check_basis, pin_patient
from securemsg.core.card import Card
from securemsg.core.frozen import Frozen, _set, replace
from securemsg.core.letter import policy
from securemsg.core.letter.limits import MAX_ENVELOPE
from securemsg.core.letter.manifest import Manifest
from securemsg.core.letter.opening import Opening
from securemsg.core.letter.proofs import Refusal
from securemsg.errors import (
    ConflictError,
    DropFolderError,
    DropPermissionError,
    NoSpaceError,
    NotFoundError,
    SecureMsgError,
    UnknownSender,
    UnreadableError,
)
from securemsg.i18n import _
from securemsg.store import drop as dropfolder
from securemsg.store import drop_files, quarantine
from securemsg.store.checked import Opened, Unsafe, open_path
from securemsg.store.dirfd import Dir
from securemsg.store.drop_files import Bad, file_error, unreadable
from securemsg.store.fs import check_new_file, write_new, write_unique
from securemsg.store.home import Home
from securemsg.store.mailbox import Mailbox
from securemsg.store.receiving import Accepted, accept, file_digest

PROOF_SUFFIXES = (".receipt", ".refusal")
PROOF_MODE = 0o644  # a receipt or notice is no secret: the author gets it back
# Refused files of my drop folder (``NAME.refused``) and letters kept aside in the
# home are removed after this many days (``receive --keep-refused-days``).
KEEP_REFUSED_DAYS = 30


class Outcome(enum.Enum):
    ACCEPTED = "accepted"  # a letter, verified and kept; its receipt goes back
    DUPLICATE = "duplicate"  # a letter kept before; its receipt goes back again
    REFUSED = "refused"  # a letter or proof that did not verify (the error says why)
    DELIVERED = "delivered"  # a receipt: the recipient accepted my letter
    REFUSED_BY_RECIPIENT = "refused_by_recipient"  # a notice: the recipient refused it
    UNVERIFIED_REPORT = "unverified_report"  # a notice from someone who was not a recipient
    ALREADY_RECORDED = "already_recorded"  # this receipt or notice was recorded before
    SKIPPED = "skipped"  # a file that could not be read, left where it is (the error says why)
    RECORDED = "recorded"  # by mail: a consent object, recorded as by `consent import`
    OFFERED = "offered"  # by mail: a card, kept aside for `contacts add`, never trusted
    ELSEWHERE = "elsewhere"  # several devices: a proof for a letter another device sent
    KEY_MOVED = "key_moved"  # a key succession: the contact moved to its new key (app/statements)


class LetterReceived(Frozen):
    """One letter file: accepted, duplicate or refused."""

    __slots__ = (  # noqa: RUF023 (field order)
        "file",
        "outcome",
        "message_id",
        "author",
        "kind",
        "domains",
        "subject",
        "error",
        "notice",
        "proof_file",
        "kept",
        "problem",
    )
    file: Path
    outcome: Outcome
    message_id: str | None
    author: str | None  # the author's name (accepted, duplicate)
    kind: str | None
    domains: tuple[str, ...]
    subject: str | None
    error: SecureMsgError | None  # refused or skipped
    notice: bool  # refused: a signed refusal notice goes back
    proof_file: Path | None  # where the receipt or notice was written (FILE mode)
    kept: bool  # refused for an unknown author: kept aside, retried (app/retry.py)
    # what could not be done after it: its receipt or notice not delivered (the
    # file is kept in the drop folder for the next receive), or the file not removed
    problem: SecureMsgError | None

    def __init__(
        self,
        file: Path,
        outcome: Outcome,
        message_id: str | None = None,
        author: str | None = None,
        kind: str | None = None,
        domains: tuple[str, ...] = (),
        subject: str | None = None,
        error: SecureMsgError | None = None,
        notice: bool = False,
        proof_file: Path | None = None,
        kept: bool = False,
        problem: SecureMsgError | None = None,
    ) -> None:
        _set(self, "file", file)
        _set(self, "outcome", outcome)
        _set(self, "message_id", message_id)
        _set(self, "author", author)
        _set(self, "kind", kind)
        _set(self, "domains", domains)
        _set(self, "subject", subject)
        _set(self, "error", error)
        _set(self, "notice", notice)
        _set(self, "proof_file", proof_file)
        _set(self, "kept", kept)
        _set(self, "problem", problem)


class ProofReceived(Frozen):
    """One receipt or refusal notice for a letter I sent."""

    __slots__ = (  # noqa: RUF023 (field order)
        "file",
        "outcome",
        "kind",
        "message_id",
        "recipient",
        "reason",
        "error",
        "problem",
        "rule",
    )
    file: Path
    outcome: Outcome
    kind: str | None  # receipt | refusal
    message_id: str | None
    recipient: str | None  # the recipient's name
    reason: str | None  # a notice's reason
    error: SecureMsgError | None  # refused
    problem: SecureMsgError | None  # the file could not be removed or set aside
    rule: str | None  # a notice's rule: a consent rule, else an error code

    def __init__(
        self,
        file: Path,
        outcome: Outcome,
        kind: str | None = None,
        message_id: str | None = None,
        recipient: str | None = None,
        reason: str | None = None,
        error: SecureMsgError | None = None,
        problem: SecureMsgError | None = None,
        rule: str | None = None,
    ) -> None:
        _set(self, "file", file)
        _set(self, "outcome", outcome)
        _set(self, "kind", kind)
        _set(self, "message_id", message_id)
        _set(self, "recipient", recipient)
        _set(self, "reason", reason)
        _set(self, "error", error)
        _set(self, "problem", problem)
        _set(self, "rule", rule)


Received = LetterReceived | ProofReceived


class Refused(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "error",
        "notice",
        "author_fp",
    )
    error: SecureMsgError
    notice: Refusal | None
    author_fp: str | None

    def __init__(
        self, error: SecureMsgError, notice: Refusal | None, author_fp: str | None
    ) -> None:
        _set(self, "error", error)
        _set(self, "notice", notice)
        _set(self, "author_fp", author_fp)


# -- one letter ---------------------------------------------------------------------
def receive(
    box: Mailbox, src: BinaryIO, now: int, verified: list[Manifest] | None = None
) -> Accepted:
    """Verify ``src`` completely, then commit. Raises on any refusal. A patient
    card the letter carried is pinned once the letter is accepted (app/trust.py).
    ``verified`` gets the manifest once its signature verified: a
    refusal after that point may be told to its author, never one before."""
    patients: list[Card | None] = []

    def verify(stream: BinaryIO) -> tuple[Manifest, Card]:
        env = Opening(stream, box.secret, box.card.fingerprint)
        author = author_card(box, env.author_fp, now)
        manifest = env.verify(author, verified)
        consent, carried = env.basis_records()
        patients.append(check_basis(box, manifest, consent, carried, now)[1])
        for _head, _item, chunks in env.items():
            for _chunk in chunks:  # digests are checked as it streams; nothing is kept
                pass
        env.finish()
        return manifest, author

    accepted = accept(box, src, now, verify)
    pin_patient(box, accepted.manifest, patients[-1], now)
    return accepted


# At most this many refusal notices to one author in one run (``receive --drop``
# or ``receive FILE...``); further refusals of that author's letters are still
# reported here, with ``notice: false`` (docs/format.md, "Refusal notices").
MAX_NOTICES_PER_AUTHOR = 5


def refusal_notice(
    box: Mailbox, src: Opened, error: SecureMsgError, verified: list[Manifest], now: int
) -> Refused:
    """After a refusal: a signed notice for the author, only if the manifest's
    signature verified (``verified``) before the refusal, so that its author and
    message id are the author's own words, not whatever a file claims. The
    digest is read from the same open file (its descriptor), never by path."""
    if not verified:
        return Refused(error, None, None)
    manifest = verified[-1]
    notice = Refusal.sign(
        box.secret,
        manifest.message_id,
        file_digest(_reader(src)),
        box.card.fingerprint,
        now,
        policy.refusal_rule(error),
        policy.refusal_reason(error),
    )
    return Refused(error, notice, manifest.author)


def _reader(src: Opened) -> BinaryIO:
    """``src`` from its start; a read error is an :class:`UnreadableError` (the file
    is skipped, never refused for it)."""
    return src.reader(functools.partial(unreadable, src.path))


class NoticeCap:
    """How many refusal notices each author got in this run."""

    def __init__(self) -> None:
        self.sent: dict[str, int] = {}

    def allow(self, author: str) -> bool:
        n = self.sent.get(author, 0)
        if n >= MAX_NOTICES_PER_AUTHOR:
            return False
        self.sent[author] = n + 1
        return True


def _accept(
    box: Mailbox, src: Opened, now: int, cap: NoticeCap, origin: dict[str, str] | None = None
) -> tuple[LetterReceived, bytes | None, str | None]:
    """Returns (what happened, proof bytes to send back, author fingerprint).
    A letter refused only because its author is not a contact is kept aside
    (app/retry.py) when ``origin`` says where its receipt will go."""
    path = src.path
    verified: list[Manifest] = []
    try:
        try:
            result = receive(box, _reader(src), now, verified)
        except UnreadableError:
            raise
        except SecureMsgError as exc:
            if verified and not cap.allow(verified[-1].author):
                verified.clear()  # over the cap: reported here, not told
            refused = refusal_notice(box, src, exc, verified, now)
            notice = refused.notice
            row = LetterReceived(
                path,
                Outcome.REFUSED,
                message_id=notice.message_id.hex() if notice is not None else None,
                error=exc,
                notice=notice is not None,
            )
            if origin is not None and isinstance(exc, UnknownSender):
                row = keep_aside(box.home, src, exc, origin, row)
            return row, (notice.encoded if notice else None), refused.author_fp
    except UnreadableError as exc:
        return LetterReceived(path, Outcome.SKIPPED, error=exc), None, None
    m = result.manifest
    row = LetterReceived(
        path,
        Outcome.DUPLICATE if result.duplicate else Outcome.ACCEPTED,
        message_id=m.id_hex,
        author=result.author.name,
        kind=m.kind.value,
        domains=result.domains,
        subject=m.subject,
    )
    return row, result.receipt.encoded, m.author


def _proof_kind(row: LetterReceived) -> str:
    return "refusal" if row.outcome is Outcome.REFUSED else "receipt"


# -- proofs -------------------------------------------------------------------------
def import_file(box: Mailbox, src: Opened, now: int) -> ProofReceived:
    try:
        r = import_proof(box, _reader(src).read(MAX_PROOF + 1), now)
    except UnreadableError as exc:
        return ProofReceived(src.path, Outcome.SKIPPED, error=exc)
    except SecureMsgError as exc:
        return ProofReceived(src.path, Outcome.REFUSED, error=exc)
    outcome = {
        "delivered": Outcome.DELIVERED,
        "refused": Outcome.REFUSED_BY_RECIPIENT,
        "unchanged": Outcome.ALREADY_RECORDED,
        "unverified": Outcome.UNVERIFIED_REPORT,
    }[r.status]
    return ProofReceived(
        src.path, outcome, r.kind, r.message_id, r.recipient_name, r.reason, rule=r.rule
    )


def import_proofs(home: Home, files: list[Path], now: int) -> list[ProofReceived]:
    """``receipts import``: match each receipt or notice to the double it proves."""
    box = Mailbox(home)
    rows: list[ProofReceived] = []
    for path in files:
        opened = _open_named(path, MAX_PROOF)
        if isinstance(opened, Bad):
            rows.append(ProofReceived(path, _bad_outcome(opened), error=opened.error))
            continue
        with opened:
            rows.append(import_file(box, opened, now))
    return rows


# -- files and drop folders ---------------------------------------------------------
# The largest file read as a letter: the largest envelope a receiver accepts
# (core/letter/limits.py, MAX_ENVELOPE, 1 TiB), which is also the largest a sender
# writes (app/send.py refuses a letter that could exceed it); as a receipt or
# notice: MAX_PROOF (64 KiB, app/proofs.py). A file over its cap, or with holes
# (a sparse file), is refused by fstat before a byte of it is read
# (docs/threat-model.md, "The drop folder").
LETTER_CAP = MAX_ENVELOPE


def _cap(name: str) -> int:
    return MAX_PROOF if name.endswith(PROOF_SUFFIXES) else LETTER_CAP


def _open_named(path: Path, cap: int) -> Opened | Bad:
    """A file the user named: opened and checked like a drop folder's (never blocks,
    only a regular file, capped, not sparse), the user's own links followed."""
    try:
        return open_path(path, cap)
    except Unsafe as exc:
        return Bad(file_error(exc), exc.ident)


def _bad_outcome(bad: Bad) -> Outcome:
    return Outcome.SKIPPED if bad.keep else Outcome.REFUSED


def _bad_row(path: Path, bad: Bad) -> Received:
    if path.name.endswith(PROOF_SUFFIXES):
        return ProofReceived(path, _bad_outcome(bad), error=bad.error)
    return LetterReceived(path, _bad_outcome(bad), error=bad.error)


def receive_files(
    home: Home, files: list[Path], receipt_out: Path | None, now: int
) -> list[Received]:
    """Letters (and proofs) from files; each letter's proof is written beside it
    (``NAME.receipt``, ``NAME.refusal``; ``NAME (2).receipt``... when that name
    is taken by another file) or into ``receipt_out``: a folder (under the same
    names), or a new file name (one letter only). No file is ever written over.
    A file that cannot be read is reported and skipped; the others are received.
    A letter from an author who is not yet a contact is kept aside (app/aside.py)."""
    out_dir = receipt_out if receipt_out is not None and receipt_out.is_dir() else None
    if receipt_out is not None and out_dir is None:
        check_new_file(receipt_out)  # before anything is received
    from securemsg.app import statements  # it imports this module

    rows: list[Received]
    rows, files = statements.take_files(home, files, now)  # key statements first
    box = Mailbox(home)
    cap = NoticeCap()
    for path in files:
        opened = _open_named(path, _cap(path.name))
        if isinstance(opened, Bad):
            rows.append(_bad_row(path, opened))
            continue
        with opened:
            if path.suffix in PROOF_SUFFIXES:
                rows.append(import_file(box, opened, now))
                continue
            folder = out_dir or (receipt_out.parent if receipt_out else path.parent)
            origin = {"dir": str(folder.absolute()), "name": path.name}
            if receipt_out is not None and out_dir is None:
                origin["file"] = str(receipt_out.absolute())
            row, proof, _author = _accept(box, opened, now, cap, origin)
        if proof is not None:
            row = replace(row, proof_file=write_proof(origin, _proof_kind(row), proof))
        rows.append(row)
    return rows


def write_proof(origin: dict[str, str], kind: str, proof: bytes) -> Path:
    """A receipt or notice for a letter that came as a file: to the file the user
    named, or beside the letter (or in the folder the user named)."""
    if "file" in origin:
        target = Path(origin["file"])
        write_new(target, proof, mode=PROOF_MODE)
        return target
    name = f"{Path(origin['name']).stem}.{kind}"
    return write_unique(Path(origin["dir"]), name, proof, mode=PROOF_MODE)


def receive_drop(
    home: Home, drop: Path, now: int, keep_refused_days: int = KEEP_REFUSED_DAYS
) -> list[Received]:
    """What waits for me in a drop folder; each letter's proof goes to its
    author's folder there. A file is removed once committed; a refused one is
    renamed ``*.refused`` (kept for inspection, never processed again); one that
    cannot be read is left where it is. Each file on its own: a problem with one
    is reported in its row, never stops the others. My folder itself must be a
    folder (not a link) that is mine or my group's, else nothing is done
    (store/drop.py)."""
    with dropfolder.permission_errors(drop):  # this account may not go there: say why
        return _receive_drop(home, drop, now, keep_refused_days)


def _receive_drop(home: Home, drop: Path, now: int, keep_days: int) -> list[Received]:
    box = Mailbox(home)
    box.cleanup_in_flight()  # mail/tmp only: never the whole mailbox
    rows: list[Received] = []
    cap = NoticeCap()
    with (
        dropfolder.open_drop(drop) as root,
        dropfolder.make_mine(root, box.card.fingerprint) as mine,
    ):
        origin = {"drop": str(drop.absolute())}
        from securemsg.app import statements  # it imports this module

        names = drop_files.collect(mine)
        for name in [n for n in names if n.endswith(statements.SUFFIX)]:  # before letters
            rows += statements.from_drop(home, mine, name, now)
        for name in [n for n in names if not n.endswith(statements.SUFFIX)]:
            row = _drop_file(box, root, mine, name, now, cap, origin)
            if row is not None:
                rows.append(row)
        drop_files.expire_refused(mine, now, keep_days)
    quarantine.expire(home, now, keep_days)
    return rows


def _drop_file(
    box: Mailbox,
    root: Dir,
    mine: Dir,
    name: str,
    now: int,
    cap: NoticeCap,
    origin: dict[str, str],
) -> Received | None:
    """One name of my drop folder: its row, or None if it is gone (another
    receiver took it meanwhile)."""
    opened = drop_files.open_entry(mine, name, _cap(name))
    if opened is None:
        return None
    if isinstance(opened, Bad):
        row = _bad_row(mine.path / name, opened)
        if not opened.keep:
            row = replace(row, problem=drop_files.set_aside(mine, name, opened.ident))
        return row
    with opened:
        if name.endswith(PROOF_SUFFIXES):
            proof_row = import_file(box, opened, now)
            if proof_row.outcome in (Outcome.REFUSED, Outcome.UNVERIFIED_REPORT):
                problem = drop_files.set_aside(mine, name, opened.ident)
            elif proof_row.outcome is Outcome.SKIPPED:
                problem = None
            else:
                problem = drop_files.remove(mine, name, opened.ident)
            return replace(proof_row, problem=problem)
        row, proof, author = _accept(box, opened, now, cap, origin)
    if row.outcome is Outcome.SKIPPED:
        return row
    if proof is not None and author is not None:
        mid = row.message_id or name.split(".")[0]
        kind = _proof_kind(row)
        try:
            dropfolder.put_proof(root, author, mid, box.card.fingerprint, kind, proof)
        except SecureMsgError as exc:  # kept: the next receive sends its proof again
            return replace(row, problem=_undelivered(kind, exc))
    if row.outcome is Outcome.REFUSED and not row.kept:  # a kept letter is in the home now
        return replace(row, problem=drop_files.set_aside(mine, name, opened.ident))
    return replace(row, problem=drop_files.remove(mine, name, opened.ident))


def _undelivered(kind: str, exc: SecureMsgError) -> SecureMsgError:
    """A receipt or notice that could not be put in its author's folder: the same
    error (its code kept), saying that the letter waits for the next receive."""
    same = (ConflictError, DropFolderError, DropPermissionError, NoSpaceError, NotFoundError)
    cls = type(exc) if isinstance(exc, same) else DropFolderError
    if kind == "receipt":
        text = _(
            "{message} (the letter stays in the drop folder: the next receive puts "
            "its receipt there again)"
        )
    else:
        text = _(
            "{message} (the letter stays in the drop folder: the next receive puts "
            "its refusal there again)"
        )
    return cls(
        text.format(message=exc.message),
        hint=exc.hint,
    )
