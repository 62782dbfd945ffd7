"""One reader for every signed object of securemsg (docs/format.md §4).

A signed object is a COSE_Sign1 (:mod:`securemsg.core.cose`) over a canonical
CBOR map. Reading one is always the same sequence; the first failure is reported:

1. parse the COSE_Sign1 strictly -- FormatError;
2. the object type (the domain-separation label) is the expected one -- SignatureError;
3. the kid is the fingerprint of the expected signer -- the object's own error
   (:attr:`Kind.wrong_signer`: docs/format.md gives one per object, and the
   known-answer vectors pin it);
4. the Ed25519 signature verifies with the signer's key -- SignatureError;
5. the payload is canonical CBOR -- FormatError;
6. it is a map with text keys, ``v`` = 1, every required field and no other
   field than the object's -- FormatError.

:func:`read` runs all six and returns the payload as :class:`Fields`, the one
strict reader of payload values: each typed getter raises one FormatError
naming the object and the field. :func:`sign` is the one writer.

Every signed object class has the same shape: ``X.sign(secret, ...)`` makes one,
``X.verify(data, signer)`` reads one, ``bytes(x)`` gives back its exact signed
bytes (the :class:`Signed` base). Two read in another order, on purpose: a card
is self-signed, so its signer is the key its own payload names (it runs 1, 2,
5, 6, then 3, 4 on :class:`Unverified`); a consent object first checks that the
signer's card is a patient's (docs/format-consent.md §7.1).

Step 3 has no single error class because docs/format.md (normative) and the
vectors in tests/vectors name the class per object: FormatError for a card
and a letter manifest, VerificationError for a binding, receipt, refusal
notice and log entry, ConsentRefused ``signer_not_patient`` for consent. Each
object declares it once, in its :class:`Kind`; this module raises it.

On the import path of ``securemsg whoami`` (through core.card): no dataclasses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any, Final, Protocol, TypeVar

import nacl.signing

from securemsg.core import cbor, cose
from securemsg.core.fingerprint import FINGERPRINT_BYTES, fingerprint
from securemsg.core.frozen import Frozen, _set
from securemsg.core.identity import KeyHolder
from securemsg.errors import FormatError, SecureMsgError, VerificationError
from securemsg.i18n import N_, _

VERSION: Final = 1
MAX_TIME: Final = 2**40  # docs/format.md §1: a time is 0 < t < 2^40

E = TypeVar("E", bound=Enum)


class Signer(Protocol):
    """Whoever must have signed: a card (core.card.Card), or a bare :class:`Key`."""

    @property
    def fingerprint(self) -> str: ...  # hex

    @property
    def sign_public(self) -> bytes: ...

    @property
    def name(self) -> str: ...


class Key(Frozen):
    """An Ed25519 public key as a :class:`Signer` (a card's own key, before the card exists)."""

    __slots__ = ("sign_public", "name")  # noqa: RUF023 (field order)
    sign_public: bytes
    name: str

    def __init__(self, sign_public: bytes, name: str = N_("the key holder")) -> None:
        _set(self, "sign_public", sign_public)
        _set(self, "name", name)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.sign_public).hex()


class Signed:
    """Base of every signed object: ``bytes(x)`` is its exact signed bytes, ``x.encoded``."""

    __slots__ = ()
    encoded: bytes

    def __bytes__(self) -> bytes:
        return self.encoded


WrongSigner = Callable[["Kind", bytes, Signer], SecureMsgError]
"""Builds the error for step 3 from (kind, the kid found, the expected signer)."""


def signed_by_other(kind: Kind, kid: bytes, signer: Signer) -> SecureMsgError:
    """The usual wording of step 3 (envelope binding, receipt, refusal notice)."""
    return VerificationError(
        _("{what}: signed by another key than {name}'s").format(
            what=_(kind.what), name=_(signer.name)
        )
    )


