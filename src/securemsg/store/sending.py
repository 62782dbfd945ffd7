"""Writing a letter that app/send.py has checked and planned: one envelope per
recipient and the double, then the commit.

Nothing is written before every check has passed (the caller's). Outputs and
the double are written to hidden temp files; the double and the database rows
are committed in one transaction; then the outputs are renamed into place. A
crash leaves at worst a double whose receipt never comes (visible in
`securemsg sent`), never a letter out without its double (R7).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from securemsg.core.card import Card
from securemsg.core.domains import Domain
from securemsg.core.letter import compose
from securemsg.core.letter.proofs import EnvelopeHasher
from securemsg.errors import ConflictError, UsageError
from securemsg.store import drop as dropfolder
from securemsg.store.fs import is_group_shared, place_new
from securemsg.store.mailbox import LetterRow, Mailbox
from securemsg.store.pipeline import Behind
from securemsg.store.space import Reserved, temp_file

Targets = Sequence[tuple[Card, frozenset[Domain]]]  # each recipient and what it receives


@dataclass(frozen=True, slots=True)
class Destination:
    """Where the recipients' envelopes go: a folder (``-o``) or a drop folder."""

    out_dir: Path | None = None
    drop: Path | None = None

    def folder(self, fp: str) -> Path:
        """The folder of ``fp``'s envelope (a drop folder's may not exist yet)."""
        if self.drop is not None:  # the folder of final()'s dropfolder.letter_path
            return dropfolder.folder_path(self.drop, fp)
        if self.out_dir is None:
            raise ValueError("a destination needs a folder or a drop folder")
        return self.out_dir

    def final(self, fp: str, message_id: str, who: str | None = None) -> Path:
        if self.drop is not None:
            return dropfolder.letter_path(self.drop, fp, message_id, who)
        return self.folder(fp) / f"{message_id}-{fp[:12]}.smsg"

    def prepare(self, me: str, recipients: Targets) -> None:
        """Before anything is written: in a drop folder shared by Unix accounts,
        every recipient's folder exists (made by its owner) and mine is made
        (receipts come back there). Elsewhere, nothing to do: folders are made
        as the envelopes are written."""
        if self.drop is None:
            return
        dropfolder.check_drop(self.drop)
        if not is_group_shared(self.drop):
            return
        for card, _domains in recipients:
            dropfolder.their_folder(self.drop, card.fingerprint, card.name)
        dropfolder.folder(self.drop, me)


@dataclass(frozen=True, slots=True)
class Written:
    envelopes: tuple[Path, ...]  # one per recipient, in order
    double: Path


