"""The French names of the roles, letter kinds (purposes) and care domains, and
the name of a code in the selected language (the code itself in English: the
codes ``gp``, ``referral``, ``nursing`` are what the formats and JSON carry).

In core so that messages worded in core (consent refusals, a grant's
explanation) name them as the command line does; cli/names.py also reads names
typed in French back into codes. French only: these are proper names of the
French healthcare system, not translations of the English codes.
"""

from __future__ import annotations

from collections.abc import Callable

from securemsg import i18n

ROLES = {
    "gp": "médecin traitant",
    "specialist": "spécialiste",
    "emergency": "urgentiste",
    "hospital": "médecin hospitalier",
    "nurse": "infirmier·e",
    "physiotherapist": "kinésithérapeute",
    "medical-adviser": "médecin-conseil",
    "expert": "expert",
    "patient": "patient·e",
}
KINDS = {
    "referral": "adressage",
    "reply": "réponse",
    "emergency-report": "compte rendu d'urgence",
    "hospital-report": "compte rendu d'hospitalisation",
    "dossier-transfer": "transfert de dossier",
    "tele-expertise": "télé-expertise",
    "second-opinion": "second avis",
}
DOMAINS = {
    "medical": "médical",
    "nursing": "soins infirmiers",
    "physiotherapy": "kinésithérapie",
    "insurance": "assurance",
    "administrative": "administratif",
}


def _shown(table: dict[str, str]) -> Callable[[str], str]:
    def shown(code: str) -> str:
        return table.get(code, code) if i18n.language() == "fr" else code

    return shown


role = _shown(ROLES)
kind = _shown(KINDS)
domain = _shown(DOMAINS)
