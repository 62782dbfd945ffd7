"""Keeping the mailboxes of one practitioner's devices in step, by mail
(docs/format.md §18.2; README, "When you change computer, or lose one").

An identity used on several devices (app/devices.py: the config's
``"devices"``, or a joined device's log chain id) reads one mail account from
each device:

- each device marks what it has finished with its own IMAP keyword
  (:func:`keyword`): every device receives every letter, receipt and notice,
  and signs its own receipts, naming its own log chain;
- moving finished mails to a folder is refused: the other devices would never
  see them (app/devices.py, ``check_after``);
- a device that sends a letter by mail also mails the double, with its signed
  record (core/letter/doubles.py), to the account's own address
  (:func:`mail_double`); the other devices file it under ``sent`` with the
  same deliveries (:func:`file_double`), so the recipients' receipts settle on
  every device. The sending device finds its own double already filed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from securemsg.app.devices import set_devices, several_devices
from securemsg.app.receive import Outcome, ProofReceived, import_file
from securemsg.app.send import SendResult
from securemsg.core.card import Card
from securemsg.core.frozen import replace
from securemsg.core.letter.doubles import DoubleRecord
from securemsg.core.letter.manifest import Manifest
from securemsg.core.letter.opening import Opening
from securemsg.core.letter.proofs import EnvelopeHasher
from securemsg.core.signed import peek
from securemsg.errors import (
    ForeignDouble,
    MailError,
    NotFoundError,
    SecureMsgError,
    VerificationError,
)
from securemsg.i18n import N_, _
from securemsg.store import maillayout
from securemsg.store.checked import Opened
from securemsg.store.home import Home
from securemsg.store.mailaccounts import DONE_KEYWORD, Account
from securemsg.store.mailbox import LetterRow, Mailbox
from securemsg.store.mailtransport import Smtp

MAX_RECORD = 64 * 1024


def keyword(box: Mailbox) -> str:
    """The IMAP keyword this device sets on the mails it has finished with: the
    first device's is ``$SecuremsgDone`` (as before devices existed), a joined
    device's names its log chain."""
    chain = box.chain_id()
    return DONE_KEYWORD if chain is None else f"{DONE_KEYWORD}-{chain.hex()}"


# -- the sending device ---------------------------------------------------------------
def record(box: Mailbox, message_id: str, now: int) -> DoubleRecord:
    """The signed record of a letter this mailbox sent: its double's digest and
    each recipient's envelope digest."""
    row = box.get(message_id, "sent")
    if row is None:
        raise MailError(_("no letter {mid} in sent").format(mid=message_id))
    deliveries = []
    for fp, _status, _at in box.deliveries(message_id):
        found = box.delivery(message_id, fp)
        if found is not None:
            deliveries.append((fp, found[0]))
    return DoubleRecord.sign(
        box.secret,
        bytes.fromhex(message_id),
        row.envelope_digest,
        deliveries,
        now,
        box.chain_id(),
    )


def mail_double(
    smtp: Smtp, acct: Account, home: Home, result: SendResult, now: int
) -> tuple[str | None, SecureMsgError | None]:
    """After ``send --mail``, with the identity on several devices: the double of
    ``result`` and its record to the account's own address (returned). The
    letter is out already: a failure is returned, never raised."""
    if result.dry_run:
        return None, None
    box = Mailbox(home)
    if not several_devices(home, box):
        return None, None
    try:
        rec = record(box, result.message_id, now)
        double = box.letter_path("sent", result.message_id)
        mail = maillayout.double_mail(
            acct.address, acct.address, result.message_id, rec.encoded, double.stat().st_size, now
        )
        smtp.send(acct.address, mail, double)
    except SecureMsgError as exc:
        return None, exc
    return acct.address, None


# -- the other devices ----------------------------------------------------------------
def import_proof(home: Home, box: Mailbox, src: Opened, where: Path, now: int) -> ProofReceived:
    """A receipt or notice received (``receipts import``), reported as :func:`elsewhere`."""
    return elsewhere(home, box, replace(import_file(box, src, now), file=where))


def elsewhere(home: Home, box: Mailbox, row: ProofReceived) -> ProofReceived:
    """A receipt or notice for a letter this mailbox never sent (NotFoundError),
    on a device of an identity that has several: not a refusal, the letter was
    sent from another device (before this one joined, or its double has not come
    yet). Reported as such; nothing is recorded."""
    if not isinstance(row.error, NotFoundError) or not several_devices(home, box):
        return row
    reason = _(
        "for a letter this computer does not hold: sent from your other computer "
        "(a device sync file brings it and its receipts)"
    )
    return replace(row, outcome=Outcome.ELSEWHERE, error=None, reason=reason)