def reserve(
    box: Mailbox,
    dest: Destination,
    letter_size: int,
    attachments: Sequence[tuple[Domain, int]],
    recipients: Targets,
) -> Reserved:
    """The envelopes' temp files, made now, their space reserved on a worker
    (store/space.py): the recipients', then the double. Each is about as large
    as the letter and the attachments it holds, plus the STREAM tags (16 bytes
    per 64 KiB) and room for the header and manifest. None where the folder
    does not exist yet: a drop folder's recipient folder is made later, as
    before (a send that fails before must leave no trace)."""
    dirs = [dest.folder(card.fingerprint) for card, _domains in recipients]
    dirs.append(box.temp_dir("sent"))
    everything = frozenset(Domain)
    out: list[tuple[Path, int] | None] = []
    for directory, domains in zip(dirs, [d for _c, d in recipients] + [everything], strict=True):
        n = letter_size + sum(size for domain, size in attachments if domain in domains)
        out.append((directory, n + n // 4096 + (64 << 10)) if directory.is_dir() else None)
    return Reserved(out)


class _EnvelopeFile:
    """One envelope being written to a hidden temp file: a worker thread seals
    the plaintext pieces it is given, hashes the ciphertext and writes it."""

    def __init__(self, temp: tuple[Path, int], sealing: compose.Sealing) -> None:
        self.path, fd = temp  # made (and its space reserved) by store/space.py
        self.fh = os.fdopen(fd, "wb")
        self.hasher = EnvelopeHasher()
        self.encryptor = sealing.encryptor
        try:
            self._write(sealing.header)
            self._write(sealing.nonce)
        except BaseException:
            self.fh.close()
            self.path.unlink()
            raise
        self.worker = Behind(self._consume, self._done)
        self.running = True

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        self.hasher.update(data)
        self.fh.write(data)

    def _consume(self, piece: object) -> None:
        assert isinstance(piece, bytes)
        sealed = self.encryptor.feed(piece)
        if sealed:
            self._write(sealed)

    def _done(self) -> None:
        self._write(self.encryptor.finalize())
        self.fh.truncate()  # a reservation may have been larger than the envelope
        self.fh.flush()
        os.fsync(self.fh.fileno())

    def finish(self) -> bytes:
        self.running = False
        self.worker.finish()
        return self.hasher.digest()

    def close(self) -> None:
        if self.running:
            self.running = False
            self.worker.abort()
        self.fh.close()


def _write_envelopes(
    box: Mailbox,
    planned: compose.Planned,
    targets: Targets,
    directories: list[Path],
    consent: bytes | None,
    patient_card: bytes | None,
    temps: list[Path],
    reserved: Reserved,
) -> list[bytes]:
    """Every envelope of the letter, in lockstep: each attachment is read once
    and each piece goes to the worker of every envelope that holds it (one
    worker per envelope; docs/performance.md). Returns the envelope digests;
    the temp files are appended to ``temps`` as they are created."""
    sealings, plaintext = compose.envelopes(planned, box.secret, targets, consent, patient_card)
    reserved.wait()
    files: list[_EnvelopeFile] = []
    try:
        for k, (directory, sealing) in enumerate(zip(directories, sealings, strict=True)):
            temp = reserved.take(k) or temp_file(directory)
            temps.append(temp[0])
            files.append(_EnvelopeFile(temp, sealing))
        for who, piece in plaintext:
            for k in who:
                files[k].worker.put(piece)
        return [f.finish() for f in files]
    finally:
        for f in files:
            f.close()


def write(
    box: Mailbox,
    planned: compose.Planned,
    recipients: Targets,
    dest: Destination,
    consent: bytes | None,
    patient: Card | None,
    now: int,
    reserved: Reserved,
) -> Written:
    """Write every envelope and the double, commit the double, the deliveries
    and the log, then move the envelopes into place."""
    m = planned.manifest
    pcard = patient.encoded if patient else None
    temps: list[Path] = []
    try:
        finals: list[Path] = []
        for card, _domains in recipients:
            final = dest.final(card.fingerprint, m.id_hex, card.name)
            if os.path.lexists(final):
                raise UsageError(f"{final} already exists")
            finals.append(final)
        all_domains = frozenset(i.domain for i in m.items)
        digests = _write_envelopes(
            box,
            planned,
            [*recipients, (box.card, all_domains)],
            [f.parent for f in finals] + [box.temp_dir("sent")],
            consent,
            pcard,
            temps,
            reserved,
        )
        dtmp, ddigest = temps[-1], digests[-1]
        double = box.letter_path("sent", m.id_hex)
        with box.transaction():
            if box.get(m.id_hex, "sent") is not None:
                raise UsageError("message id collision")  # 128 random bits: never in practice
            os.replace(dtmp, double)
            path = str(double.relative_to(box.home.path))
            everything = [d.value for d in all_domains]
            row = LetterRow.of(m, "sent", now, ddigest, path, box.card.name, everything, None)
            box.insert_letter(row, m.patient_fp)
            for (card, _domains), digest in zip(recipients, digests, strict=False):
                box.add_delivery(m.id_hex, card.fingerprint, digest, now)
                box.append_log(now, "send", m.message_id, card.fingerprint, digest)
        for tmp, final in zip(temps, finals, strict=False):
            try:
                place_new(tmp, final)  # never over a file that appeared meanwhile
            except FileExistsError as exc:
                raise ConflictError(
                    f"{final} appeared while the letter was written; it was left as it is",
                    hint="the double is kept: see `securemsg sent`, and send the letter again",
                ) from exc
    finally:
        for tmp in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    return Written(tuple(finals), double)
