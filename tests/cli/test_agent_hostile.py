"""The agent against a hostile process of the same user (issue 14, the red team
of session 4): what it signs, what a malformed request does to it, a client
that sends its request a byte at a time; and the commands that must sign with
the key in hand (a card, a key statement) while it runs.

A process of the user can use the agent as it can use ssh-agent (letters signed
and opened while it runs: docs/threat-model.md). It must not be able to do what
outlives the agent: move the identity to a key of its own (a key succession),
revoke it, or make a new card; nor stop the agent with a request.

The agent runs as the installed ``securemsg`` started it; the requests are sent
on its socket as any process of the user could."""

from __future__ import annotations

import os
import re
import socket
import struct
import time
from pathlib import Path

import pytest
import test_agent
from test_agent import Agents, _ask, alive, wait_gone

from clirun import run_cli
from securemsg.core import agentproto as proto
from securemsg.core import cbor, cose, labels
from securemsg.core.card import Card
from securemsg.core.fingerprint import fingerprint
from securemsg.core.identity import SecretIdentity
from securemsg.core.keychange import Succession
from securemsg.errors import AgentError
from securemsg.store.agent.client import AgentIdentity, find_agent

agents = test_agent.agents  # the fixtures of the agent suite: homes, a runtime folder
gp = test_agent.gp


def _sign_request(object_type: object, kid: bytes, payload: bytes = b"p") -> bytes:
    protected = cbor.dumps({cose.H_ALG: cose.ALG_EDDSA, cose.H_CONTENT_TYPE: object_type, 4: kid})
    return bytes([proto.VERSION, proto.OP_SIGN]) + cose.sig_structure(protected, payload)


def _status(path: str) -> proto.AgentStatus:
    reply = _ask(path, bytes([proto.VERSION, proto.OP_STATUS]))
    _status, payload = proto.parse_response(reply[4:], proto.OP_STATUS)
    return proto.AgentStatus.decode(payload)


def test_the_agent_signs_no_card_and_no_key_statement(gp: Agents) -> None:
    path = str(gp.unlock("gp")["socket"])
    kid = fingerprint(_status(path).sign_public)
    for object_type in (
        labels.COSE_CARD,
        labels.COSE_KEY_SUCCESSION,
        labels.COSE_KEY_ACCEPTANCE,
        labels.COSE_KEY_REVOCATION,
    ):
        assert _ask(path, _sign_request(object_type, kid)) == proto.response(proto.REFUSED)
    # the control: the same request for a letter manifest is signed
    reply = _ask(path, _sign_request(labels.COSE_LETTER_MANIFEST, kid))
    assert reply[:6] == b"\x00\x00\x00\x42\x01\x00" and len(reply) == 4 + 2 + 64


def test_a_process_of_the_user_cannot_move_the_identity_to_its_own_key(gp: Agents) -> None:
    """The attack: with the agent running, sign a key succession from the user's
    key to a key of the attacker's (a correspondent importing it would move the
    contact to that key, still verified). The agent refuses its half."""
    gp.unlock("gp")
    found = find_agent(str(gp.home("gp")), {"XDG_RUNTIME_DIR": str(gp.runtime)})
    assert found is not None
    victim = AgentIdentity(*found)
    mine = SecretIdentity.generate()
    card_text = (gp.home("gp") / "card.txt").read_text()
    their_card = Card.parse(card_text)
    my_card = Card.sign(mine, their_card.profile, int(time.time()), test_key=their_card.test_key)
    with pytest.raises(AgentError, match="refused to sign"):
        Succession.sign(victim, mine, my_card, int(time.time()))
    assert gp.status("gp")["running"] is True


MALFORMED = (
    {cose.H_ALG: cose.ALG_EDDSA, cose.H_CONTENT_TYPE: ["a", "list"], 4: b"k"},
    {cose.H_ALG: cose.ALG_EDDSA, cose.H_CONTENT_TYPE: {1: 2}, 4: b"k"},
    {cose.H_ALG: [cose.ALG_EDDSA], cose.H_CONTENT_TYPE: labels.COSE_RECEIPT, 4: b"k"},
    {cose.H_ALG: True, cose.H_CONTENT_TYPE: labels.COSE_RECEIPT, 4: b"k"},
    {cose.H_ALG: cose.ALG_EDDSA, cose.H_CONTENT_TYPE: labels.COSE_RECEIPT.encode(), 4: b"k"},
)


