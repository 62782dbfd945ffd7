"""Item 3 of issue 5: the attack catalogue, from the command line.

Only the attacks that tests/letters does not already cover (see
docs/security-testing.md for the map). Each crafts a file with ``core`` and the
PUBLIC TEST KEYS of the world, runs the real command (``securemsg receive``,
``contacts add``, ``consent import``, ``send``...) and checks the exit status,
the error and that no home changed.

The cases marked ``@BOTH_WAYS`` run twice: in-process, and through the installed
``securemsg`` executable as a child process (tests/clirun.py), so the entry point a
user runs meets the same hostile input.
"""

from __future__ import annotations

import io
import time
import unicodedata
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hostile_kit import World

import reference
from securemsg.core import age, cbor, cose, frozen, labels
from securemsg.core.age.hazmat import x25519
from securemsg.core.age.hazmat.file import read_header, unwrap_file_key
from securemsg.core.age.hazmat.header import Header, b64encode_raw, compute_mac, encode_without_mac
from securemsg.core.card import Card
from securemsg.core.domains import Domain
from securemsg.core.fingerprint import fingerprint
from securemsg.core.identity import Profile, Role
from securemsg.core.letter.container import (
    BINDING,
    END,
    ITEM_BODY,
    ITEM_HEAD,
    MANIFEST,
    OutItem,
    record_head,
    small_record,
)
from securemsg.core.letter.manifest import Item
from securemsg.core.letter.proofs import Binding
from securemsg.core.testkeys import derive_test_identity

MEDICAL, NURSING = Domain.MEDICAL, Domain.NURSING
LOW_ORDER = bytes(32)  # the identity point; X25519 with it is all zeros
# A point of order 8 on Curve25519 (from the libsodium blocklist).
ORDER_8 = bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")
BOTH_WAYS = pytest.mark.parametrize("executable", [False, True], ids=["in-process", "executable"])


# -- helpers -----------------------------------------------------------------------------
def split(env: bytes) -> tuple[Header, bytes, bytes]:
    header, header_bytes = read_header(io.BytesIO(env))
    return header, header_bytes, env[len(header_bytes) :]


def file_key_of(world: World, label: str, env: bytes) -> bytes:
    header, header_bytes, _ = split(env)
    ident = age.X25519Identity.from_bytes(world.secret(label).enc_secret)
    return unwrap_file_key(header, header_bytes, [ident])


def reheader(file_key: bytes, stanzas: tuple[Any, ...], payload: bytes) -> bytes:
    """A new header over ``stanzas`` with a correct MAC (who holds the file key can)."""
    mac = compute_mac(file_key, encode_without_mac(stanzas))
    return Header(stanzas, mac).encode() + payload


def plaintext_envelope(world: World, to: str, records: bytes) -> bytes:
    """Encrypt raw container records to ``to``: a forger who writes the plaintext."""
    return age_encrypt(world.card(to), records)


def age_encrypt(card: Card, plaintext: bytes) -> bytes:
    out = io.BytesIO()
    age.encrypt([age.X25519Recipient.from_bytes(card.enc_public)], plaintext, out)
    return out.getvalue()


def sign_as(world: World, label: str, otype: str, payload: Any) -> bytes:
    secret = world.secret(label)
    return cose.sign(secret.signing_key, otype, fingerprint(secret.sign_public), payload)


def forged_manifest_records(world: World, payload: Any, to: str = "card") -> bytes:
    """MANIFEST (gp's valid signature over ``payload``), a binding, END: the plaintext
    of an envelope whose manifest was signed by the real author, only malformed."""
    manifest = sign_as(world, "gp", labels.COSE_LETTER_MANIFEST, payload)
    return small_record(MANIFEST, manifest) + record_head(END, 0)


def manifest_payload(world: World, **changes: Any) -> dict[str, Any]:
    planned = world.plan()
    p = planned.manifest.to_payload()
    p.update(changes)
    return p


