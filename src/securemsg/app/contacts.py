"""Correspondents, from their signed cards (trust on first use): add a card,
list, show, and mark one verified after comparing keys out of band."""

from __future__ import annotations

import enum

from securemsg.core.card import Card
from securemsg.core.frozen import Frozen, _set
from securemsg.core.names import rpps_key_ok
from securemsg.errors import NotFoundError
from securemsg.i18n import _
from securemsg.store.contacts import Contact, Contacts
from securemsg.store.home import Home

__all__ = ["AddStatus", "Added", "Contact", "Shown", "add", "listing", "show", "verify"]


class AddStatus(enum.Enum):
    ADDED = "added"
    UPDATED = "updated"  # a re-issued card of a known key: validity, specialty, email
    CHANGED = "changed"  # a re-issued card that names another identity (--replace)
    UNCHANGED = "unchanged"  # this card was known
    REPLACED = "replaced"  # a new key for someone known (--replace): the old one retired


class Added(Frozen):
    """What ``contacts add`` did (a frozen value, core.frozen: start-up time)."""

    __slots__ = ("contact", "status", "previous", "me", "warnings")  # noqa: RUF023 (field order)
    contact: Contact
    status: AddStatus
    previous: Contact | None  # the contact as it was (updated), or the key it replaces
    me: Card
    warnings: tuple[str, ...]  # names close to a known one, not refused

    def __init__(
        self,
        contact: Contact,
        status: AddStatus,
        previous: Contact | None,
        me: Card,
        warnings: tuple[str, ...] = (),
    ) -> None:
        _set(self, "contact", contact)
        _set(self, "status", status)
        _set(self, "previous", previous)
        _set(self, "me", me)
        _set(self, "warnings", warnings)


class Shown(Frozen):
    """A contact and my card (a frozen value, core.frozen: start-up time)."""

    __slots__ = ("contact", "me")
    contact: Contact
    me: Card

    def __init__(self, contact: Contact, me: Card) -> None:
        _set(self, "contact", contact)
        _set(self, "me", me)


def add(home: Home, card: Card, now: int, replace_key: bool = False) -> Added:
    result = Contacts(home).add(card, now, replace_key=replace_key)
    status = AddStatus(result.status)
    warnings = result.warnings + rpps_warnings(card)
    return Added(result.contact, status, result.previous, home.card(), warnings)


def rpps_warnings(card: Card) -> tuple[str, ...]:
    """A card's RPPS number whose check digit fails: a warning, not a refusal (cards
    signed before securemsg checked it, tests/vectors among them, must keep verifying)."""
    rpps = card.profile.rpps
    if rpps is None or rpps_key_ok(rpps):
        return ()
    return (
        _(
            "the RPPS number on {name}'s card ({rpps}) fails its check digit (Luhn): "
            "check it with them (annuaire santé) before you rely on it"
        ).format(name=card.name, rpps=rpps),
    )


def listing(home: Home, include_replaced: bool = False) -> list[Contact]:
    return Contacts(home).all(include_replaced=include_replaced)


def show(home: Home, query: str) -> Shown:
    """A contact by name or fingerprint prefix; a retired key too if no current one matches."""
    book = Contacts(home)
    try:
        found = book.find(query)
    except NotFoundError:
        found = book.find(query, include_replaced=True)  # a retired key, by name or prefix
    return Shown(found, home.card())


def verify(home: Home, query: str, evidence: str) -> Shown:
    """Mark a contact verified: ``evidence`` is its fingerprint or our safety number."""
    return Shown(Contacts(home).mark_verified(query, evidence), home.card())
