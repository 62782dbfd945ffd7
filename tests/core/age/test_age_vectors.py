"""The C2SP CCTV age vectors, through one parametrized driver.

Each vector must give exactly its ``expect:`` outcome, and the SHA-256 of all the
plaintext released before the outcome must equal its ``payload:`` line. Vectors for
recipient types we do not implement are skipped and counted: hybrid ML-KEM only
(``Vector.skip_reason``). Every vector with a passphrase (the ``scrypt*`` family)
runs, and their number is printed too. The counts are printed at
the end of the run (see conftest.py).
"""

from __future__ import annotations

import hashlib
import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from age_helpers import vectors_dir

from securemsg.core import age
from securemsg.core.age.hazmat.armor import ArmorReader
from securemsg.core.age.hazmat.file import read_header, unwrap_file_key

OUTCOMES: dict[str, type[age.AgeError] | None] = {
    "success": None,
    "header failure": age.HeaderError,
    "no match": age.NoIdentityMatchError,
    "HMAC failure": age.HMACError,
    "payload failure": age.PayloadError,
    "armor failure": age.ArmorError,
}
FAMILIES = (
    "x25519", "stanza", "header", "hmac", "stream", "armor", "version", "empty", "scrypt"
)  # fmt: skip


@dataclass
class Vector:
    name: str
    expect: str
    body: bytes
    payload: str | None = None
    file_key: bytes | None = None
    armored: bool = False
    identities: list[str] = field(default_factory=list)
    passphrases: list[str] = field(default_factory=list)
    comment: str = ""

    @classmethod
    def load(cls, path: Path) -> Vector:
        raw = path.read_bytes()
        head, sep, body = raw.partition(b"\n\n")
        assert sep, f"{path.name}: no blank line after the vector header"
        fields: dict[str, str] = {}
        vec = cls(path.name, "", b"")
        for line in head.decode().splitlines():
            key, _, value = line.partition(": ")
            if key == "identity":
                vec.identities.append(value)
            elif key == "passphrase":
                vec.passphrases.append(value)
            else:
                fields[key] = value
        vec.expect = fields["expect"]
        vec.payload = fields.get("payload")
        vec.file_key = bytes.fromhex(fields["file key"]) if "file key" in fields else None
        vec.armored = fields.get("armored") == "yes"
        vec.comment = fields.get("comment", "")
        compressed = fields.get("compressed")
        if compressed == "zlib":
            body = zlib.decompress(body)
        elif compressed is not None:
            raise ValueError(f"{path.name}: unknown compression {compressed!r}")
        vec.body = body
        return vec

    def skip_reason(self) -> str | None:
        """Why this vector cannot run here, or None: only hybrid ML-KEM vectors
        are skipped. Every scrypt vector runs, with its passphrase as an
        :class:`age.ScryptIdentity` (issue 16)."""
        if self.name.split("_")[0] == "hybrid":
            return "hybrid recipients are not supported"
        if any(not i.startswith("AGE-SECRET-KEY-1") for i in self.identities):
            return "non-X25519 identity (hybrid ML-KEM) is not supported"
        return None

    def age_identities(self) -> list[age.X25519Identity | age.ScryptIdentity]:
        keys: list[age.X25519Identity | age.ScryptIdentity] = [
            age.X25519Identity.parse(i) for i in self.identities
        ]
        keys += [age.ScryptIdentity(p.encode()) for p in self.passphrases]
        return keys


def _vector_paths() -> list[object]:
    directory = vectors_dir()
    if not directory.is_dir():
        return [pytest.param(None, id="vectors-absent")]
    return [
        pytest.param(p, id=p.name)
        for p in sorted(directory.iterdir())
        if p.is_file() and p.name not in ("README.md", "LICENSE")
    ]


class _Hasher:
    def __init__(self) -> None:
        self.sha = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        return len(data)


def _run(vec: Vector) -> tuple[str, str, str]:
    """Decrypt ``vec``; return the outcome, the payload hash and the error message."""
    identities = vec.age_identities()
    out = _Hasher()
    try:
        age.decrypt(identities, io.BytesIO(vec.body), out, armored=vec.armored)  # type: ignore[arg-type]
    except age.AgeError as exc:
        return exc.expect, out.sha.hexdigest(), str(exc)
    return "success", out.sha.hexdigest(), ""


@pytest.mark.parametrize("path", _vector_paths())
def test_vector(path: Path | None, age_vector_stats: dict[str, int]) -> None:
    if path is None:
        pytest.skip(f"age vectors directory absent: {vectors_dir()}")
    vec = Vector.load(path)
    reason = vec.skip_reason()
    if reason is not None:
        age_vector_stats["skipped"] += 1
        pytest.skip(reason)
    assert vec.expect in OUTCOMES, f"unknown expect {vec.expect!r}"
    assert vec.name.split("_")[0] in FAMILIES, f"unknown vector family {vec.name}"
    age_vector_stats["failed"] += 1  # undone below when every check passes
    outcome, payload_hash, message = _run(vec)
    assert outcome == vec.expect, f"{vec.name} ({vec.comment}): {message}"
    if vec.payload is not None:
        assert payload_hash == vec.payload, f"{vec.name}: released plaintext differs"
    if outcome == "success":
        _check_success_details(vec)
    age_vector_stats["failed"] -= 1
    age_vector_stats["passed"] += 1
    if vec.passphrases:
        age_vector_stats["scrypt"] += 1


def _check_success_details(vec: Vector) -> None:
    """On success, the step API must agree: same file key, exact header bytes."""
    src = io.BytesIO(vec.body)
    reader = ArmorReader(src) if vec.armored else src
    header, header_bytes = read_header(reader)
    assert header.encode() == header_bytes
    identities = vec.age_identities()
    file_key = unwrap_file_key(header, header_bytes, identities)
    if vec.file_key is not None:
        assert file_key == vec.file_key
    if not vec.armored:
        assert vec.body.startswith(header_bytes)
