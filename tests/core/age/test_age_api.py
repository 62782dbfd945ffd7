"""The shape of the age package (docs/format-age.md, "Code layout"): the composed
API apart from the building blocks, as ``cryptography.hazmat`` does it. A new
caller of the building blocks in src/ is a deliberate choice: add it here."""

from __future__ import annotations

import ast
from pathlib import Path

from securemsg.core import age

SRC = Path(__file__).resolve().parents[3] / "src"

# module -> why it needs the building blocks
HAZMAT_CALLERS = {
    "securemsg.core.letter.compose": "signs the header bytes before sealing the payload",
    "securemsg.core.letter.opening": "verifies the header and manifest as the payload streams",
    "securemsg.core.letter.draft": "opens a prepared draft with the key holder's share opener",
    "securemsg.core.storage": "HKDF for the storage keys",
    "securemsg.store.agent.server": "opens an X25519 stanza with the key kept in the agent",
}


def test_the_package_exports_only_the_composed_api() -> None:
    assert set(age.__all__) == {
        "encrypt",
        "decrypt",
        "X25519Identity",
        "X25519Recipient",
        "ScryptIdentity",
        "ScryptRecipient",
        "AgeError",
        "ArmorError",
        "HMACError",
        "HeaderError",
        "KeyFormatError",
        "NoIdentityMatchError",
        "PayloadError",
    }


def _module(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_only_known_callers_import_the_building_blocks() -> None:
    callers = set()
    for path in sorted((SRC / "securemsg").rglob("*.py")):
        name = _module(path)
        if name.startswith("securemsg.core.age"):
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                targets = [node.module or ""]
                targets += [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            if any(t.startswith("securemsg.core.age.hazmat") for t in targets):
                callers.add(name)
    assert callers == set(HAZMAT_CALLERS)
