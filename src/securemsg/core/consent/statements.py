"""The patient's statements about consent: a revocation withdraws one grant (R1),
an objection refuses that a practitioner or a role be informed (R3, R8).

COSE_Sign1 objects (labels.COSE_CONSENT_REVOCATION, labels.COSE_CONSENT_OBJECTION)
signed with the patient's own key, read like a grant (docs/format-consent.md §4, §5).
"""

from __future__ import annotations

from securemsg.core import signed
from securemsg.core.card import Card
from securemsg.core.consent.common import (
    GRANT_ID_BYTES,
    KIND_GRANT,
    KIND_OBJECTION,
    KIND_REVOCATION,
    OBJECTION,
    OBJECTION_BY_RPPS,
    REVOCATION,
    Recipient,
    check_patient_signer,
    peek,
    read_signed,
    refuse_malformed,
)
from securemsg.core.consent.grant import Grant
from securemsg.core.frozen import Frozen, _set
from securemsg.core.identity import KeyHolder, Role
from securemsg.errors import ConsentRefused, FormatError, InvalidValue
from securemsg.i18n import N_, _


# -- revocation -------------------------------------------------------------------
class Revocation(signed.Signed, Frozen):
    """The patient withdraws one grant, by id, from ``date`` on."""

    __slots__ = (  # noqa: RUF023 (field order)
        "patient_fp",
        "grant_id",
        "date",
        "encoded",
    )
    _hidden = frozenset({"encoded"})
    patient_fp: str
    grant_id: bytes
    date: int
    encoded: bytes

    def __init__(self, patient_fp: str, grant_id: bytes, date: int, encoded: bytes) -> None:
        _set(self, "patient_fp", patient_fp)
        _set(self, "grant_id", grant_id)
        _set(self, "date", date)
        _set(self, "encoded", encoded)

    kind = KIND_REVOCATION

    @classmethod
    def sign(cls, secret: KeyHolder, patient_card: Card, grant: Grant, now: int) -> Revocation:
        check_patient_signer(secret, patient_card)
        if grant.patient_fp != patient_card.fingerprint:
            raise ConsentRefused(
                _("this grant was signed by another patient; only they can revoke it"),
                rule="signer_not_patient",
                party=grant.patient_fp,
            )
        payload = {
            "v": signed.VERSION,
            "patient": bytes.fromhex(patient_card.fingerprint),
            "grant": grant.id,
            "date": now,
        }
        return cls.verify(signed.sign(secret, REVOCATION, payload), patient_card)

    @classmethod
    def verify(cls, data: bytes, patient_card: Card) -> Revocation:
        p = read_signed(data, patient_card, REVOCATION)
        try:
            patient_fp = p.fp("patient")
            gid = p.bstr("grant", GRANT_ID_BYTES, N_("grant (a grant id)"))
            date = p.time("date")
        except FormatError as exc:
            raise refuse_malformed(exc) from exc
        if patient_fp != patient_card.fingerprint:
            raise ConsentRefused(
                _("{what}: names another patient than its signer").format(what=_(REVOCATION.what)),
                rule="signer_not_patient",
                party=patient_card.fingerprint,
            )
        return cls(patient_fp, gid, date, data)


# -- objection -------------------------------------------------------------------
class Objection(signed.Signed, Frozen):
    """The patient refuses to have ``target`` informed (R3, R8), from ``date`` on."""

    __slots__ = (  # noqa: RUF023 (field order)
        "patient_fp",
        "target",
        "date",
        "encoded",
    )
    _hidden = frozenset({"encoded"})
    patient_fp: str
    target: Recipient
    date: int
    encoded: bytes

    def __init__(self, patient_fp: str, target: Recipient, date: int, encoded: bytes) -> None:
        _set(self, "patient_fp", patient_fp)
        _set(self, "target", target)
        _set(self, "date", date)
        _set(self, "encoded", encoded)

    kind = KIND_OBJECTION

    def applies_to(self, fp: str, role: Role, rpps: str | None = None) -> bool:
        """``rpps``: the RPPS number on the card the checker holds for ``fp``."""
        return self.target.matches(fp, role, rpps)

    @classmethod
    def sign(cls, secret: KeyHolder, patient_card: Card, target: Recipient, now: int) -> Objection:
        check_patient_signer(secret, patient_card)
        if target.fp == patient_card.fingerprint:
            raise InvalidValue(_("a patient cannot object to themselves"))
        payload = {
            "v": OBJECTION_BY_RPPS if target.rpps is not None else signed.VERSION,
            "patient": bytes.fromhex(patient_card.fingerprint),
            "to": target.to_cbor(),
            "date": now,
        }
        return cls.verify(signed.sign(secret, OBJECTION, payload), patient_card)

    @classmethod
    def verify(cls, data: bytes, patient_card: Card) -> Objection:
        what = OBJECTION.what
        p = read_signed(data, patient_card, OBJECTION)
        try:
            patient_fp = p.fp("patient")
            by_rpps = p.raw("v") == OBJECTION_BY_RPPS
            target = Recipient.from_cbor(p.raw("to"), what, rpps_allowed=by_rpps)
            if by_rpps and target.rpps is None:
                raise FormatError(
                    _("{what}: version 2 names its target by RPPS number").format(what=_(what))
                )
            date = p.time("date")
        except (FormatError, InvalidValue) as exc:
            raise refuse_malformed(exc) from exc
        if patient_fp != patient_card.fingerprint:
            raise ConsentRefused(
                _("{what}: names another patient than its signer").format(what=_(what)),
                rule="signer_not_patient",
                party=patient_card.fingerprint,
            )
        return cls(patient_fp, target, date, data)


ConsentObject = Grant | Revocation | Objection


def verify_any(data: bytes, patient_card: Card) -> ConsentObject:
    """Verify whichever of the three objects ``data`` is."""
    kind, _data = peek(data)
    if kind == KIND_GRANT:
        return Grant.verify(data, patient_card)
    if kind == KIND_REVOCATION:
        return Revocation.verify(data, patient_card)
    return Objection.verify(data, patient_card)
