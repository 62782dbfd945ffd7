"""Regenerate keys/: the PUBLIC TEST identities used by the docs, the demo and
the test vectors. Deterministic: the keys derive from their public labels.

    .venv/bin/python scripts/make_test_keys.py
"""

from __future__ import annotations

import calendar
from pathlib import Path

from securemsg.core.card import Card
from securemsg.core.identity import Profile, Role
from securemsg.core.testkeys import derive_test_identity, format_test_key

CREATED = calendar.timegm((2026, 1, 1, 0, 0, 0))
VALIDITY_DAYS = 10 * 365

PEOPLE = {
    "gp": Profile("Dr Alice Martin", Role.GP, rpps="10001234567"),
    "cardiologist": Profile(
        "Dr Bruno Keller", Role.SPECIALIST, rpps="10007654321", specialty="cardiology"
    ),
    "nurse": Profile("Claire Petit", Role.NURSE),
    "patient": Profile(
        "Jeanne Dupont", Role.PATIENT, ins="255037512345606", birth_date="1955-03-02"
    ),
    "outsider": Profile("Dr Eve Morel", Role.GP),
}


def main() -> None:
    out = Path(__file__).resolve().parents[1] / "keys"
    out.mkdir(exist_ok=True)
    for label, profile in PEOPLE.items():
        secret = derive_test_identity(label)
        card = Card.sign(secret, profile, CREATED, VALIDITY_DAYS, test_key=True)
        (out / f"{label}.testkey").write_text(format_test_key(secret))
        (out / f"{label}.card").write_text(card.to_text())
        print(f"{label:14} {card.display_fingerprint}  {profile.name}")


if __name__ == "__main__":
    main()
