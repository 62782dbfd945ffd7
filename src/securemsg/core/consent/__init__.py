"""The patient's consent (rules R1, R3, R4, R8, R11; docs/format-consent.md).

- :mod:`.grant`: the consent grant, signed by the patient;
- :mod:`.statements`: revocations and objections, signed by the patient;
- :mod:`.check`: :func:`check_consent`, the one verification shared by sender
  and recipient, and :func:`grant_status`;
- :mod:`.explain`: the wording (times, keys, domains, what a grant allows);
- :mod:`.common`: what the three objects share (limits, recipients, reading
  them through core.signed).

The public names are re-exported here; import them from ``securemsg.core.consent``.
"""

from securemsg.core.consent.check import (
    CLOCK_SKEW,
    DELIVERY_GRACE,
    Basis,
    Decision,
    Disclosure,
    LetterFacts,
    allowed_domains,
    check_consent,
    grant_status,
)
from securemsg.core.consent.common import DEFAULT_VALIDITY, KINDS, Recipient, peek
from securemsg.core.consent.explain import explain, iso_time, short_fp
from securemsg.core.consent.grant import Grant
from securemsg.core.consent.statements import ConsentObject, Objection, Revocation, verify_any

__all__ = [
    "CLOCK_SKEW",
    "DEFAULT_VALIDITY",
    "DELIVERY_GRACE",
    "KINDS",
    "Basis",
    "ConsentObject",
    "Decision",
    "Disclosure",
    "Grant",
    "LetterFacts",
    "Objection",
    "Recipient",
    "Revocation",
    "allowed_domains",
    "check_consent",
    "explain",
    "grant_status",
    "iso_time",
    "peek",
    "short_fp",
    "verify_any",
]
