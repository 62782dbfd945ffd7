"""securemsg-keyfile-v1 (src/securemsg/core/keyfile.py) against its spec,
docs/format-keyfile.md: the vectors are read from the document itself."""

from __future__ import annotations

import ast
import re
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keystore_testlib import FAST, MASKS

import tamper
from securemsg.core import keyfile
from securemsg.core.keyfile import DEFAULT_PARAMS, KdfParams, KeyFile
from securemsg.errors import FormatError, KeyStoreError, WrongPassphraseError

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "docs" / "format-keyfile.md"
PW = keyfile.passphrase_bytes("correct horse battery staple")
SECRET = bytes(range(0xA0, 0xC0))


def _vectors() -> list[dict[str, str]]:
    blocks = re.findall(r"```vector\n(.*?)```", SPEC.read_text("utf-8"), re.S)
    vectors = []
    for block in blocks:
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line[:1].isspace():
                fields[key] += line.strip()
            else:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        vectors.append(fields)
    return vectors


VECTORS = _vectors()
EXPECT = {"wrong_passphrase": WrongPassphraseError, "malformed": FormatError}


def test_spec_has_vectors() -> None:
    kinds = [v["expect"] for v in VECTORS]
    assert kinds.count("ok") >= 2 and "wrong_passphrase" in kinds and "malformed" in kinds
    ok = [v for v in VECTORS if v["expect"] == "ok"]
    assert any(int(v["opslimit"]) == 3 and int(v["memlimit"]) == 33554432 for v in ok)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: f"{v['expect']}")
def test_vector(vector: dict[str, str]) -> None:
    data = bytes.fromhex(vector["keyfile"])
    passphrase = keyfile.passphrase_bytes(vector["passphrase"])
    if vector["expect"] == "ok":
        params = KdfParams(int(vector["opslimit"]), int(vector["memlimit"]))
        secret = bytes.fromhex(vector["secret"])
        sealed = keyfile.seal_with(
            secret,
            passphrase,
            params,
            bytes.fromhex(vector["salt"]),
            bytes.fromhex(vector["nonce"]),
        )
        assert sealed == data
        assert keyfile.open_keyfile(data, passphrase) == secret
        # seal() draws the salt, then the nonce, from rng
        draws = iter([bytes.fromhex(vector["salt"]), bytes.fromhex(vector["nonce"])])
        assert keyfile.seal(secret, passphrase, params, rng=lambda n: next(draws)) == data
    else:
        with pytest.raises(EXPECT[vector["expect"]]):
            keyfile.open_keyfile(data, passphrase)


def _independent_open(data: bytes, passphrase: bytes) -> bytes:
    """The spec re-implemented with other code: `cryptography`'s Argon2id and
    ChaCha20-Poly1305, plus a from-scratch HChaCha20 for the XChaCha20 subkey."""
    argon2 = pytest.importorskip("cryptography.hazmat.primitives.kdf.argon2")
    aead = pytest.importorskip("cryptography.hazmat.primitives.ciphers.aead")

    def rotl(v: int, c: int) -> int:
        return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))

    def qr(s: list[int], a: int, b: int, c: int, d: int) -> None:
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF
        s[d] = rotl(s[d] ^ s[a], 16)
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF
        s[b] = rotl(s[b] ^ s[c], 12)
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF
        s[d] = rotl(s[d] ^ s[a], 8)
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF
        s[b] = rotl(s[b] ^ s[c], 7)

    def hchacha20(key: bytes, n16: bytes) -> bytes:
        s = [
            *struct.unpack("<4I", b"expand 32-byte k"),
            *struct.unpack("<8I", key),
            *struct.unpack("<4I", n16),
        ]
        for _ in range(10):
            for a, b, c, d in (
                (0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
                (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14),
            ):  # fmt: skip
                qr(s, a, b, c, d)
        return struct.pack("<8I", *(s[0:4] + s[12:16]))

    assert data[:22] == b"securemsg-keyfile-v1\n\x01"
    ops, mem = struct.unpack(">II", data[22:30])
    salt, nonce, header = data[30:46], data[46:70], data[:70]
    key = argon2.Argon2id(
        salt=salt, length=32, iterations=ops, lanes=1, memory_cost=mem // 1024
    ).derive(passphrase)
    sub = hchacha20(key, nonce[:16])
    return bytes(aead.ChaCha20Poly1305(sub).decrypt(b"\0" * 4 + nonce[16:], data[70:], header))


@pytest.mark.parametrize("vector", [v for v in VECTORS if v["expect"] == "ok"])
def test_vector_independent_implementation(vector: dict[str, str]) -> None:
    data = bytes.fromhex(vector["keyfile"])
    passphrase = keyfile.passphrase_bytes(vector["passphrase"])
    assert _independent_open(data, passphrase) == bytes.fromhex(vector["secret"])


def test_round_trip_and_layout() -> None:
    data = keyfile.seal(SECRET, PW, FAST)
    assert data.startswith(b"securemsg-keyfile-v1\n")
    assert len(data) == keyfile.HEADER_SIZE + len(SECRET) + keyfile.TAG_SIZE == 70 + 32 + 16
    parsed = KeyFile.parse(data)
    assert parsed.header.params == FAST
    assert bytes(parsed) == data
    assert keyfile.open_keyfile(data, PW) == SECRET
    assert SECRET not in data
    # a fresh salt and nonce each time
    again = keyfile.seal(SECRET, PW, FAST)
    assert again[30:70] != data[30:70]


def test_wrong_passphrase_message() -> None:
    data = keyfile.seal(SECRET, PW, FAST)
    with pytest.raises(WrongPassphraseError) as info:
        keyfile.open_keyfile(data, b"not it")
    err = info.value
    assert str(err) == "wrong passphrase, or the key file was altered"
    assert err.hint and err.exit_code == 4
    assert isinstance(err, KeyStoreError)


def test_every_byte_flip_is_rejected() -> None:
    data = keyfile.seal(SECRET, PW, FAST)
    seen: set[type[Exception]] = set()
    for desc, mutated in tamper.byte_flips(data, MASKS):
        try:
            keyfile.open_keyfile(mutated, PW)
        except (WrongPassphraseError, FormatError) as exc:
            seen.add(type(exc))
        else:
            pytest.fail(f"{desc} was accepted")
    assert seen == {WrongPassphraseError, FormatError}


def test_every_truncation_is_rejected() -> None:
    data = keyfile.seal(SECRET, PW, FAST)
    for _, prefix in tamper.all_truncations(data):
        with pytest.raises((WrongPassphraseError, FormatError)):
            keyfile.open_keyfile(prefix, PW)


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(min_value=0, max_value=130),
    length=st.integers(min_value=0, max_value=20),
    replacement=st.binary(max_size=20),
)
def test_any_splice_is_rejected(start: int, length: int, replacement: bytes) -> None:
    data = keyfile.seal(SECRET, PW, FAST, rng=lambda n: bytes(n))
    mutated = data[:start] + replacement + data[start + length :]
    if mutated == data:
        return
    with pytest.raises((WrongPassphraseError, FormatError)):
        keyfile.open_keyfile(mutated, PW)


