"""My keys over the years (issue 16): rotate to a new key pair, revoke a key,
prepare a revocation at init; and a correspondent's statements imported into
the contacts (docs/cli.md, "key rotate", "key revoke", "contacts add")."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from securemsg.core import labels
from securemsg.core.card import Card
from securemsg.core.identity import SecretIdentity
from securemsg.core.keychange import KeyRevocation, Reason, Succession, kind_of
from securemsg.errors import FormatError, UsageError
from securemsg.i18n import _
from securemsg.store.contacts import Contacts
from securemsg.store.fs import check_new_file, write_new
from securemsg.store.home import Home
from securemsg.store.keychanges import Moved, Revoked, revoke, succeed

SUCCESSION_FILE = "key-succession.cose"  # in the home: my latest succession statement


@dataclass(frozen=True, slots=True)
class Rotated:
    old: Card
    new: Card
    written_to: Path


def rotate(home: Home, now: int, output: Path) -> Rotated:
    """A new key pair and card (same profile), a succession statement signed by
    the old and the new key, the old pair kept sealed in the key store; the
    statement kept in the home and written to ``output`` (checked first)."""
    check_new_file(output)
    history = home.unlock_history()
    old = home.card()
    new = SecretIdentity.generate()
    card = Card.sign(new, old.profile, now, test_key=old.test_key)
    succession = Succession.sign(history.current, new, card, now)
    from securemsg.app import agent

    agent.lock(home)  # a running agent holds the old key: stopped (`unlock` again after)
    home.rotate(history.succeeded_by(new), card)
    from securemsg.store.fs import atomic_write

    atomic_write(home.path / SUCCESSION_FILE, succession.encoded, mode=0o644)
    write_new(output, succession.encoded, mode=0o644)
    return Rotated(old, card, output)


def prepare_revocation(secret: SecretIdentity, now: int, output: Path) -> Path:
    """At init: a revocation of this key with no time (it takes effect when a
    correspondent imports it), reason compromised, 0600, never over a file."""
    rev = KeyRevocation.sign(secret, Reason.COMPROMISED, now, None)
    write_new(output, rev.encoded, mode=0o600)
    return output


def default_revocation_path(home: Home, card: Card) -> Path:
    """In the home, as GnuPG keeps ``openpgp-revocs.d``: the user copies it offline."""
    return home.path / f"revocation-{card.fingerprint[:16]}.cose"


@dataclass(frozen=True, slots=True)
class OwnRevocation:
    revocation: KeyRevocation
    written_to: Path


def revoke_own(
    home: Home, now: int, output: Path, reason: Reason, as_of: int | None
) -> OwnRevocation:
    """``key revoke`` with the key: "my current key is revoked as of T"."""
    check_new_file(output)
    if as_of is not None and as_of > now:
        raise UsageError(_("--as-of is in the future"), hint=_("give a time up to now"))
    # the key in hand, never the agent's: an agent signs no key statement, so a
    # process that can reach it cannot revoke my key (docs/format-agent.md)
    secret = home.unlock_local()
    rev = KeyRevocation.sign(secret, reason, now, as_of if as_of is not None else now)
    write_new(output, rev.encoded, mode=0o644)
    return OwnRevocation(rev, output)


def statement_type(data: bytes) -> str | None:
    """The key statement's type (labels.COSE_KEY_*), or None if it is none (a card)."""
    if b"-----BEGIN SECUREMSG CARD-----" in data:
        return None
    try:
        object_type, _fp = kind_of(data)
    except FormatError:
        return None
    if object_type in (labels.COSE_KEY_SUCCESSION, labels.COSE_KEY_REVOCATION):
        return object_type
    return None


def import_succession(home: Home, data: bytes, now: int) -> Moved:
    _type, fp = kind_of(data)
    return succeed(Contacts(home), data, fp, now)


def import_revocation(home: Home, data: bytes, now: int) -> Revoked:
    _type, fp = kind_of(data)
    if fp == home.card().fingerprint:
        raise UsageError(
            _("this is a revocation of your own key"),
            hint=_("give it to your correspondents; to stop using the key: securemsg key rotate"),
        )
    return revoke(Contacts(home), data, fp, now)
