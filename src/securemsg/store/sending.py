"""Writing a letter that app/send.py has checked and planned: one envelope per
recipient and the double, then the commit.

Nothing is written before every check has passed (the caller's). Outputs and
the double are written to hidden temp files; the double and the database rows
are committed in one transaction; then the outputs are renamed into place. A
crash leaves at worst a double whose receipt never comes (visible in
`securemsg sent`), never a letter out without its double (R7).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from securemsg.core.card import Card
from securemsg.core.domains import Domain
from securemsg.core.frozen import Frozen, _set
from securemsg.core.letter import compose
from securemsg.core.letter.container import padded_size
from securemsg.core.letter.proofs import EnvelopeHasher
from securemsg.errors import ConflictError, SecureMsgError, UsageError
from securemsg.i18n import _
from securemsg.store import drop as dropfolder
from securemsg.store.checked import Unsafe
from securemsg.store.dirfd import Dir
from securemsg.store.mailbox import LetterRow, Mailbox
from securemsg.store.pipeline import Behind
from securemsg.store.space import Reserved, temp_file

Targets = Sequence[tuple[Card, frozenset[Domain]]]  # each recipient and what it receives


class Destination(Frozen):
    """Where the recipients' envelopes go: a folder (``-o``) or a drop folder."""

    __slots__ = (  # noqa: RUF023 (field order)
        "out_dir",
        "drop",
    )
    out_dir: Path | None
    drop: Path | None

    def __init__(self, out_dir: Path | None = None, drop: Path | None = None) -> None:
        _set(self, "out_dir", out_dir)
        _set(self, "drop", drop)

    def name(self, fp: str, message_id: str) -> str:
        """The file name of ``fp``'s envelope in its folder."""
        if self.drop is not None:
            return f"{message_id}.smsg"
        return f"{message_id}-{fp[:12]}.smsg"


class Folders:
    """The folders a send writes to, opened now, before anything is written: one
    per recipient, then the home's ``mail/sent``. In a drop folder each
    recipient's folder is checked (store/drop.py: a folder, not a link, mine or my
    group's; a bad one fails the send here, with nothing written). In a private
    drop folder one that does not exist yet is made by :meth:`folder` when the
    envelopes are written (a send that fails before leaves no trace); in one
    shared by Unix accounts it must exist (made by its owner), and mine is made
    now (receipts come back there). Close it (or use it as a context manager)."""

    def __init__(self, box: Mailbox, dest: Destination, recipients: Targets) -> None:
        self.dest = dest
        self._cards = [card for card, _domains in recipients]
        self._open: list[Dir] = []
        self._root: Dir | None = None
        try:
            if dest.drop is not None:
                self._root = self._keep(dropfolder.open_drop(dest.drop))
                self._dirs: list[Dir | None] = []
                for card in self._cards:
                    d = dropfolder.open_theirs(self._root, card.fingerprint, card.name)
                    self._dirs.append(self._keep(d) if d is not None else None)
                if dropfolder.is_shared(self._root):
                    dropfolder.make_mine(self._root, box.card.fingerprint).close()
            else:
                if dest.out_dir is None:
                    raise ValueError(_("a destination needs a folder or a drop folder"))
                out = self._keep(_open_own(dest.out_dir))
                self._dirs = [out for _card in self._cards]
            self.sent = self._keep(_open_own(box.temp_dir("sent")))
        except BaseException:
            self.close()
            raise

    def _keep(self, d: Dir) -> Dir:
        self._open.append(d)
        return d

    def existing(self, k: int) -> Dir | None:
        """The ``k``-th recipient's folder, if it exists already."""
        return self._dirs[k]

    def folder(self, k: int) -> Dir:
        """The ``k``-th recipient's folder, made (and checked) if it does not exist."""
        d = self._dirs[k]
        if d is None:
            assert self._root is not None  # only a drop folder's folders are made
            card = self._cards[k]
            d = dropfolder.make_theirs(self._root, card.fingerprint, card.name)
            self._dirs[k] = self._keep(d)
        return d

    def error(self, exc: Unsafe) -> SecureMsgError:
        """A folder that refused a file, in words."""
        if self.dest.drop is not None:
            return dropfolder.folder_error(exc, self.dest.drop)
        why = os.strerror(exc.error.errno or 0) if exc.error is not None else _("not usable")
        return SecureMsgError(
            _("cannot write to {path}: {why}").format(path=exc.path, why=why),
            hint=_("check that you may write to it"),
        )

    def close(self) -> None:
        for d in self._open:
            d.close()
        self._open.clear()

    def __enter__(self) -> Folders:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open_own(path: Path) -> Dir:
    """A folder of the user's own (``-o DIR``, the home's ``mail/sent``)."""
    try:
        return Dir.open(path)
    except Unsafe as exc:
        raise UsageError(_("{path} is not a folder").format(path=path)) from exc


