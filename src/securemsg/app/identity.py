"""My identity: create it (``init``), show it (``whoami``), export my card.

On whoami's import path (CONTRIBUTING.md, "Start-up time"): no pathlib, no
dataclasses at import (results derive from core.frozen.Frozen); what init and
card export need is imported inside them.
"""

from __future__ import annotations

import contextlib

from securemsg.core.card import Card
from securemsg.core.frozen import Frozen, _set
from securemsg.core.identity import Profile, Role, SecretIdentity
from securemsg.errors import ConflictError
from securemsg.i18n import _
from securemsg.store.home import Home


class Identity(Frozen):
    """Who I am here: my card, my home folder, where my keys are kept."""

    __slots__ = ("card", "home", "keystore", "revocation_file")
    card: Card
    home: str
    keystore: str  # a description of the key store
    revocation_file: str | None  # init: where the prepared revocation was written

    def __init__(
        self, card: Card, home: str, keystore: str, revocation_file: str | None = None
    ) -> None:
        _set(self, "card", card)
        _set(self, "home", home)
        _set(self, "keystore", keystore)
        _set(self, "revocation_file", revocation_file)


class CardExport(Frozen):
    """My card's text form, and the file it was written to (if asked)."""

    __slots__ = ("text", "written_to")
    text: str
    written_to: str | None

    def __init__(self, text: str, written_to: str | None) -> None:
        _set(self, "text", text)
        _set(self, "written_to", written_to)


def whoami(home: Home) -> Identity:
    return Identity(home.card(), home.dir, home.keystore_description())


def init(
    home: Home,
    *,
    name: str,
    role: str,
    rpps: str | None,
    specialty: str | None,
    ins: str | None,
    birth_date: str | None,
    email: str | None,
    test_key: str | None,
    now: int,
    revocation_file: str | None = None,
) -> Identity:
    """New key pairs (or a PUBLIC TEST KEY read from the file ``test_key``), a
    signed card, the keys in the key store, the home folder, and a revocation
    statement prepared for the day the key is lost (``revocation_file``, else
    ``HOME/revocation-<fingerprint>.cose`` as GnuPG keeps its own in
    ``openpgp-revocs.d``; 0600, never over a file) for the user to copy offline."""
    if home.exists():
        raise ConflictError(
            _("{path} already holds an identity ({config}...)").format(
                path=home.path, config=home.config()["fingerprint"][:16]
            ),
            hint=_("use another --home, or keep the identity you have"),
        )
    leftover = home.keys_dir / "identity.key"
    if leftover.exists():
        raise ConflictError(
            _(
                "{leftover} exists but {path} has no identity: an interrupted init, or a "
                "damaged home"
            ).format(leftover=leftover, path=home.path),
            hint=_("move the keys folder aside (it may be the only copy of a key), then run init"),
        )
    if rpps is not None:  # typed in: its check digit too (cards are read without it)
        from securemsg.core.names import check_rpps_key

        rpps = check_rpps_key(rpps)
    profile = Profile(
        name=name,
        role=Role.parse(role),
        rpps=rpps,
        specialty=specialty,
        ins=ins,
        birth_date=birth_date,
        email=email,
    )
    if test_key is not None:
        from pathlib import Path

        from securemsg.core.testkeys import parse_test_key

        secret = parse_test_key(Path(test_key).read_text("utf-8"))
        card = Card.sign(secret, profile, now, test_key=True)
    else:
        secret = SecretIdentity.generate()
        card = Card.sign(secret, profile, now)
    from pathlib import Path

    from securemsg.app.keys import default_revocation_path, prepare_revocation
    from securemsg.store.fs import check_new_file, ensure_private_dir
    from securemsg.store.keystore.selection import select_keystore

    revocation = Path(revocation_file) if revocation_file else default_revocation_path(home, card)
    if revocation_file:
        check_new_file(revocation)
    ensure_private_dir(home.path)
    store = select_keystore(home.keys_dir, account=card.fingerprint, env=home.env)
    store.save(secret.to_bytes())
    try:
        home.create(secret, card, store.descriptor())
    except BaseException:
        with contextlib.suppress(Exception):
            store.delete()
        raise
    prepare_revocation(secret, now, revocation)
    return Identity(card, home.dir, store.describe(), str(revocation))


def export_card(home: Home, output: str | None = None) -> CardExport:
    """My card's text; written to the file ``output`` (never over a file) if given."""
    text = home.card().to_text()
    if output is None:
        return CardExport(text, None)
    from pathlib import Path

    from securemsg.store.fs import check_new_file, write_new

    path = Path(output)
    check_new_file(path)
    write_new(path, text.encode(), mode=0o644)
    return CardExport(text, str(path))


class Renewed(Frozen):
    """My card renewed: the new card, the validity it replaces, where it was written."""

    __slots__ = ("card", "previous_expires", "written_to")
    card: Card
    previous_expires: int
    written_to: str | None

    def __init__(self, card: Card, previous_expires: int, written_to: str | None) -> None:
        _set(self, "card", card)
        _set(self, "previous_expires", previous_expires)
        _set(self, "written_to", written_to)


def renew_card(home: Home, now: int, validity_days: int, output: str | None = None) -> Renewed:
    """Re-sign my card with a new validity from ``now`` (docs/cli.md, "card renew").

    Allowed before expiry, and up to RENEW_GRACE_DAYS after it (a practitioner
    back from leave); later, refused: a key nobody has accepted for that long is
    better replaced (``key rotate``) and checked again by safety number. The
    output file is checked before anything changes; the new card replaces
    card.txt atomically, then is written to ``output``."""
    from pathlib import Path

    from securemsg.core.card import RENEW_GRACE_DAYS
    from securemsg.core.times import shown_day
    from securemsg.errors import ExpiredError
    from securemsg.store.fs import atomic_write, check_new_file, write_new

    old = home.card()
    if now > old.expires + RENEW_GRACE_DAYS * 86400:
        raise ExpiredError(
            _(
                "your card expired on {expires}, more than {RENEW_GRACE_DAYS} days ago: "
                "it can no longer be renewed"
            ).format(expires=shown_day(old.expires), RENEW_GRACE_DAYS=RENEW_GRACE_DAYS),
            hint=_(
                "make a new key with `securemsg key rotate` and ask your correspondents "
                "to verify it by safety number"
            ),
        )
    if output is not None:
        check_new_file(Path(output))
    # the key in hand, never the agent's: an agent signs no card (docs/format-agent.md)
    card = old.renewed(home.unlock_local(), now, validity_days)
    atomic_write(home.card_path, card.to_text().encode())
    if output is not None:
        write_new(Path(output), card.to_text().encode(), mode=0o644)
    return Renewed(card, old.expires, output)
