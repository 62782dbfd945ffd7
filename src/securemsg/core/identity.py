"""Who a user is: profile, roles, key pairs."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import nacl.bindings
import nacl.signing
import nacl.utils

from securemsg.core import names
from securemsg.errors import FormatError, UsageError

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
        try:
            return cls(value.strip().lower())
        except ValueError as exc:
            choices = ", ".join(r.value for r in cls)
            raise UsageError(f"unknown role {value!r}", hint=f"choose one of: {choices}") from exc


@dataclass(frozen=True, slots=True)
class Profile:
    """What a card says about its holder. Constructing one validates it."""

    name: str
    role: Role
    rpps: str | None = None
    specialty: str | None = None
    ins: str | None = None
    birth_date: str | None = None
    email: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", names.clean_text(self.name, "name"))
        patient = self.role.is_patient
        if patient and (self.rpps or self.specialty):
            raise UsageError("a patient has no RPPS number or specialty")
        if not patient and (self.ins or self.birth_date):
            raise UsageError("INS and birth date are for patients only")
        if self.rpps is not None:
            names.check_rpps(self.rpps)
        if self.ins is not None:
            object.__setattr__(self, "ins", names.check_ins(self.ins))
        if self.birth_date is not None:
            object.__setattr__(self, "birth_date", names.check_date(self.birth_date, "birth date"))
        for attr in ("specialty", "email"):
            value = getattr(self, attr)
            if value is not None:
                object.__setattr__(self, attr, names.clean_text(value, attr))

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
            raise FormatError("profile must be a map")
        allowed = {"name", "role", "rpps", "specialty", "ins", "birth_date", "email"}
        if not set(data) <= allowed or not all(isinstance(v, str) for v in data.values()):
            raise FormatError("profile has unknown fields or non-text values")
        if "name" not in data or "role" not in data:
            raise FormatError("profile lacks name or role")
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
        except UsageError as exc:
            raise FormatError(f"profile: {exc.message}") from exc


SECRET_MAGIC = b"securemsg-secret-v1\x00"


@dataclass(frozen=True, slots=True)
class SecretIdentity:
    """A user's two private keys. Never printed: ``repr`` is redacted."""

    sign_seed: bytes = field(repr=False)
    enc_secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.sign_seed) != 32 or len(self.enc_secret) != 32:
            raise FormatError("private keys must be 32 bytes each")

    def __repr__(self) -> str:
        return "SecretIdentity(<redacted>)"

    __str__ = __repr__

    @classmethod
    def generate(cls, rng: Rng = nacl.utils.random) -> SecretIdentity:
        return cls(rng(32), rng(32))

    @property
    def signing_key(self) -> nacl.signing.SigningKey:
        return nacl.signing.SigningKey(self.sign_seed)

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
            raise FormatError("the key store holds something that is not a securemsg identity")
        body = blob[len(SECRET_MAGIC) :]
        return cls(body[:32], body[32:])
