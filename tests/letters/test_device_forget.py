"""Several devices and mail accounts that move what they receive (app/devices.py),
through the installed executable: with the identity on several devices (the
config's ``"devices"`` flag, or a joined device's log chain id without it),
``account add --after move`` is refused up front with ``receive --mail``'s
message, and ``device add`` is refused while an account moves; each time the
home is left exactly as it was. ``device forget`` turns the flag off on either
computer (then an account may move again); ``device add`` turns it back on.
No mail server is needed: adding an account only stores it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from letterworld import PASSPHRASE, World, snapshot

from clirun import Result, run_cli, world_env
from ontty import add_device, run_on_terminal

pytestmark = pytest.mark.slow  # two device files (scrypt) and a dozen runs of the executable

ACCOUNT = ["account", "add", "gp@mail.test", "--imap-host", "imap.mail.test",
           "--smtp-host", "smtp.mail.test", "--password-stdin"]  # fmt: skip


def exe(home: Path, *args: str | Path, **env: str) -> Result:
    return run_cli(home, "--json", *args, env={**world_env(PASSPHRASE), **env},
                   input="mail-password\n", executable=True)  # fmt: skip


def ok(home: Path, *args: str | Path, **env: str) -> Any:
    res = exe(home, *args, **env)
    assert res.exit_code == 0, (args, res.stderr)
    return res.json()


def refused_move(home: Path, *args: str | Path) -> dict[str, Any]:
    """``args`` refused with the moving-account message; the home unchanged.
    ``device add`` runs on a terminal (it shows its code there only)."""
    before = snapshot(home)
    if args[:2] == ("device", "add"):
        res: Any = run_on_terminal(home, "--json", *args, env=world_env(PASSPHRASE))
    else:
        res = exe(home, *args)
    assert res.exit_code == 1, res.stderr
    err: dict[str, Any] = res.error_json()
    assert err["error"] == "mail", err
    assert "moves the mails it has received" in err["message"]
    assert "several devices" in err["message"] and "--after flag" in err["hint"]
    assert snapshot(home) == before
    return err


def devices_flag(home: Path) -> object:
    return json.loads((home / "config.json").read_text()).get("devices", "absent")


def add_and_join(world: World, home: Path, dev: Path, name: str) -> Path:
    code, _ = add_device(home, dev, world_env(PASSPHRASE))
    home2 = world.root / name
    ok(home2, "device", "join", dev, SECUREMSG_DEVICE_CODE=code)
    return home2


def test_moving_accounts_and_several_devices(world: World) -> None:
    gp = world.home("gp")
    assert devices_flag(gp) == "absent"
    # one device: an account may move; device add is then refused, no file written
    ok(gp, *ACCOUNT, "--after", "move")
    dev = world.path("gp.device")
    err = refused_move(gp, "device", "add", "-o", dev)
    assert "account remove" in err["hint"] and not dev.exists()
    assert devices_flag(gp) == "absent"
    ok(gp, "account", "remove", "gp@mail.test")
    gp2 = add_and_join(world, gp, dev, "gp2")
    assert devices_flag(gp) is True
    assert devices_flag(gp2) is True
    # several devices: account add --after move refused on both, nothing stored
    for home in (gp, gp2):
        err = refused_move(home, *ACCOUNT, "--after", "move")
        assert "device forget" in err["hint"]
        assert ok(home, "account", "list")["accounts"] == []
    # a joined device from before the flag: its log chain id says it
    config = json.loads((gp2 / "config.json").read_text())
    del config["devices"]
    (gp2 / "config.json").write_text(json.dumps(config))
    refused_move(gp2, *ACCOUNT, "--after", "move", "--name", "legacy")
    # flag (the default) is fine
    assert ok(gp2, *ACCOUNT)["accounts"][0]["after"] == "flag"


def test_device_forget_turns_the_flag_off_and_device_add_on(world: World) -> None:
    gp = world.home("gp")
    first = exe(gp, "device", "forget")  # never had another device
    assert first.exit_code == 0 and first.json() == {
        "schema": "securemsg.device-forget/1", "was_several": False, "several": False,
    }  # fmt: skip
    dev = world.path("gp.device")
    gp2 = add_and_join(world, gp, dev, "gp2")
    # the first computer is gone: the joined one (log chain id) forgets it
    assert ok(gp2, "device", "forget")["was_several"] is True
    assert devices_flag(gp2) is False
    assert ok(gp2, *ACCOUNT, "--after", "move")["accounts"][0]["after"] == "move"
    assert ok(gp2, "device", "forget")["was_several"] is False
    # and the first computer, the other way round; text output says what changed
    human = run_cli(gp, "device", "forget", env=world_env(PASSPHRASE), executable=True)
    assert human.exit_code == 0, human.stderr
    assert "only device" in human.stdout and "device add" in human.stdout
    assert devices_flag(gp) is False
    ok(gp, *ACCOUNT, "--after", "move")
    # device add counts a second computer again: refused while that account moves
    refused_move(gp, "device", "add", "-o", world.path("again.device"))
    ok(gp, "account", "remove", "gp@mail.test")
    add_device(gp, world.path("again.device"), world_env(PASSPHRASE))
    assert devices_flag(gp) is True
