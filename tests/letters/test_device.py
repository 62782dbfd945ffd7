"""A second device (issue 16): `device add` on the GP's computer, `device join`
on "another computer" (another home), through the installed executable; then
both devices of the one practitioner exchange letters with the cardiologist:
the new device sends a referral and gets its receipt, each device receives a
reply and its receipt is accepted by the cardiologist, each log verifies. The
new device's receipts name its own log chain; the first device's name none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from letterworld import PASSPHRASE, World

from clirun import run_cli, world_env
from ontty import add_device
from securemsg.core.letter.proofs import Receipt

pytestmark = pytest.mark.slow


def exe(home: Path, *args: str | Path, **env: str | None) -> Any:
    return run_cli(home, *args, env={**world_env(PASSPHRASE), **env}, executable=True)


def _join(world: World) -> tuple[Path, str]:
    dev = world.path("gp-device.age")
    code, res = add_device(world.home("gp"), dev, world_env(PASSPHRASE), "--json")
    assert dev.stat().st_mode & 0o777 == 0o600
    assert res.json() == {"schema": "securemsg.device-add/1", "path": str(dev),
                          "fingerprint": world.fp("gp")}  # fmt: skip
    assert res.stderr == ""
    home2 = world.root / "gp2"
    wrong = exe(home2, "--json", "device", "join", dev, SECUREMSG_DEVICE_CODE="AAAA-" * 7 + "AAAA")
    assert (wrong.exit_code, wrong.error_json()["error"]) == (3, "backup_passphrase")
    assert not home2.exists()
    res = exe(home2, "--json", "device", "join", dev, SECUREMSG_DEVICE_CODE=code.lower())
    assert res.exit_code == 0, res.stderr
    doc = res.json()
    assert doc["fingerprint"] == world.fp("gp") and len(doc["log_chain"]) == 32
    assert str(home2) in doc["keystore"]
    return home2, doc["log_chain"]


def _reply(world: World, to_mid: str, n: int) -> str:
    reply = world.path(f"reply{n}.md")
    reply.write_text(f"---\nsubject: Re referral {n}\n---\nReply number {n}.\n")
    doc = world.ok("card", "send", reply, "--to", "Alice", "--kind", "reply",
                   "--patient", "Jeanne", "--consent", world.path("reply-consent.cose"),
                   "--reply-to", to_mid[:10], "--phone-call", "2026-01-15T10:30+01:00",
                   "--drop", world.drop)  # fmt: skip
    return str(doc["message_id"])


def test_two_devices_exchange_with_a_third_party(world: World) -> None:
    _home2, chain = _join(world)
    assert world.ok("gp2", "contacts", "list") == world.ok("gp", "contacts", "list")
    assert world.ok("gp2", "consent", "list") == world.ok("gp", "consent", "list")
    assert world.ok("gp2", "inbox")["letters"] == [] and world.ok("gp2", "sent")["letters"] == []
    # the new device sends; the cardiologist receives; the receipt comes back to it
    mid = world.send("--to", "Bob", sender="gp2")["message_id"]
    assert world.receive_drop("card")[0] == 0
    rc, doc = world.receive_drop("gp2")
    assert rc == 0 and [r["status"] for r in doc["results"]] == ["receipt: delivered"], doc
    world.run("pat", "consent", "grant", "--yes", "--from", "Bob", "--to", "Alice",
              "--purpose", "reply",
              "-o", world.path("reply-consent.cose"))  # fmt: skip
    # a reply received by the first device, another by the new one
    first = _reply(world, mid, 1)
    assert world.receive_drop("gp")[0] == 0
    second = _reply(world, mid, 2)
    assert world.receive_drop("gp2")[0] == 0
    assert world.inbox_ids("gp") == [first] and world.inbox_ids("gp2") == [second]
    assert "Reply number 2." in str(world.ok("gp2", "read", second))
    # both receipts accepted by the cardiologist
    rc, doc = world.receive_drop("card")
    assert rc == 0 and sorted(r["status"] for r in doc["results"]) == ["receipt: delivered"] * 2
    by_id = {letter["message_id"]: letter for letter in world.ok("card", "sent")["letters"]}
    for rid in (first, second):
        (gp_delivery,) = [d for d in by_id[rid]["deliveries"] if d["fingerprint"] == world.fp("gp")]
        assert gp_delivery["status"] == "delivered"
    # the receipts name the chain of the device that signed them
    receipts = {
        label: Receipt.verify(_stored_receipt(world, label), world.card("gp"))
        for label in ("gp", "gp2")
    }
    assert receipts["gp"].chain is None and receipts["gp2"].chain == bytes.fromhex(chain)
    for label in ("gp", "gp2"):
        assert world.ok(label, "log", "verify")["ok"] is True


def _stored_receipt(world: World, label: str) -> bytes:
    from clirun import db_rows

    rows = dict(db_rows(world.home(label) / "securemsg.db"))["letters"]
    (receipt,) = [r[-1] for r in rows if r[1] == "in"]
    return bytes(receipt)


def test_the_receipt_chain_field_round_trips(world: World) -> None:
    """A receipt without ``chain`` reads as the first device's; with it, the 16 bytes."""
    from securemsg.core.letter.proofs import CHAIN_BYTES

    secret = world.secret("gp")
    a = Receipt.sign(secret, bytes(16), b"m", bytes(32), world.fp("gp"), 1, 3, bytes(32))
    b = Receipt.sign(secret, bytes(range(16)), b"m", bytes(32), world.fp("gp"), 1, 3, bytes(32),
                     bytes(CHAIN_BYTES))  # fmt: skip
    assert Receipt.verify(a.encoded, world.card("gp")).chain is None
    assert Receipt.verify(b.encoded, world.card("gp")).chain == bytes(CHAIN_BYTES)
