"""The scrypt (passphrase) recipient against the ``age`` binary, both ways: our
code decrypts an ``age -p`` file, ``age -d`` decrypts ours, binary and armored.
age asks for the passphrase on the terminal: tests/interop/agepty.py gives it a
pseudo-terminal. Skipped with the reason where age is absent, failed when
``SECUREMSG_REQUIRE_PEERS=1``.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from pathlib import Path

import pytest
from agepty import run_age

from securemsg.core import age
from securemsg.core.age.hazmat.file import read_header

pytestmark = pytest.mark.peers

PASSPHRASE = "correct horse battery staple ä"
SIZES = [0, 1, 64 * 1024, 200 * 1024]


@pytest.fixture(scope="module")
def age_bin() -> str:
    path = shutil.which("age")
    if path is None:
        if os.environ.get("SECUREMSG_REQUIRE_PEERS") == "1":
            pytest.fail("the age binary is required (SECUREMSG_REQUIRE_PEERS=1) but missing")
        pytest.skip("the age binary is not available")
    return path


def _plaintext(size: int) -> bytes:
    seed = hashlib.sha256(b"scrypt plaintext %d" % size).digest()
    return (seed * (size // 32 + 1))[:size]


@pytest.mark.parametrize("armored", [False, True], ids=["binary", "armored"])
@pytest.mark.parametrize("size", SIZES)
def test_age_decrypts_ours(age_bin: str, tmp_path: Path, size: int, armored: bool) -> None:
    pt = _plaintext(size)
    src = tmp_path / "ours.age"
    with src.open("wb") as fh:
        age.encrypt([age.ScryptRecipient(PASSPHRASE.encode(), 10)], pt, fh, armor=armored)
    out = tmp_path / "out"
    code, tty = run_age([age_bin, "-d", "-o", str(out), str(src)], [PASSPHRASE])
    assert code == 0, tty
    # age 1.1 creates -o lazily, at its first write: no file for an empty plaintext
    assert (out.read_bytes() if out.exists() else b"") == pt
    assert out.exists() or size == 0


def test_age_refuses_ours_with_the_wrong_passphrase(age_bin: str, tmp_path: Path) -> None:
    src = tmp_path / "ours.age"
    with src.open("wb") as fh:
        age.encrypt([age.ScryptRecipient(PASSPHRASE.encode(), 10)], b"secret", fh)
    out = tmp_path / "out"
    code, tty = run_age([age_bin, "-d", "-o", str(out), str(src)], ["not it"])
    assert code != 0
    assert "incorrect passphrase" in tty.lower() or "no identity matched" in tty.lower(), tty


@pytest.mark.parametrize(
    "armored",
    [False, pytest.param(True, marks=pytest.mark.slow)],  # age -p costs seconds (scrypt 2^18)
    ids=["binary", "armored"],
)
def test_we_decrypt_age_p(age_bin: str, tmp_path: Path, armored: bool) -> None:
    pt = _plaintext(70 * 1024)
    (tmp_path / "in").write_bytes(pt)
    made = tmp_path / "theirs.age"
    args = [age_bin, "-p", *(["-a"] if armored else []), "-o", str(made), str(tmp_path / "in")]
    code, tty = run_age(args, [PASSPHRASE, PASSPHRASE])
    assert code == 0, tty
    header, _ = read_header(io.BytesIO(made.read_bytes()) if not armored else _dearmor(made))
    assert [s.type for s in header.stanzas] == ["scrypt"]
    out = io.BytesIO()
    with made.open("rb") as fh:
        age.decrypt([age.ScryptIdentity(PASSPHRASE.encode())], fh, out)
    assert out.getvalue() == pt


def _dearmor(path: Path) -> io.BytesIO:
    from securemsg.core.age.hazmat.armor import ArmorReader

    return io.BytesIO(ArmorReader(io.BytesIO(path.read_bytes())).read())
