"""The contacts directory (store layer): TOFU, key changes, matching, sealing.

Homes are built in-process from core values (no key store, no Argon2): the
Home object is handed its secret, as ``Home.create`` does after ``init``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from securemsg.core.card import Card
from securemsg.core.fingerprint import format_fingerprint, safety_number
from securemsg.core.identity import Profile, Role, SecretIdentity
from securemsg.core.testkeys import derive_test_identity
from securemsg.errors import (
    ConflictError,
    ExpiredError,
    InvalidValue,
    NotFoundError,
    UsageError,
    VerificationError,
)
from securemsg.store.contacts import Contacts, same_person
from securemsg.store.home import Home

NOW = 1_800_000_000
DAY = 86400
RPPS_B = "10003456786"
INS_P = "184127505600774"
DESCRIPTOR = {"kind": "file", "path": "keys/identity.key"}


def new_home(path: Path, test_key: bool = False) -> Home:
    secret = derive_test_identity("me") if test_key else SecretIdentity.generate()
    card = Card.sign(secret, Profile("Dr Me Myself", Role.GP), NOW, test_key=test_key)
    home = Home(path, env={})
    home.create(secret, card, DESCRIPTOR)
    return home


def card(
    name: str, role: Role, secret: SecretIdentity | None = None, now: int = NOW, **kw: str
) -> Card:
    return Card.sign(secret or SecretIdentity.generate(), Profile(name, role, **kw), now)


def rows(home: Home) -> list[tuple[str, str, bytes]]:
    conn = sqlite3.connect(home.db_path)
    try:
        return sorted(conn.execute("SELECT fp, state, blob FROM contacts").fetchall())
    finally:
        conn.close()


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return new_home(tmp_path / "me")


@pytest.fixture
def book(home: Home) -> Contacts:
    return Contacts(home)


def test_add_and_get(book: Contacts) -> None:
    c = card("Dr Bob Specialist", Role.SPECIALIST, rpps=RPPS_B)
    res = book.add(c, NOW)
    assert res.status == "added" and res.previous is None
    got = book.get(c.fingerprint)
    assert got is not None
    assert got.card.encoded == c.encoded
    assert (got.verified, got.added, got.state, got.replaces) == (False, NOW, "active", None)
    assert [x.fingerprint for x in book.all()] == [c.fingerprint]


def test_persists_across_processes(home: Home, book: Contacts) -> None:
    c = card("Dr Bob", Role.SPECIALIST)
    book.add(c, NOW)
    again = Home(home.path, env={}, _secret=home.unlock())
    assert [x.fingerprint for x in Contacts(again).all()] == [c.fingerprint]


def test_same_card_twice_is_unchanged(book: Contacts) -> None:
    c = card("Dr Bob", Role.SPECIALIST)
    book.add(c, NOW)
    assert book.add(c, NOW + 10).status == "unchanged"
    assert len(book.all()) == 1


def test_newer_card_for_same_key_updates_and_keeps_verification(book: Contacts) -> None:
    secret = SecretIdentity.generate()
    old = card("Dr Bob", Role.SPECIALIST, secret)
    book.add(old, NOW)
    book.mark_verified("Dr Bob", old.fingerprint)
    new = card("Dr Bob", Role.SPECIALIST, secret, now=NOW + DAY, specialty="cardiology")
    res = book.add(new, NOW + DAY)
    assert res.status == "updated"
    assert res.contact.card.profile.specialty == "cardiology"
    assert res.contact.verified is True
    assert res.warnings == ("the card of Dr Bob changed its specialty (none) -> 'cardiology'",)
    # an older card for the same key does not roll the contact back
    assert book.add(old, NOW + DAY).status == "unchanged"
    got = book.get(new.fingerprint)
    assert got is not None and got.card.encoded == new.encoded


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            {"name": "Dr Bob", "role": Role.SPECIALIST, "rpps": RPPS_B},
            {"name": "Dr Robert B.", "role": Role.HOSPITAL, "rpps": RPPS_B},
        ),
        (
            {"name": "Paul Durand", "role": Role.PATIENT, "ins": INS_P},
            {"name": "P. Durand", "role": Role.PATIENT, "ins": INS_P},
        ),
        (
            {"name": "Dr Bob", "role": Role.SPECIALIST},
            {"name": "  DR   bob ", "role": Role.SPECIALIST},
        ),
    ],
    ids=["same-rpps", "same-ins", "same-name-and-role"],
)
def test_same_person_with_another_key_refused(
    home: Home, book: Contacts, first: dict[str, object], second: dict[str, object]
) -> None:
    a = card(**first)  # type: ignore[arg-type]
    b = card(**second)  # type: ignore[arg-type]
    assert same_person(a, b)
    book.add(a, NOW)
    before = rows(home)
    with pytest.raises(ConflictError, match="already known with another key") as info:
        book.add(b, NOW)
    assert info.value.exit_code == 1
    assert format_fingerprint(a.fingerprint) in info.value.message
    assert rows(home) == before


def test_same_name_other_role_is_another_person(book: Contacts) -> None:
    book.add(card("Dr Martin", Role.GP), NOW)
    assert book.add(card("Dr Martin", Role.SPECIALIST), NOW).status == "added"
    assert len(book.all()) == 2


def test_replace_remembers_the_old_key(home: Home, book: Contacts) -> None:
    old = card("Dr Bob", Role.SPECIALIST, rpps=RPPS_B)
    new = card("Dr Bob", Role.SPECIALIST, rpps=RPPS_B)
    book.add(old, NOW)
    book.mark_verified("dr bob", old.fingerprint)
    res = book.add(new, NOW + 5, replace_key=True)
    assert res.status == "replaced"
    assert res.previous is not None and res.previous.fingerprint == old.fingerprint
    assert res.contact.replaces == old.fingerprint
    assert res.contact.verified is False  # a new key starts unverified
    retired = book.get(old.fingerprint)
    assert retired is not None
    assert (retired.state, retired.replaced_by, retired.replaced_at) == (
        "replaced",
        new.fingerprint,
        NOW + 5,
    )
    assert [c.fingerprint for c in book.all()] == [new.fingerprint]
    assert {c.fingerprint for c in book.all(include_replaced=True)} == {
        old.fingerprint,
        new.fingerprint,
    }
    # the state column agrees with the sealed record
    assert {fp: state for fp, state, _ in rows(home)} == {
        old.fingerprint: "replaced",
        new.fingerprint: "active",
    }


def test_replaced_key_cannot_come_back(home: Home, book: Contacts) -> None:
    old = card("Dr Bob", Role.SPECIALIST)
    book.add(old, NOW)
    book.add(card("Dr Bob", Role.SPECIALIST), NOW, replace_key=True)
    before = rows(home)
    for replace_key in (False, True):
        with pytest.raises(VerificationError, match="was replaced"):
            book.add(old, NOW, replace_key=replace_key)
    assert rows(home) == before


def test_replace_flag_without_clash_just_adds(book: Contacts) -> None:
    res = book.add(card("Dr New", Role.NURSE), NOW, replace_key=True)
    assert res.status == "added" and res.contact.replaces is None


def test_updated_card_cannot_take_over_another_contacts_identity(
    home: Home, book: Contacts
) -> None:
    bob = card("Dr Bob", Role.SPECIALIST, rpps=RPPS_B)
    mallory_key = SecretIdentity.generate()
    book.add(bob, NOW)
    book.add(card("Mallory", Role.EXPERT, mallory_key), NOW)
    before = rows(home)
    impostor = card("Dr Bob", Role.SPECIALIST, mallory_key, now=NOW + DAY, rpps=RPPS_B)
    with pytest.raises(ConflictError):
        book.add(impostor, NOW + DAY)
    assert rows(home) == before


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "Dr Robert"},
        {"role": Role.HOSPITAL},
        {"rpps": "10009999987"},
        {"rpps": None},
    ],
    ids=["name", "role", "rpps", "rpps-dropped"],
)
def test_reissued_card_with_another_identity_is_a_key_change(
    home: Home, book: Contacts, changes: dict[str, object]
) -> None:
    secret = SecretIdentity.generate()
    fields: dict[str, object] = {"name": "Dr Bob", "role": Role.SPECIALIST, "rpps": RPPS_B}
    old = card(secret=secret, **fields)  # type: ignore[arg-type]
    book.add(old, NOW)
    book.mark_verified("Dr Bob", old.fingerprint)
    before = rows(home)
    new = card(secret=secret, now=NOW + DAY, **{**fields, **changes})  # type: ignore[arg-type]
    with pytest.raises(ConflictError, match="re-issued with another identity") as info:
        book.add(new, NOW + DAY)
    assert "--replace" in (info.value.hint or "")
    assert rows(home) == before
    res = book.add(new, NOW + DAY, replace_key=True)
    assert (res.status, res.contact.verified) == ("changed", False)
    assert res.previous is not None and res.previous.card.encoded == old.encoded
    assert res.previous.verified is True
    assert "NOT verified any more (it was verified)" in res.warnings[0]
    got = book.get(new.fingerprint)
    assert got is not None and got.card.encoded == new.encoded and got.verified is False


def test_renewed_card_is_silent_and_keeps_verification(home: Home, book: Contacts) -> None:
    secret = SecretIdentity.generate()
    old = card("Dr Bob", Role.SPECIALIST, secret, rpps=RPPS_B)
    book.add(old, NOW)
    book.mark_verified("Dr Bob", old.fingerprint)
    res = book.add(card("Dr Bob", Role.SPECIALIST, secret, now=NOW + DAY, rpps=RPPS_B), NOW + DAY)
    assert (res.status, res.contact.verified, res.warnings) == ("updated", True, ())


def test_expired_and_future_cards_refused(home: Home, book: Contacts) -> None:
    expired = card("Dr Old", Role.GP, now=NOW - 800 * DAY)
    future = card("Dr Later", Role.GP, now=NOW + DAY)
    with pytest.raises(ExpiredError, match="expired"):
        book.add(expired, NOW)
    with pytest.raises(ExpiredError, match="future"):
        book.add(future, NOW)
    assert rows(home) == []


def test_test_key_card_refused_by_a_real_home(home: Home, book: Contacts) -> None:
    c = Card.sign(
        derive_test_identity("bob"), Profile("Dr Bob", Role.SPECIALIST), NOW, test_key=True
    )
    with pytest.raises(VerificationError, match="PUBLIC TEST KEY") as info:
        book.add(c, NOW)
    assert info.value.exit_code == 3
    assert rows(home) == []


def test_test_key_card_accepted_by_a_test_home(tmp_path: Path) -> None:
    book = Contacts(new_home(tmp_path / "demo", test_key=True))
    c = Card.sign(
        derive_test_identity("bob"), Profile("Dr Bob", Role.SPECIALIST), NOW, test_key=True
    )
    assert book.add(c, NOW).status == "added"


def test_own_card_refused(home: Home, book: Contacts) -> None:
    with pytest.raises(UsageError, match="your own card"):
        book.add(home.card(), NOW)


# -- find ---------------------------------------------------------------------------------


def test_find_by_name_word_and_prefix(book: Contacts) -> None:
    alice = card("Dr Alice Martin", Role.GP)
    bob = card("Dr Bob Durand", Role.SPECIALIST)
    book.add(alice, NOW)
    book.add(bob, NOW)
    assert book.find("dr alice martin").fingerprint == alice.fingerprint
    assert book.find("DR  ALICE MARTIN").fingerprint == alice.fingerprint
    assert book.find("durand").fingerprint == bob.fingerprint
    assert book.find(alice.fingerprint[:6]).fingerprint == alice.fingerprint
    assert book.find(format_fingerprint(bob.fingerprint).upper()).fingerprint == bob.fingerprint


def test_find_refusals(book: Contacts) -> None:
    a = card("Dr Martin", Role.GP)
    b = card("Dr Martin", Role.SPECIALIST)
    book.add(a, NOW)
    book.add(b, NOW)
    with pytest.raises(UsageError, match="matches several contacts") as info:
        book.find("dr martin")
    assert a.fingerprint[:12] in info.value.message and b.fingerprint[:12] in info.value.message
    assert "gp" in info.value.message and "specialist" in info.value.message
    with pytest.raises(NotFoundError):
        book.find("nobody")
    with pytest.raises(NotFoundError):
        book.find(a.fingerprint[:5])  # too short a prefix
    with pytest.raises(NotFoundError):
        book.find("mart")  # words match whole, not as substrings


# -- verify -------------------------------------------------------------------------------


def test_verify_by_fingerprint(home: Home, book: Contacts) -> None:
    c = card("Dr Bob", Role.SPECIALIST)
    book.add(c, NOW)
    assert book.mark_verified("Dr Bob", format_fingerprint(c.fingerprint).upper()).verified
    got = book.get(c.fingerprint)
    assert got is not None and got.verified


def test_verify_by_safety_number(home: Home, book: Contacts) -> None:
    c = card("Dr Bob", Role.SPECIALIST)
    book.add(c, NOW)
    me = home.card()
    sn = safety_number((me.sign_public, me.enc_public), (c.sign_public, c.enc_public))
    assert book.mark_verified("bob", sn.replace(" ", "-")).verified


@pytest.mark.parametrize(
    "kind", ["other fingerprint", "other prefix", "other safety number", "junk"]
)
def test_verify_with_wrong_evidence_refused(home: Home, book: Contacts, kind: str) -> None:
    c = card("Dr Bob", Role.SPECIALIST)
    other = card("Dr Eve", Role.SPECIALIST)
    book.add(c, NOW)
    me = home.card()
    evidence = {
        "other fingerprint": other.fingerprint,
        "other prefix": other.fingerprint[:32],
        "other safety number": safety_number(
            (me.sign_public, me.enc_public), (other.sign_public, other.enc_public)
        ),
        "junk": "hello",
    }[kind]
    before = rows(home)
    with pytest.raises(VerificationError, match="does not match"):
        book.mark_verified("Dr Bob", evidence)
    assert rows(home) == before


def test_verify_by_prefix_of_the_right_key(home: Home, book: Contacts) -> None:
    """A correct but short prefix is "too short", never the key-mismatch alarm;
    32 hex digits (128 bits) or more verify."""
    c = card("Dr Bob", Role.SPECIALIST)
    book.add(c, NOW)
    before = rows(home)
    with pytest.raises(InvalidValue, match="too short to verify a key: give at least 32"):
        book.mark_verified("Dr Bob", c.fingerprint[:20])
    assert rows(home) == before
    assert book.mark_verified("Dr Bob", c.fingerprint[:32]).verified


# -- sealing ------------------------------------------------------------------------------


def test_rows_hold_no_plaintext(home: Home, book: Contacts) -> None:
    c = card(
        "Paul Durand", Role.PATIENT, ins=INS_P, birth_date="1984-12-03", email="paul@example.org"
    )
    book.add(c, NOW)
    raw = b"".join(blob for _, _, blob in rows(home))
    for secret in (
        b"Paul",
        b"Durand",
        INS_P.encode(),
        b"1984-12-03",
        b"example.org",
        c.sign_public,
    ):
        assert secret not in raw
    disk = b"".join(p.read_bytes() for p in home.path.glob("securemsg.db*"))
    for secret in (b"Durand", INS_P.encode(), b"1984-12-03"):
        assert secret not in disk


def test_row_moved_to_another_fingerprint_does_not_open(home: Home, book: Contacts) -> None:
    a, b = card("Dr A", Role.GP), card("Dr B", Role.GP)
    book.add(a, NOW)
    book.add(b, NOW)
    conn = home.database()
    blob_a = conn.execute("SELECT blob FROM contacts WHERE fp=?", (a.fingerprint,)).fetchone()[0]
    conn.execute("UPDATE contacts SET blob=? WHERE fp=?", (blob_a, b.fingerprint))
    with pytest.raises(VerificationError, match="altered or moved"):
        book.all()
    with pytest.raises(VerificationError):
        book.get(b.fingerprint)


def test_other_identity_cannot_read_the_rows(tmp_path: Path, home: Home, book: Contacts) -> None:
    book.add(card("Dr A", Role.GP), NOW)
    intruder = Home(home.path, env={}, _secret=SecretIdentity.generate())
    with pytest.raises(VerificationError):
        Contacts(intruder).all()
