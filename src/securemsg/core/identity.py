"""Who a user is: profile, roles, key pairs."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import nacl.bindings
import nacl.signing
import nacl.utils

from securemsg.core import names
from securemsg.core.frozen import Frozen, _set
from securemsg.errors import FormatError, InvalidValue
from securemsg.i18n import N_, _

if TYPE_CHECKING:  # the age code is imported only to open a letter
    from securemsg.core.age.keys import ShareOpener, X25519Identity

Rng = Callable[[int], bytes]


class Role(enum.StrEnum):
    GP = "gp"
    SPECIALIST = "specialist"
    EMERGENCY = "emergency"
    HOSPITAL = "hospital"
    NURSE = "nurse"
    PHYSIOTHERAPIST = "physiotherapist"
    MEDICAL_ADVISER = "medical-adviser"
    EXPERT = "expert"
    PATIENT = "patient"

    @property
    def is_patient(self) -> bool:
        return self is Role.PATIENT

    @classmethod
    def parse(cls, value: str) -> Role:
        return names.parse_choice(cls, value, N_("unknown role {value}"))


class Profile(Frozen):
    """What a card says about its holder. Constructing one validates it.

    A frozen value (core.frozen: no dataclass on whoami's import path)."""

    __slots__ = ("name", "role", "rpps", "specialty", "ins", "birth_date", "email")  # noqa: RUF023 (field order)
    name: str
    role: Role
    rpps: str | None
    specialty: str | None
    ins: str | None
    birth_date: str | None
    email: str | None

    def __init__(
        self,
        name: str,
        role: Role,
        rpps: str | None = None,
        specialty: str | None = None,
        ins: str | None = None,
        birth_date: str | None = None,
        email: str | None = None,
    ) -> None:
        name = names.clean_name(name, N_("name"))
        patient = role.is_patient
        if patient and (rpps or specialty):
            raise InvalidValue(_("a patient has no RPPS number or specialty"))
        if not patient and (ins or birth_date):
            raise InvalidValue(_("INS and birth date are for patients only"))
        if rpps is not None:
            names.check_rpps(rpps)
        if ins is not None:
            ins = names.check_ins(ins)
        if birth_date is not None:
            birth_date = names.check_date(birth_date, N_("birth date"))
        if specialty is not None:
            specialty = names.clean_text(specialty, N_("specialty"))
        if email is not None:
            email = names.clean_text(email, N_("email"))
        _set(self, "name", name)
        _set(self, "role", role)
        _set(self, "rpps", rpps)
        _set(self, "specialty", specialty)
        _set(self, "ins", ins)
        _set(self, "birth_date", birth_date)
        _set(self, "email", email)

    def identifiers(self) -> tuple[tuple[str, str], ...]:
        """A patient's identity as a letter names it: (field, value) for the
        name, INS and birth date, those the card has, in this order."""
        fields = (("name", self.name), ("ins", self.ins), ("birth_date", self.birth_date))
        return tuple((k, v) for k, v in fields if v)

    def to_cbor(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "role": self.role.value}
        for attr in ("rpps", "specialty", "ins", "birth_date", "email"):
            value = getattr(self, attr)
            if value is not None:
                out[attr] = value
        return out

    @classmethod
    def from_cbor(cls, data: Any) -> Profile:
        if not isinstance(data, dict):
            raise FormatError(_("profile must be a map"))
        allowed = {"name", "role", "rpps", "specialty", "ins", "birth_date", "email"}
        if not set(data) <= allowed or not all(isinstance(v, str) for v in data.values()):
            raise FormatError(_("profile has unknown fields or non-text values"))
        if "name" not in data or "role" not in data:
            raise FormatError(_("profile lacks name or role"))
        try:
            return cls(
                name=data["name"],
                role=Role.parse(data["role"]),
                rpps=data.get("rpps"),
                specialty=data.get("specialty"),
                ins=data.get("ins"),
                birth_date=data.get("birth_date"),
                email=data.get("email"),
            )
        except InvalidValue as exc:
            raise FormatError(
                _("profile: {message}").format(message=exc.message),
                hint=_("securemsg refuses this profile: do not use the card, ask for a new one"),
            ) from exc


SECRET_MAGIC = b"securemsg-secret-v1\x00"


class KeyHolder(Protocol):
    """What the code that signs and opens letters needs of my private keys: the
    operations, never the keys. :class:`SecretIdentity` is one (keys in this
    process); the agent's client (store/agent/client.py) is the other (keys in
    the agent, docs/format-agent.md)."""

    @property
    def sign_public(self) -> bytes: ...

    @property
    def enc_public(self) -> bytes: ...

    def sign_detached(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message`` (a COSE Sig_structure)."""
        ...

    def share_opener(self) -> X25519Identity | ShareOpener:
        """What opens the X25519 stanzas of a letter addressed to me."""
        ...


class SecretIdentity(Frozen):
    """A user's two private keys. Never printed: ``repr`` is redacted."""

    __slots__ = ("sign_seed", "enc_secret")  # noqa: RUF023 (field order)
    _hidden = frozenset(__slots__)
    sign_seed: bytes
    enc_secret: bytes

    def __init__(self, sign_seed: bytes, enc_secret: bytes) -> None:
        if len(sign_seed) != 32 or len(enc_secret) != 32:
            raise FormatError(_("private keys must be 32 bytes each"))
        _set(self, "sign_seed", sign_seed)
        _set(self, "enc_secret", enc_secret)

    def __repr__(self) -> str:
        return "SecretIdentity(<redacted>)"

    __str__ = __repr__

    @classmethod
    def generate(cls, rng: Rng = nacl.utils.random) -> SecretIdentity:
        return cls(rng(32), rng(32))

    @property
    def signing_key(self) -> nacl.signing.SigningKey:
        return nacl.signing.SigningKey(self.sign_seed)

    def sign_detached(self, message: bytes) -> bytes:
        return bytes(self.signing_key.sign(message).signature)

    def share_opener(self) -> X25519Identity:
        from securemsg.core.age.keys import X25519Identity  # here: only to open a letter

        return X25519Identity.from_bytes(self.enc_secret)

    @property
    def sign_public(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    @property
    def enc_public(self) -> bytes:
        return bytes(nacl.bindings.crypto_scalarmult_base(self.enc_secret))

    def to_bytes(self) -> bytes:
        """The key-store blob. Only ever handed to the key store."""
        return SECRET_MAGIC + self.sign_seed + self.enc_secret

    @classmethod
    def from_bytes(cls, blob: bytes) -> SecretIdentity:
        if len(blob) != len(SECRET_MAGIC) + 64 or not blob.startswith(SECRET_MAGIC):
            raise FormatError(_("the key store holds something that is not a securemsg identity"))
        body = blob[len(SECRET_MAGIC) :]
        return cls(body[:32], body[32:])


HISTORY_MAGIC = b"securemsg-secrets-v2\x00"
MAX_KEYS = 32


class SecretHistory(Frozen):
    """All my key pairs: the current one, then the ones it succeeded, newest
    first (docs/format-keys.md, "Key store blob"). The old ones open old letters
    and doubles; the oldest derives the home's storage keys (they never change).
    Never printed: ``repr`` is redacted."""

    __slots__ = ("keys",)
    _hidden = frozenset(__slots__)
    keys: tuple[SecretIdentity, ...]

    def __init__(self, keys: tuple[SecretIdentity, ...]) -> None:
        if not 1 <= len(keys) <= MAX_KEYS:
            raise FormatError(
                _("a key history holds 1 to {MAX_KEYS} key pairs").format(MAX_KEYS=MAX_KEYS)
            )
        _set(self, "keys", keys)

    def __repr__(self) -> str:
        return "SecretHistory(<redacted>)"

    __str__ = __repr__

    @property
    def current(self) -> SecretIdentity:
        return self.keys[0]

    @property
    def previous(self) -> tuple[SecretIdentity, ...]:
        return self.keys[1:]

    @property
    def storage_root(self) -> SecretIdentity:
        """The first key pair of the home: its storage keys derive from it."""
        return self.keys[-1]

    def succeeded_by(self, new: SecretIdentity) -> SecretHistory:
        return SecretHistory((new, *self.keys))

    def to_bytes(self) -> bytes:
        """The key-store blob: the v1 form for a single key pair (unchanged
        homes), v2 once a key was rotated."""
        if len(self.keys) == 1:
            return self.current.to_bytes()
        body = b"".join(k.sign_seed + k.enc_secret for k in self.keys)
        return HISTORY_MAGIC + bytes([len(self.keys)]) + body

    @classmethod
    def from_bytes(cls, blob: bytes) -> SecretHistory:
        if not blob.startswith(HISTORY_MAGIC):
            return cls((SecretIdentity.from_bytes(blob),))
        body = blob[len(HISTORY_MAGIC) :]
        if not body or len(body) != 1 + 64 * body[0] or not 2 <= body[0] <= MAX_KEYS:
            raise FormatError(_("the key store holds a damaged securemsg key history"))
        pairs = body[1:]
        return cls(
            tuple(
                SecretIdentity(pairs[i : i + 32], pairs[i + 32 : i + 64])
                for i in range(0, len(pairs), 64)
            )
        )
