"""Consent objects and cards by mail (docs/format.md §18.1).

``consent send FILE --to CONTACT``: a grant, revocation or objection (verified
first) mailed to each contact's card address, one ``consent/1`` mail each.
``card send --to ADDRESS``: my card, one ``card/1`` mail. ``receive --mail``
records a consent object exactly as ``consent import`` would (signed by a
patient who is a contact, else refused), and never trusts a card: it is kept
in ``HOME/mail/cards/<fingerprint>.card`` and offered (the user checks it and
runs ``contacts add`` on it, with its TOFU and look-alike rules).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from securemsg.app import consent as consenting
from securemsg.app.receive import Outcome, ProofReceived
from securemsg.core.card import Card
from securemsg.errors import MailError, SecureMsgError, UsageError
from securemsg.i18n import N_, _
from securemsg.store import maillayout
from securemsg.store.contacts import Contacts
from securemsg.store.fs import atomic_write, ensure_private_dir
from securemsg.store.home import Home
from securemsg.store.mailaccounts import Accounts
from securemsg.store.mailtransport import Smtp

MAX_CARD = 64 * 1024


@dataclass(frozen=True, slots=True)
class Mailed:
    account: str
    what: str  # consent | card
    to: tuple[tuple[str, str], ...]  # (name or address, address)


def _post(home: Home, account: str | None, kind: str, name: str, data: bytes,
          to: list[tuple[str, str]]) -> Mailed:  # fmt: skip
    acct = Accounts(home).get(account)
    with Smtp(acct) as smtp:
        for _who, address in to:
            mail = _single(kind, acct.address, address, name, data)
            smtp.send_bytes(address, mail)
    return Mailed(acct.name, kind, tuple(to))


def _single(kind: str, sender: str, to: str, name: str, data: bytes) -> bytes:
    import io

    m = maillayout.outgoing(kind, sender, to, name, len(data), time.time())
    return m.head + b"".join(maillayout.base64_lines(io.BytesIO(data))) + m.tail


def send_consent(home: Home, file: Path, to: list[str], account: str | None, now: int) -> Mailed:
    """Mail a signed consent object to contacts (verified before anything is sent)."""
    info = consenting.show(home, file, now)
    data = consenting.read_limited(file, consenting.MAX_CONSENT_FILE, N_("consent object"))
    contacts = Contacts(home)
    targets = []
    for q in to:
        c = contacts.find(q)
        if not c.card.profile.email:
            raise MailError(
                _("{name}'s card gives no mail address").format(name=c.name),
                hint=_("give them the file another way"),
            )
        targets.append((c.name, c.card.profile.email))
    del info
    return _post(home, account, "consent", "consent.cose", data, targets)


def send_card(home: Home, to: list[str], account: str | None) -> Mailed:
    for address in to:
        if "@" not in address or any(c.isspace() for c in address):
            raise UsageError(_("{address!r} is not a mail address").format(address=address))
    data = home.card().to_text().encode()
    return _post(home, account, "card", "card.txt", data, [(a, a) for a in to])


# -- receiving (called by app/mail.py for consent/1 and card/1 mails) -------------------
def receive_consent(home: Home, where: Path, temp: Path, now: int) -> ProofReceived:
    """``temp`` holds the mail's attachment (a private temp file of the home)."""
    try:
        imported = consenting.record(home, temp, now)
    except SecureMsgError as exc:
        return ProofReceived(where, Outcome.REFUSED, kind="consent", error=exc)
    info = imported.info
    what = type(info.obj).__name__.lower()
    outcome = Outcome.RECORDED if imported.status.value == "added" else Outcome.ALREADY_RECORDED
    return ProofReceived(
        where, outcome, kind="consent", recipient=info.card.name,
        reason=_("{what} signed by {name}").format(what=_(what), name=info.card.name),
    )  # fmt: skip


def receive_card(home: Home, where: Path, data: bytes, now: int) -> ProofReceived:
    try:
        if len(data) > MAX_CARD:
            raise MailError(_("the attached card is larger than any card"))
        card = Card.parse(data)
        card.check_current(now)
    except SecureMsgError as exc:
        return ProofReceived(where, Outcome.REFUSED, kind="card", error=exc)
    known = Contacts(home).get(card.fingerprint)
    if known is not None or card.fingerprint == home.card().fingerprint:
        return ProofReceived(
            where, Outcome.ALREADY_RECORDED, kind="card", recipient=card.name,
            reason=_("the card of {name} (already known)").format(name=card.name),
        )  # fmt: skip
    folder = ensure_private_dir(home.path / "mail" / "cards")
    path = folder / f"{card.fingerprint}.card"
    atomic_write(path, card.to_text().encode())
    return ProofReceived(
        where, Outcome.OFFERED, kind="card", recipient=card.name,
        reason=_(
            "the card of {name} ({fingerprint}), NOT trusted: compare its "
            "fingerprint with them, then: securemsg contacts add {path}"
        ).format(name=card.name, fingerprint=card.fingerprint[:16], path=path),
    )  # fmt: skip