@pytest.mark.parametrize(
    ("opslimit", "memlimit", "message"),
    [
        (0, 8192, "opslimit"),
        (21, 8192, "opslimit"),
        (2**32 - 1, 8192, "opslimit"),
        (1, 4096, "memlimit"),
        (1, 2**30 + 1024, "memlimit"),
        (1, 2**32 - 1024, "memlimit"),
        (1, 8193, "KiB"),
    ],
)
def test_absurd_parameters_are_refused_before_argon2(
    opslimit: int, memlimit: int, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = bytearray(keyfile.seal(SECRET, PW, FAST))
    struct.pack_into(">II", data, 22, opslimit, memlimit)

    def no_kdf(*args: object) -> bytes:
        raise AssertionError("Argon2id ran on unchecked parameters")

    monkeypatch.setattr(keyfile, "derive_key", no_kdf)
    with pytest.raises(FormatError, match=message):
        keyfile.open_keyfile(bytes(data), PW)
    with pytest.raises(ValueError):
        KdfParams(opslimit, memlimit)


def test_limits_are_accepted() -> None:
    KdfParams(20, 2**30)
    KdfParams(1, 8192)


def test_unknown_version_and_kdf() -> None:
    data = keyfile.seal(SECRET, PW, FAST)
    with pytest.raises(FormatError, match="unsupported key file version '2'") as info:
        keyfile.open_keyfile(data.replace(b"-v1\n", b"-v2\n", 1), PW)
    assert info.value.hint and "upgrade" in info.value.hint
    with pytest.raises(FormatError, match="unknown key derivation"):
        keyfile.open_keyfile(data[:21] + b"\x02" + data[22:], PW)
    with pytest.raises(FormatError, match="not a securemsg key file"):
        keyfile.open_keyfile(b"age-encryption.org/v1\n" + data[22:], PW)
    with pytest.raises(FormatError, match="too large"):
        keyfile.open_keyfile(data + bytes(keyfile.MAX_FILE_SIZE), PW)


def test_defaults() -> None:
    assert KdfParams(opslimit=3, memlimit=33554432) == DEFAULT_PARAMS
    assert str(DEFAULT_PARAMS) == "Argon2id, 32 MiB, 3 passes"
    assert str(FAST) == "Argon2id, 8 KiB, 1 pass"


def test_passphrase_is_nfc_normalized() -> None:
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    assert keyfile.passphrase_bytes(composed) == keyfile.passphrase_bytes(decomposed)
    data = keyfile.seal(SECRET, keyfile.passphrase_bytes(composed), FAST)
    assert keyfile.open_keyfile(data, keyfile.passphrase_bytes(decomposed)) == SECRET


def test_seal_refuses_empty_inputs() -> None:
    with pytest.raises(ValueError):
        keyfile.seal(b"", PW, FAST)
    with pytest.raises(ValueError):
        keyfile.seal(SECRET, b"", FAST)
    with pytest.raises(ValueError):
        keyfile.seal(bytes(keyfile.MAX_SECRET_SIZE + 1), PW, FAST)


def test_repr_shows_no_ciphertext() -> None:
    parsed = KeyFile.parse(keyfile.seal(SECRET, PW, FAST))
    assert repr(parsed) == "KeyFile(Argon2id, 8 KiB, 1 pass, 48 bytes of ciphertext)"


def test_core_module_is_pure() -> None:
    """core/keyfile.py does no I/O: it imports no os, pathlib, store or cli."""
    tree = ast.parse((ROOT / "src/securemsg/core/keyfile.py").read_text("utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    allowed = {"__future__", "struct", "unicodedata", "collections.abc", "dataclasses"}
    allowed |= {"nacl.bindings", "nacl.exceptions", "nacl.pwhash.argon2id", "nacl.utils"}
    allowed |= {"securemsg.errors", "securemsg.core.frozen"}
    allowed |= {"securemsg.i18n"}  # the message lookup, allowed in every layer (issue 14)
    assert names <= allowed, names - allowed
