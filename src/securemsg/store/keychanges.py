"""A correspondent's key succession or key revocation, imported into the
contacts (docs/cli.md, "contacts add"; docs/format-keys.md).

A succession moves the contact to the new key: the old key's record becomes
``replaced`` (its letters refused from then on, as after ``--replace``), the
new one ``replaces`` it and keeps "verified" (the old key vouches) and the
statement. It is refused when the old key is unknown, revoked (a revoked key
vouches for nothing: re-verify by safety number), or when the new card names
another person. A revocation marks the contact's key revoked as of T.

Every refusal leaves the contacts as they were (one transaction, after all checks).
"""

from __future__ import annotations

from dataclasses import dataclass

from securemsg.core.frozen import replace
from securemsg.core.keychange import KeyRevocation, Reason, Succession
from securemsg.core.signed import Key
from securemsg.core.times import shown_day
from securemsg.errors import (
    ConflictError,
    KeyRevoked,
    UnknownSender,
    VerificationError,
)
from securemsg.i18n import N_, _
from securemsg.store.contacts import IDENTITY_FIELDS, Contact, Contacts, _changes, same_person


@dataclass(frozen=True, slots=True)
class Moved:
    contact: Contact  # the new key's contact
    previous: Contact  # the old key's, now replaced
    status: str  # "succeeded" | "unchanged"


def _old_contact(book: Contacts, fp: str, what: str) -> Contact:
    old = book.get(fp)
    if old is None or (old.pinned and not old.verified):
        raise UnknownSender(
            _("this {what} is about a key ({fp}...) that is not one of your contacts").format(
                what=_(what), fp=fp[:16]
            ),
            hint=_("add their card first (securemsg contacts add FILE) and verify it"),
        )
    return old


def succeed(book: Contacts, data: bytes, signer_fp: str, now: int) -> Moved:
    old = _old_contact(book, signer_fp, N_("key succession"))
    succession = Succession.verify(data, old.card)
    new = succession.new_card
    # `at` is written by whoever holds the old key: a thief dates it before the
    # revocation as easily as after. A revoked key vouches for nothing, whatever
    # its T (as receive refuses its letters whatever their date: app/trust.py).
    if old.revoked:
        when = shown_day(old.revoked_as_of or 0)
        raise KeyRevoked(
            _(
                "the key of {name} ({display_fingerprint}) was revoked as of {when}: it "
                "cannot vouch for a new key"
            ).format(name=old.name, display_fingerprint=old.card.display_fingerprint, when=when),
            hint=_(
                "ask them for their new card, add it with --replace, then compare the "
                "safety number with them by phone or in person (securemsg contacts "
                "verify)"
            ),
        )
    if old.state == "replaced":
        if old.replaced_by == new.fingerprint:
            current = book.get(new.fingerprint)
            if current is not None:
                return Moved(current, old, "unchanged")
        raise VerificationError(
            _(
                "the key of {name} ({display_fingerprint}) was already replaced by another key"
            ).format(name=old.name, display_fingerprint=old.card.display_fingerprint),
            hint=_("ask them which key is theirs, and compare the safety number"),
        )
    new.check_current(now)
    changed = _changes(old.card, new, IDENTITY_FIELDS)
    if changed:
        raise ConflictError(
            _(
                "the key succession of {name} names another identity for the new key: {changed}"
            ).format(name=old.name, changed="; ".join(changed)),
            hint=_(
                "a new key keeps its holder's name, role and numbers; ask them for a "
                "card with the new key and verify it by safety number"
            ),
        )
    taken = book.get(new.fingerprint)
    others = [c for c in book.all() if c.fingerprint not in (old.fingerprint, new.fingerprint)]
    if taken is not None or any(same_person(c.card, new) for c in others):
        raise ConflictError(
            _("the new key of {name} ({display_fingerprint}) is already known here").format(
                name=old.name, display_fingerprint=new.display_fingerprint
            ),
            hint=_("do not accept it; ask them which key is theirs"),
        )
    contact = Contact(
        card=new,
        verified=old.verified,
        added=now,
        replaces=old.fingerprint,
        succession=data,
    )
    retired = replace(old, state="replaced", replaced_by=new.fingerprint, replaced_at=now)
    book.write([retired, contact])
    return Moved(contact, retired, "succeeded")


@dataclass(frozen=True, slots=True)
class Revoked:
    contact: Contact
    revocation: KeyRevocation
    status: str  # "revoked" | "unchanged"
    unvouched: Contact | None = None  # a successor this key vouched for after T: not verified


def revoke(book: Contacts, data: bytes, signer_fp: str, now: int) -> Revoked:
    """Mark the contact's key revoked as of T (the statement's, else now). A
    second revocation of the same key keeps the earliest T."""
    old = book.get(signer_fp)
    if old is None:
        raise UnknownSender(
            _(
                "this key revocation is about a key ({signer_fp}...) that is not one of "
                "your contacts"
            ).format(signer_fp=signer_fp[:16]),
            hint=_("nothing to do: you never accepted letters signed by it"),
        )
    rev = KeyRevocation.verify(data, Key(old.card.sign_public, old.name))
    t = rev.effective(now)
    if old.revoked and old.revoked_as_of is not None and old.revoked_as_of <= t:
        return Revoked(old, rev, "unchanged")
    marked = replace(old, revocation=data, revoked_as_of=t)
    successor = book.get(old.replaced_by) if old.replaced_by else None
    if successor is not None and successor.succession is not None:
        at = Succession.verify(successor.succession, old.card).at
        # vouched for, or taken in here, at or after T (the statement's `at` alone
        # is the old key holder's word: a thief backdates it): no longer verified.
        # A key revoked as compromised vouches for nothing, whenever: the thief may
        # have held it before its owner knew (the prepared revocation's T is the
        # day it is imported), so its successor is verified again by safety number.
        if rev.reason is Reason.COMPROMISED or max(at, successor.added) >= t:
            successor = replace(successor, verified=False)
            book.write([marked, successor])
            return Revoked(marked, rev, "revoked", successor)
    book.write([marked])
    return Revoked(marked, rev, "revoked")
