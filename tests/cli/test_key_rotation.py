"""Issue 16, rotation and compromise, through the installed executable: a key
rotation followed by a letter in each direction, old letters still readable on
both sides, a letter to the old key refused at send; forged successions (signed
only by the new key, or by a revoked key) refused; a revoked key's letter
arriving after T refused, the one accepted before kept and marked. Each hostile
case: exit code, specific error (and rule), the home unchanged."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from clirun import Result, run_cli
from ontty import add_device
from securemsg.core import cbor, cose, labels
from securemsg.core.card import Card
from securemsg.core.identity import SecretIdentity
from securemsg.core.keychange import Succession
from securemsg.store.home import Home

# Whole runs of the executable: in `make test` (CI), not in the inner loop.
pytestmark = pytest.mark.slow

ALICE, BOB = "Dr Alice Martin", "Dr Bob Durand"
PASSPHRASE = "correct horse battery staple"


def sm(home: Path, *args: str | Path, input: str | None = None) -> Result:
    return run_cli(home, *args, executable=True, input=input)


def ok(res: Result) -> Result:
    assert res.exit_code == 0, (res.stdout, res.stderr)
    return res


def card_of(home: Path) -> Card:
    return Card.parse((home / "card.txt").read_bytes())


class World:
    def __init__(self, tmp: Path, alice: Path, bob: Path) -> None:
        self.tmp, self.alice, self.bob = tmp, alice, bob
        self.n = 0

    def letter(self, sender: Path, to: str, text: str) -> Path:
        """``send`` to one recipient into a fresh folder; the envelope's path."""
        self.n += 1
        src = self.tmp / f"letter{self.n}.md"
        src.write_text(f"## Note\n{text}\n")
        out = self.tmp / f"out{self.n}"
        out.mkdir()
        ok(sm(sender, "send", src, "--to", to, "--kind", "tele-expertise", "--pseudonym", "P1",
              "-o", out))  # fmt: skip
        (envelope,) = out.iterdir()
        return envelope

    def deliver(self, sender: Path, to: str, receiver: Path, text: str) -> str:
        """A letter sent and received; its message id."""
        res = ok(sm(receiver, "--json", "receive", self.letter(sender, to, text)))
        doc = res.json()
        (row,) = doc["results"] if "results" in doc else doc["files"]
        return str(row["message_id"])


def verified_pair(make_home: Any) -> tuple[Path, Path]:
    """Alice and Bob, each the other's verified contact."""
    alice = make_home(ALICE, "gp", rpps="10001234565")
    bob = make_home(BOB, "specialist")
    for me, other, name in ((alice, bob, BOB), (bob, alice, ALICE)):
        card = ok(sm(other, "card", "export")).stdout
        ok(sm(me, "contacts", "add", "-", input=card))
        ok(sm(me, "contacts", "verify", name, card_of(other).fingerprint))
    return alice, bob


@pytest.fixture
def world(make_home, tmp_path: Path) -> World:
    return World(tmp_path, *verified_pair(make_home))


def contact(home: Path, fp: str) -> dict[str, Any]:
    listed = ok(sm(home, "--json", "contacts", "list", "--all")).json()["contacts"]
    (doc,) = [c for c in listed if c["fingerprint"] == fp]
    return dict(doc)


def read_json(home: Path, mid: str) -> dict[str, Any]:
    return dict(ok(sm(home, "--json", "read", mid)).json())


def test_rotation_then_letters_both_ways_and_old_letters_readable(world: World) -> None:
    a, b = world.alice, world.bob
    old = card_of(a)
    before_ab = world.deliver(a, BOB, b, "before, from Alice")
    before_ba = world.deliver(b, ALICE, a, "before, from Bob")

    succ = world.tmp / "alice.succession"
    res = ok(sm(a, "--json", "key", "rotate", "-o", succ))
    new = card_of(a)
    assert res.json()["old_fingerprint"] == old.fingerprint
    assert res.json()["new_fingerprint"] == new.fingerprint != old.fingerprint
    assert new.profile == old.profile
    assert ok(sm(a, "--json", "whoami")).json()["fingerprint"] == new.fingerprint

    res = ok(sm(b, "--json", "contacts", "add", succ))
    doc = res.json()
    assert (doc["status"], doc["fingerprint"], doc["verified"]) == (
        "succeeded",
        new.fingerprint,
        True,
    )
    assert doc["replaces"] == old.fingerprint
    assert contact(b, old.fingerprint)["state"] == "replaced"
    assert contact(b, old.fingerprint)["replaced_by"] == new.fingerprint
    again = ok(sm(b, "--json", "contacts", "add", succ)).json()
    assert again["status"] == "unchanged"

    after_ab = world.deliver(a, BOB, b, "after, from Alice")
    after_ba = world.deliver(b, ALICE, a, "after, from Bob")
    assert read_json(b, after_ab)["author"]["fingerprint"] == new.fingerprint
    assert read_json(b, after_ab)["author"]["verified"] is True

    # old letters and doubles, both sides
    for home, mid in (
        (a, before_ba),
        (a, before_ab),
        (b, before_ab),
        (b, before_ba),
        (a, after_ba),
    ):
        res = sm(home, "read", mid)
        assert res.exit_code == 0, (home.name, mid, res.stderr)
        assert "before" in res.stdout or "after" in res.stdout
    assert read_json(b, before_ab)["author"]["fingerprint"] == old.fingerprint
    for home in (a, b):
        res = ok(sm(home, "--json", "log", "verify"))
        assert res.json()["ok"] is True, res.stdout


