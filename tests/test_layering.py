"""The layers of conventions.md, enforced on the source: cli -> app -> store ->
core (cli may import values from core; each layer only downwards), core is
pure, library code never exits, nothing but cli (and __main__) imports cli,
and only the owner of a table runs SQL.

Every module is parsed with ``ast`` (never imported), so a violation is found
even in code no test runs. Each module is its own test case.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PKG = SRC / "securemsg"

# Modules core may not import: I/O, the clock, the environment, UI, key stores.
CORE_FORBIDDEN_MODULES = {
    "os", "pathlib", "sqlite3", "subprocess", "socket", "time", "keyring", "click", "rich",
    "tempfile", "shutil", "getpass", "platformdirs", "urllib", "http", "requests",
}  # fmt: skip
# Calls core may not make: builtins that do I/O, and the clock through datetime.
CORE_FORBIDDEN_BUILTINS = {"open", "print", "input", "exit", "quit", "breakpoint"}
CLOCK_ATTRIBUTES = {"now", "today", "utcnow", "utcfromtimestamp"}

# What each layer may import of securemsg (errors.py and i18n.py, the translation
# lookup: every layer; the package itself).
LAYERS = {
    "cli": (
        "securemsg.cli",
        "securemsg.app",
        "securemsg.core",
        "securemsg.errors",
        "securemsg.i18n",
    ),
    "app": (
        "securemsg.app",
        "securemsg.store",
        "securemsg.core",
        "securemsg.errors",
        "securemsg.i18n",
    ),
    "store": ("securemsg.store", "securemsg.core", "securemsg.errors", "securemsg.i18n"),
    "core": ("securemsg.core", "securemsg.errors", "securemsg.i18n"),
}

# The only modules that run SQL: the owners of the tables, and the schema (store/db.py).
SQL_OWNERS = {
    "securemsg/store/db.py",
    "securemsg/store/contacts.py",
    "securemsg/store/mailbox.py",
    "securemsg/store/consents.py",
    "securemsg/store/mailaccounts.py",
}
SQL_METHODS = {"execute", "executemany", "executescript"}
SQL_KEYWORDS = re.compile(
    r"\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|PRAGMA|BEGIN|COMMIT|ROLLBACK"
    r"|WITH|VACUUM|ATTACH)\b"
)

# Known violations in modules as they stand (module -> reason). Strict xfail:
# fixing the module makes its entry fail until removed from here.
KNOWN_CORE_VIOLATIONS: dict[str, str] = {}


def module_name(path: Path, root: Path = SRC) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(sub: str) -> list[Path]:
    return sorted((PKG / sub).rglob("*.py"))


def imports(path: Path, root: Path = SRC) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) for every import, relative ones resolved."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names:  # "from securemsg import cli"
                yield node.lineno, f"{target}.{alias.name}"


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def core_violations(path: Path, root: Path = SRC) -> list[str]:
    out = []
    for line, name in imports(path, root):
        if within(name, "securemsg.store") or within(name, "securemsg.cli"):
            out.append(f"line {line}: imports {name}")
        if name == "securemsg.errors.UsageError":  # a command-line notion
            out.append(f"line {line}: imports UsageError (core raises InvalidValue)")
        top = name.split(".")[0]
        if top in CORE_FORBIDDEN_MODULES and not name.startswith("securemsg"):
            out.append(f"line {line}: imports {name}")
    tree = ast.parse(path.read_text("utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in CORE_FORBIDDEN_BUILTINS:
                out.append(f"line {node.lineno}: calls {func.id}()")
            if isinstance(func, ast.Attribute) and func.attr in CLOCK_ATTRIBUTES:
                out.append(f"line {node.lineno}: reads the clock (.{func.attr}())")
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "open"
                and isinstance(func.value, ast.Name)
                and func.value.id in ("io", "os", "builtins", "codecs", "gzip")
            ):
                out.append(f"line {node.lineno}: calls {func.value.id}.open()")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in {("time", "time"), ("os", "environ"), ("sys", "exit")}:
                out.append(f"line {node.lineno}: uses {node.value.id}.{node.attr}")
            if (node.value.id, node.attr) in {
                ("sys", "stdout"),
                ("sys", "stderr"),
                ("sys", "stdin"),
            }:
                out.append(f"line {node.lineno}: uses {node.value.id}.{node.attr}")
    return out


def layer_violations(path: Path, layer: str, root: Path = SRC) -> list[str]:
    """Imports of securemsg modules outside what ``layer`` may import."""
    allowed = LAYERS[layer]
    return [
        f"line {line}: imports {name}"
        for line, name in imports(path, root)
        if within(name, "securemsg")
        and name != "securemsg"
        and not any(within(name, a) for a in allowed)
    ]


def sql_uses(path: Path) -> list[str]:
    """Calls of a DB-API ``execute*`` method and SQL text, with their lines."""
    out = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        func = node.func if isinstance(node, ast.Call) else None
        if isinstance(func, ast.Attribute) and func.attr in SQL_METHODS:
            out.append(f"line {node.lineno}: calls .{func.attr}()")
        text = node.value if isinstance(node, ast.Constant) else None
        if isinstance(text, str) and SQL_KEYWORDS.match(text):
            out.append(f"line {node.lineno}: SQL text {text.split()[0]}")
    return out


def _core_params() -> list[object]:
    params = []
    for path in modules("core"):
        rel = path.relative_to(SRC).as_posix()
        marks = []
        if rel in KNOWN_CORE_VIOLATIONS:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_CORE_VIOLATIONS[rel]))
        params.append(pytest.param(path, id=rel, marks=marks))
    return params


@pytest.mark.parametrize("path", _core_params())
def test_core_is_pure(path: Path) -> None:
    assert core_violations(path) == []


def _layer_params() -> list[object]:
    return [
        pytest.param(path, layer, id=path.relative_to(SRC).as_posix())
        for layer in LAYERS
        for path in modules(layer)
    ]


@pytest.mark.parametrize(("path", "layer"), _layer_params())
def test_each_layer_imports_only_downwards(path: Path, layer: str) -> None:
    assert layer_violations(path, layer) == []


@pytest.mark.parametrize(
    "path", modules("app") + modules("store"), ids=lambda p: p.relative_to(SRC).as_posix()
)
def test_library_code_never_exits(path: Path) -> None:
    bad = []
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) == ("sys", "exit")
        ):
            bad.append(f"line {node.lineno}: sys.exit (library code never exits)")
    assert bad == []


def test_the_layer_checker_catches_upward_imports(tmp_path: Path) -> None:
    probe = tmp_path / "securemsg" / "store" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(
        "from securemsg.app import send\n"
        "from ..cli.main import main\n"
        "from securemsg import app\n"
        "import securemsg.app.read\n"
        "from securemsg import errors\n"
        "from securemsg.core import cbor\n"
        "from . import db\n"
    )
    found = layer_violations(probe, "store", root=tmp_path)
    assert found == [
        "line 1: imports securemsg.app",
        "line 1: imports securemsg.app.send",
        "line 2: imports securemsg.cli.main",
        "line 2: imports securemsg.cli.main.main",
        "line 3: imports securemsg.app",
        "line 4: imports securemsg.app.read",
    ]
    cli = tmp_path / "securemsg" / "cli" / "probe.py"
    cli.parent.mkdir(parents=True)
    cli.write_text("from securemsg.store.home import Home\nfrom securemsg.app import send\n")
    assert layer_violations(cli, "cli", root=tmp_path) == [
        "line 1: imports securemsg.store.home",
        "line 1: imports securemsg.store.home.Home",
    ]


def test_nothing_outside_cli_imports_cli() -> None:
    offenders = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).as_posix()
        if rel.startswith("cli/") or rel == "__main__.py":
            continue
        offenders += [f"{rel}:{ln} {n}" for ln, n in imports(path) if within(n, "securemsg.cli")]
    assert offenders == []


@pytest.mark.parametrize(
    "path", sorted(PKG.rglob("*.py")), ids=lambda p: p.relative_to(SRC).as_posix()
)
def test_only_table_owners_run_sql(path: Path) -> None:
    if path.relative_to(SRC).as_posix() in SQL_OWNERS:
        return
    assert sql_uses(path) == []


PROBE_SQL = """\
def f(box, store, cur, t):
    box.conn.execute('SELECT 1')
    store._conn.executescript(SCRIPT)
    cur.executemany(q, rows)
    q = f'\\n  DELETE FROM {t}'
    return 'UPDATE deliveries SET x = 1', "INSERT INTO log", 'CREATE INDEX i'
