"""Issue 12, item 1, through the installed executable: one flipped bit in a
non-final chunk of a letter with a 1.6 MB attachment made ``securemsg receive``
die with SIGSEGV (exit 139): a cffi buffer borrowed by libsodium was still alive
inside the stored exception when the garbage collector ran
(``StreamDecryptor.feed``). The in-process CLI runs could not see it, so this
test runs a child process, and checks a clean refusal (exit 3, docs/cli.md), the
store unchanged, and that the next letter of the same run is still received.
"""

from __future__ import annotations

import io
import os
import signal
from pathlib import Path

import pytest
from hostile_kit import World

from securemsg.core.age.hazmat.file import read_header
from securemsg.core.age.hazmat.stream import ENC_CHUNK_SIZE, NONCE_SIZE


def flip_in_chunk(envelope: bytes, chunk: int) -> bytes:
    """One bit flipped inside payload chunk ``chunk`` (0-based) of an age file."""
    _header, header_bytes = read_header(io.BytesIO(envelope))
    at = len(header_bytes) + NONCE_SIZE + chunk * ENC_CHUNK_SIZE + 100
    assert at + ENC_CHUNK_SIZE < len(envelope), "the chunk must not be the last"
    data = bytearray(envelope)
    data[at] ^= 0x01
    return bytes(data)


def send(world: World, kind: str, scan: Path, out: Path) -> None:
    if kind == "referral":
        world.send("--attach", f"{scan}:medical", "--to", "Bob", "--no-patient-copy", "-o", out)
        return
    res = world.run(
        "gp",
        *("send", world.path("letter.md"), "--to", "Bob", "--kind", "tele-expertise"),
        *("--pseudonym", "case-17", "--attach", f"{scan}:medical", "-o", out),
    )
    assert res.exit_code == 0, res.stderr


# On main before the fix, the pseudonymous tele-expertise letter crashed every
# time (the referral did not: where the collector runs depends on what else the
# receive allocates).
@pytest.mark.parametrize("kind", ["tele-expertise", "referral"])
def test_bit_flip_in_a_non_final_chunk_is_a_clean_refusal(world: World, kind: str) -> None:
    scan = world.path("big-scan.bin")
    scan.write_bytes(os.urandom(1_600_000))
    letters = []
    for n in range(2):
        out = world.path(f"out{n}")
        out.mkdir()
        send(world, kind, scan, out)
        (envelope,) = out.glob(f"*-{world.fp('card')[:12]}.smsg")
        letters.append(envelope)
    tampered = world.write("tampered.smsg", flip_in_chunk(letters[0].read_bytes(), 3))
    before = world.snap("card")

    res = world.run("card", "--json", "receive", tampered, executable=True)
    assert res.exit_code not in (-signal.SIGSEGV, 128 + signal.SIGSEGV), res.stderr[-2000:]
    assert res.exit_code == 3, (res.exit_code, res.stdout, res.stderr[-2000:])
    (result,) = res.json()["results"]
    assert result["status"] == "refused" and result["error"] == "age_payload", result
    assert "internal error" not in res.stderr
    assert world.snap("card") == before

    # In one run, a good letter after the tampered one is still received.
    res = world.run("card", "--json", "receive", tampered, letters[1], executable=True)
    assert res.exit_code == 3, (res.exit_code, res.stdout, res.stderr[-2000:])
    assert [r["status"] for r in res.json()["results"]] == ["refused", "accepted"], res.stdout
