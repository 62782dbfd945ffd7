"""`securemsg whoami` stays light (docs/performance.md, target 4): structural
checks of what it imports, never timings.

:data:`ON_PATH` is the list of securemsg's modules on whoami's import path, the
ones that follow the start-up rules of CONTRIBUTING.md ("Start-up time"): no
pathlib, no dataclasses, nothing in :data:`HEAVY` at import. whoami may import no
other securemsg module; a module that leaves the path leaves the list too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Modules whoami does not need, each a few ms (rich, keyring: tens) at start-up.
HEAVY = ("dataclasses", "pathlib", "hashlib", "rich", "keyring", "sqlite3", "tempfile", "ctypes")
# securemsg's modules on whoami's import path, with either key store.
ON_PATH = frozenset(
    {
        "securemsg",
        "securemsg.errors",
        "securemsg.i18n",
        "securemsg.app",
        "securemsg.app.home",
        "securemsg.app.identity",
        "securemsg.cli",
        "securemsg.cli.main",
        "securemsg.cli.hardening",  # core dumps off; its ctypes part is not on the path
        "securemsg.cli.identity",
        "securemsg.cli.output",
        "securemsg.core",
        "securemsg.core.card",
        "securemsg.core.cbor",
        "securemsg.core.cose",
        "securemsg.core.fingerprint",
        "securemsg.core.frozen",
        "securemsg.core.identity",
        "securemsg.core.ignorable_data",  # names refused in a name, through core.names
        "securemsg.core.keyfile",
        "securemsg.core.labels",
        "securemsg.core.names",
        "securemsg.core.signed",  # the reader of signed objects, through core.card
        "securemsg.core.text",  # the sanitiser every printed string goes through (cli.output)
        "securemsg.core.times",
        "securemsg.core.x25519_point",
        "securemsg.store",
        "securemsg.store.home",
        "securemsg.store.keystore",
        "securemsg.store.keystore.describe",
        "securemsg.store.keystore.os_keyring",  # a keyring identity only
    }
)
KINDS = ("file", "keyring")
PROBE = """
import json, sys
from securemsg.cli.main import main
try:
    main()
except SystemExit as exc:
    code = exc.code
sys.stderr.write("\\nMODULES " + json.dumps([code, sorted(sys.modules)]) + "\\n")
"""
KEYRING = {
    "kind": "keyring",
    "backend": "keyring.backends.SecretService.Keyring",
    "service": "securemsg",
    "account": "whoami-imports",
}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], dict[str, str]]:
    """A home per key store kind: the keyring home is the file home with its
    config naming an OS key store (whoami describes it without touching it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECUREMSG_")}
    env.update(
        PYTHONPATH=str(ROOT / "src"),
        SECUREMSG_KEYSTORE="file",
        SECUREMSG_PASSPHRASE="whoami imports",
        NO_COLOR="1",
    )
    root = tmp_path_factory.mktemp("whoami")
    path = root / "home"
    res = run(["--home", str(path), "init", "--name", "Dr Ada Weiss", "--role", "gp"], env)
    assert res.returncode == 0, res.stderr
    keyring_home = root / "keyring-home"
    shutil.copytree(path, keyring_home)
    config = json.loads((keyring_home / "config.json").read_text())
    config["keystore"] = KEYRING
    (keyring_home / "config.json").write_text(json.dumps(config))
    return {"file": path, "keyring": keyring_home}, env


@pytest.fixture(scope="module")
def imported(
    homes: tuple[dict[str, Path], dict[str, str]],
) -> dict[tuple[str, bool], tuple[Any, list[str], str]]:
    """(kind, as_json) -> (exit code, sys.modules at exit, stdout) of a whoami run."""
    paths, env = homes
    out = {}
    for kind in KINDS:
        for as_json in (False, True):
            args = ["--home", str(paths[kind]), *(["--json"] if as_json else []), "whoami"]
            res = run(args, env)
            code, modules = json.loads(res.stderr.rsplit("MODULES ", 1)[1])
            assert code in (0, None), res.stderr
            out[kind, as_json] = (code, modules, res.stdout)
    return out


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("as_json", [False, True])
def test_whoami_does_not_import_heavy_modules(
    homes: tuple[dict[str, Path], dict[str, str]],
    imported: dict[tuple[str, bool], tuple[Any, list[str], str]],
    kind: str,
    as_json: bool,
) -> None:
    paths, _ = homes
    _, modules, stdout = imported[kind, as_json]
    assert "Dr Ada Weiss" in stdout
    assert str(paths[kind]) in stdout
    if kind == "keyring":
        assert KEYRING["backend"] in stdout
    loaded = {m.split(".")[0] for m in modules}
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("as_json", [False, True])
def test_whoami_imports_only_the_modules_on_its_path(
    imported: dict[tuple[str, bool], tuple[Any, list[str], str]], kind: str, as_json: bool
) -> None:
    _, modules, _ = imported[kind, as_json]
    ours = {m for m in modules if m == "securemsg" or m.startswith("securemsg.")}
    assert not ours - ON_PATH, (
        "whoami imports securemsg modules outside ON_PATH (see CONTRIBUTING.md, "
        f"'Start-up time'): {sorted(ours - ON_PATH)}"
    )


def test_the_list_of_modules_on_the_path_is_not_stale(
    imported: dict[tuple[str, bool], tuple[Any, list[str], str]],
) -> None:
    seen = {m for _, modules, _ in imported.values() for m in modules}
    assert not ON_PATH - seen, f"no longer on whoami's path: {sorted(ON_PATH - seen)}"