"""


def test_the_sql_checker_catches_sql(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE_SQL)
    found = " | ".join(sql_uses(probe))
    for needle in (
        "line 2: calls .execute()",
        "line 2: SQL text SELECT",
        "line 3: calls .executescript()",
        "line 4: calls .executemany()",
        "line 5: SQL text DELETE",
        "line 6: SQL text UPDATE",
        "line 6: SQL text INSERT",
        "line 6: SQL text CREATE",
    ):
        assert needle in found, needle
    clean = tmp_path / "clean.py"
    clean.write_text("def g(x):\n    'Select the letters; update the bar.'\n    return x.run()\n")
    assert sql_uses(clean) == []


def test_the_checker_catches_violations(tmp_path: Path) -> None:
    """The rules above would be worthless if the scanner missed these."""
    probe = tmp_path / "securemsg" / "core" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(
        "import os\n"
        "from ..store import home\n"
        "from securemsg.cli.main import main\n"
        "import datetime as dt\n"
        "from securemsg.errors import UsageError\n"
        "def f():\n"
        "    print(open('x').read(), dt.datetime.now(), dt.date.today())\n"
        "    import time; return time.time()\n"
    )
    found = " | ".join(core_violations(probe, root=tmp_path))
    for needle in (
        "imports os",
        "imports securemsg.store",
        "imports securemsg.cli.main",
        "calls print()",
        "calls open()",
        ".now()",
        ".today()",
        "imports time",
        "uses time.time",
        "imports UsageError",
    ):
        assert needle in found, needle
    clean = probe.with_name("clean.py")
    clean.write_text(
        "import datetime as dt\nfrom . import cbor\n"
        "def g(ts, keys):\n    return dt.datetime.fromtimestamp(ts), keys.open(b'p', b's')\n"
    )
    assert core_violations(clean, root=tmp_path) == []