class Kind(Frozen):
    """One type of signed object: its COSE object type (labels.COSE_*), its name in
    messages, the fields of its payload besides ``v``, and its step-3 error."""

    __slots__ = ("object_type", "what", "required", "optional", "wrong_signer", "versions")  # noqa: RUF023
    object_type: str
    what: str
    required: frozenset[str]
    optional: frozenset[str]
    wrong_signer: WrongSigner
    versions: frozenset[int]  # the payload versions ``v`` a reader accepts

    def __init__(
        self,
        object_type: str,
        what: str,
        required: Iterable[str],
        optional: Iterable[str] = (),
        wrong_signer: WrongSigner = signed_by_other,
        versions: Iterable[int] = (VERSION,),
    ) -> None:
        _set(self, "object_type", object_type)
        _set(self, "versions", frozenset(versions))
        _set(self, "what", what)
        _set(self, "required", frozenset(required))
        _set(self, "optional", frozenset(optional))
        _set(self, "wrong_signer", wrong_signer)

    def fields(self, payload: Any) -> Fields:
        """Step 6 on a decoded payload (also used by writers that read back what they sign)."""
        return Fields(
            payload, self.what, self.required, self.optional, versioned=True, versions=self.versions
        )


def sign(secret: KeyHolder, kind: Kind, payload: dict[str, Any]) -> bytes:
    """The COSE_Sign1 of ``payload`` by ``secret``, kid = its fingerprint."""
    kid = fingerprint(secret.sign_public)
    return cose.sign(secret.sign_detached, kind.object_type, kid, cbor.dumps(payload))


def read(data: bytes, kind: Kind, signer: Signer) -> Fields:
    """Steps 1 to 6: the verified payload of a ``kind`` object signed by ``signer``."""
    obj = Unverified(data, kind)
    obj.check(signer)
    return obj.payload()


def peek(data: bytes, what: str) -> tuple[str, str]:
    """(object type, signer fingerprint in hex) of a signed object, NOT verified:
    only to find the card to verify it with (step 1 and a well-formed kid)."""
    obj = cose.parse(data, what)
    return obj.object_type, signer_fp(obj, what)


def signer_fp(obj: cose.Sign1, what: str) -> str:
    """The claimed signer of a parsed object (its kid) in hex, not verified."""
    if len(obj.kid) != FINGERPRINT_BYTES:
        raise FormatError(_("{what}: the key id is not a fingerprint").format(what=_(what)))
    return obj.kid.hex()


class Unverified:
    """Steps 1 and 2 done (a COSE_Sign1 of the expected type); signer and signature
    not checked yet. For the readers that need the steps apart (card, consent)."""

    __slots__ = ("kind", "sign1")

    def __init__(self, data: bytes, kind: Kind) -> None:
        self.kind = kind
        self.sign1 = cose.parse(data, kind.what)
        cose.check_type(self.sign1, kind.object_type, kind.what)

    @property
    def signer_fp(self) -> str:
        """The claimed signer (the kid), not verified."""
        return signer_fp(self.sign1, self.kind.what)

    def check_signer(self, signer: Signer) -> None:
        """Step 3."""
        if self.sign1.kid != bytes.fromhex(signer.fingerprint):
            raise self.kind.wrong_signer(self.kind, self.sign1.kid, signer)

    def check_signature(self, signer: Signer) -> None:
        """Step 4."""
        try:
            key = nacl.signing.VerifyKey(signer.sign_public)
        except Exception as exc:  # PyNaCl raises several types on a bad key
            raise FormatError(
                _("{what}: invalid signing key").format(what=_(self.kind.what))
            ) from exc
        cose.verify(self.sign1, self.kind.object_type, key, self.kind.what)

    def check(self, signer: Signer) -> None:
        """Steps 3 and 4."""
        self.check_signer(signer)
        self.check_signature(signer)

    def payload(self) -> Fields:
        """Steps 5 and 6 (on a card, before 3 and 4: see the module's docstring)."""
        what = self.kind.what
        return self.kind.fields(
            cbor.loads(self.sign1.payload, _("{what} payload").format(what=_(what)))
        )


