"""``key announce``: my key succession (or a revocation of one of my keys) sent
to my contacts, by the drop folder or by mail (issue 16; docs/cli.md, "key
announce"). Their ``receive --drop`` or ``receive --mail`` imports it exactly as
``contacts add`` would (app/statements.py).

The statement is checked first: a key succession or revocation that one of my
own keys signed (and, for a succession, whose new key is one of mine). Then one
copy per contact: in the drop folder, ``DROP/<their fingerprint>/<digest>.<signer
fingerprint>.statement`` (0644, or 0640 in a shared drop folder: a statement is
no secret); by mail, one ``statement/1`` mail to the address on their card. Each
contact on its own: one that cannot be reached is reported, the others still get it.
"""

from __future__ import annotations

import hashlib
import io
import time
from dataclasses import dataclass
from pathlib import Path

from securemsg.app.keys import SUCCESSION_FILE
from securemsg.app.statements import MAX_STATEMENT, REVOCATION, SUCCESSION
from securemsg.core import labels
from securemsg.core.keychange import KeyRevocation, Succession, kind_of
from securemsg.core.signed import Key
from securemsg.errors import FormatError, MailError, NotFoundError, SecureMsgError, UsageError
from securemsg.i18n import _
from securemsg.store import drop as dropfolder
from securemsg.store import maillayout
from securemsg.store.contacts import Contact, Contacts
from securemsg.store.home import Home

STATEMENT_MAIL_NAME = "key-statement.cose"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One contact: where the statement went, or why it did not."""

    name: str
    fingerprint: str
    where: str | None = None  # the file in the drop folder, or the mail address
    error: SecureMsgError | None = None


@dataclass(frozen=True, slots=True)
class Announced:
    kind: str  # key succession | key revocation
    key: str  # the fingerprint of the key it is about (the succession's old key)
    by: str  # drop | mail
    deliveries: tuple[Delivery, ...]


def read_statement(home: Home, file: Path | None) -> bytes:
    """FILE, or my latest key succession (kept by ``key rotate``)."""
    path = file if file is not None else home.path / SUCCESSION_FILE
    if file is None and not path.is_file():
        raise NotFoundError(
            _("you have not rotated your key: there is no key succession to announce"),
            hint=_("securemsg key rotate -o FILE first, or give the statement FILE"),
        )
    with path.open("rb") as fh:
        data = fh.read(MAX_STATEMENT + 1)
    if len(data) > MAX_STATEMENT:
        raise FormatError(_("{file} is too large to be a key statement").format(file=path))
    return data


def check_mine(home: Home, data: bytes) -> tuple[str, str]:
    """(kind, fingerprint of the key it is about) of a statement signed by one of
    my keys; else a specific error and nothing is sent."""
    object_type, signer = kind_of(data)
    keys = {Key(k.sign_public).fingerprint: k for k in home.unlock_history().keys}
    if object_type not in (labels.COSE_KEY_SUCCESSION, labels.COSE_KEY_REVOCATION):
        raise UsageError(
            _("this is not a key succession or key revocation"),
            hint=_("give the file written by securemsg key rotate or key revoke"),
        )
    if signer not in keys:
        raise UsageError(
            _("this statement is about a key ({fp}...) that is not one of yours").format(
                fp=signer[:16]
            ),
            hint=_("a correspondent's statement is imported with: securemsg receive FILE"),
        )
    key = Key(keys[signer].sign_public)
    if object_type == labels.COSE_KEY_REVOCATION:
        KeyRevocation.verify(data, key)
        return REVOCATION, signer
    succession = Succession.verify(data, key)
    if succession.new_card.fingerprint not in keys:
        raise UsageError(
            _("this key succession names a new key that is not one of yours"),
            hint=_("give the file written by securemsg key rotate"),
        )
    return SUCCESSION, signer


def targets(home: Home, to: list[str]) -> list[Contact]:
    """The contacts named (each must be found), or every current contact whose
    key is not revoked."""
    book = Contacts(home)
    if to:
        return [book.find(q) for q in to]
    found = [c for c in book.all() if not c.revoked]
    if not found:
        raise UsageError(
            _("you have no contacts to announce it to"),
            hint=_("give the statement FILE to your correspondents another way"),
        )
    return found


def announce(
    home: Home,
    file: Path | None,
    to: list[str],
    drop: Path | None,
    account: str | None,
) -> Announced:
    """Check the statement and the contacts, then one copy per contact."""
    data = read_statement(home, file)
    kind, key = check_mine(home, data)
    contacts = targets(home, to)
    if drop is not None:
        return Announced(kind, key, "drop", _by_drop(drop, data, key, contacts))
    return Announced(kind, key, "mail", _by_mail(home, account, data, contacts))


def _by_drop(drop: Path, data: bytes, signer: str, contacts: list[Contact]) -> tuple[Delivery, ...]:
    name = f"{hashlib.sha256(data).hexdigest()[:32]}.{signer}.statement"
    out = []
    with dropfolder.permission_errors(drop), dropfolder.open_drop(drop) as root:
        for c in contacts:
            try:
                where = dropfolder.put_statement(root, c.fingerprint, name, data, c.name)
            except SecureMsgError as exc:
                out.append(Delivery(c.name, c.fingerprint, error=exc))
                continue
            out.append(Delivery(c.name, c.fingerprint, where=str(where)))
    return tuple(out)


def _by_mail(
    home: Home, account: str | None, data: bytes, contacts: list[Contact]
) -> tuple[Delivery, ...]:
    from securemsg.store.mailaccounts import Accounts
    from securemsg.store.mailtransport import Smtp

    acct = Accounts(home).get(account)
    out = []
    with Smtp(acct) as smtp:  # a server that fails TLS or the login: nothing sent
        for c in contacts:
            address = c.card.profile.email
            if not address or "@" not in address:
                error = MailError(
                    _("{name}'s card gives no mail address").format(name=c.name),
                    hint=_("give them the statement another way (--drop DIR, or the file)"),
                )
                out.append(Delivery(c.name, c.fingerprint, error=error))
                continue
            m = maillayout.outgoing(
                "statement", acct.address, address, STATEMENT_MAIL_NAME, len(data), time.time()
            )
            raw = m.head + b"".join(maillayout.base64_lines(io.BytesIO(data))) + m.tail
            try:
                smtp.send_bytes(address, raw)
            except SecureMsgError as exc:
                out.append(Delivery(c.name, c.fingerprint, error=exc))
                continue
            out.append(Delivery(c.name, c.fingerprint, where=address))
    return tuple(out)
