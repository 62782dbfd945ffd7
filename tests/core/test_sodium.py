"""core/sodium.py is the only user of PyNaCl's private ``nacl._sodium``. These tests
fail loudly, naming what moved, if a PyNaCl release moves or drops what it uses,
and check it against PyNaCl's public API on the same inputs."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from nacl.bindings import (
    crypto_aead_chacha20poly1305_ietf_decrypt,
    crypto_aead_chacha20poly1305_ietf_encrypt,
)

from securemsg.core import sodium

ROOT = Path(__file__).resolve().parents[2]
KEY, NONCE = bytes(range(32)), bytes(range(12))


def test_pynacl_still_has_the_private_symbols() -> None:
    try:
        binding = importlib.import_module("nacl._sodium")
    except ImportError as exc:  # pragma: no cover - only with a PyNaCl that moved it
        pytest.fail(f"PyNaCl no longer has nacl._sodium: update securemsg/core/sodium.py ({exc})")
    for name in ("ffi", "lib"):
        assert hasattr(binding, name), f"nacl._sodium.{name} is gone: update core/sodium.py"
    for name in sodium.SYMBOLS:
        assert hasattr(binding.lib, name), (
            f"nacl._sodium.lib.{name} is gone: update securemsg/core/sodium.py"
        )
    ffi = binding.ffi
    assert ffi.NULL is not None, "nacl._sodium.ffi.NULL is gone: update core/sodium.py"
    buf = bytearray(4)
    with ffi.from_buffer(buf, require_writable=True) as ptr:  # cffi >= 1.12
        assert len(ptr) == 4, "ffi.from_buffer no longer gives a sized char[]"
    buf.append(0)  # released on leaving the block: the lifetime rule relies on it


def test_only_core_sodium_imports_the_private_binding() -> None:
    users = []
    for path in sorted((ROOT / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(n == "nacl._sodium" or n.startswith("nacl._sodium.") for n in names):
                users.append(path.relative_to(ROOT).as_posix())
    assert sorted(set(users)) == ["src/securemsg/core/sodium.py"]


def _calls_named(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Attribute) and node.func.attr == name)
            or (isinstance(node.func, ast.Name) and node.func.id == name)
        )
    ]


def test_every_buffer_export_is_released_within_its_call() -> None:
    """Issue 12, item 1: a cffi ``from_buffer`` export that outlived its call made
    ``receive`` die with SIGSEGV. The rule of core/sodium.py, checked on the source:
    ``from_buffer`` (cffi's, or ctypes' of the same name) only there, and only as the
    context manager of a ``with`` (released when the block ends, raise or return);
    no other module of src imports cffi, and ctypes only cli/hardening.py (prctl)."""
    scoped, loose, importers = [], [], []
    for path in sorted((ROOT / "src").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text("utf-8"))
        managed = {
            id(item.context_expr)
            for node in ast.walk(tree)
            if isinstance(node, ast.With)
            for item in node.items
        }
        for call in _calls_named(tree, "from_buffer"):
            (scoped if id(call) in managed else loose).append(f"{rel}:{call.lineno}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
            else:
                continue
            importers += [
                (rel, m.split(".")[0]) for m in mods if m.split(".")[0] in ("cffi", "ctypes")
            ]
    assert not loose, f"from_buffer outside a with block: {loose}"
    assert {s.split(":")[0] for s in scoped} == {"src/securemsg/core/sodium.py"}, scoped
    # seal: out, plaintext; open: out, ciphertext; the agent's key memory: mlock 1,
    # wipe 1, sign keypair 3, sign 2, scalarmult 2
    assert len(scoped) == 13
    assert sorted(set(importers)) == [("src/securemsg/cli/hardening.py", "ctypes")]


@pytest.mark.parametrize("size", [0, 1, 100, 65536])
def test_seal_and_open_agree_with_the_public_api(size: int) -> None:
    plaintext = bytes(i % 251 for i in range(size))
    sealed = bytearray(size + sodium.TAG_SIZE)
    sodium.aead_seal_into(sealed, plaintext, NONCE, KEY)
    assert bytes(sealed) == crypto_aead_chacha20poly1305_ietf_encrypt(plaintext, None, NONCE, KEY)
    opened = bytearray(size)
    assert sodium.aead_open_into(memoryview(opened), bytes(sealed), NONCE, KEY)
    assert bytes(opened) == crypto_aead_chacha20poly1305_ietf_decrypt(
        bytes(sealed), None, NONCE, KEY
    )


def test_open_refuses_a_forgery_without_releasing_anything() -> None:
    sealed = bytearray(crypto_aead_chacha20poly1305_ietf_encrypt(b"secret text", None, NONCE, KEY))
    sealed[0] ^= 1
    out = bytearray(b"\xaa" * (len(sealed) - sodium.TAG_SIZE))
    assert not sodium.aead_open_into(out, sealed, NONCE, KEY)
    assert b"secret" not in out
    out.append(0)  # nothing holds the buffers after the call
    sealed.append(0)


@pytest.mark.parametrize(
    ("out_size", "in_size", "nonce", "key"),
    [
        (10, 10, NONCE, KEY),  # no room for the tag
        (27, 10, NONCE, KEY),  # too much room
        (26, 10, NONCE[:11], KEY),
        (26, 10, NONCE, KEY[:31]),
    ],
)
def test_sizes_are_checked_before_libsodium_sees_them(
    out_size: int, in_size: int, nonce: bytes, key: bytes
) -> None:
    out = bytearray(out_size)
    with pytest.raises(ValueError):
        sodium.aead_seal_into(out, bytes(in_size), nonce, key)
    with pytest.raises(ValueError):
        sodium.aead_open_into(bytearray(in_size), bytes(out_size), nonce, key)
    out.append(0)


def test_open_of_less_than_a_tag_is_refused() -> None:
    with pytest.raises(ValueError):
        sodium.aead_open_into(bytearray(0), bytes(15), NONCE, KEY)
