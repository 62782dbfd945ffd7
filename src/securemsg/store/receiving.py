"""Receiving a letter, the mailbox's part: the envelope is copied to a temp
file of mail/tmp and hashed while it is read, and committed once, with a
receipt, after it has verified.

The checks themselves (docs/format.md §Receiving) are the caller's
(app/receive.py), run on the stream :func:`accept` hands it: age header
addressed to me; author is an active, current contact; manifest signature;
envelope binding (this header, this recipient); my place among the
recipients; consent rules against the revocations and objections known here;
then every item against its digest, streamed and discarded. Only then: the
envelope file is moved into the mailbox and one transaction stores the row, a
log entry and the receipt. Any refusal leaves the mailbox exactly as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from securemsg.core.card import Card
from securemsg.core.frozen import Frozen, _set
from securemsg.core.letter.limits import MAX_ENVELOPE
from securemsg.core.letter.manifest import Manifest
from securemsg.core.letter.proofs import EnvelopeHasher, Receipt
from securemsg.errors import FormatError, Replayed
from securemsg.i18n import _
from securemsg.store.mailbox import LetterRow, Mailbox
from securemsg.store.pipeline import TeeAhead


def _too_large() -> FormatError:
    return FormatError(_("the letter file is absurdly large"))


class Accepted(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "manifest",
        "author",
        "receipt",
        "duplicate",
        "domains",
    )
    manifest: Manifest
    author: Card
    receipt: Receipt
    duplicate: bool
    domains: tuple[str, ...]

    def __init__(
        self,
        manifest: Manifest,
        author: Card,
        receipt: Receipt,
        duplicate: bool,
        domains: tuple[str, ...],
    ) -> None:
        _set(self, "manifest", manifest)
        _set(self, "author", author)
        _set(self, "receipt", receipt)
        _set(self, "duplicate", duplicate)
        _set(self, "domains", domains)


def accept(
    box: Mailbox, src: BinaryIO, now: int, verify: Callable[[BinaryIO], tuple[Manifest, Card]]
) -> Accepted:
    """Run ``verify`` on ``src`` (it reads the envelope to its end, raising on any
    refusal, and returns the manifest and the author's card) while the bytes it
    reads are copied to a temp file and hashed; then commit."""
    folder = "in"
    fd, tmp = tempfile.mkstemp(prefix=".recv-", suffix=".tmp", dir=box.temp_dir(folder))
    try:
        with os.fdopen(fd, "wb") as sink:
            # The file is read, copied and hashed on a worker thread while the
            # caller decrypts and checks the digests (store/pipeline.py).
            tee = TeeAhead(src, sink, EnvelopeHasher(), MAX_ENVELOPE, _too_large)
            try:
                manifest, author = verify(tee)  # type: ignore[arg-type]
                tee.drain()
            finally:
                tee.close()
            sink.flush()
            os.fsync(sink.fileno())
        digest = tee.hasher.digest()  # type: ignore[attr-defined]
        entry = manifest.entry_for(box.card.fingerprint)
        domains = tuple(sorted(d.value for d in entry.domains)) if entry else ()
        return _commit(box, manifest, author, Path(tmp), digest, domains, now)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _commit(
    box: Mailbox,
    m: Manifest,
    author: Card,
    tmp: Path,
    digest: bytes,
    domains: tuple[str, ...],
    now: int,
) -> Accepted:
    with box.transaction():
        existing = box.get(m.id_hex, "in")
        if existing is not None:
            if existing.envelope_digest != digest or existing.receipt is None:
                raise Replayed(
                    _("letter {id_hex} was already received with different content").format(
                        id_hex=m.id_hex
                    ),
                    hint=_("a replayed or altered copy; the first one is kept"),
                )
            return Accepted(m, author, Receipt.verify(existing.receipt, box.card), True, domains)
        final = box.place(tmp, "in", m.id_hex)  # committed below, or removed
        entry = box.append_log(now, "accept", m.message_id, m.author, digest)
        receipt = Receipt.sign(
            box.secret,
            m.message_id,
            m.encoded,
            digest,
            box.card.fingerprint,
            now,
            entry.seq,
            entry.hash,
            box.chain_id(),
        )
        path = str(final.relative_to(box.home.path))
        row = LetterRow.of(m, "in", now, digest, path, author.name, domains, receipt.encoded)
        box.insert_letter(row, m.patient_fp)
    return Accepted(m, author, receipt, False, domains)


def file_digest(src: BinaryIO) -> bytes:
    """The envelope digest of a file, read from ``src`` to its end (what a receipt
    or refusal notice names)."""
    hasher = EnvelopeHasher()
    while data := src.read(1 << 16):
        hasher.update(data)
    return hasher.digest()
