"""Shell completion (issue 14), through the installed executable with click's
completion variables: command names, option values (roles, kinds, purposes,
domains), contact names and message ids, and never a prompt."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from letterworld import PASSPHRASE, World

from clirun import child_env, cli_command, world_env
from clirun import run_cli as _run_cli

pytestmark = pytest.mark.slow


def complete(line: str, env: dict[str, str | None], shell: str = "bash") -> list[str]:
    """The candidates the executable gives for ``line`` (the word being completed
    is the last one; a trailing space starts a new word)."""
    words = line.split()
    if line.endswith(" "):
        words.append("")
    full = {**env, "_SECUREMSG_COMPLETE": f"{shell}_complete"}
    if shell == "fish":  # the line as typed, the incomplete word apart
        full |= {"COMP_WORDS": " ".join(words), "COMP_CWORD": words[-1]}
    else:  # bash and zsh: the words, and the index of the one completed
        full |= {"COMP_WORDS": " ".join(words), "COMP_CWORD": str(len(words) - 1)}
    proc = subprocess.run(
        [*cli_command()], env=child_env(full), capture_output=True, text=True,
        timeout=60, check=False, start_new_session=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr  # nothing said, nothing asked
    lines = proc.stdout.splitlines()
    if shell == "zsh":  # type, value, help: three lines per candidate
        return lines[1::3]
    return [ln.split(",", 1)[1].split("\t")[0] for ln in lines if ln]


@pytest.fixture
def runtime() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="smco-"))
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_option_values(runtime: Path) -> None:
    env: dict[str, str | None] = {"XDG_RUNTIME_DIR": str(runtime), "SECUREMSG_HOME": None}
    assert complete("securemsg un", env) == ["unlock"]
    assert complete("securemsg init --role s", env) == ["specialist"]
    assert complete("securemsg init --role ", env)[:2] == ["gp", "specialist"]
    assert "second-opinion" in complete("securemsg send x.md --kind ", env)
    assert complete("securemsg send x.md --kind em", env) == ["emergency-report"]
    assert complete("securemsg consent grant --purpose tele", env) == ["tele-expertise"]
    assert complete("securemsg consent grant --domain nu", env) == ["nursing"]
    assert complete("securemsg consent grant --exclude IN", env) == ["insurance"]
    assert "patient" in complete("securemsg consent object --to pat", env)
    assert complete("securemsg passphrase ", env) == ["change"]


def test_contacts_and_message_ids_only_when_the_keys_are_at_hand(
    world: World, runtime: Path
) -> None:
    world.send()
    code, _ = world.receive_drop("card")
    assert code == 0
    ids = world.inbox_ids("card")
    home = str(world.home("card"))
    with_pass = {**world_env(PASSPHRASE), "XDG_RUNTIME_DIR": str(runtime)}
    without = {**with_pass, "SECUREMSG_PASSPHRASE": None}

    # a file key store, no agent, no passphrase: nothing offered, nothing asked
    assert complete(f"securemsg --home {home} contacts show ", without) == []
    assert complete(f"securemsg --home {home} read ", without) == []

    # the agent runs: names and ids, without a passphrase
    res = _run_cli(world.home("card"), "unlock", "--for", "1m", env=with_pass, executable=True)
    assert res.exit_code == 0, res.stderr
    try:
        names = complete(f"securemsg --home {home} contacts show ", without)
        assert "Dr Alice Martin" in names and "Jeanne Dupont" in names
        assert complete(f"securemsg --home {home} contacts show ali", without) == [
            "Dr Alice Martin"
        ]
        assert complete(f"securemsg --home {home} send x.md --to Cl", without) == ["Claire Petit"]
        assert complete(f"securemsg --home {home} read ", without) == ids
        assert complete(f"securemsg --home {home} read {ids[0][:6]}", without) == [ids[0]]
        assert complete(f"securemsg --home {home} read zz", without) == []
        assert complete(f"securemsg --home {home} thread ", without, shell="zsh") == ids
        assert complete(f"securemsg --home {home} contacts verify Je", without, shell="fish") == [
            "Jeanne Dupont"
        ]
        assert "nurse" in complete(f"securemsg --home {home} consent grant --to nu", without)
    finally:
        _run_cli(world.home("card"), "lock", env=without, executable=True)

    # SECUREMSG_PASSPHRASE set: no prompt either, so offered
    assert complete(f"securemsg --home {home} inbox --patient jea", with_pass) == ["Jeanne Dupont"]
