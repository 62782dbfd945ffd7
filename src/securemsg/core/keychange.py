"""Statements about one's own keys (docs/format-keys.md): a key succession
(the old key names its successor, the new key accepts) and a key revocation.

- :class:`Succession`: a COSE_Sign1 of type ``labels.COSE_KEY_SUCCESSION`` signed
  by the OLD key, whose payload carries the new card and an acceptance, a
  COSE_Sign1 of type ``labels.COSE_KEY_ACCEPTANCE`` signed by the NEW key naming
  both keys. Both signatures are needed: the old key vouches for the new one, the
  new key agrees to be the old one's successor (no one can claim another's key as
  theirs, no one can move a contact to a key they do not hold).
- :class:`KeyRevocation`: a COSE_Sign1 of type ``labels.COSE_KEY_REVOCATION``
  signed by the revoked key: "this key is revoked as of T, for this reason". A
  statement prepared at ``init`` has no T: it takes effect from the time a
  correspondent imports it (:meth:`KeyRevocation.effective`).

Pure: times are parameters. Read through core.signed, as every signed object.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from securemsg.core import labels, signed
from securemsg.core.card import Card
from securemsg.core.fingerprint import fingerprint
from securemsg.core.identity import KeyHolder
from securemsg.errors import FormatError, SecureMsgError, VerificationError
from securemsg.i18n import N_, _


def _not_signed_by(kind: signed.Kind, kid: bytes, signer: signed.Signer) -> SecureMsgError:
    return VerificationError(
        _("{what}: not signed by the key it is about ({fingerprint}...)").format(
            what=_(kind.what), fingerprint=signer.fingerprint[:16]
        ),
        hint=_("do not use it; check the key with its holder by safety number"),
    )


SUCCESSION = signed.Kind(
    labels.COSE_KEY_SUCCESSION,
    N_("key succession"),
    required=("old_key", "new_card", "at", "acceptance"),
    wrong_signer=_not_signed_by,
)
ACCEPTANCE = signed.Kind(
    labels.COSE_KEY_ACCEPTANCE,
    N_("key succession acceptance"),
    required=("old_key", "new_key", "at"),
    wrong_signer=_not_signed_by,
)
REVOCATION = signed.Kind(
    labels.COSE_KEY_REVOCATION,
    N_("key revocation"),
    required=("key", "reason", "made"),
    optional=("as_of",),
    wrong_signer=_not_signed_by,
)


class Reason(enum.StrEnum):
    COMPROMISED = "compromised"  # the secret key may be known to someone else
    SUPERSEDED = "superseded"  # replaced by a new key, the old one not compromised
    RETIRED = "retired"  # no longer used (end of practice)


@dataclass(frozen=True, slots=True)
class Succession(signed.Signed):
    """The old key's statement that ``new_card`` is its successor, from ``at``."""

    old_key: bytes
    new_card: Card
    at: int
    encoded: bytes

    @property
    def old_fingerprint(self) -> str:
        return fingerprint(self.old_key).hex()

    @classmethod
    def sign(cls, old: KeyHolder, new: KeyHolder, new_card: Card, at: int) -> Succession:
        if new_card.sign_public != new.sign_public:
            raise ValueError(_("the new card is not the new key's"))
        acceptance = signed.sign(
            new,
            ACCEPTANCE,
            {"v": signed.VERSION, "old_key": old.sign_public, "new_key": new.sign_public, "at": at},
        )
        payload: dict[str, Any] = {
            "v": signed.VERSION,
            "old_key": old.sign_public,
            "new_card": new_card.encoded,
            "at": at,
            "acceptance": acceptance,
        }
        return cls.verify(signed.sign(old, SUCCESSION, payload), signed.Key(old.sign_public))

    @classmethod
    def verify(cls, data: bytes, old: signed.Signer) -> Succession:
        """Signed by ``old`` (the key a contact holds), naming it; the new card
        self-signed; the acceptance signed by the new card's key, naming both keys
        and the same time. Not checked here: the new card's validity and profile
        (the importer's policy, store/contacts.py)."""
        p = signed.read(data, SUCCESSION, old)
        old_key = p.bstr("old_key", 32)
        if old_key != old.sign_public:
            raise FormatError(_("key succession: old_key is not the signing key"))
        at = p.time("at")
        new_bytes, acceptance = p.raw("new_card"), p.raw("acceptance")
        if not isinstance(new_bytes, bytes) or not isinstance(acceptance, bytes):
            raise FormatError(_("key succession: new_card and acceptance must be byte strings"))
        new_card = Card.verify(new_bytes)
        if new_card.sign_public == old_key:
            raise FormatError(_("key succession: the new key is the old key"))
        if read_acceptance(acceptance, new_card) != (old_key, new_card.sign_public, at):
            raise FormatError(_("key succession: the acceptance names other keys or another time"))
        return cls(old_key, new_card, at, data)


def read_acceptance(data: bytes, new: signed.Signer) -> tuple[bytes, bytes, int]:
    """(old_key, new_key, at) of an acceptance signed by ``new``."""
    a = signed.read(data, ACCEPTANCE, new)
    return a.bstr("old_key", 32), a.bstr("new_key", 32), a.time("at")


@dataclass(frozen=True, slots=True)
class KeyRevocation(signed.Signed):
    """``key`` is revoked as of ``as_of`` (None: from the time it is imported)."""

    key: bytes
    reason: Reason
    made: int
    as_of: int | None
    encoded: bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key).hex()

    def effective(self, imported: int) -> int:
        """The revocation time T: the stated one, else the time it was imported."""
        return self.as_of if self.as_of is not None else imported

    @classmethod
    def sign(cls, secret: KeyHolder, reason: Reason, made: int, as_of: int | None) -> KeyRevocation:
        payload: dict[str, Any] = {
            "v": signed.VERSION,
            "key": secret.sign_public,
            "reason": reason.value,
            "made": made,
        }
        if as_of is not None:
            payload["as_of"] = as_of
        return cls.verify(signed.sign(secret, REVOCATION, payload), signed.Key(secret.sign_public))

    @classmethod
    def verify(cls, data: bytes, key: signed.Signer) -> KeyRevocation:
        p = signed.read(data, REVOCATION, key)
        revoked = p.bstr("key", 32)
        if revoked != key.sign_public:
            raise FormatError(_("key revocation: key is not the signing key"))
        return cls(
            revoked,
            p.enum("reason", Reason),
            p.time("made"),
            p.time("as_of") if "as_of" in p else None,
            data,
        )


def kind_of(data: bytes) -> tuple[str, str]:
    """(object type, claimed signer's fingerprint) of a signed statement, NOT
    verified: to find the key to verify it with (core.signed.peek)."""
    return signed.peek(data, N_("key statement"))
