"""X25519 identities (secret keys) and recipients (public keys) in age encoding.

``AGE-SECRET-KEY-1...`` (upper-case bech32) and ``age1...`` (lower-case bech32),
each carrying 32 raw bytes. Values are frozen and validated on construction; the
identity never shows its secret in ``repr``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import nacl.utils
from nacl.bindings import crypto_scalarmult_base

from securemsg.core.frozen import Frozen, _set
from securemsg.core.x25519_point import is_low_order
from securemsg.errors import KeyFormatError
from securemsg.i18n import _

from .hazmat import bech32

IDENTITY_HRP = "AGE-SECRET-KEY-"
RECIPIENT_HRP = "age"
KEY_SIZE = 32

_is_low_order = is_low_order


class X25519Recipient(Frozen):
    """An age X25519 public key; points of small order are refused."""

    __slots__ = ("public_key",)
    public_key: bytes

    def __init__(self, public_key: bytes) -> None:
        _set(self, "public_key", public_key)
        self.__post_init__()

    def __post_init__(self) -> None:
        if not isinstance(self.public_key, bytes) or len(self.public_key) != KEY_SIZE:
            raise KeyFormatError(_("an X25519 recipient is 32 bytes"))
        if _is_low_order(self.public_key):
            raise KeyFormatError(_("the X25519 recipient is a point of small order"))

    @classmethod
    def parse(cls, text: str) -> X25519Recipient:
        try:
            hrp, data = bech32.decode(text)
        except bech32.Bech32Error as exc:
            raise KeyFormatError(_("malformed age recipient: {exc}").format(exc=exc)) from exc
        if hrp != RECIPIENT_HRP:
            raise KeyFormatError(_("not an age X25519 recipient (expected 'age1...')"))
        return cls(data)

    @classmethod
    def from_bytes(cls, data: bytes) -> X25519Recipient:
        return cls(bytes(data))

    def __bytes__(self) -> bytes:
        return self.public_key

    def __str__(self) -> str:
        return bech32.encode(RECIPIENT_HRP, self.public_key)


class ShareOpener(Protocol):
    """Something that opens X25519 stanzas without showing its secret key (the
    securemsg agent's client): given a stanza's ephemeral share and body, the
    file key, or None if the stanza is not for this key. Raises HeaderError for
    a share of small order."""

    def open_share(self, share: bytes, body: bytes) -> bytes | None: ...


class X25519Identity(Frozen):
    """An age X25519 secret key. ``repr`` is redacted; ``str`` is the secret encoding."""

    __slots__ = ("secret_key",)
    _hidden = frozenset({"secret_key"})
    secret_key: bytes

    def __init__(self, secret_key: bytes) -> None:
        _set(self, "secret_key", secret_key)
        self.__post_init__()

    def __post_init__(self) -> None:
        if not isinstance(self.secret_key, bytes) or len(self.secret_key) != KEY_SIZE:
            raise KeyFormatError(_("an X25519 identity is 32 bytes"))

    @classmethod
    def generate(cls, rng: Callable[[int], bytes] = nacl.utils.random) -> X25519Identity:
        return cls(bytes(rng(KEY_SIZE)))

    @classmethod
    def parse(cls, text: str) -> X25519Identity:
        try:
            hrp, data = bech32.decode(text)
        except bech32.Bech32Error as exc:
            # Never echo the input: it may be (most of) a secret key.
            raise KeyFormatError(_("malformed age identity: {exc}").format(exc=exc)) from None
        if hrp != IDENTITY_HRP:
            raise KeyFormatError(_("not an age X25519 identity (expected 'AGE-SECRET-KEY-1...')"))
        return cls(data)

    @classmethod
    def from_bytes(cls, data: bytes) -> X25519Identity:
        return cls(bytes(data))

    @property
    def recipient(self) -> X25519Recipient:
        return X25519Recipient(crypto_scalarmult_base(self.secret_key))

    def __bytes__(self) -> bytes:
        return self.secret_key

    def __str__(self) -> str:
        return bech32.encode(IDENTITY_HRP, self.secret_key).upper()

    def __repr__(self) -> str:
        return "X25519Identity(<REDACTED>)"


# Bounds mirrored from hazmat/scrypt.py (not imported: that module imports nothing
# from here, and keys stay importable on their own).
_SCRYPT_MAX_WORK_FACTOR = 22


def _check_passphrase(passphrase: bytes) -> None:
    if not isinstance(passphrase, bytes) or not passphrase:
        raise KeyFormatError(_("a passphrase is a non-empty byte string (UTF-8)"))


class ScryptRecipient(Frozen):
    """A passphrase to encrypt to (age ``scrypt`` recipient), with the work factor
    log2(N) to use. It must be the file's only recipient. ``repr`` is redacted."""

    __slots__ = ("passphrase", "work_factor")
    _hidden = frozenset({"passphrase"})
    passphrase: bytes
    work_factor: int

    def __init__(self, passphrase: bytes, work_factor: int = 18) -> None:
        _set(self, "passphrase", passphrase)
        _set(self, "work_factor", work_factor)
        self.__post_init__()

    def __post_init__(self) -> None:
        _check_passphrase(self.passphrase)
        if type(self.work_factor) is not int or not (
            1 <= self.work_factor <= _SCRYPT_MAX_WORK_FACTOR
        ):
            raise KeyFormatError(
                _("the scrypt work factor is 1..{SCRYPT_MAX_WORK_FACTOR}").format(
                    SCRYPT_MAX_WORK_FACTOR=_SCRYPT_MAX_WORK_FACTOR
                )
            )

    def __repr__(self) -> str:
        return f"ScryptRecipient(<REDACTED>, work_factor={self.work_factor})"


class ScryptIdentity(Frozen):
    """A passphrase to decrypt with (age ``scrypt`` identity); files whose work
    factor is above ``max_work_factor`` are refused. ``repr`` is redacted."""

    __slots__ = (  # noqa: RUF023 (field order)
        "passphrase",
        "max_work_factor",
    )
    _hidden = frozenset({"passphrase"})
    passphrase: bytes
    max_work_factor: int

    def __init__(self, passphrase: bytes, max_work_factor: int = _SCRYPT_MAX_WORK_FACTOR) -> None:
        _set(self, "passphrase", passphrase)
        _set(self, "max_work_factor", max_work_factor)
        self.__post_init__()

    def __post_init__(self) -> None:
        _check_passphrase(self.passphrase)
        if type(self.max_work_factor) is not int or not (
            1 <= self.max_work_factor <= _SCRYPT_MAX_WORK_FACTOR
        ):
            raise KeyFormatError(
                _("the scrypt work factor is 1..{SCRYPT_MAX_WORK_FACTOR}").format(
                    SCRYPT_MAX_WORK_FACTOR=_SCRYPT_MAX_WORK_FACTOR
                )
            )

    def __repr__(self) -> str:
        return f"ScryptIdentity(<REDACTED>, max_work_factor={self.max_work_factor})"


Recipient = X25519Recipient | ScryptRecipient
Identity = X25519Identity | ScryptIdentity