# -- stanzas added or removed after signing ------------------------------------------------
@BOTH_WAYS
def test_stanza_added_after_signing_by_a_recipient(
    world: World, refused_at_receive, executable: bool
) -> None:
    """card (who holds the file key) adds a stanza for out and fixes the header MAC."""
    planned = world.plan()
    env = world.envelope(planned, "card")
    fk = file_key_of(world, "card", env)
    header, _, payload = split(env)
    extra = x25519.wrap(fk, age.X25519Recipient.from_bytes(world.card("out").enc_public))
    forged = reheader(fk, (*header.stanzas, extra), payload)
    f = world.write("stanza-added.smsg", forged)
    refused_at_receive(
        "out", f, match="addressed by its author to someone else", executable=executable
    )
    refused_at_receive(
        "card", f, match="re-encrypted or its recipients changed", executable=executable
    )


def test_stanza_removed_after_signing(world: World, refused_at_receive) -> None:
    """The author signed a header for card and nurse; the nurse's stanza is removed."""
    planned = world.plan()
    env = b"".join(
        reference.envelope(
            planned,
            world.secret("gp"),
            world.card("card"),
            frozenset({MEDICAL, NURSING}),
            world.path("consent.cose").read_bytes(),
            world.card("pat").encoded,
            extra_recipients={"nurse": world.card("nurse").enc_public},
        )
    )
    assert world.ok("card", "verify", world.write("both.smsg", env)) is not None
    fk = file_key_of(world, "card", env)
    header, _, payload = split(env)
    assert len(header.stanzas) == 2
    ident = age.X25519Identity.from_bytes(world.secret("card").enc_secret)
    mine = tuple(s for s in header.stanzas if x25519.unwrap(s, ident) is not None)
    forged = reheader(fk, mine, payload)
    f = world.write("stanza-removed.smsg", forged)
    refused_at_receive("card", f, match="re-encrypted or its recipients changed")


# -- digests and sections -----------------------------------------------------------------
def test_section_without_digest(world: World, refused_at_receive) -> None:
    planned = world.plan()
    n = len(planned.manifest.items)
    extra_item = Item(n, "section", MEDICAL, bytes(32))
    extra_out = OutItem(n, bytes(16), "Extra", 5, lambda: (b"extra",))
    more = frozen.replace(planned, items=(*planned.items, (extra_item, extra_out)))
    f = world.write("extra-section.smsg", world.envelope(more, "card"))
    refused_at_receive("card", f, match="without a digest")


def test_duplicate_digests_in_manifest(world: World, refused_at_receive) -> None:
    """gp's own tool will not sign it (Manifest.sign parses back); a forger with gp's
    key signs the payload directly."""
    p = manifest_payload(world)
    p["items"][1]["digest"] = p["items"][0]["digest"]
    records = forged_manifest_records(world, cbor.dumps(p))
    f = world.write("dup-digest.smsg", plaintext_envelope(world, "card", records))
    refused_at_receive("card", f, error="malformed", match="same digest")


def test_duplicate_item_record(world: World, refused_at_receive) -> None:
    """The same section twice in the envelope (same number, same digest)."""
    planned = world.plan()
    twice = frozen.replace(planned, items=(planned.items[0], *planned.items))
    f = world.write("dup-item.smsg", world.envelope(twice, "card"))
    refused_at_receive("card", f, match="without a digest")