def test_letter_to_the_old_key_is_refused_at_send(world: World, snapshot) -> None:
    a, b = world.alice, world.bob
    old = card_of(a)
    ok(sm(a, "key", "rotate", "-o", world.tmp / "s.cose"))
    ok(sm(b, "contacts", "add", world.tmp / "s.cose"))
    src = world.tmp / "to-old.md"
    src.write_text("## Note\nfor the old key\n")
    out = world.tmp / "out-old"
    out.mkdir()
    ok(sm(b, "inbox"))  # the mailbox's lock file exists before the snapshot
    before = snapshot(b)
    res = sm(b, "--json", "send", src, "--to", old.fingerprint[:12], "--kind", "tele-expertise",
             "--pseudonym", "P1", "-o", out)  # fmt: skip
    assert res.exit_code == 3
    err = res.error_json()
    assert err["error"] == "key_replaced"
    assert card_of(a).fingerprint[:16] in err["hint"]
    assert list(out.iterdir()) == [] and snapshot(b) == before


def _forged_by_new_key_only(alice: Path) -> bytes:
    """Alice's old key id, the payload of a real-looking succession, signed by a key
    the attacker holds (the 'new' one): the old key never signed."""
    old = card_of(alice)
    mallory = SecretIdentity.generate()
    new_card = Card.sign(mallory, old.profile, int(time.time()))
    genuine = Succession.sign(SecretIdentity.generate(), mallory, new_card, int(time.time()))
    payload = cbor.loads(cose.parse(genuine.encoded).payload, "test")
    payload["old_key"] = old.sign_public
    kid = bytes.fromhex(old.fingerprint)
    return cose.sign(mallory.signing_key, labels.COSE_KEY_SUCCESSION, kid, cbor.dumps(payload))


def test_forged_succession_signed_only_by_the_new_key_is_refused(world: World, snapshot) -> None:
    b = world.bob
    forged = world.tmp / "forged.cose"
    forged.write_bytes(_forged_by_new_key_only(world.alice))
    before = snapshot(b)
    res = sm(b, "--json", "contacts", "add", forged)
    assert res.exit_code == 3 and res.error_json()["error"] == "bad_signature"
    assert snapshot(b) == before

    # the same, under the attacker's own key id: not a key of any contact
    mallory = SecretIdentity.generate()
    card = Card.sign(mallory, card_of(world.alice).profile, int(time.time()))
    own = Succession.sign(SecretIdentity.generate(), mallory, card, int(time.time()))
    own_file = world.tmp / "own.cose"
    own_file.write_bytes(own.encoded)
    res = sm(b, "--json", "contacts", "add", own_file)
    assert res.exit_code == 3 and res.error_json()["error"] == "unknown_sender"
    assert snapshot(b) == before


def prepared_revocation(home: Path) -> Path:
    (path,) = home.glob("revocation-*.cose")
    assert path.stat().st_mode & 0o777 == 0o600
    return path


def test_succession_signed_by_a_revoked_key_is_refused(world: World, snapshot) -> None:
    a, b = world.alice, world.bob
    res = ok(sm(b, "--json", "contacts", "add", prepared_revocation(a)))
    assert res.json()["status"] == "revoked" and res.json()["revoked_as_of"]
    ok(sm(a, "key", "rotate", "-o", world.tmp / "s.cose"))  # the thief's rotation, say
    before = snapshot(b)
    res = sm(b, "--json", "contacts", "add", world.tmp / "s.cose")
    assert res.exit_code == 3
    err = res.error_json()
    assert (err["error"], err["rule"]) == ("key_revoked", "key_revoked")
    assert "safety number" in err["hint"]
    assert snapshot(b) == before


