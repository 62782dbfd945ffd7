"""Item 7 of issue 5: secrets at rest after the whole demo story.

``python -m securemsg.demo --keep`` runs the referral story (GP, cardiologist,
nurse, patient and an outsider; PUBLIC TEST KEYS from keys/, so the private keys
are known here) with its temp dir inside tmp_path. Then every file under every
home is scanned as raw bytes (databases, -wal and -shm files included): no
private key (raw, hex, base64), no section text, no patient name, INS or birth
date. One documented exception: the patient's own ``card.txt`` in her own home
is her public card and names her. Files with secrets or personal data are 0600,
folders 0700.
"""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_kit import FIGURES, subprocess_env

from securemsg.core.testkeys import parse_test_key

# A slow suite: `make test` runs it, `make test-fast` does not (pyproject.toml, markers).
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
HOMES = ("gp", "cardiologist", "nurse", "patient", "outsider")
PATIENT_IDS = (b"Jeanne Dupont", b"Dupont", b"255037512345606", b"1955-03-02")
SECTION_TEXT = (
    b"exertional chest pain",
    b"amlodipine",
    b"hypoallergenic",
    b"weekday mornings",
    b"Referral: exertional",
)


def _forms(secret: bytes) -> list[bytes]:
    out = [secret, secret.hex().encode(), base64.b64encode(secret).rstrip(b"=")]
    return out + [secret[i : i + 12] for i in range(0, 21, 10)]  # 12-byte windows


def test_demo_homes_hold_no_secret_in_clear(tmp_path: Path) -> None:
    env = subprocess_env()
    env["TMPDIR"] = str(tmp_path)
    res = subprocess.run(
        [sys.executable, "-m", "securemsg.demo", "--keep"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=REPO,
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    (root,) = list(tmp_path.glob("securemsg-demo-*"))
    keys = {
        who: parse_test_key((REPO / "keys" / f"{who}.testkey").read_text())
        for who in ("gp", "cardiologist", "nurse", "patient", "outsider")
    }
    needles: list[tuple[str, bytes]] = []
    for who, secret in keys.items():
        for form in _forms(secret.sign_seed) + _forms(secret.enc_secret):
            needles.append((f"{who} private key", form))
    needles += [("section text", t) for t in SECTION_TEXT]
    needles += [("patient identity", t) for t in PATIENT_IDS]
    scanned, bytes_scanned, wal = 0, 0, 0
    problems = []
    for who in HOMES:
        home = root / who
        assert home.is_dir(), who
        for dirpath, dirnames, filenames in os.walk(home):
            for d in dirnames:
                mode = stat.S_IMODE((Path(dirpath) / d).stat().st_mode)
                if mode != 0o700:
                    problems.append(f"{who}: folder {d} is {mode:o}")
            for name in filenames:
                path = Path(dirpath) / name
                rel = path.relative_to(home).as_posix()
                data = path.read_bytes()
                scanned += 1
                bytes_scanned += len(data)
                wal += name.endswith("-wal")
                mode = stat.S_IMODE(path.stat().st_mode)
                if mode != 0o600:
                    problems.append(f"{who}/{rel} is {mode:o}")
                for what, needle in needles:
                    if needle in data:
                        if who == "patient" and rel == "card.txt" and what == "patient identity":
                            continue  # her own public card, in her own home
                        problems.append(f"{who}/{rel}: {what} in clear ({needle[:20]!r})")
        assert stat.S_IMODE(home.stat().st_mode) == 0o700, who
    assert not problems, problems
    FIGURES["secrets at rest: demo homes scanned"] = (
        f"{len(HOMES)} homes, {scanned} files ({wal} WAL), {bytes_scanned} bytes, "
        f"{len(needles)} needles, 0 found"
    )