# -- type confusion between signed objects -------------------------------------------------
@pytest.mark.parametrize("what", ["consent", "receipt", "card", "binding", "log entry"])
def test_other_signature_as_letter_manifest(world: World, refused_at_receive, what: str) -> None:
    """A validly signed object of another type where the manifest belongs."""
    if what == "consent":
        obj = world.path("consent.cose").read_bytes()
        to = "card"
    else:
        planned = world.plan()
        to = "card"
        if what == "receipt":
            from securemsg.core.letter.proofs import Receipt

            obj = Receipt.sign(
                world.secret("gp"),
                planned.manifest.message_id,
                planned.manifest.encoded,
                bytes(32),
                world.fp("gp"),
                int(time.time()),
                0,
                bytes(32),
            ).encoded
        elif what == "card":
            obj = world.card("gp").encoded
        elif what == "binding":
            binding = Binding.sign(
                world.secret("gp"), planned.manifest.encoded, b"x", world.fp("card")
            )
            obj = bytes(binding)
        else:
            from securemsg.core.log import LogEntry

            obj = LogEntry.sign(world.secret("gp"), 0, bytes(32), int(time.time()), "send").encoded
    records = small_record(MANIFEST, obj) + small_record(BINDING, obj) + record_head(END, 0)
    f = world.write(f"{what}-as-manifest.smsg", plaintext_envelope(world, to, records))
    row = refused_at_receive(to, f)
    assert "not a letter manifest" in row["detail"], row


def test_manifest_as_consent_receipt_and_card(world: World) -> None:
    planned = world.plan(author="card", to=(("gp", frozenset({MEDICAL})),))  # signed by a contact
    f = world.write("manifest.cose", planned.manifest.encoded)
    before = world.snap()
    res = world.run("card", "--json", "consent", "import", f)
    assert res.exit_code == 3, res.stderr
    res = world.run("card", "--json", "contacts", "add", f)
    assert res.exit_code == 3, res.stderr
    # as a receipt dropped in gp's folder: refused, kept aside, nothing recorded
    mid = planned.manifest.id_hex
    r = world.drop / world.fp("gp") / f"{mid}.{world.fp('card')}.receipt"
    r.parent.mkdir(exist_ok=True)
    r.write_bytes(planned.manifest.encoded)
    _code, doc = world.receive_drop("gp")
    assert doc["results"][0]["status"] == "refused", doc
    assert "not a receipt" in doc["results"][0]["detail"]
    assert world.snap() == before


def test_receipt_and_card_as_consent(world: World) -> None:
    sent = world.send()
    assert world.receive_drop("card")[0] == 0
    receipt = next((world.drop / world.fp("gp")).glob("*.receipt"))
    before = world.snap()
    for f in (receipt, world.path("gp.card")):  # recognised: the command for it is named
        res = world.run("nurse", "--json", "consent", "import", f)
        assert res.exit_code == 2, (f, res.stdout, res.stderr)
        assert res.error_json()["error"] == "wrong_command"
    # and the consent given to ``send --consent`` must be a consent, not a receipt
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
        receipt,
        "--drop",
        world.drop,
    )
    assert res.exit_code == 3, (res.stdout, res.stderr)
    assert world.snap() == before
    assert sent["message_id"]


# -- low-order X25519 points ---------------------------------------------------------------
def card_with_enc_key(label: str, name: str, enc_key: bytes, now: int) -> bytes:
    secret = derive_test_identity(f"hostile/{label}")
    payload = {
        "v": 1,
        "profile": Profile(name, Role.SPECIALIST, specialty="neurology").to_cbor(),
        "sign_key": secret.sign_public,
        "enc_key": enc_key,
        "created": now - 60,
        "expires": now + 86400 * 30,
        "test_key": True,
    }
    return cose.sign(
        secret.signing_key, labels.COSE_CARD, fingerprint(secret.sign_public), cbor.dumps(payload)
    )


@BOTH_WAYS
@pytest.mark.parametrize("point", [LOW_ORDER, ORDER_8], ids=["zero", "order8"])
def test_low_order_card_refused_at_add(world: World, point: bytes, executable: bool) -> None:
    """A card whose encryption key has small order is refused as soon as it is read
    (before the fix it was added, and only ``send`` refused it)."""
    raw = card_with_enc_key("low", "Dr Nora Lowe", point, int(time.time()))
    f = world.write("low.card", raw)
    before = world.snap()
    res = world.run("gp", "--json", "contacts", "add", f, executable=executable)
    assert res.exit_code == 3, (res.stdout, res.stderr)
    assert "small order" in res.stderr
    assert world.snap() == before


