"""Issue 14, "done when": with the agent running, a GP's whole morning (the
README's five-minute story) asks for the passphrase once.

The passphrase is given to ``securemsg unlock`` only; every later command of
Dr Martin's morning runs as the installed executable in a new session (no
terminal to prompt on) with no ``SECUREMSG_PASSPHRASE``: any command that
wanted the passphrase would fail "the key store is locked". Letters are
signed, received, opened and read through the agent."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from letterworld import PASSPHRASE, World

from clirun import Result, world_env
from clirun import run_cli as _run_cli
from securemsg.core.testkeys import derive_test_identity, format_test_key

pytestmark = pytest.mark.slow


@pytest.fixture
def runtime() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="smam-"))
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_gps_morning_asks_for_the_passphrase_once(world: World, runtime: Path) -> None:
    agent_env = {"XDG_RUNTIME_DIR": str(runtime)}
    no_passphrase = {**world_env(PASSPHRASE), **agent_env, "SECUREMSG_PASSPHRASE": None}
    prompts = 0

    def gp(*args: str | Path) -> Result:
        res = _run_cli(world.home("gp"), *args, env=no_passphrase, executable=True)
        assert res.exit_code == 0, (args, res.stderr)
        return res

    def gp_json(*args: str | Path) -> Any:
        return gp("--json", *args).json()

    # Bob writes to Alice before her morning (his own passphrase, as usual)
    (world.root / "opinion.md").write_text("---\nsubject: ECG Qx4\n---\nLooks benign. Kv8.\n")
    world.ok(
        "card", "send", world.path("opinion.md"), "--to", "Alice", "--kind",
        "second-opinion", "--pseudonym", "P-17", "--drop", world.drop,
    )  # fmt: skip
    key = world.root / "new.testkey"
    key.write_text(format_test_key(derive_test_identity("agent-morning/new")))
    new = world.root / "newhome"
    assert _run_cli(new, "init", "--name", "Dr Nadia Neuf", "--role", "specialist",
                    "--test-key", key, env=world_env(PASSPHRASE)).exit_code == 0  # fmt: skip
    assert _run_cli(new, "card", "export", "-o", world.root / "nadia.card",
                    env=world_env(PASSPHRASE)).exit_code == 0  # fmt: skip

    # 08:00 — the one passphrase of the day
    unlock = _run_cli(
        world.home("gp"), "--json", "unlock", "--for", "1h",
        env={**world_env(PASSPHRASE), **agent_env}, executable=True,
    )  # fmt: skip
    prompts += 1
    assert unlock.exit_code == 0, unlock.stderr
    pid = unlock.json()["pid"]
    try:
        gp("whoami")
        gp("card", "export", "-o", world.root / "alice-again.card")
        gp("contacts", "add", world.root / "nadia.card")
        gp("contacts", "list")
        shown = gp_json("contacts", "show", "Nadia")
        gp("contacts", "verify", "Nadia", *shown["safety_number"].split())
        gp("consent", "show", world.path("consent.cose"))
        gp("consent", "list")
        received = gp_json("receive", "--drop", world.drop)
        assert received["schema"] == "securemsg.receive/1"
        letters = gp_json("inbox")["letters"]
        assert len(letters) == 1
        read = gp("read", letters[0]["message_id"])
        assert "Looks benign" in read.stdout
        sent = gp_json(
            "send", world.path("letter.md"), "--kind", "referral", "--patient", "Jeanne",
            "--consent", world.path("consent.cose"), "--to", "Bob", "--to", "Claire",
            "--drop", world.drop,
        )  # fmt: skip
        assert sent["message_id"]
        code, _doc = world.receive_drop("card")  # Bob's receipt goes back to Alice
        assert code == 0
        gp("receive", "--drop", world.drop)
        assert gp_json("sent")["letters"]
        gp("thread", letters[0]["message_id"])
        gp("log", "verify")
        assert prompts == 1
        gp("lock")
    finally:
        if os.path.exists(f"/proc/{pid}"):
            os.kill(pid, signal.SIGKILL)
    locked = _run_cli(world.home("gp"), "inbox", env=no_passphrase, executable=True)
    assert locked.exit_code == 4 and "locked" in locked.stderr
