"""Every refusal at receive: exit 3, the specific error or consent rule, and no home
changed. Envelopes the sender's tool would never write are crafted with core."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from letterworld import (
    LETTER,
    M,
    N,
    RefusedCheck,
    World,
    age_decrypt,
    age_encrypt,
    replace_items,
)

from securemsg.core import cbor, cose, frozen, labels
from securemsg.core.card import Card
from securemsg.core.consent import Grant, Recipient
from securemsg.core.domains import Domain, Purpose
from securemsg.core.identity import Profile

DAY = 86400


def _grant(world: World, **kw: object) -> bytes:
    args: dict[str, object] = {
        "sender_fp": world.fp("gp"),
        "recipients": [Recipient(fp=world.fp("card")), Recipient(fp=world.fp("nurse"))],
        "purpose": Purpose.REFERRAL,
        "now": int(time.time()),
    }
    args.update(kw)
    g = Grant.sign(world.secret("pat"), world.card("pat"), **args)  # type: ignore[arg-type]
    return g.encoded


def _card_file(world: World, role: str) -> Path:
    return next(
        Path(o["file"])
        for o in world.send("-o", world.path("outbox"))["outputs"]
        if o["role"] == role
    )


# -- who sent it, and to whom -------------------------------------------------------------
def test_unknown_sender(world: World, refused_at_receive: RefusedCheck) -> None:
    # the outsider is not one of the nurse's contacts
    f = world.craft("nurse", author="out", to=(("nurse", frozenset({N})),))
    row = refused_at_receive("nurse", f, error="unknown_sender", match="not one of your contacts")
    assert "contacts add" in row["hint"]
    assert row["notice"] is False  # no refusal notice for a stranger
    assert row["kept_aside"] is True  # received once the author is added (test_kept_aside.py)


def test_forged_manifest_signature_flipped(world: World, refused_at_receive: RefusedCheck) -> None:
    planned = world.plan()
    m = planned.manifest
    forged = frozen.replace(m, encoded=m.encoded[:-1] + bytes([m.encoded[-1] ^ 1]))
    data = world.envelope(frozen.replace(planned, manifest=forged), "card")
    refused_at_receive("card", world.write("f.smsg", data), error="bad_signature")


def test_forged_manifest_signed_by_another_key(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    """The outsider widens the nurse's domains and signs under the GP's key id."""
    planned = world.plan(to=(("nurse", frozenset({N})),))
    m = planned.manifest
    payload = m.to_payload()
    payload["recipients"][0]["domains"] = ["medical", "nursing"]
    encoded = cose.sign(
        world.secret("out").signing_key,
        labels.COSE_LETTER_MANIFEST,
        bytes.fromhex(world.fp("gp")),
        cbor.dumps(payload),
    )
    forged = frozen.replace(m, encoded=encoded)
    data = world.envelope(frozen.replace(planned, manifest=forged), "nurse", frozenset({N}))
    refused_at_receive("nurse", world.write("f.smsg", data), error="bad_signature")


def test_payload_byte_flip(world: World, refused_at_receive: RefusedCheck) -> None:
    data = world.envelope(world.plan(), "card")
    for i in (len(data) - 20, len(data) // 2):
        f = world.write(f"flip{i}.smsg", data[:i] + bytes([data[i] ^ 0x40]) + data[i + 1 :])
        refused_at_receive("card", f, error="age_payload")


def test_header_byte_flip(world: World, refused_at_receive: RefusedCheck) -> None:
    data = world.envelope(world.plan(), "card")
    i = data.index(b"\n---") - 3  # inside the last stanza body
    f = world.write("hflip.smsg", data[:i] + bytes([data[i] ^ 1]) + data[i + 1 :])
    row = refused_at_receive("card", f)
    assert row["error"].startswith("age") or row["error"] == "not_for_me", row


def test_reencrypted_by_recipient_to_third_party(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    f = _card_file(world, "specialist")
    assert world.ok("card", "receive", f)["results"][0]["status"] == "accepted"
    plain = age_decrypt(world.secret("card"), f.read_bytes())
    forwarded = world.write("fwd.smsg", age_encrypt(world.card("out"), plain))
    row = refused_at_receive(
        "out", forwarded, error="refused", match="addressed by its author to someone else"
    )
    assert "re-encrypted" in row["detail"]


def test_reencrypted_to_same_recipient_new_header(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    f = _card_file(world, "specialist")
    plain = age_decrypt(world.secret("card"), f.read_bytes())
    again = world.write("again.smsg", age_encrypt(world.card("card"), plain))
    refused_at_receive("card", again, error="refused", match="re-encrypted")


def test_not_an_intended_recipient(world: World, refused_at_receive: RefusedCheck) -> None:
    """The author seals an envelope to the outsider, who is not in the manifest."""
    planned = world.plan(to=(("card", frozenset({M, N})),))
    data = world.envelope(planned, "out", frozenset({M, N}))
    refused_at_receive(
        "out", world.write("x.smsg", data), match="not among the letter's intended recipients"
    )


def test_not_encrypted_to_me(world: World, refused_at_receive: RefusedCheck) -> None:
    f = _card_file(world, "specialist")
    refused_at_receive("nurse", f, error="not_for_me")


# -- consent at receive -----------------------------------------------------------------
def test_expired_consent(world: World, refused_at_receive: RefusedCheck) -> None:
    old = _grant(world, now=int(time.time()) - 30 * DAY, valid_for=DAY)
    world.write("expired.cose", old)
    # the sender's tool refuses first
    before = world.snap()
    res = world.run(
        "gp",
        "--json",
        "send",
        world.path("letter.md"),
        "--to",
        "Bob",
        "--kind",
        "referral",
        "--patient",
        "Jeanne",
        "--consent",
        world.path("expired.cose"),
        "--drop",
        world.drop,
    )
    assert res.exit_code == 3 and res.error_json()["rule"] == "expired", res.stderr
    assert world.snap() == before and not any(world.drop.rglob("*.smsg"))
    # and so does the recipient
    f = world.craft("card", consent=old)
    refused_at_receive("card", f, error="consent_refused", rule="expired")


def test_revoked_consent_imported_before_receiving(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    f = _card_file(world, "specialist")  # sent while the consent held
    world.ok("pat", "consent", "revoke", world.path("consent.cose"), "-o", world.path("rev.cose"))
    world.ok("card", "consent", "import", world.path("rev.cose"))
    refused_at_receive("card", f, error="consent_refused", rule="revoked")
    # the sender, once it knows, refuses to send
    world.ok("gp", "consent", "import", world.path("rev.cose"))
    before = world.snap()
    res = world.run(
        "gp",
        "--json",
        "send",
        world.path("letter.md"),
        "--to",
        "Bob",
        "--kind",
        "referral",
        "--patient",
        "Jeanne",
        "--consent",
        world.path("consent.cose"),
        "--drop",
        world.drop,
    )
    assert res.exit_code == 3 and res.error_json()["rule"] == "revoked"
    assert world.snap() == before


def test_objection_imported_before_receiving(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    f = _card_file(world, "specialist")
    world.ok("pat", "consent", "object", "--to", "Bob", "-o", world.path("obj.cose"))
    world.ok("card", "consent", "import", world.path("obj.cose"))
    refused_at_receive("card", f, error="consent_refused", rule="recipient_objected")
    world.ok("gp", "consent", "import", world.path("obj.cose"))
    before = world.snap()
    res = world.run(
        "gp",
        "--json",
        "send",
        world.path("letter.md"),
        "--to",
        "Bob",
        "--kind",
        "referral",
        "--patient",
        "Jeanne",
        "--consent",
        world.path("consent.cose"),
        "--drop",
        world.drop,
    )
    assert res.exit_code == 3 and res.error_json()["rule"] == "recipient_objected"
    assert world.snap() == before


def test_wrong_patient(world: World, refused_at_receive: RefusedCheck) -> None:
    before = world.snap()
    res = world.run(
        "gp",
        "--json",
        "send",
        world.path("letter.md"),
        "--to",
        "Bob",
        "--kind",
        "referral",
        "--patient",
        "Marc",
        "--consent",
        world.path("consent.cose"),
        "--drop",
        world.drop,
    )
    assert res.exit_code == 3, res.stderr
    sender_rule = res.error_json()["rule"]
    assert world.snap() == before
    # Jeanne's consent in a letter about Marc (whose card travels in the envelope)
    planned = world.plan(patient="pat2")
    data = world.envelope(planned, "card", patient="pat2")
    row = refused_at_receive("card", world.write("wp.smsg", data), error="consent_refused")
    assert row["rule"] == sender_rule == "signer_not_patient", row


def test_sender_not_allowed(world: World, refused_at_receive: RefusedCheck) -> None:
    # the consent lets Alice send; Bob tries with it
    before = world.snap()
    res = world.run(
        "card",
        "--json",
        "send",
        world.path("letter.md"),
        "--to",
        "Claire",
        "--kind",
        "referral",
        "--patient",
        "Jeanne",
        "--consent",
        world.path("consent.cose"),
        "--drop",
        world.drop,
    )
    assert res.exit_code == 3 and res.error_json()["rule"] == "sender_not_allowed", res.stderr
    assert world.snap() == before
    f = world.craft("nurse", author="card", to=(("nurse", frozenset({N})),))
    refused_at_receive("nurse", f, error="consent_refused", rule="sender_not_allowed")


def test_recipient_not_allowed(world: World, refused_at_receive: RefusedCheck) -> None:
    before = world.snap()
    res = world.run(
        "gp",
        "--json",
        "send",
        world.path("letter.md"),
        "--to",
        "Bob",
        "--to",
        "Oscar",
        "--kind",
        "referral",
        "--patient",
        "Jeanne",
        "--consent",
        world.path("consent.cose"),
        "--drop",
        world.drop,
    )
    assert res.exit_code == 3 and res.error_json()["rule"] == "recipient_not_allowed", res.stderr
    assert res.error_json()["party"] == world.fp("out")
    assert world.snap() == before and not any(world.drop.rglob("*.smsg"))
    f = world.craft("out")
    refused_at_receive("out", f, error="consent_refused", rule="recipient_not_allowed")


def test_purpose_not_allowed(world: World, refused_at_receive: RefusedCheck) -> None:
    before = world.snap()
    res = world.run(
        "gp",
        "--json",
        "send",
        world.path("letter.md"),
        "--to",
        "Bob",
        "--kind",
        "hospital-report",
        "--patient",
        "Jeanne",
        "--consent",
        world.path("consent.cose"),
        "--drop",
        world.drop,
    )
    assert res.exit_code == 3 and res.error_json()["rule"] == "purpose_not_allowed", res.stderr
    assert world.snap() == before
    f = world.craft("card", kind=Purpose.HOSPITAL_REPORT)
    refused_at_receive("card", f, error="consent_refused", rule="purpose_not_allowed")


def test_domain_not_granted(world: World, refused_at_receive: RefusedCheck) -> None:
    narrow = _grant(world, domains=[Domain.NURSING])
    world.write("narrow.cose", narrow)
    # the sender's tool withholds what the consent does not grant
    sent = world.ok(
        "gp",
        "send",
        world.path("letter.md"),
        "--to",
        "Bob",
        "--kind",
        "referral",
        "--patient",
        "Jeanne",
        "--consent",
        world.path("narrow.cose"),
        "-o",
        world.path("outbox"),
    )
    card_out = next(o for o in sent["outputs"] if o["role"] == "specialist")
    assert card_out["domains"] == ["nursing"]
    assert {"recipient": "Dr Bob Durand", "domains": ["medical"]} in sent["withheld"]
    # a crafted letter disclosing medical under it is refused
    f = world.craft("card", consent=narrow)
    refused_at_receive("card", f, error="consent_refused", rule="domain_not_granted")


def test_domain_excluded(world: World, refused_at_receive: RefusedCheck) -> None:
    excl = _grant(world, exclude=[Domain.MEDICAL])
    f = world.craft("card", consent=excl)
    refused_at_receive("card", f, error="consent_refused", rule="domain_excluded")


def test_domain_outside_role(world: World, refused_at_receive: RefusedCheck) -> None:
    f = world.craft("nurse", to=(("nurse", frozenset({M, N})),))
    refused_at_receive("nurse", f, error="consent_refused", rule="domain_not_for_role")


def test_consent_missing_from_envelope(world: World, refused_at_receive: RefusedCheck) -> None:
    planned = world.plan()
    data = world.envelope(planned, "card", consent=None)
    refused_at_receive(
        "card", world.write("nc.smsg", data), error="consent_refused", rule="bad_signature"
    )


def test_other_consent_than_signed(world: World, refused_at_receive: RefusedCheck) -> None:
    planned = world.plan()  # names consent.cose's digest
    data = world.envelope(planned, "card", consent=_grant(world))
    refused_at_receive(
        "card", world.write("oc.smsg", data), error="consent_refused", rule="bad_signature"
    )


def test_emergency_basis_on_a_referral(world: World, refused_at_receive: RefusedCheck) -> None:
    f = world.craft("card", basis="emergency")
    refused_at_receive("card", f, error="consent_refused", rule="purpose_not_allowed")


def test_pseudonymous_letter_that_names_patient_is_malformed(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    with pytest.raises(Exception, match="pseudonym"):
        world.plan(basis="pseudonymous", pseudonym="x", kind=Purpose.TELE_EXPERTISE)


# -- content ------------------------------------------------------------------------------
def test_tampered_section(world: World, refused_at_receive: RefusedCheck) -> None:
    planned = world.plan()
    n = next(i.n for i, o in planned.items if o.name == "History")
    evil = b"## History\nNo angina at all.\n"
    data = world.envelope(replace_items(planned, n, evil), "card")
    refused_at_receive(
        "card", world.write("t.smsg", data), match="does not match its signed digest"
    )


def test_tampered_attachment(world: World, refused_at_receive: RefusedCheck) -> None:
    pdf = b"%PDF-1.4 " + bytes(range(256)) * 100
    planned = world.plan(attachments=[("scan.pdf", M, pdf)])
    n = planned.items[-1][0].n
    evil = pdf[:-1] + b"X"
    data = world.envelope(replace_items(planned, n, evil), "card")
    refused_at_receive(
        "card", world.write("t.smsg", data), match="does not match its signed digest"
    )


def test_missing_item(world: World, refused_at_receive: RefusedCheck) -> None:
    planned = world.plan()
    short = frozen.replace(planned, items=planned.items[:-1])
    data = world.envelope(short, "card")
    refused_at_receive("card", world.write("m.smsg", data), match="missing from the envelope")


def test_replay_same_id_other_content(world: World, refused_at_receive: RefusedCheck) -> None:
    f = _card_file(world, "specialist")
    doc = world.ok("card", "receive", f)
    mid = doc["results"][0]["message_id"]
    planned = world.plan(text=LETTER.replace("daily", "weekly"))
    m = frozen.replace(planned.manifest, message_id=bytes.fromhex(mid)).sign(world.secret("gp"))
    data = world.envelope(frozen.replace(planned, manifest=m), "card")
    refused_at_receive(
        "card", world.write("replay.smsg", data), error="replayed", match="already received"
    )


def test_letter_from_replaced_key(world: World, refused_at_receive: RefusedCheck) -> None:
    f = _card_file(world, "specialist")  # signed with the GP's current key
    from securemsg.core.testkeys import derive_test_identity

    new = Card.sign(
        derive_test_identity("letters-tests/gp-new"),
        Profile(name="Dr Alice Martin", role=world.card("gp").profile.role),
        int(time.time()) - 5,
        test_key=True,
    )
    world.write("gp-new.card", new.to_text().encode())
    world.ok("card", "contacts", "add", "--replace", world.path("gp-new.card"))
    refused_at_receive("card", f, error="refused", match="replaced")


def test_refusal_notice_carries_no_patient_identity(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    """A notice travels in clear through the drop folder: rule yes, names no."""
    planned = world.plan(patient="pat2")
    data = world.envelope(planned, "card", patient="pat2")
    row = refused_at_receive("card", world.write("wp.smsg", data), rule="signer_not_patient")
    raw = Path(row["proof_file"]).read_bytes()
    for s in ("Jeanne", "Dupont", "Marc Autre", "1960-01-01", "1950-03-02"):
        assert s.encode() not in raw, s
    from securemsg.core.letter.proofs import Refusal

    notice = Refusal.verify(raw, world.card("card"))
    assert notice.rule == "signer_not_patient"
    assert notice.message_id == planned.manifest.message_id


def test_envelope_discloses_more_than_manifest_grants(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    """The author's tool puts medical items in the nurse's envelope: refused, and
    nothing of it stays in her mailbox."""
    planned = world.plan(to=(("nurse", frozenset({N})),))
    data = world.envelope(planned, "nurse", frozenset({M, N}))
    refused_at_receive("nurse", world.write("over.smsg", data), match="does not grant you")
    assert not any((world.home("nurse") / "mail").rglob("*.smsg"))