@pytest.mark.parametrize("point", [LOW_ORDER, ORDER_8], ids=["zero", "order8"])
def test_envelope_with_low_order_share(world: World, refused_at_receive, point: bytes) -> None:
    env = world.envelope(world.plan(), "card")
    header, _, payload = split(env)
    (st,) = header.stanzas
    bad = frozen.replace(st, args=(b64encode_raw(point),))
    forged = Header((bad,), header.mac).encode() + payload
    f = world.write("low-share.smsg", forged)
    row = refused_at_receive("card", f)
    assert row["error"] in ("malformed", "age_header"), row
    assert "small order" in row["detail"], row


# -- oversized and absurd input: refused in bounded memory ---------------------------------
def test_too_many_recipients(world: World, refused_at_receive) -> None:
    fp = bytes.fromhex(world.fp("card"))
    others = [{"fp": bytes([i]) * 20, "role": "gp", "domains": ["medical"]} for i in range(64)]
    p = manifest_payload(
        world, recipients=[{"fp": fp, "role": "specialist", "domains": ["medical"]}, *others]
    )
    f = world.write(
        "many-recipients.smsg",
        plaintext_envelope(world, "card", forged_manifest_records(world, cbor.dumps(p))),
    )
    refused_at_receive("card", f, error="malformed", match="recipients expected")


def test_too_many_sections(world: World, refused_at_receive) -> None:
    items = [
        {"n": i, "kind": "section", "domain": "medical", "digest": i.to_bytes(32, "big")}
        for i in range(1025)
    ]
    p = manifest_payload(world, items=items)
    f = world.write(
        "many-items.smsg",
        plaintext_envelope(world, "card", forged_manifest_records(world, cbor.dumps(p))),
    )
    refused_at_receive("card", f, error="malformed", match="items expected")


@BOTH_WAYS
def test_deeply_nested_cbor_manifest(world: World, refused_at_receive, executable: bool) -> None:
    nested = b"\x81" * 100_000 + b"\x00"  # [[[[...0...]]]] 100k deep, signed by gp
    f = world.write(
        "nested.smsg", plaintext_envelope(world, "card", forged_manifest_records(world, nested))
    )
    refused_at_receive("card", f, error="malformed", match="nested deeper", executable=executable)


@BOTH_WAYS
def test_deeply_nested_cbor_card(world: World, executable: bool) -> None:
    nested = b"\x81" * 100_000 + b"\x00"
    obj = cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b"", bytes(64)]))
    for blob in (nested, obj[:-70] + nested):
        f = world.write("nested.card", blob)
        res = world.run("gp", "--json", "contacts", "add", f, executable=executable)
        assert res.exit_code == 3, (res.stdout, res.stderr)


PROBE = r"""
import resource, sys, runpy
sys.argv = ["securemsg", *sys.argv[1:]]
try:
    runpy.run_module("securemsg", run_name="__main__")
except SystemExit as e:
    code = e.code
# VmHWM is the peak RSS of this process image only. ru_maxrss is not: on Linux it
# starts from the RSS of the forking parent (pytest, ~300 MB), which hid everything.
try:
    with open("/proc/self/status") as fh:
        rss = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:"))
except (OSError, StopIteration):
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("MAXRSS_KB", rss, "EXIT", code, file=sys.stderr)
"""


