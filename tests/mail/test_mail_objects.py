"""Consent objects and cards by mail: the patient mails her revocation to the
specialist, whose next ``receive --mail`` records it before the letter it
concerns is received (refused, notice back); a card arriving by mail is offered,
never trusted: it is not a contact until ``contacts add``."""

from __future__ import annotations

import pytest
from mailworld import MailWorld

pytestmark = pytest.mark.slow


def test_a_revocation_by_mail_is_recorded_before_the_letter(mail_world: MailWorld) -> None:
    w = mail_world
    w.ok("pat", "consent", "revoke", w.root / "consent.cose", "-o", w.root / "rev.cose")
    mailed = w.ok("pat", "consent", "send", w.root / "rev.cose", "--to", "Bruno", "--to", "Anne")
    assert {t["address"] for t in mailed["to"]} == {w.address("card"), w.address("gp")}
    w.wait("card", 1)
    (row,) = w.ok("card", "receive", "--mail")["results"]
    assert row["status"] == "consent: recorded" and "revocation" in row["detail"]
    # Anne learns it by mail too: she can no longer send under that grant
    w.wait("gp", 1)
    (row,) = w.ok("gp", "receive", "--mail")["results"]
    assert row["status"] == "consent: recorded"
    res = w.run("gp", "--json", "send", w.root / "letter.md", "--to", "Bruno", "--kind",
                "referral", "--patient", "Paule", "--consent", w.root / "consent.cose",
                "--mail")  # fmt: skip
    assert res.exit_code == 3 and res.error_json()["rule"] == "revoked"
    # a consent object mailed again is recorded once
    w.ok("pat", "consent", "send", w.root / "rev.cose", "--to", "Bruno")
    w.wait("card", 2)
    (row,) = w.ok("card", "receive", "--mail")["results"]
    assert row["status"] == "consent: already recorded"


def test_a_card_by_mail_is_offered_never_trusted(mail_world: MailWorld) -> None:
    w = mail_world
    w.ok("card", "contacts", "add", w.root / "spec.card")  # known already: said so
    other = w.root / "newcomer"
    w.ok("spec", "card", "send", "--to", w.address("card"))
    w.wait("card", 1)
    (row,) = w.ok("card", "receive", "--mail")["results"]
    assert row["status"] == "card: already recorded"
    # a newcomer's card: the home that receives it does not know them
    before = {c["fingerprint"] for c in w.ok("card", "contacts", "list")["contacts"]}
    from mailworld import build_person

    build_person(w, other, "Dr Nina Newcomer", "gp", "nina")
    res = w.run("card", "--json", "receive", "--mail", executable=True)  # nothing yet
    assert res.exit_code == 0
    w.ok_home(other, "card", "send", "--to", w.address("card"))
    w.wait("card", 2)
    (row,) = w.ok("card", "receive", "--mail")["results"]
    assert row["status"] == "card: offered" and "NOT trusted" in row["detail"]
    after = {c["fingerprint"] for c in w.ok("card", "contacts", "list")["contacts"]}
    assert after == before  # not a contact
    offered = next((w.home("card") / "mail" / "cards").glob("*.card"))
    w.ok("card", "contacts", "add", offered)  # now, through contacts add and its rules
    assert len({c["fingerprint"] for c in w.ok("card", "contacts", "list")["contacts"]}) == 4
    shown = w.ok("card", "contacts", "show", "Nina")
    assert shown["verified"] is False
