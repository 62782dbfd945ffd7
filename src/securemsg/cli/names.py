"""French names of the roles, letter kinds (purposes) and care domains: accepted
on input in any language, shown in French when the language is French. The codes
(``gp``, ``referral``, ``nursing``) stay what the formats and JSON carry.

A name typed is matched without case, accents, ``·``/``-``/``_`` differences:
``"médecin traitant"``, ``"medecin-traitant"``, ``infirmière``, ``infirmier``
all give their code (docs/cli.md, "Language").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from securemsg import i18n
from securemsg.core.localnames import DOMAINS, KINDS, ROLES
from securemsg.core.localnames import domain as domain  # re-exported: names.domain(code)
from securemsg.core.localnames import kind as kind  # re-exported: names.kind(code)
from securemsg.core.localnames import role as role  # re-exported: names.role(code)

# other names people type for the same thing (already folded: see _fold)
ALIASES = {
    "infirmier": "nurse",
    "infirmiere": "nurse",
    "kine": "physiotherapist",
    "medecin conseil": "medical-adviser",
    "patient": "patient",
    "patiente": "patient",
    "medecin generaliste": "gp",
    "generaliste": "gp",
    "urgences": "emergency",
    "soins": "nursing",
    "medicale": "medical",
    "administrative": "administrative",
}


def _fold(text: str) -> str:
    """Lower case, no accents, ``·``, ``-`` and ``_`` as spaces, spaces single."""
    plain = unicodedata.normalize("NFKD", text.strip().lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    for mark in ("·", "•", ".", "-", "_"):
        plain = plain.replace(mark, " ")
    return " ".join(plain.split())


def _code(table: dict[str, str], value: str) -> str:
    """The code of ``value``: itself when a code, else the code its French name
    (or an alias) stands for; unchanged when unknown (the caller's parse refuses it)."""
    if value in table:
        return value
    folded = _fold(value)
    for code, name in table.items():
        if folded in (_fold(name), _fold(code)):
            return code
    alias = ALIASES.get(folded)
    return alias if alias in table else value


def role_code(value: str) -> str:
    return _code(ROLES, value)


def kind_code(value: str) -> str:
    return _code(KINDS, value)


def domain_code(value: str) -> str:
    return _code(DOMAINS, value)


# the legal basis of a letter (a code in JSON), shown in the language
BASES = {"consent": i18n.N_("consent"), "emergency": i18n.N_("emergency"),
         "pseudonymous": i18n.N_("pseudonymous")}  # fmt: skip


def basis(code: str) -> str:
    return i18n._(BASES[code]) if code in BASES else code


def domains(codes: object) -> str:
    """Care domains, sorted by code, shown in the language, comma-separated."""
    return ", ".join(domain(str(getattr(c, "value", c))) for c in sorted(codes))  # type: ignore[call-overload]


def callback(convert: Callable[[str], str]) -> Callable[..., object]:
    """A click callback turning a typed name (or several) into codes."""

    def cb(_ctx: object, _param: object, value: object) -> object:
        if value is None:
            return None
        if isinstance(value, tuple):
            return tuple(convert(v) for v in value)
        return convert(str(value))

    return cb


# why a key was revoked (core.keychange.Reason: a code in the formats and JSON)
REASONS = {"compromised": i18n.N_("compromised"), "superseded": i18n.N_("superseded"),
           "retired": i18n.N_("retired")}  # fmt: skip


def reason(code: str) -> str:
    return i18n._(REASONS[code]) if code in REASONS else code
