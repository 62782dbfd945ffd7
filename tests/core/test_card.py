"""Signed public cards: round-trips, text form, tamper, expiry, domain separation."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import tamper
from securemsg.core import cbor, cose, labels
from securemsg.core.card import BEGIN, END, MAX_CARD_TEXT, Card
from securemsg.core.fingerprint import fingerprint
from securemsg.core.identity import Profile, Role, SecretIdentity
from securemsg.core.testkeys import derive_test_identity
from securemsg.errors import (
    ExpiredError,
    FormatError,
    InvalidValue,
    SecureMsgError,
    SignatureError,
)

NOW = 1_800_000_000
DAY = 86400
SECRET = SecretIdentity(bytes(range(32)), bytes(range(32, 64)))
OTHER = SecretIdentity(bytes(range(1, 33)), bytes(range(33, 65)))
PROFILE = Profile("Dr Alice Martin", Role.SPECIALIST, rpps="10003456786", specialty="cardiology")
PATIENT = Profile("Paul Durand", Role.PATIENT, ins="184127505600774", birth_date="1984-12-03")


@pytest.fixture(scope="module")
def card() -> Card:
    return Card.sign(SECRET, PROFILE, NOW)


def same(a: Card, b: Card) -> bool:
    fields = ("sign_public", "enc_public", "created", "expires", "test_key", "encoded")
    return a.profile == b.profile and all(getattr(a, f) == getattr(b, f) for f in fields)


def sign_payload(
    payload: Any, secret: SecretIdentity = SECRET, otype: str = labels.COSE_CARD
) -> bytes:
    raw = payload if isinstance(payload, bytes) else cbor.dumps(payload)
    return cose.sign(secret.signing_key, otype, fingerprint(secret.sign_public), raw)


def good_payload(**changes: Any) -> dict[str, Any]:
    p: dict[str, Any] = {
        "v": 1,
        "profile": PROFILE.to_cbor(),
        "sign_key": SECRET.sign_public,
        "enc_key": SECRET.enc_public,
        "created": NOW,
        "expires": NOW + 365 * DAY,
    }
    for key, value in changes.items():
        if value is None:
            p.pop(key)
        else:
            p[key] = value
    return p


# -- round trips --------------------------------------------------------------------------


def test_create_fields(card: Card) -> None:
    assert card.profile == PROFILE
    assert card.sign_public == SECRET.sign_public
    assert card.enc_public == SECRET.enc_public
    assert (card.created, card.expires) == (NOW, NOW + 2 * 365 * DAY)
    assert card.test_key is False
    assert card.fingerprint == fingerprint(SECRET.sign_public).hex()
    assert card.name == "Dr Alice Martin"


def test_create_is_deterministic() -> None:
    assert Card.sign(SECRET, PROFILE, NOW).encoded == Card.sign(SECRET, PROFILE, NOW).encoded


def test_binary_round_trip(card: Card) -> None:
    assert same(Card.verify(card.encoded), card)
    assert same(Card.parse(card.encoded), card)


def test_text_round_trip(card: Card) -> None:
    text = card.to_text()
    assert same(Card.parse(text), card)
    assert same(Card.parse(text.encode()), card)


def test_patient_card_round_trip() -> None:
    c = Card.sign(OTHER, PATIENT, NOW)
    assert Card.parse(c.to_text()).profile == PATIENT


def test_text_form_layout(card: Card) -> None:
    lines = card.to_text().splitlines()
    assert lines[0] == BEGIN and lines[-1] == END
    assert lines[1:6] == [
        "Name: Dr Alice Martin",
        "Role: specialist",
        "Specialty: cardiology",
        f"Fingerprint: {card.display_fingerprint}",
        "Expires: 2029-01-14",
    ]
    blank = lines.index("")
    body = lines[blank + 1 : -1]
    assert all(len(ln) <= 64 for ln in body)
    assert base64.b64decode("".join(body)) == card.encoded
    assert card.to_text().endswith(END + "\n")


def test_mail_quoted_text(card: Card) -> None:
    quoted = "".join(f"> {ln}\n" for ln in card.to_text().splitlines())
    assert same(Card.parse(quoted), card)
    tight = "".join(f">{ln}\n" for ln in card.to_text().splitlines())
    assert same(Card.parse(tight), card)


def test_crlf(card: Card) -> None:
    text = card.to_text().replace("\n", "\r\n")
    assert same(Card.parse(text), card)
    assert same(Card.parse(text.encode()), card)


def test_surrounding_mail_text(card: Card) -> None:
    text = "Hello,\r\nhere is my card:\r\n\r\n" + card.to_text() + "\r\n--\r\nAlice\r\n"
    assert same(Card.parse(text), card)


def test_mail_quoted_or_surrounded_card_as_bytes(card: Card) -> None:
    quoted = "".join(f"> {ln}\n" for ln in card.to_text().splitlines())
    assert same(Card.parse(quoted.encode()), card)
    surrounded = "Hello,\nhere is my card:\n\n" + card.to_text() + "--\nAlice\n"
    assert same(Card.parse(surrounded.encode()), card)


def test_indented_text(card: Card) -> None:
    text = "".join(f"    {ln}\n" for ln in card.to_text().splitlines())
    assert same(Card.parse(text), card)


def test_test_key_card() -> None:
    secret = derive_test_identity("alice")
    c = Card.sign(secret, PROFILE, NOW, test_key=True)
    assert c.test_key is True
    assert "Warning: PUBLIC TEST KEY - not for real use" in c.to_text()
    assert Card.parse(c.to_text()).test_key is True


# -- tamper: binary -----------------------------------------------------------------------


def _refused(data: bytes | str) -> SecureMsgError | None:
    """The SecureMsgError raised, None if accepted; any other exception fails the test."""
    try:
        Card.parse(data)
    except SecureMsgError as exc:
        return exc
    return None


def test_every_single_byte_flip_of_the_binary_form_is_refused(card: Card) -> None:
    accepted = [d for d, bad in tamper.all_bit_flips(card.encoded) if _refused(bad) is None]
    assert accepted == []


def test_every_truncation_is_refused(card: Card) -> None:
    accepted = [d for d, bad in tamper.all_truncations(card.encoded) if _refused(bad) is None]
    assert accepted == []


def test_appended_garbage_and_reordering_refused(card: Card) -> None:
    data = card.encoded
    muts = [
        *tamper.some_appends(data),
        *tamper.chunk_swaps(data, 8),
        *tamper.chunk_duplicates(data, 16),
    ]
    assert [d for d, bad in muts if _refused(bad) is None] == []


# -- tamper: text -------------------------------------------------------------------------


def _edit_line(text: str, prefix: str, new: str) -> str:
    return "\n".join(new if ln.startswith(prefix) else ln for ln in text.split("\n"))


def test_fingerprint_line_must_match(card: Card) -> None:
    bad = _edit_line(card.to_text(), "Fingerprint:", "Fingerprint: " + "0" * 40)
    with pytest.raises(FormatError, match="Fingerprint line"):
        Card.parse(bad)


def test_name_line_must_match(card: Card) -> None:
    bad = _edit_line(card.to_text(), "Name:", "Name: Dr Mallory")
    with pytest.raises(FormatError, match="Name line"):
        Card.parse(bad)


def test_role_and_expires_lines_must_match(card: Card) -> None:
    for prefix, line in (("Role:", "Role: gp"), ("Expires:", "Expires: 2099-01-01")):
        with pytest.raises(FormatError):
            Card.parse(_edit_line(card.to_text(), prefix, line))


def test_text_round_trip_name_ending_with_equals() -> None:
    c = Card.sign(SECRET, Profile("Dr A=", Role.GP), NOW)
    assert same(Card.parse(c.to_text()), c)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.replace(END, ""),
        lambda t: t.replace(BEGIN, "-----BEGIN CARD-----"),
        lambda t: "",
        lambda t: t.replace("\n\n", "\n\n!!!!\n"),
        lambda t: t[: t.index(END) - 10] + "\n" + END + "\n",
        lambda t: t.replace("\n\n", "\n\n" + base64.b64encode(b"junk").decode() + "\n"),
    ],
)
def test_mangled_text_refused(card: Card, mangle: Any) -> None:
    assert isinstance(_refused(mangle(card.to_text())), SecureMsgError)


def test_every_body_character_change_is_refused(card: Card) -> None:
    text = card.to_text()
    start = text.index("\n\n") + 2
    end = text.index(END)
    accepted = []
    for i in range(start, end):
        if text[i] == "\n":
            continue
        repl = "A" if text[i] != "A" else "B"
        if _refused(text[:i] + repl + text[i + 1 :]) is None:
            accepted.append(i)
    # base64 padding bits: a changed last character may decode to the same bytes
    assert all(_same_bytes(text, i) for i in accepted)


def _same_bytes(text: str, i: int) -> bool:
    repl = "A" if text[i] != "A" else "B"
    body = lambda t: "".join(t[t.index("\n\n") + 2 : t.index(END)].split())  # noqa: E731
    try:
        return base64.b64decode(body(text)) == base64.b64decode(
            body(text[:i] + repl + text[i + 1 :])
        )
    except ValueError:
        return False


def test_non_utf8_text_refused(card: Card) -> None:
    data = card.to_text().encode().replace(b"Name: Dr", b"Name: \xff\xfe")
    with pytest.raises(FormatError, match="UTF-8"):
        Card.parse(data)


def test_oversized_input_refused(card: Card) -> None:
    with pytest.raises(FormatError, match="too large"):
        Card.parse(card.to_text() + " " * MAX_CARD_TEXT)
    with pytest.raises(FormatError, match="too large"):
        Card.parse(card.encoded + bytes(MAX_CARD_TEXT))


# -- expiry -------------------------------------------------------------------------------


def test_check_current_window() -> None:
    c = Card.sign(SECRET, PROFILE, NOW, validity_days=10)
    c.check_current(NOW)
    c.check_current(NOW - 299)  # small clock skew tolerated
    c.check_current(c.expires - 1)
    assert not c.is_expired(c.expires - 1)
    assert c.is_expired(c.expires)


def test_expired_card_refused() -> None:
    c = Card.sign(SECRET, PROFILE, NOW - 400 * DAY, validity_days=365)
    with pytest.raises(ExpiredError, match="expired on") as info:
        c.check_current(NOW)
    assert info.value.exit_code == 3 and info.value.hint


def test_future_card_refused() -> None:
    c = Card.sign(SECRET, PROFILE, NOW + 3600)
    with pytest.raises(ExpiredError, match="future"):
        c.check_current(NOW)


def test_expired_card_still_parses() -> None:
    """Parsing checks the signature; expiry is the caller's policy (check_current)."""
    c = Card.sign(SECRET, PROFILE, NOW - 400 * DAY, validity_days=365)
    assert same(Card.parse(c.to_text()), c)


