"""Care domains, letter purposes, and which roles may receive which domains (R2).

A letter section carries one care domain. By default a recipient receives only
the domains of its own intervention (the table below, docs/format-consent.md
§Domains); a consent grant can narrow this further, never widen it. The patient
receives everything about themselves (R4).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from securemsg.core.identity import Role
from securemsg.core.names import parse_choice
from securemsg.i18n import N_


class Domain(enum.StrEnum):
    MEDICAL = "medical"
    NURSING = "nursing"
    PHYSIOTHERAPY = "physiotherapy"
    INSURANCE = "insurance"
    ADMINISTRATIVE = "administrative"

    @classmethod
    def parse(cls, value: str) -> Domain:
        return parse_choice(cls, value, N_("unknown care domain {value}"))


class Purpose(enum.StrEnum):
    """Why a letter is sent. Letter kinds are the same list."""

    REFERRAL = "referral"
    REPLY = "reply"
    EMERGENCY_REPORT = "emergency-report"
    HOSPITAL_REPORT = "hospital-report"
    DOSSIER_TRANSFER = "dossier-transfer"
    TELE_EXPERTISE = "tele-expertise"
    SECOND_OPINION = "second-opinion"

    @classmethod
    def parse(cls, value: str) -> Purpose:
        return parse_choice(cls, value, N_("unknown purpose {value}"))


ALL_DOMAINS: Final = frozenset(Domain)

_D = Domain
DEFAULT_DOMAINS: Final[Mapping[Role, frozenset[Domain]]] = MappingProxyType(
    {
        # The usual GP coordinates care: every domain, including what the
        # social-security medical adviser is told (insurance).
        Role.GP: frozenset(
            {_D.MEDICAL, _D.NURSING, _D.PHYSIOTHERAPY, _D.INSURANCE, _D.ADMINISTRATIVE}
        ),
        Role.SPECIALIST: frozenset({_D.MEDICAL, _D.NURSING, _D.PHYSIOTHERAPY, _D.ADMINISTRATIVE}),
        Role.EMERGENCY: frozenset({_D.MEDICAL, _D.NURSING, _D.PHYSIOTHERAPY, _D.ADMINISTRATIVE}),
        Role.HOSPITAL: frozenset({_D.MEDICAL, _D.NURSING, _D.PHYSIOTHERAPY, _D.ADMINISTRATIVE}),
        Role.EXPERT: frozenset({_D.MEDICAL, _D.NURSING, _D.PHYSIOTHERAPY, _D.ADMINISTRATIVE}),
        Role.NURSE: frozenset({_D.NURSING, _D.ADMINISTRATIVE}),
        Role.PHYSIOTHERAPIST: frozenset({_D.PHYSIOTHERAPY, _D.ADMINISTRATIVE}),
        Role.MEDICAL_ADVISER: frozenset({_D.INSURANCE, _D.ADMINISTRATIVE}),
        Role.PATIENT: ALL_DOMAINS,
    }
)


def default_domains(role: Role) -> frozenset[Domain]:
    """The care domains a recipient of ``role`` may receive at most."""
    return DEFAULT_DOMAINS[role]


def sorted_domains(domains: frozenset[Domain]) -> list[Domain]:
    """Domains in the table's order (for display and canonical encoding)."""
    return [d for d in Domain if d in domains]
