"""Issue 11, item 9: a re-issued card (the same key, a later card) that changes
who the key names is a key change, through the installed executable.

Dr Claire Petit's home knows and has verified Dr Bob Durand (specialist, RPPS)
and knows Dr Alice Martin (gp). Bob re-issues his card with his own key, as
anyone holding a key can. Each case runs ``securemsg contacts add`` as a child
process (``run_cli(..., executable=True)``):

- another name, role, RPPS (or a patient's INS or birth date): refused (exit 1,
  ``conflict``, the change named, ``--replace`` in the hint), the home unchanged;
  with ``--replace``: accepted as ``changed``, NOT verified any more, a warning;
- a name that looks like another contact's: refused as a look-alike first;
  a card that claims another contact's identity: refused even with --replace;
- validity only: accepted silently (``updated``, no warning), still verified;
- another specialty or email: accepted with a warning, still verified.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from clirun import Result, run_cli
from securemsg.core.card import Card
from securemsg.core.fingerprint import fingerprint
from securemsg.core.identity import Profile, Role, SecretIdentity

# Whole runs of the executable: in `make test` (CI), not in the inner loop.
pytestmark = pytest.mark.slow

BOB, BOB_RPPS = "Dr Bob Durand", "10003456786"
ALICE, ALICE_RPPS = "Dr Alice Martin", "10001234565"
NOW = int(time.time()) - 3600


def securemsg(home: Path, *args: str | Path) -> Result:
    return run_cli(home, *args, executable=True)


def flat(text: str) -> str:
    return " ".join(text.split())


class Bob:
    """Bob's key, and the cards he signs with it (each later than the last)."""

    def __init__(self, tmp_path: Path) -> None:
        self.secret = SecretIdentity.generate()
        self.tmp = tmp_path
        self.n = 0

    def card(self, **changes: Any) -> tuple[Path, Card]:
        profile: dict[str, Any] = {
            "name": BOB,
            "role": Role.SPECIALIST,
            "rpps": BOB_RPPS,
            "specialty": "cardiology",
        }
        profile.update(changes)
        card = Card.sign(self.secret, Profile(**profile), NOW + 60 * self.n)
        self.n += 1
        path = self.tmp / f"bob{self.n}.card"
        path.write_text(card.to_text())
        return path, card


@pytest.fixture
def bob(tmp_path: Path) -> Bob:
    return Bob(tmp_path)


@pytest.fixture
def home(make_home, make_card, bob: Bob) -> Path:
    path = make_home("Dr Claire Petit", "gp")
    first, card = bob.card()
    alice = make_card(ALICE, "gp", rpps=ALICE_RPPS)
    for f in (first, alice.path):
        assert securemsg(path, "contacts", "add", f).exit_code == 0
    res = securemsg(path, "contacts", "verify", BOB, card.fingerprint)
    assert res.exit_code == 0, res.stderr
    return path


def bob_contact(home: Path, bob: Bob) -> dict[str, Any]:
    res = securemsg(home, "--json", "contacts", "list")
    assert res.exit_code == 0, res.stderr
    fp = fingerprint(bob.secret.sign_public).hex()
    (doc,) = [c for c in res.json()["contacts"] if c["fingerprint"] == fp]
    return dict(doc)


CHANGES: dict[str, tuple[dict[str, Any], str]] = {
    "name": ({"name": "Dr Robert Durand"}, "name 'Dr Bob Durand' -> 'Dr Robert Durand'"),
    "role": ({"role": Role.HOSPITAL}, "role 'specialist' -> 'hospital'"),
    "rpps": ({"rpps": "10009999987"}, "RPPS '10003456786' -> '10009999987'"),
    "rpps-dropped": ({"rpps": None}, "RPPS '10003456786' -> (none)"),
}


@pytest.mark.parametrize("case", sorted(CHANGES))
def test_identity_change_on_a_known_key_needs_replace_and_resets_verified(
    home: Path, bob: Bob, snapshot, case: str
) -> None:
    changes, phrase = CHANGES[case]
    path, card = bob.card(**changes)
    before = snapshot(home)
    res = securemsg(home, "contacts", "add", path)
    assert res.exit_code == 1, (res.stdout, res.stderr)
    err = flat(res.stderr)
    assert f"the card of {BOB} (" in err and "was re-issued with another identity" in err, err
    assert phrase in err and "add it with --replace" in err, err
    assert snapshot(home) == before

    res = securemsg(home, "--json", "contacts", "add", path)
    assert res.exit_code == 1 and res.error_json()["error"] == "conflict"
    assert snapshot(home) == before
    assert bob_contact(home, bob)["verified"] is True

    res = securemsg(home, "--json", "contacts", "add", "--replace", path)
    assert res.exit_code == 0, res.stderr
    doc = res.json()
    assert doc["status"] == "changed" and doc["verified"] is False
    assert doc["fingerprint"] == card.fingerprint
    assert any(phrase in w and "NOT verified any more" in w for w in doc["warnings"]), doc
    assert "NOT verified any more (it was verified)" in flat(res.stderr)
    shown = bob_contact(home, bob)
    assert shown["verified"] is False and shown["name"] == card.name
    assert shown["role"] == card.profile.role.value