class Fields:
    """A CBOR map read strictly: a closed set of text keys, typed getters.

    Every check raises :class:`FormatError` with ``what`` (the object, and the
    nested map if any) and the field's name. Getters take the key and, for the
    message, an optional ``name`` (default: the key).
    """

    __slots__ = ("_map", "version", "what")

    def __init__(
        self,
        value: Any,
        what: str,
        required: Iterable[str],
        optional: Iterable[str] = (),
        *,
        versioned: bool = False,
        versions: Iterable[int] = (VERSION,),
    ) -> None:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise FormatError(_("{what}: must be a map with text keys").format(what=_(what)))
        needed = set(required)
        self.version = 0
        if versioned:
            v = value.get("v")
            accepted = sorted(versions)
            if type(v) is not int or v not in accepted:
                reads = " and ".join(str(x) for x in accepted)
                raise FormatError(
                    _("{what}: unsupported version (this software reads {reads})").format(
                        what=_(what), reads=reads
                    )
                )
            self.version = v
            needed.add("v")
        unknown = set(value) - needed - set(optional)
        if unknown:
            raise FormatError(
                _("{what}: unknown field(s) {join}").format(
                    what=_(what), join=", ".join(sorted(unknown))[:80]
                )
            )
        missing = needed - set(value)
        if missing:
            raise FormatError(
                _("{what}: missing field(s) {join}").format(
                    what=_(what), join=", ".join(sorted(missing))
                )
            )
        self._map: dict[str, Any] = value
        self.what = what

    def __contains__(self, key: str) -> bool:
        return key in self._map

    def raw(self, key: str) -> Any:
        """The value as decoded, unchecked (for a caller that checks it itself)."""
        return self._map[key]

    def error(self, key: str, rule: str, name: str | None = None) -> FormatError:
        return FormatError(
            _("{what}: {field} {rule}").format(
                what=_(self.what), field=_(name) if name else key, rule=rule
            )
        )

    def bstr(self, key: str, size: int, name: str | None = None) -> bytes:
        value = self._map[key]
        if not isinstance(value, bytes) or len(value) != size:
            raise self.error(key, _("must be {size} bytes").format(size=size), name)
        return value

    def fp(self, key: str, name: str | None = None) -> str:
        """A fingerprint (20 bytes), as hex."""
        value = self._map[key]
        if not isinstance(value, bytes) or len(value) != FINGERPRINT_BYTES:
            rule = _("must be a {size}-byte fingerprint").format(size=FINGERPRINT_BYTES)
            raise self.error(key, rule, name)
        return value.hex()

    def tstr(self, key: str, max_len: int | None = None, name: str | None = None) -> str:
        value = self._map[key]
        if not isinstance(value, str) or (max_len is not None and len(value) > max_len):
            rule = (
                _("must be text")
                if max_len is None
                else _("must be text of at most {max_len} characters").format(max_len=max_len)
            )
            raise self.error(key, rule, name)
        return value

    def integer(
        self, key: str, lo: int | None = None, hi: int | None = None, name: str | None = None
    ) -> int:
        """An integer (not a boolean), ``lo <= value < hi`` when given."""
        value = self._map[key]
        if (
            type(value) is not int
            or not (lo is None or lo <= value)
            or not (hi is None or value < hi)
        ):
            if lo is None and hi is None:
                rule = _("must be an integer")
            elif hi is None:
                rule = _("must be an integer at least {lo}").format(lo=lo)
            elif lo is None:
                rule = _("must be an integer below {hi}").format(hi=hi)
            else:
                rule = _("must be an integer at least {lo} and below {hi}").format(lo=lo, hi=hi)
            raise self.error(key, rule, name)
        return value

    def time(self, key: str, name: str | None = None) -> int:
        """A time (docs/format.md §1): seconds since 1970, 0 < t < 2^40."""
        value = self._map[key]
        if type(value) is not int or not 0 < value < MAX_TIME:
            rule = _("must be a time (a positive integer, seconds since 1970)")
            raise self.error(key, rule, name)
        return value

    def enum(self, key: str, cls: type[E], name: str | None = None) -> E:
        """A member of ``cls`` by its value, of exactly the type of the members'
        values (an enum of integers does not take ``true`` for 1)."""
        value = self._map[key]
        try:
            if {type(m.value) for m in cls} != {type(value)}:
                raise TypeError
            return cls(value)
        except (ValueError, TypeError) as exc:
            raise FormatError(
                _("{what}: unknown {value} {value2!r}").format(
                    what=_(self.what), value=_(name) if name else key, value2=str(value)[:40]
                )
            ) from exc

    def array(self, key: str, lo: int, hi: int, name: str | None = None) -> list[Any]:
        """A list of ``lo`` to ``hi`` items (``name`` says of what, for the message)."""
        value = self._map[key]
        if not isinstance(value, list) or not lo <= len(value) <= hi:
            raise FormatError(
                _("{what}: {lo} to {hi} {value} expected").format(
                    what=_(self.what), lo=lo, hi=hi, value=_(name) if name else key
                )
            )
        return value

    def map(
        self,
        key: str,
        required: Iterable[str],
        optional: Iterable[str] = (),
        name: str | None = None,
    ) -> Fields:
        """A nested map with its own closed set of fields (no version)."""
        label = _("{what} {field}").format(what=_(self.what), field=_(name) if name else key)
        return Fields(self._map[key], label, required, optional)