# -- signature and domain separation -----------------------------------------------------


@pytest.mark.parametrize("otype", [t for t in labels.COSE_TYPES if t != labels.COSE_CARD])
def test_card_payload_signed_as_another_type_refused(otype: str) -> None:
    data = sign_payload(good_payload(), otype=otype)
    with pytest.raises(SignatureError, match="not a card"):
        Card.verify(data)


def test_card_signature_under_another_type_label_refused(card: Card) -> None:
    obj = cose.parse(card.encoded)
    import cbor2

    relabelled = cbor.dumps(
        cbor2.CBORTag(
            18,
            [
                cose.protected_header(labels.COSE_CONSENT_GRANT, obj.kid),
                {},
                obj.payload,
                obj.signature,
            ],
        )
    )
    with pytest.raises(SignatureError):
        Card.verify(relabelled)


def test_signed_by_another_key_refused() -> None:
    """Payload names SECRET's keys, kid is SECRET's fingerprint, signature is OTHER's."""
    forged = cose.sign(
        OTHER.signing_key,
        labels.COSE_CARD,
        fingerprint(SECRET.sign_public),
        cbor.dumps(good_payload()),
    )
    with pytest.raises(SignatureError):
        Card.verify(forged)


def test_kid_must_match_signing_key() -> None:
    data = cose.sign(
        SECRET.signing_key,
        labels.COSE_CARD,
        fingerprint(OTHER.sign_public),
        cbor.dumps(good_payload()),
    )
    with pytest.raises(FormatError, match="key id"):
        Card.verify(data)


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"v": 2}, "version 2"),
        ({"v": None}, "no version"),
        ({"extra": 1}, "unknown field"),
        ({"enc_key": None}, "missing enc key"),
        ({"profile": None}, "missing profile"),
        ({"enc_key": b"x" * 31}, "short enc key"),
        ({"sign_key": SECRET.sign_public + b"\x00"}, "long sign key"),
        ({"created": NOW + 365 * DAY}, "created == expires"),
        ({"created": NOW + 400 * DAY}, "created after expires"),
        ({"created": 0}, "created zero"),
        ({"created": -5}, "created negative"),
        ({"expires": 2**41}, "too far"),
        ({"created": True}, "boolean date"),
        ({"created": float(NOW)}, "float date"),
        ({"test_key": False}, "test_key false"),
        ({"test_key": 1}, "test_key 1"),
        ({"profile": {"name": "Paul", "role": "patient", "rpps": "10003456786"}}, "patient RPPS"),
        ({"profile": {"name": "Dr\u202eA", "role": "gp"}}, "bidi name"),
        ({"profile": {"name": "Dr A", "role": "surgeon"}}, "bad role"),
        ({"profile": ["Dr A", "gp"]}, "profile not a map"),
    ],
)
def test_signed_but_invalid_payloads_refused(changes: dict[str, Any], why: str) -> None:
    with pytest.raises(FormatError):
        Card.verify(sign_payload(good_payload(**changes)))


