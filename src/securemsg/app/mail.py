"""Letters by mail: accounts, sending over SMTP, receiving over IMAP.

Sending: every check first (the account, each recipient's mail address on
their card, the SMTP server's login and SIZE against an upper bound of the
largest mail), then the letter is sent exactly as ``send -o`` would write it
(app/send.py) into a private outbox folder of the home, then one mail per
recipient, each streamed from its envelope file, then the outbox is emptied.

Receiving: the securemsg mails of the folder (header ``X-Securemsg``), by
UID, in batches; each attachment is received exactly as the same file would
be (app/receive.py); the receipt or refusal notice goes back by mail to the
address on the author's card (the mail's From is only routing); then the mail
is recorded in ``mail_seen`` (UIDVALIDITY, UID) and flagged or moved. Killed at
any point, the next run takes up the mails not recorded: a letter accepted
before the kill is a duplicate (kept once) whose receipt is sent again; a
receipt or notice imported twice is recorded once (docs/format.md, "Letters
by mail"). Long file: both directions share the account and the outbox; each
kind of mail but letters and proofs is handled apart (app/mailobjects.py,
app/doubles.py, app/statements.py), only dispatched here.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from securemsg.app import devices, doubles, statements
from securemsg.app import receive as receiving
from securemsg.app import send as sending
from securemsg.app.proofs import MAX_PROOF
from securemsg.app.receive import LetterReceived, NoticeCap, Outcome, ProofReceived, Received
from securemsg.app.send import SendRequest, SendResult
from securemsg.core.frozen import replace
from securemsg.errors import MailError, MailTooLarge, SecureMsgError, TooLargeError
from securemsg.i18n import _
from securemsg.store import maillayout
from securemsg.store.checked import open_path
from securemsg.store.contacts import Contacts
from securemsg.store.fs import ensure_private_dir
from securemsg.store.home import Home
from securemsg.store.keystore.prompt import read_terminal
from securemsg.store.mailaccounts import DONE_KEYWORD, TLS, Account, Accounts, After
from securemsg.store.mailbox import Mailbox
from securemsg.store.mailtransport import Imap, Smtp

if TYPE_CHECKING:
    from securemsg.app.carry import Carried

BATCH = 100  # mails per group (receive --mail --batch)
BATCH_BYTES = 16 << 20  # bytes of mail per FETCH of bodies
# An upper bound of what an envelope adds to the letter's text and attachments:
# the age header and tags (16 bytes per 64 KiB), the manifest, cards, consent.
ENVELOPE_SLACK = 512 << 10


# -- accounts -------------------------------------------------------------------------
def add_account(home: Home, account: Account) -> Account:
    return devices.add_account(home, account)  # refused with several devices and move


def accounts(home: Home) -> list[Account]:
    return Accounts(home).all()


def account(home: Home, name: str | None) -> Account:
    return Accounts(home).get(name)


def remove_account(home: Home, name: str) -> Account:
    return Accounts(home).remove(name)


@dataclass(frozen=True, slots=True)
class AccountCheck:
    account: Account
    smtp_size: int | None
    imap_uidvalidity: int
    waiting: int  # securemsg mails not yet received


def test_account(home: Home, name: str | None) -> AccountCheck:
    """Log in to both servers (TLS verified), read the SIZE and the inbox."""
    a = Accounts(home).get(name)
    with Smtp(a) as smtp:
        size = smtp.size_limit()
    with Imap(a) as imap:  # the mails this device has not finished with
        uv = imap.select("INBOX")
        waiting = len(imap.securemsg_uids(True, doubles.keyword(Mailbox(home))))
    return AccountCheck(a, size, uv, waiting)


# -- sending --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MailSent:
    result: SendResult
    account: str
    mails: tuple[tuple[str, str, int], ...]  # (recipient name, address, bytes)
    double_to: str | None = None  # several devices (app/doubles.py): the double went there
    double_problem: SecureMsgError | None = None
    carried: Carried | None = None  # my key succession, mailed before the letter


def _address(contacts: Contacts, query: str, role: str) -> str:
    c = contacts.find(query)
    email = c.card.profile.email
    if not email or "@" not in email:
        raise MailError(
            _("{name}'s card gives no mail address: the letter cannot go by mail").format(
                name=c.name
            ),
            hint=_(
                "send it with -o DIR or --drop DIR, or ask {role} for a card with an e-mail"
            ).format(role=role),
        )
    return email


def send_by_mail(home: Home, req: SendRequest, account_name: str | None, now: int) -> MailSent:
    from securemsg.app.carry import by_mail  # my key succession along (not at start-up)

    acct = Accounts(home).get(account_name)
    contacts = Contacts(home)
    for q in req.to:
        _address(contacts, q, _("them"))
    if req.patient is not None and not req.no_patient_copy:
        _address(contacts, req.patient, _("the patient (or give --no-patient-copy)"))
    text = len(req.source.raw) + sum(a.size() for a in req.attachments)
    bound = maillayout.b64_size(text + text // 4096 + ENVELOPE_SLACK) + 8192
    with Smtp(acct) as smtp:
        limit = smtp.size_limit()
        if limit is not None and bound > limit:
            raise MailTooLarge(
                _(
                    "this letter would make a mail of up to {bound} bytes: more than the "
                    "{limit} bytes the mail server accepts (nothing was sent)"
                ).format(bound=bound, limit=limit),
                hint=_("split it over several letters, or send it with --drop DIR or -o DIR"),
            )
        outbox = ensure_private_dir(home.path / "mail" / "outbox" / secrets.token_hex(8))
        try:
            result = sending.send(home, replace(req, out_dir=outbox, drop=None), now)
            carried = by_mail(home, smtp, acct.address, result.outputs, contacts, now)
            mails = _post(smtp, acct, result, contacts, limit, now)
        finally:
            shutil.rmtree(outbox, ignore_errors=True)
        double_to, problem = doubles.mail_double(smtp, acct, home, result, now)
    return MailSent(result, acct.name, mails, double_to, problem, carried)


def _post(
    smtp: Smtp, acct: Account, result: SendResult, contacts: Contacts, limit: int | None, now: int
) -> tuple[tuple[str, str, int], ...]:
    planned = []
    for o in result.outputs:
        contact = contacts.get(o.fp)
        to = contact.card.profile.email if contact is not None else None
        if not to:
            raise MailError(_("{name}'s card gives no mail address").format(name=o.name))
        mail = maillayout.outgoing(
            "letter", acct.address, to, f"{result.message_id}.smsg", o.path.stat().st_size, now
        )
        if limit is not None and mail.size > limit:  # the bound above makes this unreachable
            raise MailTooLarge(
                _("the mail to {name} is larger than the server accepts").format(name=o.name)
            )
        planned.append((o, to, mail))
    sent: list[tuple[str, str, int]] = []
    for o, to, mail in planned:
        try:
            smtp.send(to, mail, o.path)
        except MailError as exc:
            done = ", ".join(n for n, _a, _s in sent) or "nobody"
            raise MailError(
                _("{message} (sent to: {done}; the double is kept)").format(
                    message=exc.message, done=done
                ),
                hint=_("check the connection, then send the letter again to the others"),
            ) from exc
        sent.append((o.name, to, mail.size))
    return tuple(sent)


# -- receiving ------------------------------------------------------------------------
class _Crash:
    """Tests only: ``SECUREMSG_TEST_KILL_AT=STAGE:N`` makes the process SIGKILL
    itself the N-th time it reaches STAGE (accepted, proof_sent, recorded,
    flagged), to prove that a kill at that point loses and duplicates nothing."""

    def __init__(self) -> None:
        spec = os.environ.get("SECUREMSG_TEST_KILL_AT", "")
        stage, _sep, n = spec.partition(":")
        self.stage, self.left = stage, int(n) if n.isdigit() else 0

    def at(self, stage: str) -> None:
        if self.left and stage == self.stage:
            self.left -= 1
            if self.left == 0:
                os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class _Session:
    home: Home
    box: Mailbox
    acct: Account
    contacts: Contacts
    cap: NoticeCap
    crash: _Crash
    now: int
    batch: int = BATCH
    smtp: Smtp | None = None
    keyword: str = DONE_KEYWORD  # this device's (app/doubles.py)

    def mailer(self) -> Smtp:
        if self.smtp is None:
            self.smtp = Smtp(self.acct)
        return self.smtp


def receive_mail(
    home: Home, account_name: str | None, folder: str | None, now: int, batch: int = BATCH
) -> list[Received]:
    store = Accounts(home)
    acct = store.get(account_name)
    folder = folder or "INBOX"
    with Imap(acct) as imap:  # a server that fails TLS or the login: nothing touched here
        uv = imap.select(folder)
        box = Mailbox(home)
        devices.check_after(home, box, acct)
        box.cleanup_in_flight()  # mail/tmp only: never the whole mailbox
        incoming = home.path / "mail" / "incoming"
        for left in incoming.glob(".*") if incoming.is_dir() else []:  # a killed run's
            left.unlink(missing_ok=True)
        s = _Session(home, box, acct, Contacts(home), NoticeCap(), _Crash(), now, batch)
        s.keyword = doubles.keyword(box)
        try:
            return _receive(s, store, imap, folder, uv)
        finally:
            if s.smtp is not None:
                s.smtp.close()


def _receive(s: _Session, store: Accounts, imap: Imap, folder: str, uv: int) -> list[Received]:
    """Group by group (at most ``s.batch`` mails, BATCH_BYTES of mail): fetch,
    accept each, mail the proofs back (one mail per author), record the group,
    flag or move it. A kill anywhere leaves the group unrecorded or unflagged:
    the next run does it again (module docstring)."""
    acct = s.acct
    rows: list[Received] = []
    move_to = acct.done_folder if acct.after is After.MOVE else None
    uids = imap.securemsg_uids(unflagged_only=True, keyword=s.keyword)
    seen = store.seen(acct.name, folder, uv)
    finished = [u for u in uids if u in seen]  # recorded, not flagged: killed in between
    if finished:
        imap.done(finished, move_to, s.keyword)
    todo = [u for u in uids if u not in seen]
    for batch in _chunks(todo, s.batch):
        sizes = imap.sizes(batch)
        for group in _by_bytes(batch, sizes, acct.max_mail):
            small = [u for u in group if sizes.get(u, 0) <= acct.max_mail]
            bodies = imap.fetch(small) if small else {}
            group = statements.first(group, bodies)  # key statements before letters
            done = [_one(s, folder, u, sizes.get(u, 0), bodies.pop(u, None)) for u in group]
            _send_proofs(s, done)
            s.crash.at("proof_sent")
            store.mark_seen(acct.name, folder, uv, [(m.uid, m.status) for m in done])
            s.crash.at("recorded")
            imap.done(group, move_to, s.keyword)
            s.crash.at("flagged")
            rows += [r for m in done for r in m.rows]
    return rows


def _chunks(items: list[int], n: int) -> Iterator[list[int]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _by_bytes(uids: list[int], sizes: dict[int, int], cap: int) -> Iterator[list[int]]:
    """UIDs in groups of at most BATCH_BYTES of mail (a mail over ``cap`` alone,
    never fetched)."""
    group: list[int] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if size > cap:
            yield from ([group] if group else [])
            group, total = [], 0
            yield [uid]
            continue
        if group and total + size > BATCH_BYTES:
            yield group
            group, total = [], 0
        group.append(uid)
        total += size
    if group:
        yield group


@dataclass
class _Mail:
    """One mail of a group: its report rows, and the proofs to mail back
    ((author fingerprint, file name, bytes, index of its row))."""

    uid: int
    status: str
    rows: list[Received]
    proofs: list[tuple[str, str, bytes, int]]


def _one(s: _Session, folder: str, uid: int, size: int, raw: bytes | None) -> _Mail:
    where = Path(f"{folder}:{uid}")
    if size > s.acct.max_mail:
        error: SecureMsgError = TooLargeError(
            _(
                "a mail of {size} bytes: more than the {max_mail} bytes this account "
                "fetches (account add --max-mail); not fetched, left in the folder"
            ).format(size=size, max_mail=s.acct.max_mail),
            hint=_("ask the sender to use a drop folder or a file for letters this large"),
        )
        return _Mail(uid, "refused", [LetterReceived(where, Outcome.REFUSED, error=error)], [])
    if raw is None:
        error = MailError(_("the IMAP server did not return this mail"))
        return _Mail(uid, "skipped", [LetterReceived(where, Outcome.SKIPPED, error=error)], [])
    try:
        mail = maillayout.parse(raw)
    except SecureMsgError as exc:
        return _Mail(uid, "refused", [LetterReceived(where, Outcome.REFUSED, error=exc)], [])
    if mail.kind == "statement":  # a key succession or revocation (app/statements.py)
        taken = statements.import_bytes(s.home, where, mail.parts[0][1], s.now)
        return _Mail(uid, mail.kind, taken, [])
    if mail.kind in ("consent", "card"):
        from securemsg.app import mailobjects

        data = mail.parts[0][1]
        if mail.kind == "card":
            got = mailobjects.receive_card(s.home, where, data, s.now)
        else:
            with _temp(s.box, data) as path:
                got = mailobjects.receive_consent(s.home, where, path, s.now)
        return _Mail(uid, mail.kind, [got], [])
    if mail.kind == "double":  # another device's double (app/doubles.py)
        return _Mail(uid, "double", [doubles.file_double(s.box, where, mail.parts, s.now)], [])
    if mail.kind == "proofs":
        rows: list[Received] = []
        for _name, data in mail.parts:
            with _temp(s.box, data) as path, open_path(path, MAX_PROOF) as opened:
                rows.append(doubles.import_proof(s.home, s.box, opened, where, s.now))
        return _Mail(uid, "proofs", rows, [])
    with _temp(s.box, mail.parts[0][1]) as path, open_path(path, receiving.LETTER_CAP) as opened:
        row, proof, author = receiving._accept(s.box, opened, s.now, s.cap)
    row = replace(row, file=where)
    s.crash.at("accepted")
    m = _Mail(uid, row.outcome.value, [row], [])
    if proof is not None and author is not None and row.outcome is not Outcome.SKIPPED:
        kind = "refusal" if row.outcome is Outcome.REFUSED else "receipt"
        m.proofs.append((author, f"{row.message_id or 'unknown'}.{kind}", proof, 0))
    return m


def _send_proofs(s: _Session, done: list[_Mail]) -> None:
    """The group's receipts and notices, one mail per author (at most MAX_PROOFS
    each), to the address on the author's card. One that cannot be sent is a
    ``problem`` on its letter's row."""
    by_author: dict[str, list[tuple[_Mail, str, bytes, int]]] = {}
    for m in done:
        for author, name, proof, k in m.proofs:
            by_author.setdefault(author, []).append((m, name, proof, k))
    for author, items in by_author.items():
        contact = s.contacts.get(author)
        to = contact.card.profile.email if contact is not None else None
        for start in range(0, len(items), maillayout.MAX_PROOFS):
            chunk = items[start : start + maillayout.MAX_PROOFS]
            try:
                if not to:
                    raise MailError(_("the author's card gives no mail address"))
                raw = maillayout.proofs_mail(
                    s.acct.address, to, [(n, p) for _m, n, p, _k in chunk], time.time()
                )
                s.mailer().send_bytes(to, raw)
            except SecureMsgError as exc:
                for m, name, _p, k in chunk:
                    what = name.rpartition(".")[2]
                    problem = MailError(
                        _("its {what} was not sent back: {message}").format(
                            what=_(what), message=exc.message
                        )
                    )
                    m.rows[k] = replace(m.rows[k], problem=problem)


@contextlib.contextmanager
def _temp(box: Mailbox, data: bytes) -> Iterator[Path]:
    """``data`` in a private temp file of the home, removed after."""
    folder = ensure_private_dir(box.home.path / "mail" / "incoming")
    path = folder / f".{secrets.token_hex(8)}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        yield path
    finally:
        path.unlink(missing_ok=True)


__all__ = ["TLS", "Account", "After", "LetterReceived", "ProofReceived", "read_terminal"]