def peak_kb(world: World, label: str, *args: str | Path) -> tuple[int, int, str]:
    import re
    import subprocess
    import sys

    from hostile_kit import subprocess_env

    proc = subprocess.run(
        [sys.executable, "-c", PROBE, "--home", str(world.home(label)), "--json", *map(str, args)],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    m = re.search(r"MAXRSS_KB (\d+) EXIT (\S+)", proc.stderr)
    assert m, proc.stderr
    return int(m.group(1)), int(m.group(2)) if m.group(2) != "None" else 0, proc.stdout


ABSURD = [
    "record-2^63",
    "manifest-10MB",
    "item-body-2^40",
    "item-body-2^63",
    "header-10MB-line",
    "header-1024-stanzas",
]


def absurd(world: World, kind: str) -> bytes:
    card = world.card("card")
    if kind == "record-2^63":
        return age_encrypt(card, bytes([MANIFEST]) + (1 << 63).to_bytes(8, "big") + b"x" * 100)
    if kind == "manifest-10MB":
        return age_encrypt(card, record_head(MANIFEST, 10 << 20) + bytes(10 << 20))
    if kind.startswith("item-body"):
        env = world.envelope(world.plan(), "card")
        records = _records_of(world, env)
        size = (1 << 40) - 1 if kind.endswith("2^40") else (1 << 63)
        cut = records.index(bytes([ITEM_HEAD]))
        head = records[cut : cut + 9]
        head_len = int.from_bytes(head[1:], "big")
        body = records[cut + 9 + head_len :]
        return age_encrypt(
            card,
            records[: cut + 9 + head_len]
            + bytes([ITEM_BODY])
            + size.to_bytes(8, "big")
            + body[9:]
            + bytes(3 << 20),
        )
    if kind == "header-10MB-line":
        return b"age-encryption.org/v1\n-> X25519 " + b"A" * (10 << 20) + b"\n"
    if kind == "header-1024-stanzas":
        line = b"-> X25519 " + b"A" * 43 + b"\n" + b"A" * 43 + b"\n"
        return b"age-encryption.org/v1\n" + line * 1100 + b"--- " + b"A" * 43 + b"\n"
    raise AssertionError(kind)


def _records_of(world: World, env: bytes) -> bytes:
    out = io.BytesIO()
    ident = age.X25519Identity.from_bytes(world.secret("card").enc_secret)
    age.decrypt([ident], io.BytesIO(env), out)
    return out.getvalue()


@pytest.fixture(scope="module")
def baseline_kb(hostile_template: Path, tmp_path_factory: pytest.TempPathFactory) -> int:
    import shutil

    root = tmp_path_factory.mktemp("baseline") / "world"
    shutil.copytree(hostile_template, root)
    w = World(root)
    f = w.write(
        "ok.smsg", w.envelope(w.plan(attachments=[("a.bin", MEDICAL, bytes(2 << 20))]), "card")
    )
    kb, code, _ = peak_kb(w, "card", "receive", f)
    assert code == 0
    return kb


BOUND_KB = 16 * 1024  # above a normal receive of a 2 MiB letter


@pytest.mark.parametrize("kind", ABSURD)
def test_absurd_lengths_bounded_memory(world: World, baseline_kb: int, kind: str) -> None:
    from hostile_kit import FIGURES

    f = world.write(f"{kind}.smsg", absurd(world, kind))
    before = world.snap("card")
    kb, code, out = peak_kb(world, "card", "receive", f)
    assert code == 3, out
    assert kb < baseline_kb + BOUND_KB, (kind, kb, baseline_kb)
    FIGURES[f"peak RSS receiving {kind} (baseline {baseline_kb} kB)"] = f"{kb} kB"
    assert world.snap("card") == before


# -- names: look-alikes and normalisation --------------------------------------------------
def lookalike_card(world: World, name: str, role: Role = Role.GP, label: str = "mallory") -> Path:
    secret = derive_test_identity(f"hostile/{label}")
    card = Card.sign(secret, Profile(name, role), int(time.time()) - 60, test_key=True)
    return world.write(f"{label}.card", card.to_text().encode())


def test_cyrillic_lookalike_of_a_contact_refused(world: World) -> None:
    # "Dr Alice Мartin" with CYRILLIC CAPITAL LETTER EM, and a Cyrillic 'а' too
    fake = "Dr Аlice \u041cartin"
    assert fake != "Dr Alice Martin"
    f = lookalike_card(world, fake)
    before = world.snap()
    res = world.run("card", "--json", "contacts", "add", f)
    assert res.exit_code != 0, (res.stdout, res.stderr)
    assert "Dr Alice Martin" in res.stderr, res.stderr
    assert world.snap() == before


def test_greek_lookalike_of_a_contact_refused(world: World) -> None:
    f = lookalike_card(world, "Dr Bob Durand", Role.SPECIALIST, "greek")  # exact same name
    res = world.run("gp", "--json", "contacts", "add", f)
    assert res.exit_code != 0, res.stderr  # same name, same role, other key: already refused
    g = lookalike_card(world, "Dr B\u03bfb Durand", Role.GP, "greek2")  # Greek omicron, other role
    before = world.snap()
    res = world.run("gp", "--json", "contacts", "add", g)
    assert res.exit_code != 0, (res.stdout, res.stderr)
    assert world.snap() == before


def test_lookalike_accepted_with_replace(world: World) -> None:
    f = lookalike_card(world, "Dr Аlice Martin")
    res = world.run("card", "--json", "contacts", "add", "--replace", f)
    assert res.exit_code == 0, res.stderr


def test_nfd_and_nfc_names_are_the_same_name(world: World) -> None:
    nfc = unicodedata.normalize("NFC", "Hélène Roux")
    nfd = unicodedata.normalize("NFD", "Hélène Roux")
    assert nfc != nfd
    assert (
        world.run("gp", "contacts", "add", lookalike_card(world, nfc, Role.NURSE, "h1")).exit_code
        == 0
    )
    before = world.snap()
    res = world.run("gp", "--json", "contacts", "add", lookalike_card(world, nfd, Role.NURSE, "h2"))
    assert res.exit_code != 0, res.stdout  # same person, other key: needs --replace
    assert world.snap() == before
    # and the NFD spelling finds the NFC contact
    res = world.run("gp", "--json", "contacts", "show", nfd)
    assert res.exit_code == 0, res.stderr
    assert (
        res.json()["fingerprint"].replace(" ", "")
        == Card.parse(world.path("h1.card").read_bytes()).fingerprint
    )


# -- a forged log entry --------------------------------------------------------------------
def test_log_entry_forged_with_another_key(world: World) -> None:
    """An entry that chains correctly but is signed by someone else's key."""
    import sqlite3

    from securemsg.core.log import LogEntry

    world.send()
    assert world.ok("gp", "log", "verify")["ok"] is True
    db = world.home("gp") / "securemsg.db"
    conn = sqlite3.connect(db, isolation_level=None)
    seq, prev = conn.execute("SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1").fetchone()
    forged = LogEntry.sign(world.secret("nurse"), seq + 1, prev, int(time.time()), "receipt")
    conn.execute(
        "INSERT INTO log(seq, entry, hash) VALUES (?,?,?)", (seq + 1, forged.encoded, forged.hash)
    )
    conn.execute("UPDATE meta SET v = ? WHERE k = 'log_head'", (forged.hash.hex(),))
    conn.close()
    res = world.run("gp", "--json", "log", "verify")
    assert res.exit_code == 3, (res.stdout, res.stderr)
    assert f"entry {seq + 1}" in res.json()["problem"]


def test_log_entry_signed_by_owner_with_missing_fields(world: World) -> None:
    """Even the owner's own signature over a malformed entry gives a clean refusal."""
    import sqlite3

    world.send()
    db = world.home("gp") / "securemsg.db"
    conn = sqlite3.connect(db, isolation_level=None)
    seq, prev = conn.execute("SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1").fetchone()
    entry = sign_as(world, "gp", labels.COSE_LOG_ENTRY, cbor.dumps({"v": 1, "prev": prev}))
    from securemsg.core.log import chain_hash

    conn.execute(
        "INSERT INTO log(seq, entry, hash) VALUES (?,?,?)", (seq + 1, entry, chain_hash(entry))
    )
    conn.close()
    res = world.run("gp", "--json", "log", "verify")
    assert res.exit_code == 3, (res.stdout, res.stderr)
