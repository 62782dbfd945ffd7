"""Helpers of the hostile drop folder tests (test_drop_links.py, test_drop_files.py):
the installed executable on a home of the letters world, letters put in a
person's folder, the report's rows by file name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from letterworld import PASSPHRASE, World

from clirun import Result, run_cli, world_env

GiB = 1 << 30
TiB = 1 << 40


def run(world: World, label: str, *args: str | Path, timeout: float = 60) -> Result:
    """``securemsg --json ARGS`` on ``label``'s home, the installed executable."""
    return run_cli(
        world.home(label),
        "--json",
        *args,
        env=world_env(PASSPHRASE),
        executable=True,
        timeout=timeout,
    )


def receive_drop(world: World, label: str, timeout: float = 60) -> Result:
    return run(world, label, "receive", "--drop", world.drop, timeout=timeout)


def send_referral(world: World, *extra: str | Path) -> Result:
    """gp's referral to Bob and Claire (and the patient's copy) into the drop folder."""
    return run(
        world,
        "gp",
        "send",
        world.path("letter.md"),
        "--kind",
        "referral",
        "--patient",
        "Jeanne",
        "--consent",
        world.path("consent.cose"),
        "--to",
        "Bob",
        *extra,
        "--drop",
        world.drop,
    )


def folder(world: World, label: str) -> Path:
    d = world.drop / world.fp(label)
    d.mkdir(exist_ok=True)
    return d


def letter(world: World, to: str = "card", **kw: Any) -> tuple[str, bytes]:
    """A valid letter from the GP to ``to`` (World.craft keywords): (message id, envelope)."""
    path = world.craft(to, **kw)
    mid = path.stem.removeprefix("crafted-")
    return mid, path.read_bytes()


def drop_letter(world: World, to: str = "card") -> str:
    """A valid letter from the GP, put in ``to``'s drop folder; its message id."""
    mid, data = letter(world, to)
    (folder(world, to) / f"{mid}.smsg").write_bytes(data)
    return mid


def rows(res: Result) -> dict[str, dict[str, Any]]:
    """The receive report's rows, by file name."""
    doc = res.json()
    assert doc["schema"] == "securemsg.receive/1"
    return {Path(r["file"]).name: r for r in doc["results"]}


def no_internal_error(res: Result) -> None:
    assert "internal error" not in res.stderr, res.stderr
    assert res.exit_code >= 0, f"killed by signal {-res.exit_code}"


def drop_files(world: World) -> list[Path]:
    return sorted(p.relative_to(world.drop) for p in world.drop.rglob("*"))
