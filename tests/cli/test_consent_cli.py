"""securemsg consent ... from the command line: every refusal is exit 3, names its
rule, and leaves every home's database unchanged."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import cbor2
import pytest
from pycose.headers import KID, Algorithm, ContentType
from pycose.keys.curves import Ed25519
from pycose.keys.okp import OKPKey
from pycose.messages import Sign1Message

from securemsg.core import cbor, cose, labels
from securemsg.core.consent import Grant, Recipient
from securemsg.core.domains import Purpose
from securemsg.core.identity import Role

World = Any  # tests/cli/conftest.py: World

DAY = 86400


def grant(
    world: World, *extra: str, name: str = "g.cose", to: tuple[str, ...] = ("nurse",)
) -> Path:
    out = world.path(name)
    tos = [a for t in to for a in ("--to", t)]
    res = world.run(
        "patient", "consent", "grant", "--yes", "--from", "Dr Alice Martin", *tos,
        "--purpose", "referral", *extra, "-o", str(out),
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    return out


def core_grant(world: World, now: int, valid_for: int = 90 * DAY) -> Path:
    g = Grant.sign(
        world.secret("patient"),
        world.card("patient"),
        sender_fp=world.card("gp").fingerprint,
        recipients=[Recipient(role=Role.NURSE)],
        purpose=Purpose.REFERRAL,
        now=now,
        valid_for=valid_for,
    )
    out = world.path("core-grant.cose")
    out.write_bytes(g.encoded)
    return out


# -- the happy path ----------------------------------------------------------------
def test_grant_show_json(world: World) -> None:
    g = grant(world, "--exclude", "insurance", "--valid-for", "30d")
    res = world.run("gp", "--json", "consent", "show", str(g))
    assert res.exit_code == 0, res.stderr
    doc = res.json()
    assert doc["schema"] == "securemsg.consent/1"
    assert doc["kind"] == "grant" and doc["status"] == "valid"
    assert doc["from"] == {"fingerprint": world.card("gp").fingerprint, "name": "Dr Alice Martin"}
    assert doc["to"] == [{"role": "nurse"}]
    assert doc["exclude"] == ["insurance"]
    assert "insurance" not in doc["domains"]
    assert doc["patient"]["fingerprint"] == world.card("patient").fingerprint
    assert any("Dr Alice Martin" in line for line in doc["explanation"])
    assert g.stat().st_mode & 0o777 == 0o600


def test_show_check_accepts(world: World) -> None:
    g = grant(world)
    res = world.run("gp", "--json", "consent", "show", str(g), "--recipient", "Nina Petit",
                    "--domain", "nursing")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    check = res.json()["check"]
    assert check["decision"] == "accept" and check["basis"] == "consent"
    assert check["allowed"][0]["domains"] == ["nursing", "administrative"]


def test_patient_keeps_record_and_list(world: World) -> None:
    grant(world)
    res = world.run("patient", "--json", "consent", "list")
    assert res.exit_code == 0
    consents = res.json()["consents"]
    assert [c["kind"] for c in consents] == ["grant"]
    assert consents[0]["recorded_here"] is True


def test_text_output(world: World) -> None:
    g = grant(world)
    res = world.run("gp", "consent", "show", str(g))
    assert res.exit_code == 0
    assert "Paul Durand allows Dr Alice Martin" in res.stdout
    assert "any nurse" in res.stdout


def test_no_patient_data_in_clear(world: World, db_dump: Any) -> None:
    g = grant(world)
    world.run("gp", "consent", "import", str(g))
    raw = (world.home("gp") / "securemsg.db").read_bytes()
    for h in world.homes.values():
        for f in h.glob("securemsg.db*"):
            raw += f.read_bytes()
    assert b"Paul Durand" not in raw and b"170017512345665" not in raw
    # the consents table keys the patient by a blind index, not by fingerprint
    consents = dict(db_dump(world.home("gp")))["consents"]
    assert len(consents) == 1
    assert world.card("patient").fingerprint not in repr(consents)


def test_import_revocation_then_show_revoked(world: World, refused: Any) -> None:
    g = grant(world)
    rev = world.path("r.cose")
    assert world.run("patient", "consent", "revoke", str(g), "-o", str(rev)).exit_code == 0
    res = world.run("gp", "--json", "consent", "import", str(rev))
    assert res.exit_code == 0, res.stderr
    assert res.json()["import"] == "added"
    again = world.run("gp", "--json", "consent", "import", str(rev))
    assert again.json()["import"] == "unchanged"
    err = refused("gp", "consent", "show", str(g), rule="revoked")
    assert "revoked" in err["message"]


def test_refuse_overwrite(world: World) -> None:
    out = world.path("exists.cose")
    out.write_bytes(b"keep")
    res = world.run("patient", "consent", "object", "--to", "nurse", "-o", str(out))
    assert res.exit_code == 2
    assert out.read_bytes() == b"keep"


def test_bad_duration_and_unknown_domain(world: World) -> None:
    out = world.path("x.cose")
    for extra in (["--valid-for", "soon"], ["--domain", "dentistry"], ["--purpose", "gossip"]):
        args = ["consent", "grant", "--from", "Dr Alice Martin", "--to", "nurse"]
        if extra[0] != "--purpose":
            args += ["--purpose", "referral"]
        res = world.run("patient", *args, *extra, "-o", str(out))
        assert res.exit_code == 2, (extra, res.stderr)
    assert not out.exists()


# -- every refusal, from the command line --------------------------------------------
def test_not_a_patient(world: World, refused: Any) -> None:
    out = world.path("x.cose")
    for args in (
        ["grant", "--from", "Nina Petit", "--to", "nurse", "--purpose", "referral"],
        ["object", "--to", "nurse"],
    ):
        refused("gp", "consent", *args, "-o", str(out), rule="not_a_patient")
    assert not out.exists()


def test_bad_signature_any_tamper(world: World, refused: Any) -> None:
    g = grant(world)
    data = bytearray(g.read_bytes())
    data[-5] ^= 0x01  # inside the signature
    g.write_bytes(bytes(data))
    refused("gp", "consent", "show", str(g), rule="bad_signature")
    refused("gp", "consent", "import", str(g), rule="bad_signature")


def test_wrong_object_type(world: World) -> None:
    """A card given to consent show is named, with the command that takes it."""
    card_bin = world.path("card.bin")
    card_bin.write_bytes(world.card("patient").encoded)
    res = world.run("gp", "--json", "consent", "show", str(card_bin))
    assert res.exit_code == 2
    err = json.loads(res.stderr)
    assert err["error"] == "wrong_command"
    assert "is a contact card, not a consent" in err["message"]
    assert "securemsg contacts add" in err["hint"]


def test_malformed(world: World, refused: Any) -> None:
    junk = world.path("junk")
    junk.write_bytes(b"not a consent at all")
    refused("gp", "consent", "import", str(junk), rule="malformed")


def test_signer_not_patient(world: World, refused: Any) -> None:
    # The GP signs a "grant" with their own key: never a consent.
    payload = cbor.loads(cose.parse(grant(world).read_bytes()).payload, "p")
    gp = world.secret("gp")
    kid = bytes.fromhex(world.card("gp").fingerprint)
    forged = world.path("forged.cose")
    forged.write_bytes(
        cose.sign(gp.signing_key, labels.COSE_CONSENT_GRANT, kid, cbor.dumps(payload))
    )
    refused("nurse", "consent", "import", str(forged), rule="signer_not_patient")


def test_unknown_patient(world: World, refused: Any) -> None:
    g = grant(world)
    refused("physio", "consent", "import", str(g), rule="unknown_patient")


def test_sender_not_allowed(world: World, refused: Any) -> None:
    g = grant(world)
    refused("gp", "consent", "show", str(g), "--sender", "Nina Petit", "--recipient", "Nina Petit",
            rule="sender_not_allowed")  # fmt: skip


def test_recipient_not_allowed(world: World, refused: Any) -> None:
    g = grant(world)
    err = refused("gp", "consent", "show", str(g), "--recipient", "Kim Leroy",
                  rule="recipient_not_allowed")  # fmt: skip
    assert err["party"] == world.card("physio").fingerprint
    assert "Kim Leroy" in err["message"]


def test_purpose_not_allowed(world: World, refused: Any) -> None:
    g = grant(world)
    err = refused("gp", "consent", "show", str(g), "--purpose", "dossier-transfer",
                  "--recipient", "Nina Petit", rule="purpose_not_allowed")  # fmt: skip
    assert "referral" in err["message"] and "dossier-transfer" in err["message"]


def test_domain_excluded(world: World, refused: Any) -> None:
    g = grant(world, "--exclude", "nursing")
    err = refused("gp", "consent", "show", str(g), "--recipient", "Nina Petit",
                  "--domain", "nursing", rule="domain_excluded")  # fmt: skip
    assert "nursing" in err["message"]


def test_domain_not_granted(world: World, refused: Any) -> None:
    g = grant(world, "--domain", "administrative")
    err = refused("gp", "consent", "show", str(g), "--recipient", "Nina Petit",
                  "--domain", "nursing", rule="domain_not_granted")  # fmt: skip
    assert "nursing" in err["message"]


def test_domain_not_for_role(world: World, refused: Any) -> None:
    g = grant(world)
    refused("gp", "consent", "show", str(g), "--recipient", "Nina Petit", "--domain", "medical",
            rule="domain_not_for_role")  # fmt: skip


def test_expired(world: World, refused: Any) -> None:
    g = core_grant(world, int(time.time()) - 100 * DAY)
    res = world.run("gp", "--json", "consent", "show", str(g))
    assert res.json()["status"] == "expired"
    err = refused("gp", "consent", "show", str(g), rule="expired")
    assert "expired on" in err["message"]
    refused("gp", "consent", "show", str(g), "--recipient", "Nina Petit", rule="expired")


def test_not_yet_valid(world: World, refused: Any) -> None:
    g = core_grant(world, int(time.time()) + 10 * DAY)
    refused("gp", "consent", "show", str(g), rule="not_yet_valid")
    refused("gp", "consent", "show", str(g), "--recipient", "Nina Petit", rule="not_yet_valid")


def test_letter_binding_is_replaced_by_drafts(world: World) -> None:
    """``--letter`` bound only the Markdown source: refused, pointing to --draft."""
    letter = world.path("letter.md")
    letter.write_text("# Referral\nDear colleague, ...\n")
    g = grant(world)
    res = world.run("gp", "consent", "show", str(g), "--recipient", "Nina Petit",
                    "--letter", str(letter))  # fmt: skip
    assert res.exit_code == 2, res.stderr
    assert "no longer supported" in res.stderr


def test_revoked_check(world: World, refused: Any) -> None:
    g = grant(world)
    rev = world.path("r.cose")
    assert world.run("patient", "consent", "revoke", str(g), "-o", str(rev)).exit_code == 0
    assert world.run("gp", "consent", "import", str(rev)).exit_code == 0
    refused("gp", "consent", "show", str(g), "--recipient", "Nina Petit", rule="revoked")


@pytest.mark.parametrize("target", ["nurse", "Nina Petit"])
def test_recipient_objected(world: World, refused: Any, target: str) -> None:
    g = grant(world)
    obj = world.path("o.cose")
    assert world.run("patient", "consent", "object", "--to", target, "-o", str(obj)).exit_code == 0
    res = world.run("gp", "--json", "consent", "import", str(obj))
    assert res.exit_code == 0, res.stderr
    err = refused("gp", "consent", "show", str(g), "--recipient", "Nina Petit",
                  rule="recipient_objected")  # fmt: skip
    assert err["party"] == world.card("nurse").fingerprint


def test_revoke_someone_elses_grant(world: World, refused: Any) -> None:
    g = grant(world)
    out = world.path("r.cose")
    refused("other", "consent", "revoke", str(g), "-o", str(out), rule="signer_not_patient")
    assert not out.exists()


# -- independent COSE implementation (pycose) -----------------------------------------
def _okp_public(world: World, label: str) -> OKPKey:
    return OKPKey(crv=Ed25519, x=world.card(label).sign_public)


def pycose_decode(data: bytes) -> Sign1Message:
    """Sign1Message.decode, working around pycose 1.1 expecting the mutable list/dict
    that cbor2 < 6 returned (cbor2 6 gives tuples and frozen maps)."""
    tagged = cbor2.loads(data)
    assert tagged.tag == 18
    protected, unprotected, payload, signature = tagged.value
    msg = Sign1Message.from_cose_obj([protected, dict(unprotected), payload, signature], True)
    assert isinstance(msg, Sign1Message)
    return msg


@pytest.mark.parametrize("kind", ["grant", "revoke", "object"])
def test_pycose_verifies_cli_objects(world: World, kind: str) -> None:
    g = grant(world)
    target = g
    if kind != "grant":
        target = world.path(f"{kind}.cose")
        args = [str(g)] if kind == "revoke" else ["--to", "nurse"]
        assert world.run("patient", "consent", kind, *args, "-o", str(target)).exit_code == 0
    msg = pycose_decode(target.read_bytes())
    msg.key = _okp_public(world, "patient")
    assert msg.verify_signature()
    assert msg.phdr[ContentType] in labels.COSE_TYPES
    assert msg.phdr[KID] == bytes.fromhex(world.card("patient").fingerprint)
    # and pycose refuses a single flipped payload bit
    data = target.read_bytes()
    payload = cose.parse(data).payload
    tampered = bytearray(data)
    tampered[data.index(payload) + len(payload) - 1] ^= 0x01
    msg2 = pycose_decode(bytes(tampered))
    msg2.key = _okp_public(world, "patient")
    assert not msg2.verify_signature()


def test_pycose_made_grant_parses(world: World) -> None:
    ours = grant(world).read_bytes()
    payload = cose.parse(ours).payload
    secret = world.secret("patient")
    card = world.card("patient")
    msg = Sign1Message(
        phdr={
            Algorithm: -8,
            ContentType: labels.COSE_CONSENT_GRANT,
            KID: bytes.fromhex(card.fingerprint),
        },
        payload=payload,
    )
    msg.key = OKPKey(crv=Ed25519, d=secret.sign_seed, x=card.sign_public)
    encoded = msg.encode(tag=True)
    parsed = Grant.verify(encoded, card)
    assert parsed.id == Grant.verify(ours, card).id
    path = world.path("pycose.cose")
    path.write_bytes(encoded)
    res = world.run("gp", "--json", "consent", "show", str(path))
    assert res.exit_code == 0, res.stderr
