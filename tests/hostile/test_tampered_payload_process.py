"""Issue 12, item 1, through the real executable: one flipped bit in a non-final
chunk of a letter with a 1.6 MB attachment made ``securemsg receive`` die with
SIGSEGV (exit 139): a cffi buffer borrowed by libsodium was still alive inside the
stored exception when the garbage collector ran (``StreamDecryptor.feed``). The
in-process CLI tests could not see it, so this one runs a separate process, and
checks a clean refusal (exit 3, docs/cli.md), the store unchanged, and that the
next letter of the same run is still received.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from hostile_kit import World, subprocess_env

from securemsg.core.age.hazmat.file import read_header

ENC_CHUNK = 64 * 1024 + 16


def securemsg_command() -> list[str]:
    """The installed ``securemsg`` script next to this interpreter, else ``-m``."""
    script = Path(sys.executable).with_name("securemsg")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    found = shutil.which("securemsg")
    return [found] if found else [sys.executable, "-m", "securemsg"]


def flip_in_chunk(envelope: bytes, chunk: int) -> bytes:
    """One bit flipped inside payload chunk ``chunk`` (0-based) of an age file."""
    _header, header_bytes = read_header(io.BytesIO(envelope))
    at = len(header_bytes) + 16 + chunk * ENC_CHUNK + 100
    assert at + ENC_CHUNK < len(envelope), "the chunk must not be the last"
    data = bytearray(envelope)
    data[at] ^= 0x01
    return bytes(data)


def test_bit_flip_in_a_non_final_chunk_is_a_clean_refusal(world: World) -> None:
    scan = world.path("big-scan.bin")
    scan.write_bytes(os.urandom(1_600_000))
    letters = []
    for n in range(2):
        out = world.path(f"out{n}")
        out.mkdir()
        world.send("--attach", f"{scan}:medical", "--to", "Bob", "--no-patient-copy", "-o", out)
        (envelope,) = out.glob(f"*-{world.fp('card')[:12]}.smsg")
        letters.append(envelope)
    tampered = world.path("tampered.smsg")
    tampered.write_bytes(flip_in_chunk(letters[0].read_bytes(), 3))
    before = world.snap("card")

    proc = subprocess.run(
        [*securemsg_command(), "--home", str(world.home("card")), "--json", "receive", tampered],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=300,
        check=False,
    )
    assert proc.returncode != -signal.SIGSEGV and proc.returncode != 128 + signal.SIGSEGV, (
        "receive crashed with SIGSEGV",
        proc.stderr[-2000:],
    )
    assert proc.returncode == 3, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    (result,) = json.loads(proc.stdout)["results"]
    assert result["status"] == "refused" and result["error"] == "age_payload", result
    assert "internal error" not in proc.stderr
    assert world.snap("card") == before

    # In one run, a good letter after the tampered one is still received.
    proc = subprocess.run(
        [
            *securemsg_command(),
            "--home",
            str(world.home("card")),
            "--json",
            "receive",
            tampered,
            letters[1],
        ],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=300,
        check=False,
    )
    assert proc.returncode == 3, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    statuses = [r["status"] for r in json.loads(proc.stdout)["results"]]
    assert statuses == ["refused", "accepted"], proc.stdout
