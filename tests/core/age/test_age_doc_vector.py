"""The test vector printed in docs/format-age.md is what our code produces."""

from __future__ import annotations

import io
import re
from pathlib import Path

from securemsg.core import age
from securemsg.core.age.hazmat.file import read_header, unwrap_file_key

DOC = Path(__file__).parents[3] / "docs" / "format-age.md"

IDENTITY = age.X25519Identity(bytes(range(0x80, 0xA0)))
FILE_KEY = bytes(range(0x00, 0x10))
EPHEMERAL = bytes(range(0x20, 0x40))
NONCE = bytes(range(0x40, 0x50))
PLAINTEXT = b"BP 120/80 mmHg\n"


def _fenced(text: str, lang: str, after: str) -> str:
    start = text.index(after)
    match = re.search(rf"```{lang}\n(.*?)```", text[start:], re.S)
    assert match, f"no ```{lang} block after {after!r}"
    return match.group(1)


def _scripted_rng(*outputs: bytes):  # type: ignore[no-untyped-def]
    queue = list(outputs)

    def rng(n: int) -> bytes:
        out = queue.pop(0)
        assert len(out) == n
        return out

    return rng


def test_doc_vector_matches_implementation() -> None:
    text = DOC.read_text(encoding="utf-8")
    out = io.BytesIO()
    header_bytes = age.encrypt(
        [IDENTITY.recipient], PLAINTEXT, out, rng=_scripted_rng(FILE_KEY, EPHEMERAL, NONCE)
    )
    produced = out.getvalue()

    doc_hex = "".join(_fenced(text, "hex", "Resulting file").split())
    assert produced.hex() == doc_hex
    assert _fenced(text, "text", "Header:").encode() == header_bytes
    assert str(IDENTITY.recipient) in text and "keys/age-doc-vector.agekey" in text
    keyfile = DOC.parents[1] / "keys" / "age-doc-vector.agekey"
    assert str(IDENTITY) in keyfile.read_text(encoding="utf-8").splitlines()

    plain = io.BytesIO()
    age.decrypt([IDENTITY], io.BytesIO(bytes.fromhex(doc_hex)), plain)
    assert plain.getvalue() == PLAINTEXT
    header, hb = read_header(io.BytesIO(produced))
    assert unwrap_file_key(header, hb, [IDENTITY]) == FILE_KEY
