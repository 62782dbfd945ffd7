"""Files stay small enough to read whole (conventions: a file over ~400 lines is a
sign to split). A longer file must say why in its opening docstring: either it is
generated (``GENERATED``) or it carries a line ``Long file: <reason>``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "securemsg"
LIMIT = 400


def long_files() -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if len(p.read_text("utf-8").splitlines()) > LIMIT]


@pytest.mark.parametrize("path", long_files(), ids=lambda p: p.relative_to(SRC).as_posix())
def test_a_long_file_says_why(path: Path) -> None:
    doc = ast.get_docstring(ast.parse(path.read_text("utf-8"))) or ""
    assert "GENERATED" in doc or "Long file:" in doc, f"{path.name}: split it or say why"
