"""`securemsg whoami` stays light (docs/performance.md, target 4): structural
checks of what it imports, never timings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Modules whoami does not need, each a few ms (rich, keyring: tens) at start-up.
HEAVY = ("dataclasses", "pathlib", "hashlib", "rich", "keyring", "sqlite3", "tempfile")
PROBE = """
import json, sys
from securemsg.cli.main import main
try:
    main()
except SystemExit as exc:
    code = exc.code
sys.stderr.write("\\nMODULES " + json.dumps([code, sorted(sys.modules)]) + "\\n")
"""


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
def home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECUREMSG_")}
    env.update(
        PYTHONPATH=str(ROOT / "src"),
        SECUREMSG_KEYSTORE="file",
        SECUREMSG_PASSPHRASE="whoami imports",
        NO_COLOR="1",
    )
    path = tmp_path_factory.mktemp("whoami") / "home"
    res = run(["--home", str(path), "init", "--name", "Dr Ada Weiss", "--role", "gp"], env)
    assert res.returncode == 0, res.stderr
    return path, env


@pytest.mark.parametrize("as_json", [False, True])
def test_whoami_does_not_import_heavy_modules(
    home: tuple[Path, dict[str, str]], as_json: bool
) -> None:
    path, env = home
    res = run(["--home", str(path), *(["--json"] if as_json else []), "whoami"], env)
    code, modules = json.loads(res.stderr.rsplit("MODULES ", 1)[1])
    assert code in (0, None), res.stderr
    assert "Dr Ada Weiss" in res.stdout
    assert str(path) in res.stdout
    loaded = {m.split(".")[0] for m in modules}
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