def file_double(
    box: Mailbox, where: Path, parts: tuple[tuple[str, bytes], ...], now: int
) -> ProofReceived:
    """A ``double/1`` mail: the record (first attachment), then the double."""
    try:
        tmp = temp_file(box)
        try:
            with tmp.open("wb") as fh:
                fh.write(parts[1][1])
                fh.flush()
                os.fsync(fh.fileno())
            mid, outcome = file_double_at(box, parts[0][1], tmp, now)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    except SecureMsgError as exc:
        return ProofReceived(where, Outcome.REFUSED, kind="double", error=exc)
    return ProofReceived(where, outcome, kind="double", message_id=mid, recipient=box.card.name)


def temp_file(box: Mailbox) -> Path:
    """A new empty private temp file in the mailbox's ``mail/tmp`` (for a double)."""
    fd, name = tempfile.mkstemp(prefix=".double-", suffix=".tmp", dir=box.temp_dir("sent"))
    os.close(fd)
    return Path(name)


def file_double_at(box: Mailbox, data: bytes, tmp: Path, now: int) -> tuple[str, Outcome]:
    """File the double in ``tmp`` (a temp file of :func:`temp_file`, moved into
    ``mail/sent`` if filed, else left to the caller) under its record ``data``
    (docs/format.md §18.2, steps 1-5): its message id and what was done."""
    if len(data) > MAX_RECORD:
        raise VerificationError(_("this double record is too large"))
    _otype, signer = peek(data, N_("double record"))
    mine = {c.fingerprint: c for c in box.cards}
    card = mine.get(signer)
    if card is None:
        raise ForeignDouble(
            _(
                "a double sent to your address is signed by key {signer}, not by your own: "
                "nothing was filed"
            ).format(signer=signer[:16]),
            hint=_("only your own devices send you doubles; someone else sent this mail"),
        )
    rec = DoubleRecord.verify(data, card)
    hasher = EnvelopeHasher()
    with tmp.open("rb") as fh:
        while piece := fh.read(1 << 16):
            hasher.update(piece)
    digest = hasher.digest()
    if digest != rec.double_digest:
        raise VerificationError(_("the double is not the one its signed record names"))
    existing = box.get(rec.id_hex, "sent")
    if existing is not None:
        if existing.envelope_digest != digest:
            raise VerificationError(
                _("another letter {mid} is already in sent: this double was not filed").format(
                    mid=rec.id_hex
                )
            )
        return rec.id_hex, Outcome.ALREADY_RECORDED
    with tmp.open("rb") as fh:
        manifest = _open(box, fh, card, rec)
    with box.transaction():
        if box.get(rec.id_hex, "sent") is not None:  # another receive filed it meanwhile
            return rec.id_hex, Outcome.ALREADY_RECORDED
        final = box.place(tmp, "sent", rec.id_hex)
        path = str(final.relative_to(box.home.path))
        everything = sorted({i.domain.value for i in manifest.items})
        row = LetterRow.of(manifest, "sent", now, digest, path, card.name, everything, None)
        box.insert_letter(row, manifest.patient_fp)
        for fp, envelope in rec.deliveries:
            box.add_delivery(rec.id_hex, fp, envelope, rec.time)
            box.append_log(now, "send", rec.message_id, fp, envelope)
    if "devices" not in box.home.config():  # a home older than the flag: now it knows
        set_devices(box.home, True)
    return rec.id_hex, Outcome.RECORDED


def _open(box: Mailbox, fh: BinaryIO, card: Card, rec: DoubleRecord) -> Manifest:
    """Open the double as its author reads it (every item, digests checked): it
    must be the record's letter, by the record's signer, to the record's
    recipients."""
    by_key = {c.sign_public: c.fingerprint for c in box.cards[1:]}
    old = box.home.unlock_history().previous if by_key else ()
    previous = [(k, by_key[k.sign_public]) for k in old if k.sign_public in by_key]
    env = Opening(fh, box.secret, box.card.fingerprint, previous)
    if env.author_fp != card.fingerprint:
        raise ForeignDouble(
            _("the double's letter is not by the key that signed its record: nothing was filed"),
            hint=_("only your own devices send you doubles; someone else sent this mail"),
        )
    manifest = env.verify(card)
    if manifest.message_id != rec.message_id:
        raise VerificationError(_("the double is another letter than its record names"))
    if {r.fp for r in manifest.recipients} != {fp for fp, _d in rec.deliveries}:
        raise VerificationError(_("the double's record names other recipients than its letter"))
    env.basis_records()
    for _head, _item, chunks in env.items():
        for _chunk in chunks:  # digests are checked as it streams
            pass
    env.finish()
    return manifest