def test_payload_not_a_map_refused() -> None:
    for payload in ([1, 2], 1, "card"):
        with pytest.raises(FormatError):
            Card.verify(sign_payload(payload))


def test_non_canonical_payload_refused_even_if_signed() -> None:
    canonical = cbor.dumps(good_payload())
    # re-encode the top map with its keys in insertion (non-canonical) order
    import cbor2

    raw = cbor2.dumps(dict(reversed(list(good_payload().items()))))
    assert raw != canonical
    with pytest.raises(FormatError, match="canonical"):
        Card.verify(sign_payload(raw))


def test_deeply_nested_payload_refused_without_recursion_error() -> None:
    deep = b"\x81" * 100_000 + b"\x00"
    with pytest.raises(FormatError):
        Card.verify(sign_payload(deep))
    with pytest.raises(FormatError):
        Card.parse(b"\xd2" + b"\x81" * 60_000 + b"\x00")


# -- properties ---------------------------------------------------------------------------

name_chars = st.characters(
    codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
)


def _profile(name: str, role: Role) -> Profile | None:
    try:
        return Profile(name, role)
    except InvalidValue:
        return None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.text(name_chars, min_size=1, max_size=60),
    role=st.sampled_from(list(Role)),
    quote=st.booleans(),
    crlf=st.booleans(),
)
def test_property_text_round_trip(name: str, role: Role, quote: bool, crlf: bool) -> None:
    profile = _profile(name, role)
    assume(profile is not None)
    assert profile is not None
    assume(
        not profile.name.endswith("=")
    )  # known bug, see test_text_round_trip_name_ending_with_equals
    c = Card.sign(SECRET, profile, NOW)
    text = c.to_text()
    if quote:
        text = "".join(f"> {ln}\n" for ln in text.splitlines())
    if crlf:
        text = text.replace("\n", "\r\n")
    assert same(Card.parse(text), c)