def test_patient_ins_or_birth_date_change_is_a_key_change_not_echoed(
    make_home, tmp_path: Path, snapshot
) -> None:
    home = make_home("Dr Claire Petit", "gp")
    secret = SecretIdentity.generate()
    ids = {"ins": "184127505600774", "birth_date": "1984-12-07"}

    def patient(n: int, **changes: str) -> Path:
        profile = Profile("Paul Durand", Role.PATIENT, **{**ids, **changes})
        card = Card.sign(secret, profile, NOW + n)
        path = tmp_path / f"pat{n}.card"
        path.write_text(card.to_text())
        return path

    assert securemsg(home, "contacts", "add", patient(0)).exit_code == 0
    for n, changes in ((1, {"ins": "285027512312317"}), (2, {"birth_date": "1984-12-08"})):
        before = snapshot(home)
        res = securemsg(home, "contacts", "add", patient(n, **changes))
        assert res.exit_code == 1, res.stderr
        err = flat(res.stderr)
        field = "INS" if "ins" in changes else "birth date"
        assert f"another identity: {field} changed" in err, err
        assert next(iter(changes.values())) not in err  # identifiers are not echoed
        assert snapshot(home) == before


def test_renamed_to_a_lookalike_of_another_contact_refused_as_such(
    home: Path, bob: Bob, snapshot
) -> None:
    path, _ = bob.card(name="Dr \u0410lice Martin")  # CYRILLIC CAPITAL LETTER A
    before = snapshot(home)
    res = securemsg(home, "contacts", "add", path)
    assert res.exit_code == 1, res.stderr
    assert f"looks like the name of your contact {ALICE} (gp," in flat(res.stderr)
    assert snapshot(home) == before


def test_claiming_another_contacts_identity_refused_even_with_replace(
    home: Path, bob: Bob, snapshot
) -> None:
    path, _ = bob.card(name=ALICE, role=Role.GP, rpps=ALICE_RPPS, specialty=None)
    before = snapshot(home)
    for extra in ([], ["--replace"]):
        res = securemsg(home, "contacts", "add", *extra, path)
        assert res.exit_code == 1, res.stderr
        assert f"now claims the identity of {ALICE}" in flat(res.stderr)
        assert snapshot(home) == before


def test_renewed_validity_only_is_silent_and_stays_verified(home: Path, bob: Bob) -> None:
    path, card = bob.card()
    res = securemsg(home, "--json", "contacts", "add", path)
    assert res.exit_code == 0, res.stderr
    doc = res.json()
    assert (doc["status"], doc["verified"], doc["warnings"]) == ("updated", True, [])
    assert "warning" not in res.stderr
    assert bob_contact(home, bob)["created"] == doc["created"]
    assert doc["fingerprint"] == card.fingerprint


@pytest.mark.parametrize(
    ("changes", "phrase"),
    [
        ({"specialty": "nephrology"}, "specialty 'cardiology' -> 'nephrology'"),
        ({"email": "bob@example.org"}, "email (none) -> 'bob@example.org'"),
    ],
    ids=["specialty", "email"],
)
def test_specialty_or_email_change_warns_and_stays_verified(
    home: Path, bob: Bob, changes: dict[str, str], phrase: str
) -> None:
    path, _ = bob.card(**changes)
    res = securemsg(home, "--json", "contacts", "add", path)
    assert res.exit_code == 0, res.stderr
    doc = res.json()
    assert (doc["status"], doc["verified"]) == ("updated", True)
    assert doc["warnings"] == [f"the card of {BOB} changed its {phrase}"]
    assert f"warning: the card of {BOB} changed its {phrase}" in flat(res.stderr)


def test_an_older_card_changes_nothing(home: Path, bob: Bob, snapshot) -> None:
    bob.n = -5  # dated before the card the home holds
    path, _ = bob.card(name="Dr Robert Durand")
    before = snapshot(home)
    res = securemsg(home, "contacts", "add", path)
    assert res.exit_code == 0, res.stderr
    assert f"{BOB} is already a contact with this key" in flat(res.stderr)
    assert snapshot(home) == before
