"""The reference docs list exactly what the code can produce.

* Every error code (``SecureMsgError.code`` of every class in ``src/``) and its exit
  status equal the table in docs/cli.md, "Errors (`--json`)".
* Every consent refusal rule the code raises (a ``rule="..."`` literal) equals the
  table in docs/format-consent.md, "Refusal rules".

Like the docs-vs-vectors test in tests/vectors_test, a drift on either side fails.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import securemsg
from securemsg import errors

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "securemsg"
CLI_DOC = ROOT / "docs" / "cli.md"
CONSENT_DOC = ROOT / "docs" / "format-consent.md"
NOT_IMPORTED = {"securemsg.__main__", "securemsg.demo.__main__"}  # they run on import


def all_error_classes() -> set[type[errors.SecureMsgError]]:
    for info in pkgutil.walk_packages(securemsg.__path__, "securemsg."):
        if info.name not in NOT_IMPORTED:
            importlib.import_module(info.name)
    out: set[type[errors.SecureMsgError]] = set()
    todo: list[type[errors.SecureMsgError]] = [errors.SecureMsgError]
    while todo:
        cls = todo.pop()
        out.add(cls)
        todo.extend(cls.__subclasses__())
    return out


def doc_table(path: Path, heading: str) -> list[list[str]]:
    """The rows of the first Markdown table after ``heading``, cells stripped of backticks."""
    text = path.read_text("utf-8")
    start = text.index(heading)
    rows: list[list[str]] = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            cells = [c.strip().strip("`") for c in line.strip("|").split("|")]
            if not set(cells[0]) <= {"-", ":"}:
                rows.append(cells)
        elif rows:
            break
    return rows[1:]  # without the header row


def test_error_codes_and_exit_statuses_match_docs_cli() -> None:
    code_side = {(cls.code, cls.exit_code) for cls in all_error_classes()}
    doc_side = {(row[0], int(row[1])) for row in doc_table(CLI_DOC, "## Errors (`--json`)")}
    assert len(code_side) >= 20, code_side  # the walk found the whole package
    assert code_side - doc_side == set(), "error codes missing from docs/cli.md"
    assert doc_side - code_side == set(), "docs/cli.md lists error codes the code lacks"


def raised_rules() -> set[str]:
    rules = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "rule" and isinstance(kw.value, ast.Constant):
                        rules.add(kw.value.value)
    return rules


def test_refusal_rules_match_docs_format_consent() -> None:
    code_side = raised_rules()
    doc_side = {row[0] for row in doc_table(CONSENT_DOC, "Refusal rules")}
    assert len(code_side) >= 15, code_side
    assert all(re.fullmatch(r"[a-z_]+", r) for r in code_side | doc_side)
    assert code_side - doc_side == set(), "rules missing from docs/format-consent.md"
    assert doc_side - code_side == set(), "docs/format-consent.md lists rules never raised"


def test_every_cited_doc_exists() -> None:
    """A ``docs/NAME.md`` named in the source or the docs is a file of the repo."""
    cited: dict[str, Path] = {}
    for path in [*SRC.rglob("*.py"), *(ROOT / "docs").glob("*.md"), ROOT / "README.md"]:
        for name in re.findall(r"docs/[\w.-]+\.md", path.read_text("utf-8")):
            cited.setdefault(name, path)
    assert len(cited) >= 5, cited
    missing = {name: str(where) for name, where in cited.items() if not (ROOT / name).is_file()}
    assert missing == {}


def test_every_user_visible_error_class_is_defined_in_errors_py() -> None:
    elsewhere = {
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in all_error_classes()
        if cls.__module__ != "securemsg.errors"
    }
    assert elsewhere == set()
