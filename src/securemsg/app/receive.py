"""Receiving: letters (verified completely, then kept, with a receipt) and the
receipts and refusal notices that come back for my own letters.

From files (``receive FILE...``: each proof written beside its letter, or to
``--receipt-out``) or from a drop folder (``receive --drop``: each proof put in
the author's folder there). One file at a time, each committed or refused on
its own; a refused letter gets a signed refusal notice when its author is a
contact (the notice names the rule only, never the reason's details).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from securemsg.app.proofs import MAX_PROOF, import_proof
from securemsg.app.trust import author_card, check_basis
from securemsg.core.card import Card
from securemsg.core.letter import policy
from securemsg.core.letter.manifest import Manifest
from securemsg.core.letter.opening import Opening
from securemsg.core.letter.proofs import Refusal
from securemsg.errors import SecureMsgError
from securemsg.store import drop as dropfolder
from securemsg.store.contacts import Contacts
from securemsg.store.fs import check_new_file, write_new, write_unique
from securemsg.store.home import Home
from securemsg.store.mailbox import Mailbox
from securemsg.store.receiving import Accepted, accept, file_digest

PROOF_SUFFIXES = (".receipt", ".refusal")
PROOF_MODE = 0o644  # a receipt or notice is no secret: the author gets it back


class Outcome(enum.Enum):
    ACCEPTED = "accepted"  # a letter, verified and kept; its receipt goes back
    DUPLICATE = "duplicate"  # a letter kept before; its receipt goes back again
    REFUSED = "refused"  # a letter or proof that did not verify (the error says why)
    DELIVERED = "delivered"  # a receipt: the recipient accepted my letter
    REFUSED_BY_RECIPIENT = "refused_by_recipient"  # a notice: the recipient refused it
    ALREADY_RECORDED = "already_recorded"  # this receipt or notice was recorded before


@dataclass(frozen=True, slots=True)
class LetterReceived:
    """One letter file: accepted, duplicate or refused."""

    file: Path
    outcome: Outcome
    message_id: str | None = None
    author: str | None = None  # the author's name (accepted, duplicate)
    kind: str | None = None
    domains: tuple[str, ...] = ()
    subject: str | None = None
    error: SecureMsgError | None = None  # refused
    notice: bool = False  # refused: a signed refusal notice goes back
    proof_file: Path | None = None  # where the receipt or notice was written (FILE mode)


@dataclass(frozen=True, slots=True)
class ProofReceived:
    """One receipt or refusal notice for a letter I sent."""

    file: Path
    outcome: Outcome
    kind: str | None = None  # receipt | refusal
    message_id: str | None = None
    recipient: str | None = None  # the recipient's name
    reason: str | None = None  # a notice's reason
    error: SecureMsgError | None = None  # refused


Received = LetterReceived | ProofReceived


@dataclass(frozen=True, slots=True)
class Refused:
    error: SecureMsgError
    notice: Refusal | None
    author_fp: str | None


# -- one letter ---------------------------------------------------------------------
def receive(box: Mailbox, src: BinaryIO, now: int) -> Accepted:
    """Verify ``src`` completely, then commit. Raises on any refusal."""

    def verify(stream: BinaryIO) -> tuple[Manifest, Card]:
        env = Opening(stream, box.secret, box.card.fingerprint)
        author = author_card(box, env.author_fp, now)
        manifest = env.verify(author)
        consent, carried = env.basis_records()
        check_basis(box, manifest, consent, carried, now)
        for _head, _item, chunks in env.items():
            for _ in chunks:  # digests are checked as it streams; nothing is kept
                pass
        env.finish()
        return manifest, author

    return accept(box, src, now, verify)


def refusal_notice(box: Mailbox, src_path: Path, error: SecureMsgError, now: int) -> Refused:
    """After a refusal: a signed notice for the author, if we know who it is."""
    author_fp, message_id = None, bytes(16)
    try:
        with src_path.open("rb") as fh:
            env = Opening(fh, box.secret, box.card.fingerprint)
            author_fp = env.author_fp
            message_id = bytes.fromhex(_peek_id(env))
    except SecureMsgError:
        pass
    if author_fp is None or Contacts(box.home).get(author_fp) is None:
        return Refused(error, None, author_fp)
    notice = Refusal.sign(
        box.secret,
        message_id,
        file_digest(src_path),
        box.card.fingerprint,
        now,
        policy.refusal_rule(error),
        policy.refusal_reason(error),
    )
    return Refused(error, notice, author_fp)


def _peek_id(env: Opening) -> str:
    from securemsg.core import cbor, cose

    payload = cbor.loads(cose.parse(env.manifest_bytes).payload, "manifest")
    value = payload.get("id") if isinstance(payload, dict) else None
    return value.hex() if isinstance(value, bytes) and len(value) == 16 else "00" * 16


def _accept(box: Mailbox, path: Path, now: int) -> tuple[LetterReceived, bytes | None, str | None]:
    """Returns (what happened, proof bytes to send back, author fingerprint)."""
    try:
        with path.open("rb") as fh:
            result = receive(box, fh, now)
    except SecureMsgError as exc:
        refused = refusal_notice(box, path, exc, now)
        notice = refused.notice
        row = LetterReceived(
            path,
            Outcome.REFUSED,
            message_id=notice.message_id.hex() if notice is not None else None,
            error=exc,
            notice=notice is not None,
        )
        return row, (notice.encoded if notice else None), refused.author_fp
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
def import_file(box: Mailbox, path: Path, now: int) -> ProofReceived:
    try:
        with path.open("rb") as fh:
            r = import_proof(box, fh.read(MAX_PROOF + 1), now)
    except SecureMsgError as exc:
        return ProofReceived(path, Outcome.REFUSED, error=exc)
    outcome = {
        "delivered": Outcome.DELIVERED,
        "refused": Outcome.REFUSED_BY_RECIPIENT,
        "unchanged": Outcome.ALREADY_RECORDED,
    }[r.status]
    return ProofReceived(path, outcome, r.kind, r.message_id, r.recipient_name, r.reason)


def import_proofs(home: Home, files: list[Path], now: int) -> list[ProofReceived]:
    """``receipts import``: match each receipt or notice to the double it proves."""
    box = Mailbox(home)
    return [import_file(box, f, now) for f in files]


# -- files and drop folders ---------------------------------------------------------
def receive_files(
    home: Home, files: list[Path], receipt_out: Path | None, now: int
) -> list[Received]:
    """Letters (and proofs) from files; each letter's proof is written beside it
    (``NAME.receipt``, ``NAME.refusal``; ``NAME (2).receipt``... when that name
    is taken by another file) or to ``receipt_out``, which must not exist.
    No file is ever written over."""
    if receipt_out is not None:
        check_new_file(receipt_out)  # before anything is received
    box = Mailbox(home)
    rows: list[Received] = []
    for path in files:
        if path.suffix in PROOF_SUFFIXES:
            rows.append(import_file(box, path, now))
            continue
        row, proof, _author = _accept(box, path, now)
        if proof is not None:
            if receipt_out is not None:
                write_new(receipt_out, proof, mode=PROOF_MODE)
                target = receipt_out
            else:
                name = f"{path.stem}.{_proof_kind(row)}"
                target = write_unique(path.parent, name, proof, mode=PROOF_MODE)
            row = replace(row, proof_file=target)
        rows.append(row)
    return rows


def receive_drop(home: Home, drop: Path, now: int) -> list[Received]:
    """What waits for me in a drop folder; each letter's proof goes to its
    author's folder there. A file is removed once committed; a refused one is
    renamed ``*.refused`` (kept for inspection, never processed again)."""
    with dropfolder.permission_errors(drop):  # this account may not go there: say why
        return _receive_drop(home, drop, now)


def _receive_drop(home: Home, drop: Path, now: int) -> list[Received]:
    box = Mailbox(home)
    box.cleanup_orphans()
    my_fp = box.card.fingerprint
    rows: list[Received] = []
    for path in dropfolder.collect(drop, my_fp):
        if path.suffix in PROOF_SUFFIXES:
            proof_row = import_file(box, path, now)
            if proof_row.outcome is not Outcome.REFUSED:
                dropfolder.remove(path)
            else:
                dropfolder.set_aside(path)
            rows.append(proof_row)
            continue
        try:
            row, proof, author = _accept(box, path, now)
        except FileNotFoundError:
            if path.exists():
                raise
            continue  # another receiver took it meanwhile
        if proof is not None and author is not None:
            mid = row.message_id or path.stem
            dropfolder.put_proof(drop, author, mid, my_fp, _proof_kind(row), proof)
        if row.outcome is Outcome.REFUSED:
            dropfolder.set_aside(path)
        else:
            dropfolder.remove(path)
        rows.append(row)
    return rows