def test_revoked_key_letter_after_t_refused_before_t_kept_and_marked(
    world: World, snapshot
) -> None:
    a, b = world.alice, world.bob
    kept = world.deliver(a, BOB, b, "accepted before the revocation")
    late = world.letter(a, BOB, "sent with the key after it was revoked")
    time.sleep(1.1)  # T, the import time, strictly after the first letter was accepted
    ok(sm(b, "contacts", "add", prepared_revocation(a)))

    before = snapshot(b)
    res = sm(b, "--json", "receive", late)
    assert res.exit_code == 3, res.stdout
    text = res.stdout + res.stderr
    assert "key_revoked" in text
    assert snapshot(b) == before

    doc = read_json(b, kept)
    assert doc["author"]["key_revoked_as_of"] is not None
    assert doc["author"]["accepted_before_revocation"] is True
    assert "REVOKED as of" in ok(sm(b, "read", kept)).stdout
    inbox = ok(sm(b, "--json", "inbox")).json()
    rows = inbox["letters"]
    assert [r["author_key_revoked"] for r in rows] == ["accepted_before"]
    assert "(key revoked since)" in ok(sm(b, "inbox")).stdout
    before = snapshot(b)  # reading marked the letter read (letter_reads, issue 13)

    src = world.tmp / "to-revoked.md"
    src.write_text("## Note\nhello\n")
    out = world.tmp / "out-revoked"
    out.mkdir()
    res = sm(b, "--json", "send", src, "--to", ALICE, "--kind", "tele-expertise",
             "--pseudonym", "P1", "-o", out)  # fmt: skip
    assert res.exit_code == 3 and res.error_json()["error"] == "key_revoked"
    assert list(out.iterdir()) == [] and snapshot(b) == before


def test_key_revoke_with_the_key_states_t_and_reason(world: World) -> None:
    a, b = world.alice, world.bob
    out = world.tmp / "revoke.cose"
    res = ok(sm(a, "--json", "key", "revoke", "--reason", "superseded", "--as-of",
                "2026-01-02", "-o", out))  # fmt: skip
    assert res.json()["as_of"] == "2026-01-02T00:00:00Z"
    doc = ok(sm(b, "--json", "contacts", "add", out)).json()
    assert doc["revoked_as_of"] == "2026-01-02T00:00:00Z"
    res = sm(a, "--json", "key", "revoke", "--as-of", "2999-01-01", "-o", world.tmp / "x")
    assert res.exit_code == 2 and res.error_json()["error"] == "usage"


def test_old_key_pairs_stay_sealed_in_the_key_store(world: World) -> None:
    a = world.alice
    old = card_of(a)
    ok(sm(a, "key", "rotate", "-o", world.tmp / "s.cose"))
    blob = (a / "keys" / "identity.key").read_bytes()
    history = Home(a, env={"SECUREMSG_PASSPHRASE": PASSPHRASE}).unlock_history()
    assert [k.sign_public for k in history.keys] == [card_of(a).sign_public, old.sign_public]
    for k in history.keys:
        assert k.sign_seed not in blob and k.enc_secret not in blob


def test_a_rotated_home_backs_up_restores_and_joins_a_second_device(world: World) -> None:
    """Issue 16's two halves together: every key pair travels in a backup and in a
    device file; the restored home still reads the letter sent to the old key."""
    a, b = world.alice, world.bob
    before = world.deliver(b, ALICE, a, "before the rotation, from Bob")
    ok(sm(a, "key", "rotate", "-o", world.tmp / "s.cose"))
    env = {"SECUREMSG_BACKUP_PASSPHRASE": "a long backup passphrase"}
    backup = world.tmp / "alice.age"
    res = run_cli(a, "backup", "-o", backup, env=env, executable=True)
    assert res.exit_code == 0, res.stderr
    restored = world.tmp / "restored"
    res = run_cli(restored, "restore", backup, env=env, executable=True)
    assert res.exit_code == 0, res.stderr
    assert card_of(restored) == card_of(a)
    assert "before the rotation" in ok(sm(restored, "read", before)).stdout
    assert ok(sm(restored, "--json", "log", "verify")).json()["ok"] is True

    device = world.tmp / "device.age"
    code, _ = add_device(a, device)
    second = world.tmp / "second"
    res = run_cli(second, "device", "join", device, env={"SECUREMSG_DEVICE_CODE": code},
                  executable=True)  # fmt: skip
    assert res.exit_code == 0, res.stderr
    history = Home(second, env={"SECUREMSG_PASSPHRASE": PASSPHRASE}).unlock_history()
    assert len(history.keys) == 2 and history.current.sign_public == card_of(a).sign_public
