"""Whether this computer is one of several devices of the identity, and what
that forbids (README, "When you change computer, or lose one"; docs/format.md
§18.2).

The home's config says it with ``"devices"``:

- ``true``: set by ``device add`` on the first computer and carried in the
  device file to the joined one; also set on a home that lacks the key (one
  that ran ``device add`` before the key existed) when a double from another
  device of mine is filed (app/doubles.py);
- ``false``: set by ``device forget`` once the other computers are gone;
- absent: several when the home has a log chain id (a joined device), else one.

With several devices, ``send --mail`` mails each double to my own address and
no mail account may move the mails it has received (``--after move``): the
other devices would never see them. That is refused up front by
``account add``, ``device add`` and ``receive --mail`` alike (:func:`check_after`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from securemsg.errors import MailError
from securemsg.i18n import _
from securemsg.store.fs import atomic_write
from securemsg.store.home import Home
from securemsg.store.mailaccounts import Account, Accounts, After
from securemsg.store.mailbox import Mailbox


def several_devices(home: Home, box: Mailbox) -> bool:
    """This identity is used on more than one device (as far as this one knows)."""
    flag = home.config().get("devices")
    if isinstance(flag, bool):
        return flag
    return box.chain_id() is not None


def set_devices(home: Home, several: bool) -> None:
    """Write ``"devices": several`` into the home's config (atomically)."""
    config = home.config()
    if config.get("devices") is not several:
        atomic_write(home.config_path, json.dumps(dict(config, devices=several), indent=2).encode())


def refuse_move(acct: Account, hint: str) -> None:
    """Refuse an account that moves the mails it has received (``--after move``)."""
    if acct.after is After.MOVE:
        raise MailError(
            _(
                "the account {name} moves the mails it has received to {folder}: with "
                "your identity on several devices, the others would never see them"
            ).format(name=acct.name, folder=acct.done_folder),
            hint=hint,
        )


def again_hint() -> str:
    return _(
        "add the account again with --after flag (securemsg account remove, then "
        "account add): each device then marks the mails it has received"
    )


def check_after(home: Home, box: Mailbox, acct: Account) -> None:
    """Refuse to move finished mails when several devices read the account."""
    if acct.after is After.MOVE and several_devices(home, box):
        refuse_move(acct, again_hint())


def add_account(home: Home, account: Account) -> Account:
    """``account add``: refused up front if it would move the mails it receives
    while the identity has several devices; nothing stored then."""
    if account.after is After.MOVE and several_devices(home, Mailbox(home)):
        refuse_move(
            account,
            _(
                "add it with --after flag (the default): each device then marks the mails "
                "it has received; if your other computers are gone for good, run "
                "securemsg device forget first"
            ),
        )
    Accounts(home).add(account)
    return account


def check_accounts(home: Home) -> None:
    """``device add``: refused while a mail account moves the mails it receives."""
    for acct in Accounts(home).all():
        refuse_move(acct, again_hint())


@dataclass(frozen=True, slots=True)
class Forgotten:
    was_several: bool  # this computer counted other devices before


def forget(home: Home) -> Forgotten:
    """``device forget``: this computer is the identity's only device from now on
    (the other computers are gone): ``send --mail`` no longer mails doubles to my
    own address, receipts for letters it does not hold are refused again, and a
    mail account may move the mails it has received. Nothing else changes."""
    was = several_devices(home, Mailbox(home))
    set_devices(home, False)
    return Forgotten(was)
