"""``device add``'s one-time code protects the whole identity: it is shown only
on the controlling terminal (cli/terminal.py, as ``backup --recovery-code``),
never on stdout, stderr or in the JSON, which scripts send to files and logs
(red team: ``device add -o FILE 2>log`` put the code in the log next to the
file). Without a terminal the command stops with ``no_terminal`` before
anything is written. Through the installed executable; the terminal is a
pseudo-terminal (tests/ontty.py), stdout and stderr go to files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from letterworld import PASSPHRASE, World, snapshot

from clirun import run_cli, world_env
from ontty import CODE, add_device, run_on_terminal

pytestmark = pytest.mark.slow  # device files (scrypt), the executable


def test_the_code_is_on_the_terminal_only_and_opens_the_file(world: World, tmp_path: Path) -> None:
    env = world_env(PASSPHRASE)
    dev = tmp_path / "gp.device"
    code, res = add_device(world.home("gp"), dev, env)  # human output, stderr to a file
    assert "shown only this once" in res.tty and "device join" in res.tty
    assert "Device file" in res.stdout and str(dev) in res.stdout
    assert res.stderr == ""  # the finding: nothing on stderr, so nothing in a log
    assert "Device file" not in res.tty  # stdout went to its file, not the terminal
    # --json: the document names the file, never the code
    dev2 = tmp_path / "gp2.device"
    code2, res = add_device(world.home("gp"), dev2, env, "--json")
    assert code2 != code and code2 not in json.dumps(res.json()) and res.stderr == ""
    assert set(res.json()) == {"schema", "path", "fingerprint"}
    # the code shown opens the file it was shown for, and only that one
    wrong = run_cli(tmp_path / "other", "--json", "device", "join", dev2,
                    env={**env, "SECUREMSG_DEVICE_CODE": code}, executable=True)  # fmt: skip
    assert wrong.exit_code == 3 and wrong.error_json()["error"] == "backup_passphrase"
    assert not (tmp_path / "other").exists()
    joined = run_cli(tmp_path / "other", "--json", "device", "join", dev2,
                     env={**env, "SECUREMSG_DEVICE_CODE": code2}, executable=True)  # fmt: skip
    assert joined.exit_code == 0, joined.stderr
    assert joined.json()["fingerprint"] == world.fp("gp")


@pytest.mark.parametrize("as_json", [True, False])
def test_no_terminal_no_code_and_no_file(world: World, tmp_path: Path, as_json: bool) -> None:
    """A script or a service (no controlling terminal): the code could only go to
    a log. Refused before anything is written; the home left exactly as it was."""
    home = world.home("gp")
    before = snapshot(home)
    out = tmp_path / "devices"
    out.mkdir()
    args = ["--json"] if as_json else []
    res = run_cli(home, *args, "device", "add", "-o", out / "gp.device",
                  env=world_env(PASSPHRASE), executable=True)  # fmt: skip
    assert res.exit_code == 2, res.stderr
    if as_json:
        err = res.error_json()
        assert err["error"] == "no_terminal" and "terminal" in err["hint"]
        assert res.stdout == ""
    else:
        assert "no terminal to show the one-time code on" in res.stderr
    assert CODE.search(res.stdout + res.stderr) is None
    assert list(out.iterdir()) == []
    assert snapshot(home) == before


def test_a_refused_add_shows_no_code(world: World, tmp_path: Path) -> None:
    """A refusal on the terminal (the file exists) shows no code at all."""
    taken = tmp_path / "taken.device"
    taken.write_bytes(b"someone else's file")
    res = run_on_terminal(world.home("gp"), "--json", "device", "add", "-o", taken,
                          env=world_env(PASSPHRASE))  # fmt: skip
    assert res.exit_code != 0 and res.error_json()["error"] != "no_terminal", res
    assert CODE.search(res.tty + res.stdout + res.stderr) is None
    assert taken.read_bytes() == b"someone else's file"
