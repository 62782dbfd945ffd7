"""Issue 16, renewal: `card renew`, a renewed card accepted by a contact (still
verified), a renewal that changes the name (a key change), the expiry warnings
of `whoami` / every command and of `contacts list`; through the installed
executable, hostile cases with their exit code, error and an unchanged home."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from clirun import Result, run_cli
from securemsg.core.card import Card
from securemsg.core.identity import Profile, Role
from securemsg.store.home import Home

# Whole runs of the executable: in `make test` (CI), not in the inner loop.
pytestmark = pytest.mark.slow

ALICE, ALICE_RPPS = "Dr Alice Martin", "10001234565"
WARNING = "securemsg: warning: your card expires on"


def securemsg(home: Path, *args: str | Path, input: str | None = None) -> Result:
    return run_cli(home, *args, executable=True, input=input)


def fp_of(card_text: str) -> str:
    return Card.parse(card_text).fingerprint


@pytest.fixture
def pair(make_home) -> tuple[Path, Path]:
    """Alice (gp, RPPS) and Bob, who added Alice's card and verified it."""
    alice = make_home(ALICE, "gp", rpps=ALICE_RPPS)
    bob = make_home("Dr Bob Durand", "specialist")
    card = securemsg(alice, "card", "export").stdout
    assert securemsg(bob, "contacts", "add", "-", input=card).exit_code == 0
    res = securemsg(bob, "contacts", "verify", ALICE, fp_of(card))
    assert res.exit_code == 0, res.stderr
    return alice, bob


def test_renewed_card_is_accepted_silently_and_stays_verified(pair, tmp_path: Path) -> None:
    alice, bob = pair
    old = Card.parse((alice / "card.txt").read_bytes())
    out = tmp_path / "renewed.card"
    res = securemsg(alice, "card", "renew", "--valid-for", "3y", "-o", out)
    assert res.exit_code == 0, res.stderr
    new = Card.parse(out.read_bytes())
    assert Card.parse((alice / "card.txt").read_bytes()) == new  # stored
    assert new.sign_public == old.sign_public and new.profile == old.profile
    assert new.created > old.created - 1 and new.expires > old.expires
    assert new.expires - new.created == 3 * 365 * 86400

    res = securemsg(bob, "--json", "contacts", "add", out)
    assert res.exit_code == 0, res.stderr
    doc = res.json()
    assert (doc["status"], doc["verified"], doc["warnings"]) == ("updated", True, [])
    assert res.stderr == ""  # silently
    listed = securemsg(bob, "--json", "contacts", "list").json()["contacts"]
    assert [(c["expires"][:10], c["verified"]) for c in listed] == [
        (time.strftime("%Y-%m-%d", time.gmtime(new.expires)), True)
    ]


def test_renew_prints_the_card_on_stdout(pair) -> None:
    alice, bob = pair
    res = securemsg(alice, "card", "renew")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.startswith("-----BEGIN SECUREMSG CARD-----")
    assert "Card renewed: valid until" in res.stderr
    res = securemsg(bob, "--json", "contacts", "add", "-", input=res.stdout)
    assert res.exit_code == 0 and res.json()["status"] == "updated"


def test_renewal_with_a_changed_name_is_a_key_change(pair, snapshot, tmp_path: Path) -> None:
    alice, bob = pair
    secret = Home(alice, env={"SECUREMSG_PASSPHRASE": "correct horse battery staple"}).unlock()
    profile = Profile(name="Dr Alicia Martin", role=Role.GP, rpps=ALICE_RPPS)
    renamed = Card.sign(secret, profile, int(time.time()) + 5)
    path = tmp_path / "renamed.card"
    path.write_text(renamed.to_text())
    before = snapshot(bob)
    res = securemsg(bob, "--json", "contacts", "add", path)
    assert res.exit_code == 1, res.stderr
    err = res.error_json()
    assert err["error"] == "conflict" and "re-issued with another identity" in err["message"]
    assert "--replace" in err["hint"]
    assert snapshot(bob) == before


