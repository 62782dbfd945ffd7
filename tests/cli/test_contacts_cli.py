"""contacts add / list / show / verify from the command line.

Each refusal asserts the exit code, the message, and that the home is
unchanged (every DB row and every other file, before and after).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import tamper
from securemsg.core.card import Card
from securemsg.core.fingerprint import safety_number
from securemsg.core.testkeys import derive_test_identity

RPPS_ME = "10003456786"
RPPS_BOB = "10009999995"
INS_PAUL = "184127505600774"
DAY = 86400
CONTACT_KEYS = {
    "schema", "status", "name", "role", "rpps", "specialty", "ins", "birth_date", "email",
    "fingerprint", "created", "expires", "test_key", "verified", "state", "added",
    "replaces", "replaced_by", "pinned", "safety_number", "warnings", "revoked_as_of",
}  # fmt: skip


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def me(make_home) -> Path:
    return make_home("Dr Alice Martin", "gp", rpps=RPPS_ME)


@pytest.fixture
def my_card(me: Path) -> Card:
    return Card.parse((me / "card.txt").read_bytes())


def sn(a: Card, b: Card) -> str:
    return safety_number((a.sign_public, a.enc_public), (b.sign_public, b.enc_public))


# -- add / list / show --------------------------------------------------------------------


def test_add_list_show(me: Path, run, make_card, my_card: Card) -> None:
    bob = make_card("Dr Bob Durand", "specialist", rpps=RPPS_BOB, specialty="cardiology")
    res = run(me, "--json", "contacts", "add", str(bob.path))
    assert res.exit_code == 0, res.stderr
    doc = res.json()
    assert set(doc) == CONTACT_KEYS | {"kept_letters"}  # `add` only
    assert doc["kept_letters"] == []
    assert doc["schema"] == "securemsg.contact/2"
    assert (doc["status"], doc["name"], doc["verified"], doc["state"]) == (
        "added",
        "Dr Bob Durand",
        False,
        "active",
    )
    assert doc["fingerprint"] == bob.card.fingerprint
    assert doc["safety_number"] == sn(my_card, bob.card)
    assert doc["warnings"] == []

    listing = run(me, "--json", "contacts", "list")
    assert listing.exit_code == 0
    ldoc = listing.json()
    assert ldoc["schema"] == "securemsg.contacts/2"
    assert [c["fingerprint"] for c in ldoc["contacts"]] == [bob.card.fingerprint]

    text = run(me, "contacts", "list")
    assert "Dr Bob Durand" in text.stdout and "not verified" in text.stdout

    show = run(me, "contacts", "show", "Dr Bob Durand")
    assert show.exit_code == 0
    out = flat(show.stdout)
    assert f"Fingerprint: {bob.card.display_fingerprint}" in out
    assert f"Safety number: {sn(my_card, bob.card)}" in out
    assert "Status: not verified" in out


def test_add_binary_card_and_from_stdin(me: Path, run, make_card) -> None:
    a = make_card("Dr Binary", "nurse", binary=True)
    b = make_card("Dr Stdin", "physiotherapist")
    assert run(me, "contacts", "add", str(a.path)).exit_code == 0
    res = run(me, "contacts", "add", "-", input=b.path.read_bytes())
    assert res.exit_code == 0, res.stderr
    names = [c["name"] for c in run(me, "--json", "contacts", "list").json()["contacts"]]
    assert names == ["Dr Binary", "Dr Stdin"]


def test_snapshot_sees_an_added_contact(me: Path, run, make_card, snapshot) -> None:
    """The guard the refusal tests rely on: a real change shows in the snapshot."""
    before = snapshot(me)
    assert snapshot(me) == before
    assert run(me, "contacts", "add", str(make_card("Dr Bob", "specialist").path)).exit_code == 0
    after = snapshot(me)
    assert after != before and after["db"] != before["db"]


def test_add_same_card_twice_is_unchanged(me: Path, run, make_card, snapshot) -> None:
    bob = make_card("Dr Bob", "specialist")
    run(me, "contacts", "add", str(bob.path))
    before = snapshot(me)
    res = run(me, "contacts", "add", str(bob.path))
    assert res.exit_code == 0 and "already a contact" in res.stderr
    assert snapshot(me) == before


def test_empty_list(me: Path, run) -> None:
    assert run(me, "--json", "contacts", "list").json() == {
        "schema": "securemsg.contacts/2",
        "contacts": [],
    }
    assert "No contacts yet" in run(me, "contacts", "list").stdout


def test_show_by_fingerprint_prefix_and_case_insensitive_name(me: Path, run, make_card) -> None:
    bob = make_card("Dr Bob Durand", "specialist")
    run(me, "contacts", "add", str(bob.path))
    for query in (
        "DR BOB DURAND",
        "dr  bob  durand",
        "durand",
        bob.card.fingerprint[:8],
        bob.card.display_fingerprint[:9].upper(),
    ):
        res = run(me, "--json", "contacts", "show", query)
        assert res.exit_code == 0, (query, res.stderr)
        assert res.json()["fingerprint"] == bob.card.fingerprint


def test_show_unknown_contact(me: Path, run) -> None:
    res = run(me, "contacts", "show", "nobody")
    assert res.exit_code == 1 and "no contact matches" in res.stderr


def test_ambiguous_name_lists_candidates(me: Path, run, make_card, snapshot) -> None:
    gp = make_card("Dr Martin", "gp")
    spec = make_card("Dr Martin", "specialist")
    for c in (gp, spec):
        assert run(me, "contacts", "add", str(c.path)).exit_code == 0
    before = snapshot(me)
    for argv in (
        ("contacts", "show", "dr martin"),
        ("contacts", "verify", "DR MARTIN", gp.card.fingerprint),
    ):
        res = run(me, *argv)
        assert res.exit_code == 2, res.stderr
        err = flat(res.stderr)
        assert "matches several contacts" in err
        assert gp.card.fingerprint[:12] in err and spec.card.fingerprint[:12] in err
    assert snapshot(me) == before
    # a fingerprint prefix resolves it
    assert (
        run(me, "contacts", "verify", spec.card.fingerprint[:10], spec.card.fingerprint).exit_code
        == 0
    )


# -- verify -------------------------------------------------------------------------------


def test_verify_by_fingerprint(me: Path, run, make_card) -> None:
    bob = make_card("Dr Bob", "specialist")
    run(me, "contacts", "add", str(bob.path))
    res = run(me, "--json", "contacts", "verify", "dr bob", *bob.card.display_fingerprint.split())
    assert res.exit_code == 0, res.stderr
    assert res.json()["verified"] is True and res.json()["status"] == "verified"
    assert run(me, "--json", "contacts", "show", "Dr Bob").json()["verified"] is True


def test_verify_by_safety_number(me: Path, run, make_card, my_card: Card) -> None:
    bob = make_card("Dr Bob", "specialist")
    run(me, "contacts", "add", str(bob.path))
    res = run(me, "contacts", "verify", "Dr Bob", *sn(my_card, bob.card).split())
    assert res.exit_code == 0, res.stderr
    assert "now verified" in res.stderr
    assert run(me, "--json", "contacts", "list").json()["contacts"][0]["verified"] is True


@pytest.mark.parametrize("wrong", ["fingerprint", "safety", "prefix of another key"])
def test_verify_with_wrong_evidence_is_exit_3(
    me: Path, run, make_card, my_card: Card, snapshot, wrong: str
) -> None:
    bob = make_card("Dr Bob", "specialist")
    eve = make_card("Eve", "expert")
    run(me, "contacts", "add", str(bob.path))
    evidence = {
        "fingerprint": eve.card.fingerprint,
        "safety": sn(my_card, eve.card),
        "prefix of another key": eve.card.fingerprint[:16],
    }[wrong]
    before = snapshot(me)
    res = run(me, "contacts", "verify", "Dr Bob", *evidence.split())
    assert res.exit_code == 3
    assert "does not match the key of Dr Bob" in flat(res.stderr)
    assert snapshot(me) == before


# -- same person, other key (TOFU) --------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            ("Dr Bob", "specialist", {"rpps": RPPS_BOB}),
            ("Dr Robert Bob", "hospital", {"rpps": RPPS_BOB}),
        ),
        (("Paul Durand", "patient", {"ins": INS_PAUL}), ("Paul D.", "patient", {"ins": INS_PAUL})),
        (("Dr Bob", "specialist", {}), ("DR BOB", "specialist", {})),
    ],
    ids=["rpps", "ins", "name-and-role"],
)
def test_same_person_other_key_refused_unless_replace(
    me: Path, run, make_card, snapshot, first, second
) -> None:
    old = make_card(first[0], first[1], **first[2])
    new = make_card(second[0], second[1], **second[2])
    assert run(me, "contacts", "add", str(old.path)).exit_code == 0
    before = snapshot(me)
    res = run(me, "contacts", "add", str(new.path))
    assert res.exit_code == 1
    err = flat(res.stderr)
    assert "already known with another key" in err and "--replace" in err
    assert old.card.display_fingerprint in err and new.card.display_fingerprint in err
    assert snapshot(me) == before

    res = run(me, "--json", "contacts", "add", "--replace", str(new.path))
    assert res.exit_code == 0, res.stderr
    assert res.json()["status"] == "replaced" and res.json()["replaces"] == old.card.fingerprint
    warning = flat(res.stderr)
    assert "warning: the key of" in warning and "changed" in warning
    assert old.card.display_fingerprint in warning and new.card.display_fingerprint in warning
    assert "NOT verified" in warning

    active = run(me, "--json", "contacts", "list").json()["contacts"]
    assert [c["fingerprint"] for c in active] == [new.card.fingerprint]
    every = run(me, "--json", "contacts", "list", "--all").json()["contacts"]
    states = {c["fingerprint"]: (c["state"], c["replaced_by"]) for c in every}
    assert states == {
        old.card.fingerprint: ("replaced", new.card.fingerprint),
        new.card.fingerprint: ("active", None),
    }
    shown = run(me, "--json", "contacts", "show", old.card.fingerprint[:10]).json()
    assert shown["state"] == "replaced"

    # the old key may never come back
    before = snapshot(me)
    for extra in ([], ["--replace"]):
        res = run(me, "contacts", "add", *extra, str(old.path))
        assert res.exit_code == 3
        assert "was replaced" in flat(res.stderr)
    assert snapshot(me) == before


def test_show_by_name_after_replace_shows_the_current_key(me: Path, run, make_card) -> None:
    old = make_card("Dr Bob", "specialist")
    new = make_card("Dr Bob", "specialist")
    run(me, "contacts", "add", str(old.path))
    run(me, "contacts", "add", "--replace", str(new.path))
    res = run(me, "--json", "contacts", "show", "Dr Bob")
    assert res.exit_code == 0, res.stderr
    assert res.json()["fingerprint"] == new.card.fingerprint


# -- refused cards ------------------------------------------------------------------------


def test_expired_card_is_exit_3(me: Path, run, make_card, snapshot) -> None:
    old = make_card("Dr Old", "gp", now=int(time.time()) - 400 * DAY, validity_days=365)
    before = snapshot(me)
    res = run(me, "contacts", "add", str(old.path))
    assert res.exit_code == 3
    assert "expired on" in res.stderr
    assert snapshot(me) == before
    doc = run(me, "--json", "contacts", "add", str(old.path)).error_json()
    assert (doc["schema"], doc["error"], doc["exit"]) == ("securemsg.error/1", "expired", 3)


def test_future_card_is_exit_3(me: Path, run, make_card, snapshot) -> None:
    later = make_card("Dr Later", "gp", now=int(time.time()) + 2 * DAY)
    before = snapshot(me)
    res = run(me, "contacts", "add", str(later.path))
    assert res.exit_code == 3 and "future" in res.stderr
    assert snapshot(me) == before


def test_public_test_key_card_refused_by_a_real_home(me: Path, run, make_card, snapshot) -> None:
    demo = make_card(
        "Dr Demo", "specialist", secret=derive_test_identity("demo-specialist"), test_key=True
    )
    before = snapshot(me)
    res = run(me, "contacts", "add", str(demo.path))
    assert res.exit_code == 3
    assert "PUBLIC TEST KEY" in flat(res.stderr)
    assert snapshot(me) == before


def test_own_card_refused(me: Path, run, snapshot) -> None:
    before = snapshot(me)
    res = run(me, "contacts", "add", str(me / "card.txt"))
    assert res.exit_code == 2 and "your own card" in res.stderr
    assert snapshot(me) == before


def test_tampered_card_files_are_exit_3(me: Path, run, make_card, snapshot) -> None:
    bob = make_card("Dr Bob", "specialist", binary=True)
    before = snapshot(me)
    data = bob.card.encoded
    cases = [
        tamper.flip(data, len(data) - 1),  # signature
        tamper.flip(data, len(data) // 2),  # payload
        tamper.truncate(data, len(data) - 1),
        tamper.append(data, b"\x00"),
        bob.card.to_text().replace("Name: Dr Bob", "Name: Dr Alice Martin").encode(),
    ]
    for i, bad in enumerate(cases):
        path = bob.path.with_name(f"bad{i}")
        path.write_bytes(bad)
        res = run(me, "contacts", "add", str(path))
        assert res.exit_code == 3, (i, res.stderr)
        assert res.stderr.startswith("securemsg: error: card")
        assert "Traceback" not in res.stderr
    assert snapshot(me) == before


def test_not_a_card_and_oversized_files(me: Path, run, tmp_path: Path, snapshot) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"hello, this is not a card\n")
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (64 * 1024 + 1))
    before = snapshot(me)
    assert run(me, "contacts", "add", str(junk)).exit_code == 3
    res = run(me, "contacts", "add", str(big))
    assert res.exit_code == 3 and "too large" in res.stderr
    assert run(me, "contacts", "add", str(tmp_path / "missing")).exit_code == 2
    assert snapshot(me) == before


def test_contacts_with_wrong_passphrase_change_nothing(me: Path, run, make_card, snapshot) -> None:
    bob = make_card("Dr Bob", "specialist")
    before = snapshot(me)
    res = run(me, "contacts", "add", str(bob.path), env={"SECUREMSG_PASSPHRASE": "wrong"})
    assert res.exit_code == 4
    assert snapshot(me) == before
