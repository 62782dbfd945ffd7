"""`make demo` as a test: the README's referral story, with `send --dry-run` and
`reply`, through the real command line (the demo runs `python -m securemsg` for
every step, in throw-away homes under a temp folder)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from clirun import child_env

pytestmark = pytest.mark.slow  # about 15 s on an idle 2-core machine


def test_the_demo_story_passes(tmp_path: Path) -> None:
    env = child_env({"NO_COLOR": "1", "TMPDIR": str(tmp_path), "COLUMNS": "200"})
    proc = subprocess.run(
        [sys.executable, "-m", "securemsg.demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "All steps passed." in out
    flat = " ".join(out.split())
    # the dry run shows the nurse's copy, by name, before anything is sent
    assert "Claire Petit [key NOT verified] (nurse)" in flat
    assert "withheld: History [medical]; Question [medical]; ecg.pdf [medical]" in flat
    # the reply without consent tells the cardiologist what the patient signs
    assert (
        "securemsg consent grant --from 'Dr Bruno Keller' --to 'Dr Alice Martin' "
        "--to 'Claire Petit' --purpose reply -o consent-reply.cose" in flat
    )
    # the sign-off stays on two lines when the nurse reads the referral
    lines = [ln.strip() for ln in out.splitlines()]
    assert lines[lines.index("Kind regards,") + 1] == "Dr Alice Martin"
    assert list(tmp_path.glob("securemsg-demo-*")) == []  # the demo removes its homes
