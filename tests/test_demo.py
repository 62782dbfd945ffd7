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


def run_demo(env: dict[str, str]) -> str:
    """``python -m securemsg.demo`` (what `make demo` runs); its output, once it passed."""
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
    return out


def test_the_demo_story_passes(tmp_path: Path) -> None:
    env = child_env({"NO_COLOR": "1", "TMPDIR": str(tmp_path), "COLUMNS": "200"})
    out = run_demo(env)
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


def _english_lines(out: str) -> list[str]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from demo_english import english_lines

    found: list[str] = english_lines(out)
    return found


def test_the_detector_finds_english() -> None:
    """The check below can fail: an English message is found, French ones are not."""
    assert _english_lines("refused drop/ab/0101b2e5.smsg: the letter was refused by its key")
    assert not _english_lines(
        "refusée drop/ab/0101b2e5ed76.smsg : cette lettre a été rechiffrée pour vous\n"
        "conseil : securemsg consent grant --from 'Dr X' --purpose reply -o consent-reply.cose"
    )


def test_the_demo_in_french_has_no_english_left(tmp_path: Path) -> None:
    """Issue 14: a French user (LANG=fr_FR.UTF-8, TZ=Europe/Paris) runs the whole story
    in French with local times: no line of the output reads as English (the letters'
    own text and the command lines aside: scripts/demo_english.py)."""
    env = child_env(
        {"NO_COLOR": "1", "TMPDIR": str(tmp_path), "COLUMNS": "200",
         "LANG": "fr_FR.UTF-8", "TZ": "Europe/Paris", "LC_ALL": None, "LC_MESSAGES": None}
    )  # fmt: skip
    out = run_demo(env)
    assert "CET" in out or "CEST" in out  # local times, the zone named
    assert _english_lines(out) == []
