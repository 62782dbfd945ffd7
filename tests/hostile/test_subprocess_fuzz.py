"""Issue 12, item 1: a short run of the subprocess fuzzer (fuzz/subprocess_fuzz.py).

The runner builds its own world through the installed executable and feeds it
seeded random mutants of letters, receipts, consents and cards (bytes, plaintext
re-encrypted, payloads signed again) for ``SECUREMSG_FUZZ_SECONDS`` (15 by
default): no input may crash the executable (a signal, or "internal error"), be
accepted where it must be refused, go unreported, or change a home it did not
enter. A longer run: ``python fuzz/subprocess_fuzz.py --seconds 600``
(docs/security-testing.md has the figures of the last one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_kit import FIGURES

pytestmark = pytest.mark.slow

RUNNER = Path(__file__).resolve().parents[2] / "fuzz" / "subprocess_fuzz.py"
SECONDS = os.environ.get("SECUREMSG_FUZZ_SECONDS", "15")


def test_a_short_subprocess_fuzz_run_finds_no_crash(tmp_path: Path) -> None:
    stats = tmp_path / "stats.json"
    res = subprocess.run(
        [
            *(sys.executable, str(RUNNER), "--seconds", SECONDS, "--seed", "12"),
            *("--json", str(stats), "--work", str(tmp_path / "work"), "--out", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=float(SECONDS) + 300,
        check=False,
    )
    print(res.stdout)
    assert res.returncode == 0, (res.stdout[-3000:], res.stderr[-3000:])
    doc = json.loads(stats.read_text())
    total = doc["total"]
    FIGURES["subprocess fuzz, total"] = res.stdout.strip().splitlines()[-1].split(": ", 1)[1]
    assert total["crashed"] == total["accepted"] == total["unreported"] == 0, total
    assert total["changed_home"] == 0, total
    assert all(t["tried"] > 0 for t in doc["targets"].values()), doc["targets"]
    assert total["tried"] > 100, total