class Written(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "envelopes",
        "double",
    )
    envelopes: tuple[Path, ...]  # one per recipient, in order
    double: Path

    def __init__(self, envelopes: tuple[Path, ...], double: Path) -> None:
        _set(self, "envelopes", envelopes)
        _set(self, "double", double)


def reserve(
    folders: Folders,
    letter_size: int,
    attachments: Sequence[tuple[Domain, int]],
    recipients: Targets,
) -> Reserved:
    """The envelopes' temp files, made now, their space reserved on a worker
    (store/space.py): the recipients', then the double. Each is about as large
    as the letter and the attachments it holds, plus room for the header and
    manifest, padded (core/letter/container.py), plus the STREAM tags (16 bytes
    per 64 KiB). None where the folder
    does not exist yet: a drop folder's recipient folder is made later, as
    before (a send that fails before must leave no trace)."""
    dirs = [folders.existing(k) for k in range(len(recipients))] + [folders.sent]
    everything = frozenset(Domain)
    out: list[tuple[Path | Dir, int] | None] = []
    for directory, domains in zip(dirs, [d for _c, d in recipients] + [everything], strict=True):
        n = letter_size + sum(size for domain, size in attachments if domain in domains)
        n = padded_size(n + (64 << 10))  # the records around the items, then padding
        out.append((directory, n + n // 4096) if directory is not None else None)
    try:
        return Reserved(out)
    except Unsafe as exc:
        raise folders.error(exc) from exc


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
            self.fh.close()  # the caller removes the file
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
    directories: list[Dir],
    consent: bytes | None,
    patient_card: bytes | None,
    temps: list[tuple[Dir, str]],
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
            temps.append((directory, temp[0].name))
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
    folders: Folders,
    consent: bytes | None,
    patient: Card | None,
    now: int,
    reserved: Reserved,
) -> Written:
    """Write every envelope and the double, commit the double, the deliveries
    and the log, then move the envelopes into place (each renamed within its
    folder's descriptor: never through a link)."""
    m = planned.manifest
    pcard = patient.encoded if patient else None
    temps: list[tuple[Dir, str]] = []
    try:
        dirs: list[Dir] = []
        names: list[str] = []
        for k, (card, _domains) in enumerate(recipients):
            d, name = folders.folder(k), folders.dest.name(card.fingerprint, m.id_hex)
            if d.exists(name):
                raise UsageError(_("{value} already exists").format(value=d.path / name))
            dirs.append(d)
            names.append(name)
        all_domains = frozenset(i.domain for i in m.items)
        try:
            digests = _write_envelopes(
                box,
                planned,
                [*recipients, (box.card, all_domains)],
                [*dirs, folders.sent],
                consent,
                pcard,
                temps,
                reserved,
            )
        except Unsafe as exc:
            raise folders.error(exc) from exc
        (sent, dtmp), ddigest = temps[-1], digests[-1]
        with box.transaction():
            if box.get(m.id_hex, "sent") is not None:
                raise UsageError(_("message id collision"))  # 128 random bits: never in practice
            double = box.place(sent.path / dtmp, "sent", m.id_hex)
            path = str(double.relative_to(box.home.path))
            everything = [d.value for d in all_domains]
            row = LetterRow.of(m, "sent", now, ddigest, path, box.card.name, everything, None)
            box.insert_letter(row, m.patient_fp)
            for (card, _domains), digest in zip(recipients, digests, strict=False):
                box.add_delivery(m.id_hex, card.fingerprint, digest, now)
                box.append_log(now, "send", m.message_id, card.fingerprint, digest)
        for (d, tmp), name in zip(temps, names, strict=False):
            try:
                d.place_new(tmp, name)  # never over a file that appeared meanwhile
            except FileExistsError as exc:
                raise ConflictError(
                    _("{value} appeared while the letter was written; it was left as it is").format(
                        value=d.path / name
                    ),
                    hint=_("the double is kept: see `securemsg sent`, and send the letter again"),
                ) from exc
            d.fsync()
    finally:
        for d, tmp in temps:
            d.unlink(tmp)
    return Written(tuple(d.path / name for d, name in zip(dirs, names, strict=True)), double)
