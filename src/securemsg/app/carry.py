"""My key succession goes along with my letters (issue 16): after ``key rotate``,
a letter sent by the drop folder or by mail is accompanied by the succession
statement, as a file beside it in the recipient's drop folder
(``<digest>.<old fingerprint>.statement``) or as a ``statement/1`` mail sent
just before it, so that the recipient's ``receive`` (which takes statements
first) moves me to my new key on first contact, without ``key announce``.

Not inside the letter: the envelope format is unchanged (docs/cli.md, "key
announce"). It goes to a recipient until a receipt of theirs for a letter sent
at or after the rotation is recorded (their tool knows my new key by then), and
for at most CARRY_DAYS after the rotation. Failing to put it there never undoes
the letter: the caller reports it.

Off the receiving path (``send`` imports it): no app module that receives.
"""

from __future__ import annotations

import hashlib
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from securemsg.app.keys import SUCCESSION_FILE
from securemsg.core import cbor, cose
from securemsg.core.keychange import Succession
from securemsg.core.signed import Key
from securemsg.errors import SecureMsgError
from securemsg.i18n import N_
from securemsg.store import drop as dropfolder
from securemsg.store import maillayout
from securemsg.store.home import Home
from securemsg.store.mailbox import Mailbox

if TYPE_CHECKING:
    from securemsg.app.send import Output
    from securemsg.store.contacts import Contacts
    from securemsg.store.mailtransport import Smtp

CARRY_DAYS = 90
MAIL_NAME = "key-statement.cose"


@dataclass(frozen=True, slots=True)
class Carried:
    names: tuple[str, ...]  # the recipients who got it with the letter
    problems: tuple[tuple[str, SecureMsgError], ...] = ()  # (name, why not)


def pending(home: Home, now: int) -> tuple[bytes, str, int] | None:
    """(statement, old key's fingerprint, rotation time) of my latest succession
    while it is to go along with letters; None otherwise (no rotation, too old,
    or not about my current key: a later rotation by hand)."""
    path = home.path / SUCCESSION_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        old_key = _claimed_old_key(data)
        if old_key is None:
            return None
        succession = Succession.verify(data, Key(old_key))
    except SecureMsgError:
        return None
    if succession.new_card.fingerprint != home.card().fingerprint:
        return None
    if now > succession.at + CARRY_DAYS * 86400:
        return None
    return data, succession.old_fingerprint, succession.at


def _claimed_old_key(data: bytes) -> bytes | None:
    """The old key the statement names (then verified as its signer): no key
    store is opened (an agent's home sends without the passphrase)."""
    what = N_("key succession")
    payload = cbor.loads(cose.parse(data, what).payload, what)
    old = payload.get("old_key") if isinstance(payload, dict) else None
    return old if isinstance(old, bytes) and len(old) == 32 else None


def recipients(box: Mailbox, fps: list[str], since: int) -> list[str]:
    """Those of ``fps`` with no receipt recorded for a letter sent at or after ``since``."""
    return [fp for fp in fps if not box.delivered_since(fp, since)]


def _name(data: bytes, signer: str) -> str:
    return f"{hashlib.sha256(data).hexdigest()[:32]}.{signer}.statement"


def by_drop(home: Home, drop: Path, to: list[tuple[str, str]], now: int) -> Carried:
    """Beside the letter just sent: into each recipient's folder (``to``: (name,
    fingerprint)) that still needs it."""
    found = pending(home, now)
    if found is None:
        return Carried(())
    data, signer, at = found
    need = set(recipients(Mailbox(home), [fp for _n, fp in to], at))
    names: list[str] = []
    problems: list[tuple[str, SecureMsgError]] = []
    try:
        with dropfolder.permission_errors(drop), dropfolder.open_drop(drop) as root:
            for name, fp in to:
                if fp not in need:
                    continue
                try:
                    dropfolder.put_statement(root, fp, _name(data, signer), data, name)
                except SecureMsgError as exc:
                    problems.append((name, exc))
                    continue
                names.append(name)
    except SecureMsgError as exc:  # the drop folder itself, after the letter went in
        problems += [(name, exc) for name, fp in to if fp in need and name not in names]
    return Carried(tuple(names), tuple(problems))


def by_mail(
    home: Home,
    smtp: Smtp,
    sender: str,
    outputs: tuple[Output, ...],
    contacts: Contacts,
    now: int,
) -> Carried:
    """Before the letter's mails: one ``statement/1`` mail to each recipient of
    the letter (``outputs``) that still needs it, at the address on their card,
    on the letter's SMTP session."""
    to = mail_targets(outputs, contacts)
    found = pending(home, now)
    if found is None:
        return Carried(())
    data, _signer, at = found
    need = set(recipients(Mailbox(home), [fp for _n, fp, _a in to], at))
    names: list[str] = []
    problems: list[tuple[str, SecureMsgError]] = []
    for name, fp, address in to:
        if fp not in need:
            continue
        m = maillayout.outgoing("statement", sender, address, MAIL_NAME, len(data), time.time())
        raw = m.head + b"".join(maillayout.base64_lines(io.BytesIO(data))) + m.tail
        try:
            smtp.send_bytes(address, raw)
        except SecureMsgError as exc:
            problems.append((name, exc))
            continue
        names.append(name)
    return Carried(tuple(names), tuple(problems))


def mail_targets(outputs: tuple[Output, ...], contacts: Contacts) -> list[tuple[str, str, str]]:
    """(name, fingerprint, address on their card) of a letter's recipients."""
    out = []
    for o in outputs:
        c = contacts.get(o.fp)
        if c is not None and c.card.profile.email:
            out.append((o.name, o.fp, c.card.profile.email))
    return out