@pytest.fixture(scope="module")
def encoded_cards() -> list[bytes]:
    return [
        Card.sign(SECRET, PROFILE, NOW).encoded,
        Card.sign(OTHER, PATIENT, NOW, test_key=True).encoded,
    ]


MUTATIONS = ("flip", "set", "truncate", "delete", "insert", "duplicate", "swap", "append")


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_property_any_mutation_is_rejected_or_yields_an_identical_card(data: st.DataObject) -> None:
    original = (
        Card.sign(SECRET, PROFILE, NOW)
        if data.draw(st.booleans())
        else Card.sign(OTHER, PATIENT, NOW, test_key=True)
    )
    enc = original.encoded
    n = len(enc)
    kind = data.draw(st.sampled_from(MUTATIONS))
    i = data.draw(st.integers(0, n - 1))
    j = data.draw(st.integers(i + 1, n))
    if kind == "flip":
        bad = tamper.flip(enc, i, data.draw(st.integers(1, 255)))
    elif kind == "set":
        bad = tamper.set_byte(enc, i, data.draw(st.integers(0, 255)))
    elif kind == "truncate":
        bad = tamper.truncate(enc, i)
    elif kind == "delete":
        bad = tamper.delete(enc, i, j)
    elif kind == "insert":
        bad = tamper.insert(enc, i, data.draw(st.binary(min_size=1, max_size=16)))
    elif kind == "duplicate":
        bad = tamper.duplicate(enc, i, j)
    elif kind == "swap":
        k = data.draw(st.integers(0, max(0, n - j - 1)))
        assume(j + k < n)
        bad = tamper.swap(enc, (i, j), (j + k, n))
    else:
        bad = tamper.append(enc, data.draw(st.binary(min_size=1, max_size=16)))
    try:
        got = Card.parse(bad)
    except SecureMsgError:
        return
    assert same(Card.verify(got.encoded), original) and got.encoded == enc


def test_non_canonical_base64_body_refused() -> None:
    """Set padding bits decode to the same bytes: another text for the same card
    must still be refused (found by the mutation sweep)."""
    b64alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    for n in range(3):  # some name length gives a body with padding
        c = Card.sign(SECRET, Profile("Dr A" + "x" * n, Role.GP), NOW)
        b64 = base64.b64encode(c.encoded).decode()
        if b64.endswith("="):
            break
    else:
        raise AssertionError("no padded body found")
    data = b64.rstrip("=")
    last = data[-1]
    twin = data[:-1] + b64alpha[b64alpha.index(last) ^ 1] + b64[len(data) :]
    assert base64.b64decode(twin) == c.encoded  # the same bytes...
    text = c.to_text()
    tail = b64[-16:]
    assert tail in text
    forged = text.replace(tail, twin[-16:])
    with pytest.raises(FormatError, match="canonical base64"):  # ...yet refused
        Card.parse(forged)
