"""What the three consent objects share (docs/format-consent.md): limits, the
recipient of a grant or objection, the signed-object kinds, and reading one
through core.signed with its failures worded as consent refusals.

Pure. Names without a leading underscore are used by the sibling modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from securemsg.core import cose, labels, localnames, names, signed
from securemsg.core.card import Card
from securemsg.core.consent.explain import short_fp
from securemsg.core.domains import ALL_DOMAINS, Domain, sorted_domains
from securemsg.core.fingerprint import FINGERPRINT_BYTES
from securemsg.core.frozen import Frozen, _set
from securemsg.core.identity import KeyHolder, Role
from securemsg.errors import ConsentRefused, FormatError, InvalidValue, SignatureError
from securemsg.i18n import N_, _

Rng = Callable[[int], bytes]

GRANT_ID_BYTES: Final = 16
DIGEST_BYTES: Final = 32
DAY: Final = 86400
DEFAULT_VALIDITY: Final = 90 * DAY
MAX_VALIDITY: Final = 3 * 366 * DAY
MAX_RECIPIENTS: Final = 64

KIND_GRANT: Final = "grant"
KIND_REVOCATION: Final = "revocation"
KIND_OBJECTION: Final = "objection"
KINDS: Final = {
    labels.COSE_CONSENT_GRANT: KIND_GRANT,
    labels.COSE_CONSENT_REVOCATION: KIND_REVOCATION,
    labels.COSE_CONSENT_OBJECTION: KIND_OBJECTION,
}


# -- recipients ---------------------------------------------------------------
class Recipient(Frozen):
    """One practitioner by card fingerprint, or anyone holding a role; in an
    objection (version 2) also a practitioner by RPPS number, with the name the
    patient knows them by (the name is what she wrote; the RPPS is what matches,
    against the card of the practitioner each checker holds)."""

    __slots__ = (  # noqa: RUF023 (field order)
        "fp",
        "role",
        "rpps",
        "name",
    )
    fp: str | None
    role: Role | None
    rpps: str | None
    name: str | None  # with rpps only: the patient's words, for display

    def __init__(
        self,
        fp: str | None = None,
        role: Role | None = None,
        rpps: str | None = None,
        name: str | None = None,
    ) -> None:
        _set(self, "fp", fp)
        _set(self, "role", role)
        _set(self, "rpps", rpps)
        _set(self, "name", name)
        self.__post_init__()

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.fp, self.role, self.rpps)) != 1:
            raise InvalidValue(_("a recipient is either a fingerprint, a role or an RPPS number"))
        if self.fp is not None:
            check_fp_hex(self.fp, N_("recipient fingerprint"))
        if self.rpps is not None:
            names.check_rpps(self.rpps)
            if self.name is None:
                raise InvalidValue(_("an objection by RPPS number names the practitioner too"))
            object.__setattr__(self, "name", names.clean_text(self.name, N_("practitioner's name")))
        elif self.name is not None:
            raise InvalidValue(_("only a recipient by RPPS number carries a name"))
        if self.role is Role.PATIENT:
            raise InvalidValue(
                _("a consent names practitioners, not patients"),
                hint=_("the patient always receives letters about themselves"),
            )

    def matches(self, fp: str, role: Role, rpps: str | None = None) -> bool:
        if self.rpps is not None:
            return rpps is not None and rpps == self.rpps
        return fp == self.fp if self.fp is not None else role is self.role

    def to_cbor(self) -> dict[str, Any]:
        if self.fp is not None:
            return {"fp": bytes.fromhex(self.fp)}
        if self.rpps is not None:
            return {"rpps": self.rpps, "name": self.name}
        assert self.role is not None  # by construction
        return {"role": self.role.value}

    @classmethod
    def from_cbor(cls, value: Any, what: str, rpps_allowed: bool = False) -> Recipient:
        """``rpps_allowed``: an objection of version 2 (a grant names keys or roles)."""
        if rpps_allowed and isinstance(value, dict) and "rpps" in value:
            f = signed.Fields(value, what, ("rpps", "name"))
            try:
                return cls(rpps=f.tstr("rpps", 11), name=f.tstr("name", MAX_NAME))
            except InvalidValue as exc:
                raise FormatError(f"{what}: {exc}") from exc
        if not isinstance(value, dict) or len(value) != 1:
            raise FormatError(
                _("{what}: a recipient is a map with one field, fp or role").format(what=_(what))
            )
        if "fp" in value:
            return cls(fp=signed.Fields(value, what, (), ("fp",)).fp("fp"))
        if "role" in value and isinstance(value["role"], str):
            try:
                role = Role(value["role"])
            except ValueError as exc:
                raise FormatError(
                    _("{what}: unknown role {value!r}").format(
                        what=_(what), value=value["role"][:40]
                    )
                ) from exc
            if role is Role.PATIENT:
                raise FormatError(
                    _("{what}: the patient role cannot be a recipient").format(what=_(what))
                )
            return cls(role=role)
        raise FormatError(
            _("{what}: a recipient is a map with one field, fp or role").format(what=_(what))
        )

    def sort_key(self) -> tuple[int, str]:
        if self.fp is not None:
            return (0, self.fp)
        if self.rpps is not None:
            return (2, self.rpps)
        return (1, str(self.role))

    def describe(self, lookup: Callable[[str], str | None] | None = None) -> str:
        if self.rpps is not None:
            return _("{name} (RPPS {rpps})").format(name=self.name, rpps=self.rpps)
        if self.fp is None:
            return _("any {role}").format(role=localnames.role(str(self.role)))
        name = lookup(self.fp) if lookup else None
        if name:
            return _("{name} ({fingerprint})").format(name=name, fingerprint=short_fp(self.fp))
        return _("the holder of key {fingerprint}").format(fingerprint=short_fp(self.fp))


MAX_NAME = 200  # characters of a practitioner's name in an objection by RPPS


# -- shared parsing helpers ---------------------------------------------------
def check_fp_hex(fp: str, what: str) -> None:
    if len(fp) != 2 * FINGERPRINT_BYTES or any(c not in "0123456789abcdef" for c in fp):
        raise InvalidValue(
            _("{what} must be {value} lower-case hex digits").format(
                what=_(what), value=2 * FINGERPRINT_BYTES
            )
        )


def read_domains(value: Any, what: str) -> frozenset[Domain]:
    if not isinstance(value, list) or len(value) > len(ALL_DOMAINS):
        raise FormatError(_("{what}: must be a list of care domains").format(what=_(what)))
    try:
        out = [Domain(v) for v in value if isinstance(v, str)]
    except ValueError as exc:
        raise FormatError(_("{what}: unknown care domain").format(what=_(what))) from exc
    if len(out) != len(value) or out != sorted_domains(frozenset(out)):
        raise FormatError(
            _("{what}: care domains must be distinct text, in the table's order").format(
                what=_(what)
            )
        )
    return frozenset(out)


# -- the three signed objects ---------------------------------------------------
def _not_the_patient(kind: signed.Kind, kid: bytes, signer: signed.Signer) -> ConsentRefused:
    return ConsentRefused(
        _("{what}: signed by key {short_fp}, not by the patient {name} ({fingerprint})").format(
            what=_(kind.what),
            short_fp=short_fp(kid.hex()),
            name=signer.name,
            fingerprint=short_fp(signer.fingerprint),
        ),
        rule="signer_not_patient",
        party=kid.hex(),
    )


GRANT: Final = signed.Kind(
    labels.COSE_CONSENT_GRANT,
    N_("consent grant"),
    required=(
        "id", "patient", "from", "to", "purpose", "domains", "exclude", "issued_at", "not_after"
    ),
    optional=("letter", "commitment"),
    wrong_signer=_not_the_patient,
)  # fmt: skip
REVOCATION: Final = signed.Kind(
    labels.COSE_CONSENT_REVOCATION,
    N_("consent revocation"),
    required=("patient", "grant", "date"),
    wrong_signer=_not_the_patient,
)
# Objection payload version 2 (docs/format-consent.md §5): the same fields, its
# target a practitioner by RPPS number and name ({"rpps", "name"}); version 1 keeps
# the targets by fingerprint or role. A version-1 reader refuses a version-2 object.
OBJECTION_BY_RPPS: Final = 2
OBJECTION: Final = signed.Kind(
    labels.COSE_CONSENT_OBJECTION,
    N_("consent objection"),
    required=("patient", "to", "date"),
    wrong_signer=_not_the_patient,
    versions=(signed.VERSION, OBJECTION_BY_RPPS),
)


def peek(data: bytes) -> tuple[str, str]:
    """(kind, signer fingerprint hex) of a consent object, NOT verified.

    Only to find which patient card to verify it with.
    """
    what = N_("consent object")
    try:
        obj = cose.parse(data, what)
    except FormatError as exc:
        raise ConsentRefused(exc.message, rule="malformed") from exc
    kind = KINDS.get(obj.object_type)
    if kind is None:
        raise ConsentRefused(
            _("this is a {object_type}, not a consent grant, revocation or objection").format(
                object_type=cose.describe_type(obj.object_type)
            ),
            rule="bad_signature",
            hint=_("check that you passed the right file"),
        )
    try:
        return kind, signed.signer_fp(obj, what)
    except FormatError as exc:
        raise ConsentRefused(exc.message, rule="malformed") from exc


def read_signed(data: bytes, patient_card: Card, kind: signed.Kind) -> signed.Fields:
    """The steps of core.signed, worded as consent refusals (docs/format-consent.md
    §7.1): type, signer is a patient, kid = the patient, signature, payload."""
    what = kind.what
    try:
        obj = signed.Unverified(data, kind)
    except SignatureError as exc:
        raise ConsentRefused(exc.message, rule="bad_signature", hint=exc.hint) from exc
    except FormatError as exc:
        raise ConsentRefused(exc.message, rule="malformed", hint=exc.hint) from exc
    if not patient_card.profile.role.is_patient:
        raise ConsentRefused(
            _("{what}: {name} is a {role}, not a patient; only a patient signs consent").format(
                what=_(what), name=patient_card.name, role=patient_card.profile.role
            ),
            rule="signer_not_patient",
            party=patient_card.fingerprint,
        )
    obj.check_signer(patient_card)  # ConsentRefused, signer_not_patient
    try:
        obj.check_signature(patient_card)
    except SignatureError as exc:
        raise ConsentRefused(
            _("{what}: the patient's signature does not verify").format(what=_(what)),
            rule="bad_signature",
            party=patient_card.fingerprint,
            hint=exc.hint,
        ) from exc
    try:
        return obj.payload()
    except FormatError as exc:
        raise refuse_malformed(exc) from exc


def refuse_malformed(exc: FormatError | InvalidValue) -> ConsentRefused:
    return ConsentRefused(exc.message, rule="malformed", hint=exc.hint)


def require_patient(card: Card, *, mine: bool) -> None:
    """Only a patient grants, revokes or objects (``mine``: the user's own home)."""
    if card.profile.role.is_patient:
        return
    who = (
        _("you are registered as a {role} ({name})")
        if mine
        else _("this identity ({name}) is a {role}")
    ).format(role=localnames.role(str(card.profile.role)), name=card.name)
    raise ConsentRefused(
        _("only a patient can grant, revoke or object to consent; {who}").format(who=who),
        rule="not_a_patient",
        party=card.fingerprint,
        hint=(
            _("the patient does this with their own securemsg identity")
            if mine
            else _("the patient signs consent with their own securemsg identity")
        ),
    )


def check_patient_signer(secret: KeyHolder, patient_card: Card) -> None:
    require_patient(patient_card, mine=False)
    if secret.sign_public != patient_card.sign_public:
        raise InvalidValue(_("the private key does not match the patient's card"))
