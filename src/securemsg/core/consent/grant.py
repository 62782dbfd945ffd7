"""The patient's consent grant (R1): who may send what about them, to whom, until when.

A COSE_Sign1 (type labels.COSE_CONSENT_GRANT) signed with the patient's own key
over the canonical CBOR map of docs/format-consent.md §3. Verified strictly:
unknown or missing fields, wrong types, a signer other than the patient whose
card is given, or a bad signature are all refused with :class:`ConsentRefused`
(rules ``malformed``, ``signer_not_patient``, ``bad_signature``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import nacl.utils

from securemsg.core import signed
from securemsg.core.card import Card
from securemsg.core.consent.common import (
    DAY,
    DEFAULT_VALIDITY,
    DIGEST_BYTES,
    GRANT,
    GRANT_ID_BYTES,
    KIND_GRANT,
    MAX_RECIPIENTS,
    MAX_VALIDITY,
    Recipient,
    Rng,
    check_fp_hex,
    check_patient_signer,
    read_domains,
    read_signed,
    refuse_malformed,
)
from securemsg.core.consent.explain import short_fp
from securemsg.core.domains import ALL_DOMAINS, Domain, Purpose, sorted_domains
from securemsg.core.frozen import Frozen, _set
from securemsg.core.identity import KeyHolder
from securemsg.errors import ConsentRefused, FormatError, InvalidValue
from securemsg.i18n import N_, _


class Grant(signed.Signed, Frozen):
    """A verified consent grant. Obtain one with :meth:`sign` or :meth:`verify`."""

    __slots__ = (  # noqa: RUF023 (field order)
        "id",
        "patient_fp",
        "patient_name",
        "patient_ins",
        "patient_birth_date",
        "sender_fp",
        "recipients",
        "purpose",
        "domains",
        "exclude",
        "issued_at",
        "not_after",
        "letter_digest",
        "encoded",
        "commitment",
    )
    _hidden = frozenset({"encoded"})
    id: bytes
    patient_fp: str
    patient_name: str
    patient_ins: str | None
    patient_birth_date: str | None
    sender_fp: str
    recipients: tuple[Recipient, ...]
    purpose: Purpose
    domains: frozenset[Domain]
    exclude: frozenset[Domain]
    issued_at: int
    not_after: int
    letter_digest: bytes | None  # obsolete binding to a Markdown source (refused by the check)
    encoded: bytes
    commitment: bytes | None  # letter_commitment of the one prepared letter (R4)

    def __init__(
        self,
        id: bytes,
        patient_fp: str,
        patient_name: str,
        patient_ins: str | None,
        patient_birth_date: str | None,
        sender_fp: str,
        recipients: tuple[Recipient, ...],
        purpose: Purpose,
        domains: frozenset[Domain],
        exclude: frozenset[Domain],
        issued_at: int,
        not_after: int,
        letter_digest: bytes | None,
        encoded: bytes,
        commitment: bytes | None = None,
    ) -> None:
        _set(self, "id", id)
        _set(self, "patient_fp", patient_fp)
        _set(self, "patient_name", patient_name)
        _set(self, "patient_ins", patient_ins)
        _set(self, "patient_birth_date", patient_birth_date)
        _set(self, "sender_fp", sender_fp)
        _set(self, "recipients", recipients)
        _set(self, "purpose", purpose)
        _set(self, "domains", domains)
        _set(self, "exclude", exclude)
        _set(self, "issued_at", issued_at)
        _set(self, "not_after", not_after)
        _set(self, "letter_digest", letter_digest)
        _set(self, "encoded", encoded)
        _set(self, "commitment", commitment)

    kind = KIND_GRANT

    @property
    def id_hex(self) -> str:
        return self.id.hex()

    @classmethod
    def sign(
        cls,
        secret: KeyHolder,
        patient_card: Card,
        *,
        sender_fp: str,
        recipients: Iterable[Recipient],
        purpose: Purpose,
        now: int,
        domains: Iterable[Domain] | None = None,
        exclude: Iterable[Domain] = (),
        valid_for: int = DEFAULT_VALIDITY,
        letter_digest: bytes | None = None,
        commitment: bytes | None = None,
        rng: Rng = nacl.utils.random,
    ) -> Grant:
        """Sign a grant. ``domains`` None means all domains not excluded."""
        check_patient_signer(secret, patient_card)
        check_fp_hex(sender_fp, N_("sender fingerprint"))
        if sender_fp == patient_card.fingerprint:
            raise InvalidValue(_("the sender of a letter is a practitioner, not the patient"))
        excl = frozenset(exclude)
        doms = ALL_DOMAINS - excl if domains is None else frozenset(domains)
        if doms & excl:
            both = ", ".join(sorted_domains(doms & excl))
            raise InvalidValue(
                _("a domain cannot be both allowed and excluded: {both}").format(both=both)
            )
        if not doms:
            raise InvalidValue(
                _("the grant allows no care domain"), hint=_("name one with --domain")
            )
        tos = sorted(set(recipients), key=Recipient.sort_key)
        if any(r.rpps is not None for r in tos):
            raise InvalidValue(_("a grant names practitioners by key or role, not by RPPS number"))
        if not tos or len(tos) > MAX_RECIPIENTS:
            raise InvalidValue(
                _("a grant names 1 to {MAX_RECIPIENTS} recipients").format(
                    MAX_RECIPIENTS=MAX_RECIPIENTS
                )
            )
        if not 0 < valid_for <= MAX_VALIDITY:
            raise InvalidValue(
                _("a grant is valid for 1 second to {value} days").format(value=MAX_VALIDITY // DAY)
            )
        if letter_digest is not None and len(letter_digest) != DIGEST_BYTES:
            raise InvalidValue(_("a letter digest is 32 bytes"))
        if commitment is not None and len(commitment) != DIGEST_BYTES:
            raise InvalidValue(_("a letter commitment is 32 bytes"))
        profile = patient_card.profile
        patient: dict[str, Any] = {
            "fp": bytes.fromhex(patient_card.fingerprint),
            "name": profile.name,
        }
        if profile.ins is not None:
            patient["ins"] = profile.ins
        if profile.birth_date is not None:
            patient["birth_date"] = profile.birth_date
        payload: dict[str, Any] = {
            "v": signed.VERSION,
            "id": rng(GRANT_ID_BYTES),
            "patient": patient,
            "from": bytes.fromhex(sender_fp),
            "to": [r.to_cbor() for r in tos],
            "purpose": purpose.value,
            "domains": [d.value for d in sorted_domains(doms)],
            "exclude": [d.value for d in sorted_domains(excl)],
            "issued_at": now,
            "not_after": now + valid_for,
        }
        if letter_digest is not None:
            payload["letter"] = letter_digest
        if commitment is not None:
            payload["commitment"] = commitment
        return cls.verify(signed.sign(secret, GRANT, payload), patient_card)

    @classmethod
    def verify(cls, data: bytes, patient_card: Card) -> Grant:
        """Verify type, signer and signature, then the payload, strictly."""
        p = read_signed(data, patient_card, GRANT)
        try:
            return cls._from_fields(p, data, patient_card)
        except (FormatError, InvalidValue) as exc:
            raise refuse_malformed(exc) from exc

    @classmethod
    def _from_fields(cls, p: signed.Fields, data: bytes, card: Card) -> Grant:
        what = GRANT.what
        gid = p.bstr("id", GRANT_ID_BYTES)
        pat = p.map("patient", {"fp", "name"}, {"ins", "birth_date"})
        patient_fp = pat.fp("fp")
        if patient_fp != card.fingerprint:
            raise ConsentRefused(
                _(
                    "{what}: names patient key {patient_fp} but is signed by {name} ({fingerprint})"
                ).format(
                    what=_(what),
                    patient_fp=short_fp(patient_fp),
                    name=card.name,
                    fingerprint=short_fp(card.fingerprint),
                ),
                rule="signer_not_patient",
                party=card.fingerprint,
            )
        name = pat.tstr("name")
        ins = pat.tstr("ins") if "ins" in pat else None
        birth_date = pat.tstr("birth_date") if "birth_date" in pat else None
        if (name, ins, birth_date) != (
            card.profile.name,
            card.profile.ins,
            card.profile.birth_date,
        ):
            raise FormatError(
                _("{what}: patient identifiers differ from the patient's card").format(what=_(what))
            )
        sender = p.fp("from")
        to = p.array("to", 1, MAX_RECIPIENTS, "recipients")
        recipients = tuple(Recipient.from_cbor(r, _("{what} to").format(what=_(what))) for r in to)
        if list(recipients) != sorted(set(recipients), key=Recipient.sort_key):
            raise FormatError(
                _("{what}: recipients must be distinct and sorted").format(what=_(what))
            )
        purpose = p.enum("purpose", Purpose)
        domains = read_domains(p.raw("domains"), _("{what} domains").format(what=_(what)))
        exclude = read_domains(p.raw("exclude"), _("{what} exclude").format(what=_(what)))
        if not domains or domains & exclude:
            raise FormatError(
                _("{what}: domains must be non-empty and disjoint from exclude").format(
                    what=_(what)
                )
            )
        issued, not_after = p.time("issued_at"), p.time("not_after")
        if not 0 < not_after - issued <= MAX_VALIDITY:
            raise FormatError(
                _("{what}: not_after must follow issued_at by at most 3 years").format(what=_(what))
            )
        letter = p.bstr("letter", DIGEST_BYTES) if "letter" in p else None
        commitment = p.bstr("commitment", DIGEST_BYTES) if "commitment" in p else None
        if letter is not None and commitment is not None:
            raise FormatError(
                _("{what}: bound both to a letter source and to a prepared letter").format(
                    what=_(what)
                )
            )
        if sender == patient_fp:
            raise FormatError(_("{what}: the sender cannot be the patient").format(what=_(what)))
        return cls(
            id=gid,
            patient_fp=patient_fp,
            patient_name=name,
            patient_ins=ins,
            patient_birth_date=birth_date,
            sender_fp=sender,
            recipients=recipients,
            purpose=purpose,
            domains=domains,
            exclude=exclude,
            issued_at=issued,
            not_after=not_after,
            letter_digest=letter,
            encoded=data,
            commitment=commitment,
        )
