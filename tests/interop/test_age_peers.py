"""Interop with the reference implementations: the ``age`` binary (Go) and pyrage
(Rust rage). Both directions, binary and armored, several recipients, and sizes
around the 64 KiB chunk boundary.

If a peer is missing the tests skip with the reason, unless
``SECUREMSG_REQUIRE_PEERS=1`` is set, in which case they fail.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from securemsg.core import age
from securemsg.core.age.hazmat.file import read_header

pytestmark = pytest.mark.peers

KIB = 1024
SIZES = [0, 1, 64 * KIB - 1, 64 * KIB, 64 * KIB + 1, 200 * KIB]
SIZE_IDS = ["empty", "1B", "64KiB-1", "64KiB", "64KiB+1", "200KiB"]

IDENTITIES = [age.X25519Identity(hashlib.sha256(b"peer %d" % i).digest()) for i in range(3)]
RECIPIENTS = [i.recipient for i in IDENTITIES]


def _missing(what: str) -> None:
    if os.environ.get("SECUREMSG_REQUIRE_PEERS") == "1":
        pytest.fail(f"{what} is required (SECUREMSG_REQUIRE_PEERS=1) but missing")
    pytest.skip(f"{what} is not available")


@pytest.fixture(scope="module")
def age_bin() -> str:
    path = shutil.which("age")
    if path is None:
        _missing("the age binary")
    assert path is not None
    return path


@pytest.fixture(scope="module")
def pyrage() -> ModuleType:
    try:
        import pyrage as module
    except ImportError:
        _missing("pyrage")
    return module


def _plaintext(size: int) -> bytes:
    seed = hashlib.sha256(b"plaintext %d" % size).digest()
    return (seed * (size // 32 + 1))[:size]


def _ours_encrypt(pt: bytes, armored: bool) -> bytes:
    out = io.BytesIO()
    header_bytes = age.encrypt(RECIPIENTS, pt, out, armor=armored)
    data = out.getvalue()
    if not armored:
        assert data.startswith(header_bytes)
    return data


def _ours_decrypt(ct: bytes, identity: age.X25519Identity) -> bytes:
    out = io.BytesIO()
    age.decrypt([identity], io.BytesIO(ct), out)
    return out.getvalue()


@pytest.fixture
def keyfile(tmp_path: Path) -> Path:
    path = tmp_path / "key.txt"
    path.write_text(f"# test identity\n{IDENTITIES[1]}\n")
    path.chmod(0o600)
    return path


# -- ours -> peers ------------------------------------------------------------------


@pytest.mark.parametrize("armored", [False, True], ids=["binary", "armored"])
@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_ours_to_age_binary(age_bin: str, keyfile: Path, size: int, armored: bool) -> None:
    pt = _plaintext(size)
    ct = _ours_encrypt(pt, armored)
    proc = subprocess.run(
        [age_bin, "-d", "-i", str(keyfile)], input=ct, capture_output=True, check=False
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == pt


@pytest.mark.parametrize("armored", [False, True], ids=["binary", "armored"])
@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_ours_to_pyrage(pyrage: ModuleType, size: int, armored: bool) -> None:
    pt = _plaintext(size)
    ct = _ours_encrypt(pt, armored)
    ident = pyrage.x25519.Identity.from_str(str(IDENTITIES[2]))
    assert pyrage.decrypt(ct, [ident]) == pt


# -- peers -> ours ------------------------------------------------------------------


@pytest.mark.parametrize("armored", [False, True], ids=["binary", "armored"])
@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_age_binary_to_ours(age_bin: str, size: int, armored: bool) -> None:
    pt = _plaintext(size)
    args = [age_bin, "-e"]
    for r in RECIPIENTS:
        args += ["-r", str(r)]
    if armored:
        args.append("-a")
    proc = subprocess.run(args, input=pt, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    ct = proc.stdout
    assert ct.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----\n") == armored
    for identity in IDENTITIES:
        assert _ours_decrypt(ct, identity) == pt
    if not armored:
        header, header_bytes = read_header(io.BytesIO(ct))
        assert len(header.stanzas) == len(RECIPIENTS)
        assert ct.startswith(header_bytes)


@pytest.mark.parametrize("armored", [False, True], ids=["binary", "armored"])
@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_pyrage_to_ours(pyrage: ModuleType, size: int, armored: bool) -> None:
    pt = _plaintext(size)
    recipients = [pyrage.x25519.Recipient.from_str(str(r)) for r in RECIPIENTS]
    ct = pyrage.encrypt(pt, recipients, armored=armored)
    for identity in IDENTITIES:
        assert _ours_decrypt(ct, identity) == pt
    stranger = age.X25519Identity(bytes(32))
    with pytest.raises(age.NoIdentityMatchError):
        _ours_decrypt(ct, stranger)


def test_keys_agree_with_age_keygen(tmp_path: Path) -> None:
    keygen = shutil.which("age-keygen")
    if keygen is None:
        _missing("the age-keygen binary")
    assert keygen is not None
    path = tmp_path / "k.txt"
    subprocess.run([keygen, "-o", str(path)], check=True, capture_output=True)
    secret = next(
        line for line in path.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-")
    )
    public = subprocess.run(
        [keygen, "-y", str(path)], check=True, capture_output=True, text=True
    ).stdout.strip()
    ident = age.X25519Identity.parse(secret)
    assert str(ident) == secret
    assert str(ident.recipient) == public