def test_own_card_expiring_is_warned_by_every_command_not_in_json(pair) -> None:
    alice, _ = pair
    res = securemsg(alice, "whoami")
    assert res.exit_code == 0 and WARNING not in res.stderr  # two years left
    assert securemsg(alice, "card", "renew", "--valid-for", "45").exit_code == 0
    for args in (("whoami",), ("contacts", "list"), ("inbox",)):
        res = securemsg(alice, *args)
        assert res.exit_code == 0, res.stderr
        lines = [ln for ln in res.stderr.splitlines() if ln.startswith(WARNING)]
        # 45 days from the renewal, rounded up: 46 when the renewal was dated one
        # second after a card made in the same second (Card.renewed)
        assert len(lines) == 1, res.stderr
        assert "(in 45 days)" in lines[0] or "(in 46 days)" in lines[0], res.stderr
        assert "securemsg card renew" in lines[0]
    res = securemsg(alice, "--json", "whoami")
    assert res.json()["name"] == ALICE  # stdout is the JSON document only
    assert WARNING in res.stderr


def test_contacts_list_shows_cards_about_to_expire(pair) -> None:
    alice, bob = pair
    res = securemsg(alice, "card", "renew", "--valid-for", "20d")
    assert securemsg(bob, "contacts", "add", "-", input=res.stdout).exit_code == 0
    res = securemsg(bob, "contacts", "list")
    assert res.exit_code == 0, res.stderr
    assert "(in 20 days)" in res.stdout
    assert f"The card of {ALICE} expires on" in " ".join(res.stdout.split())
    doc = securemsg(bob, "--json", "contacts", "list").json()
    assert [c["card_expiry"] for c in doc["contacts"]] == ["expires_soon"]


def test_expired_contact_and_expired_own_card(
    pair, run, monkeypatch: pytest.MonkeyPatch, snapshot
) -> None:
    """In-process, with the clock moved forward 800 days (the executable has no
    clock to set): the contact's card shows EXPIRED; my own card's warning says
    it expired; renewing 30 days after expiry is refused (exit 3, home unchanged)."""
    alice, bob = pair
    from securemsg.cli.main import Ctx

    later = int(time.time()) + 740 * 86400
    monkeypatch.setattr(Ctx, "now", staticmethod(lambda: later))
    res = run(bob, "contacts", "list")
    assert "EXPIRED" in res.stdout and f"The card of {ALICE} expired on" in res.stdout
    assert "your card expired on" in res.stderr
    assert run(bob, "--json", "contacts", "list").json()["contacts"][0]["card_expiry"] == "expired"
    res = run(alice, "card", "renew")
    assert res.exit_code == 0, res.stderr  # 10 days after expiry: within the grace

    monkeypatch.setattr(Ctx, "now", staticmethod(lambda: later + 800 * 86400))
    before = snapshot(alice)
    res = run(alice, "--json", "card", "renew")
    assert res.exit_code == 3
    err = [ln for ln in res.stderr.splitlines() if ln.startswith("{")]
    assert '"error": "expired"' in err[0] and "key rotate" in err[0]
    assert snapshot(alice) == before


@pytest.mark.parametrize(
    ("args", "code"),
    [(("--valid-for", "5y"), 2), (("--valid-for", "0"), 2), (("--valid-for", "two"), 2)],
)
def test_bad_renewals_change_nothing(pair, snapshot, args, code) -> None:
    alice, _ = pair
    before = snapshot(alice)
    res = securemsg(alice, "--json", "card", "renew", *args)
    assert res.exit_code == code, res.stderr
    assert res.error_json()["error"] == "usage"
    assert snapshot(alice) == before


def test_renew_never_writes_over_a_file(pair, snapshot, tmp_path: Path) -> None:
    alice, _ = pair
    out = tmp_path / "taken.card"
    out.write_text("mine")
    before = snapshot(alice)
    res = securemsg(alice, "--json", "card", "renew", "-o", out)
    assert res.exit_code == 2 and res.error_json()["error"] == "usage"
    assert out.read_text() == "mine" and snapshot(alice) == before


def test_own_card_expiring_is_warned_in_french(pair) -> None:
    """Before: the warning was written in English whatever the language (red team,
    session 4)."""
    alice, _ = pair
    assert securemsg(alice, "card", "renew", "--valid-for", "45").exit_code == 0
    res = run_cli(alice, "whoami", env={"LANG": "fr_FR.UTF-8", "LC_ALL": None}, executable=True)
    assert res.exit_code == 0, res.stderr
    assert "securemsg : avertissement : votre carte expire le" in res.stderr, res.stderr
    assert "(dans 45 jours)" in res.stderr or "(dans 46 jours)" in res.stderr
    assert "warning" not in res.stderr
