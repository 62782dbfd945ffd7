"""Fixtures for consent CLI tests: a small world of homes, built once and copied.

The homes use PUBLIC TEST KEYS (``init --test-key``) derived from fixed labels,
so a test can also sign objects with core (e.g. a grant dated in the past) with
the very keys the homes hold. Commands run in-process through
``securemsg.cli.main.main`` (the real entry point: error reporting and exit
codes included), with stdout/stderr captured.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from clirun import Result, db_rows, light_key_file, world_env
from clirun import run_cli as _run_cli
from securemsg.core.card import Card
from securemsg.core.identity import SecretIdentity
from securemsg.core.testkeys import derive_test_identity, format_test_key

PASSPHRASE = "consent test passphrase"

# label -> (name, role, extra init options)
PEOPLE: dict[str, tuple[str, str, list[str]]] = {
    "patient": (
        "Paul Durand",
        "patient",
        ["--ins", "170017512345665", "--birth-date", "1970-01-01"],
    ),
    "other": ("Eve Moreau", "patient", ["--ins", "285027512312317", "--birth-date", "1985-02-03"]),
    "gp": ("Dr Alice Martin", "gp", ["--rpps", "10000000009"]),
    "nurse": ("Nina Petit", "nurse", []),
    "physio": ("Kim Leroy", "physiotherapist", []),
}
# who knows whose card
KNOWS: dict[str, list[str]] = {
    "patient": ["gp", "nurse", "physio"],
    "other": ["gp", "nurse"],
    "gp": ["patient", "other", "nurse", "physio"],
    "nurse": ["patient", "gp"],
    "physio": [],
}


def run_cli(home: Path | None, *args: str, env: dict[str, str] | None = None) -> Result:
    return _run_cli(home, *args, env={**world_env(PASSPHRASE), **(env or {})})


def db_dump(home: Path) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Every row of every table (sealed blobs included), for before/after checks."""
    return db_rows(home / "securemsg.db")


@dataclass
class World:
    root: Path
    homes: dict[str, Path]

    def home(self, label: str) -> Path:
        return self.homes[label]

    def secret(self, label: str) -> SecretIdentity:
        return derive_test_identity(f"consent-tests/{label}")

    def card(self, label: str) -> Card:
        return Card.parse((self.homes[label] / "card.txt").read_bytes())

    def run(self, label: str, *args: str, env: dict[str, str] | None = None) -> Result:
        return run_cli(self.homes[label], *args, env=env)

    def path(self, name: str) -> Path:
        return self.root / name


def _build(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for label, (name, role, extra) in PEOPLE.items():
        keyfile = root / f"{label}.testkey"
        keyfile.write_text(format_test_key(derive_test_identity(f"consent-tests/{label}")))
        res = run_cli(
            root / label, "init", "--name", name, "--role", role, *extra, "--test-key", str(keyfile)
        )
        assert res.exit_code == 0, res.stderr
        light_key_file(root / label, PASSPHRASE)  # every test unlocks these homes
        res = run_cli(root / label, "card", "export", "-o", str(root / f"{label}.card"))
        assert res.exit_code == 0, res.stderr
    for label, known in KNOWS.items():
        for other in known:
            res = run_cli(root / label, "contacts", "add", str(root / f"{other}.card"))
            assert res.exit_code == 0, res.stderr
        # create the consent table now, so before/after dumps compare like with like
        res = run_cli(root / label, "consent", "list")
        assert res.exit_code == 0, res.stderr


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("consent-world")
    _build(root)
    return root


@pytest.fixture
def world(world_template: Path, tmp_path: Path) -> World:
    root = tmp_path / "world"
    shutil.copytree(world_template, root)
    return World(root, {label: root / label for label in PEOPLE})


@pytest.fixture(name="db_dump")
def db_dump_fixture() -> Callable[[Path], list[tuple[str, list[tuple[Any, ...]]]]]:
    return db_dump


@pytest.fixture
def refused(world: World) -> Callable[..., dict[str, Any]]:
    """``refused(label, *args, rule=...)``: run with --json, assert exit 3, the rule
    in the JSON error, and that no home's database changed. Returns the error."""

    def _check(label: str, *args: str, rule: str) -> dict[str, Any]:
        before = {k: db_dump(h) for k, h in world.homes.items()}
        res = world.run(label, "--json", *args)
        assert res.exit_code == 3, (res.stdout, res.stderr)
        err: dict[str, Any] = res.error_json()
        assert err["rule"] == rule, err
        assert err["exit"] == 3
        assert err["error"] == "consent_refused"
        after = {k: db_dump(h) for k, h in world.homes.items()}
        assert before == after
        return err

    return _check
