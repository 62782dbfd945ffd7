"""Sending a letter: check the consent here first, then encrypt one envelope
per recipient, keep the double, and record the deliveries and the log.

Nothing is written before every check has passed. Outputs and the double are
written to hidden temp files; the double and the database rows are committed
in one transaction; then the outputs are renamed into place. A crash leaves at
worst a double whose receipt never comes (visible in `securemsg sent`), never
a letter out without its double (R7).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from securemsg.core.card import Card
from securemsg.core.consent import (
    Basis,
    Disclosure,
    Grant,
    LetterFacts,
    allowed_domains,
    check_consent,
)
from securemsg.core.digests import letter_digest, object_digest
from securemsg.core.domains import Domain, Purpose
from securemsg.core.letter import compose
from securemsg.core.letter.manifest import PhoneCall
from securemsg.core.letter.proofs import EnvelopeHasher
from securemsg.core.letter.source import LetterSource
from securemsg.errors import UsageError
from securemsg.store import drop as dropfolder
from securemsg.store.consents import ConsentStore
from securemsg.store.contacts import Contacts
from securemsg.store.mailbox import LetterRow, Mailbox
from securemsg.store.pipeline import Behind
from securemsg.store.space import Reserved, temp_file

PIECE = 1 << 20
PATIENT_COPY_REQUIRED = (Purpose.EMERGENCY_REPORT,)
PSEUDONYMOUS_KINDS = (Purpose.TELE_EXPERTISE, Purpose.SECOND_OPINION)


@dataclass(frozen=True, slots=True)
class AttachmentFile:
    """An attachment on disk. A send reads it ``READS`` times: once to hash it
    (the manifest binds its digest), once to encrypt it into every envelope at
    once (core/letter/compose.py). The progress bar is sized from this."""

    path: Path
    domain: Domain
    READS: ClassVar[int] = 2

    def size(self) -> int:
        return self.path.stat().st_size

    def chunks(self) -> Iterator[bytes]:
        with self.path.open("rb") as fh:
            while data := fh.read(PIECE):
                yield data


@dataclass
class SendRequest:
    source: LetterSource
    to: list[str]
    kind: Purpose
    patient: str | None = None
    consent: bytes | None = None
    emergency: bool = False
    pseudonym: str | None = None
    attachments: list[AttachmentFile] = field(default_factory=list)
    reply_to: str | None = None
    phone_call: int | None = None
    no_patient_copy: bool = False
    out_dir: Path | None = None
    drop: Path | None = None


@dataclass(frozen=True, slots=True)
class Output:
    name: str
    fp: str
    role: str
    domains: tuple[str, ...]
    path: Path
    patient_copy: bool


@dataclass(frozen=True, slots=True)
class SendResult:
    message_id: str
    subject: str
    basis: str
    outputs: tuple[Output, ...]
    withheld: tuple[tuple[str, tuple[str, ...]], ...]  # (recipient name, domains withheld)
    double: Path


def _recipients(contacts: Contacts, queries: list[str], me: Card, now: int) -> list[Card]:
    cards: list[Card] = []
    for q in queries:
        c = contacts.find(q)
        c.card.check_current(now)
        if c.fingerprint == me.fingerprint:
            raise UsageError("you cannot send a letter to yourself (your double is kept anyway)")
        if any(x.fingerprint == c.fingerprint for x in cards):
            raise UsageError(f"{c.name} is named twice with --to")
        cards.append(c.card)
    if not cards:
        raise UsageError("name at least one recipient with --to")
    return cards


def _basis(
    req: SendRequest, box: Mailbox, contacts: Contacts, now: int
) -> tuple[Basis, Card | None, Grant | None]:
    chosen = [req.consent is not None, req.emergency, req.pseudonym is not None]
    if sum(chosen) != 1:
        raise UsageError("give exactly one of --consent FILE, --emergency or --pseudonym LABEL")
    if req.pseudonym is not None:
        if req.patient is not None:
            raise UsageError("a pseudonymous letter names no patient: drop --patient")
        if req.kind not in PSEUDONYMOUS_KINDS:
            raise UsageError("only tele-expertise and second-opinion letters may be pseudonymous")
        return Basis.PSEUDONYMOUS, None, None
    if req.patient is None:
        raise UsageError("name the patient with --patient CONTACT")
    pc = contacts.find(req.patient)
    if not pc.card.profile.role.is_patient:
        raise UsageError(f"{pc.name} is a {pc.card.profile.role.value}, not a patient")
    pc.card.check_current(now)
    if req.emergency:
        if req.kind is not Purpose.EMERGENCY_REPORT:
            raise UsageError("--emergency is for --kind emergency-report only")
        return Basis.EMERGENCY, pc.card, None
    assert req.consent is not None
    return Basis.CONSENT, pc.card, Grant.verify(req.consent, pc.card)


def send(box: Mailbox, req: SendRequest, now: int) -> SendResult:
    if (req.out_dir is None) == (req.drop is None):
        raise UsageError("give exactly one of -o DIR or --drop DIR")
    if req.out_dir is not None and not req.out_dir.is_dir():
        raise UsageError(f"{req.out_dir} is not a folder")
    contacts = Contacts(box.home)
    me = box.card
    recipients = _recipients(contacts, req.to, me, now)
    basis, patient, grant = _basis(req, box, contacts, now)
    phone = PhoneCall(req.phone_call, recipients[0].fingerprint) if req.phone_call else None
    if req.no_patient_copy and (req.kind in PATIENT_COPY_REQUIRED or phone is not None):
        raise UsageError(
            "the patient's copy is mandatory for emergency reports and phone follow-ups (R6, R8)"
        )
    if patient is not None and any(c.fingerprint == patient.fingerprint for c in recipients):
        raise UsageError("the patient gets their copy automatically; do not name them with --to")
    if patient is not None and not req.no_patient_copy:
        recipients.append(patient)
    in_reply_to = _reply_to(box, req.reply_to)
    present = {s.domain for s in req.source.sections} | {a.domain for a in req.attachments}
    plan_recipients: list[tuple[Card, frozenset[Domain]]] = []
    withheld: list[tuple[str, tuple[str, ...]]] = []
    patient_fp = patient.fingerprint if patient else None
    for card in recipients:
        allowed = allowed_domains(grant, card.fingerprint, card.profile.role, patient_fp)
        gets = frozenset(present & allowed)
        if not gets:
            raise UsageError(
                f"nothing in this letter may go to {card.name} ({card.profile.role.value}): "
                f"it may receive {', '.join(sorted(d.value for d in allowed)) or 'nothing'}",
                hint="tag the sections for their care domain, e.g. '## Dressing care {nursing}'",
            )
        if present - gets:
            withheld.append((card.name, tuple(sorted(d.value for d in present - gets))))
        plan_recipients.append((card, gets))
    facts = LetterFacts(
        sender_fp=me.fingerprint,
        patient_fp=patient_fp,
        purpose=req.kind,
        disclosures=tuple(
            Disclosure(c.fingerprint, c.profile.role, d, c.name) for c, d in plan_recipients
        ),
        letter_digest=letter_digest(req.source.raw),
        date=now,
        basis=basis,
        patient_identifiers_present=patient is not None,
    )
    store = ConsentStore(box.home)
    check_consent(
        facts,
        patient,
        req.consent,
        store.revocations_for(patient_fp) if patient_fp else [],
        store.objections_for(patient_fp) if patient_fp else [],
        now,
    )
    # The envelopes' temp files are made now and their space reserved on a
    # worker while plan() hashes the attachments (store/space.py).
    # (A full disk met later is reported as no_space by cli/main, for every command.)
    reserved = Reserved(_reservations(box, req, plan_recipients))
    try:
        planned = _plan(box, req, plan_recipients, basis, now, patient, in_reply_to, phone)
        return _write_all(box, req, planned, plan_recipients, patient, withheld, now, reserved)
    finally:
        reserved.close()


def _reservations(
    box: Mailbox, req: SendRequest, recipients: list[tuple[Card, frozenset[Domain]]]
) -> list[tuple[Path, int] | None]:
    """Where each envelope (the recipients', then the double) will be written and
    about how large it will be: the letter and the attachments it holds, plus
    the STREAM tags (16 bytes per 64 KiB) and room for the header and manifest.
    None where the folder does not exist yet: a drop folder's recipient folder
    is made later, as before (a send that fails before must leave no trace)."""
    dirs: list[Path] = []
    for card, _domains in recipients:
        if req.drop is not None:  # the folder of _write_all's dropfolder.letter_path
            dirs.append(dropfolder.folder_path(req.drop, card.fingerprint))
        else:
            assert req.out_dir is not None  # checked in send()
            dirs.append(req.out_dir)
    dirs.append(box.temp_dir("sent"))
    sizes = {a.path: a.size() for a in req.attachments}
    everything = frozenset(Domain)
    out: list[tuple[Path, int] | None] = []
    for directory, domains in zip(dirs, [d for _c, d in recipients] + [everything], strict=True):
        n = len(req.source.raw) + sum(sizes[a.path] for a in req.attachments if a.domain in domains)
        out.append((directory, n + n // 4096 + (64 << 10)) if directory.is_dir() else None)
    return out


def _plan(
    box: Mailbox,
    req: SendRequest,
    plan_recipients: list[tuple[Card, frozenset[Domain]]],
    basis: Basis,
    now: int,
    patient: Card | None,
    in_reply_to: bytes | None,
    phone: PhoneCall | None,
) -> compose.Planned:
    return compose.plan(
        source=req.source,
        attachments=[
            compose.Attachment(a.path.name, a.domain, a.size(), a.chunks) for a in req.attachments
        ],
        kind=req.kind,
        author=box.secret,
        author_card=box.card,
        recipients=plan_recipients,
        basis=basis.value,
        now=now,
        patient=patient,
        pseudonym=req.pseudonym,
        consent=req.consent,
        consent_digest=object_digest(req.consent) if req.consent else None,
        in_reply_to=in_reply_to,
        phone_call=phone,
    )


def _reply_to(box: Mailbox, ref: str | None) -> bytes | None:
    if ref is None:
        return None
    return bytes.fromhex(box.find(ref).id)


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
    targets: list[tuple[Card, frozenset[Domain]]],
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


def _write_all(
    box: Mailbox,
    req: SendRequest,
    planned: compose.Planned,
    recipients: list[tuple[Card, frozenset[Domain]]],
    patient: Card | None,
    withheld: list[tuple[str, tuple[str, ...]]],
    now: int,
    reserved: Reserved,
) -> SendResult:
    m = planned.manifest
    consent, pcard = req.consent, (patient.encoded if patient else None)
    temps: list[Path] = []
    outputs: list[tuple[Output, Path, bytes]] = []
    try:
        finals: list[Path] = []
        for card, _domains in recipients:
            if req.drop is not None:
                final = dropfolder.letter_path(req.drop, card.fingerprint, m.id_hex)
            else:
                assert req.out_dir is not None  # checked in send()
                final = req.out_dir / f"{m.id_hex}-{card.fingerprint[:12]}.smsg"
            if final.exists():
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
        for (card, domains), final, tmp, digest in zip(
            recipients, finals, temps, digests, strict=False
        ):
            out = Output(
                card.name,
                card.fingerprint,
                card.profile.role.value,
                tuple(sorted(d.value for d in domains)),
                final,
                patient is not None and card.fingerprint == patient.fingerprint,
            )
            outputs.append((out, tmp, digest))
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
            for out, _tmp, digest in outputs:
                box.add_delivery(m.id_hex, out.fp, digest, now)
                box.append_log(now, "send", m.message_id, out.fp, digest)
        for out, tmp, _digest in outputs:
            os.replace(tmp, out.path)
    finally:
        for tmp in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    return SendResult(
        m.id_hex, m.subject, m.basis, tuple(o for o, _, _ in outputs), tuple(withheld), double
    )