def test_a_malformed_protected_header_is_refused_and_the_agent_lives_on(gp: Agents) -> None:
    path = str(gp.unlock("gp")["socket"])
    for protected in MALFORMED:
        body = bytes([proto.VERSION, proto.OP_SIGN])
        body += cose.sig_structure(cbor.dumps(protected), b"p")
        assert _ask(path, body) == proto.response(proto.REFUSED), protected
    # before: a list or a map as the content type killed the agent (unhashable)
    assert gp.status("gp")["running"] is True


def test_card_renew_and_key_revoke_sign_with_the_key_in_hand_while_the_agent_runs(
    gp: Agents,
) -> None:
    gp.unlock("gp")
    before = (gp.home("gp") / "card.txt").read_text()
    res = gp.run("gp", "--json", "key", "revoke", "-o", gp.base / "rev.cose")
    assert res.exit_code == 4, res.stderr  # the agent does not do it: the key store is asked
    assert res.error_json()["error"] != "agent"
    assert not (gp.base / "rev.cose").exists()
    res = gp.run("gp", "--json", "card", "renew")
    assert res.exit_code == 4 and res.error_json()["error"] != "agent", res.stderr
    assert (gp.home("gp") / "card.txt").read_text() == before
    # with the passphrase: both done (before: "the agent refused to sign ... a bug")
    res = gp.run("gp", "--json", "card", "renew", passphrase=True)
    assert res.exit_code == 0, res.stderr
    assert (gp.home("gp") / "card.txt").read_text() != before
    res = gp.run("gp", "--json", "key", "revoke", "-o", gp.base / "rev.cose", passphrase=True)
    assert res.exit_code == 0, res.stderr
    assert (gp.base / "rev.cose").stat().st_size > 0
    assert gp.status("gp")["running"] is True


@pytest.mark.slow
def test_a_client_sending_a_byte_at_a_time_neither_holds_the_agent_nor_its_keys(
    gp: Agents,
) -> None:
    """The request has 5 seconds in all (docs/format-agent.md §2), not 5 seconds
    per read: before, one byte every second held the agent, past its time, for
    as long as the client liked."""
    doc = gp.unlock("gp", "--for", "3s")
    path, pid = str(doc["socket"]), int(str(doc["pid"]))
    started = time.monotonic()
    closed_after = None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(path)
        conn.sendall(struct.pack(">I", 200))
        conn.settimeout(1.0)
        while time.monotonic() - started < 15:
            try:
                conn.sendall(b"\x01")
                if conn.recv(100) is not None:  # an answer, or the end: cut off
                    closed_after = time.monotonic() - started
                    break
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.monotonic() - started
                break
    assert closed_after is not None and closed_after < 8, closed_after
    wait_gone(pid, Path(path), seconds=10)
    assert not alive(pid)


def test_in_french_a_refused_socket_or_folder_is_named_in_french(gp: Agents) -> None:
    """Before: "agent refusé (folder …)": the English word glued into the French
    sentence."""
    sock = Path(str(gp.unlock("gp")["socket"]))
    env = {**gp.env(False), "LANG": "fr_FR.UTF-8", "LC_ALL": None, "LANGUAGE": None}
    try:
        os.chmod(sock, 0o666)
        res = run_cli(gp.home("gp"), "contacts", "list", env=env, executable=True)
        assert res.exit_code == 4 and "socket de l'agent refusé" in res.stderr, res.stderr
        os.chmod(sock, 0o600)
        os.chmod(sock.parent, 0o755)
        res = run_cli(gp.home("gp"), "inbox", env=env, executable=True)
        assert res.exit_code == 4 and "dossier de l'agent refusé" in res.stderr, res.stderr
        assert "folder" not in res.stderr
    finally:
        os.chmod(sock, 0o600)
        os.chmod(sock.parent, 0o700)


def test_in_french_the_agent_says_its_time_in_the_french_form(gp: Agents) -> None:
    """Times for people go through core.times.shown (JJ/MM/AAAA HH:MM ZONE in
    French), never RFC 3339. Before: "Clés gardées jusqu'au : 2026-12-02T01:26:21Z"."""
    gp.unlock("gp")
    env = {**gp.env(False), "LANG": "fr_FR.UTF-8", "LC_ALL": None, "TZ": "Europe/Paris"}
    res = run_cli(gp.home("gp"), "agent", "status", env=env, executable=True)
    assert res.exit_code == 0, res.stderr
    assert re.search(r"\d\d/\d\d/20\d\d \d\d:\d\d CE", res.stdout), res.stdout
    assert not re.search(r"\d\dT\d\d:\d\d:\d\dZ", res.stdout), res.stdout
