"""No user-facing text escapes translation (issue 14, "French and English").

An AST scan of ``src/securemsg``: a string literal (or f-string, or a literal
``"...".format(...)``, or a concatenation holding one) that is

- the message or ``hint=`` of an error (a class of errors.py, click's usage
  errors, the agent protocol's and bech32's errors),
- the text given to an output function (``Printer.line/field/table/panel``,
  ``message``, ``warn``, ``click.echo``, ``sys.stderr.write``, a prompt's ``_say``,
  a progress ``Bar``'s label),
- a label substituted into messages: the argument of a ``what``/``field``
  parameter (``cbor.loads(data, "card")``, ``signed.Kind(type, "receipt", ...)``)

must be marked: ``_("...")``, ``N_("...")`` or ``ngettext(...)``. Babel extracts
only marked texts, and tests/test_i18n.py fails on a marked text that has no
French translation: together, a new message cannot ship in English only.

Texts that are not words for people (codes, wire formats, a style name) are
not looked at: a literal without two letters in a row is not text, and only
the positions above are checked. :data:`ALLOWED` lists the few exceptions, each
with its reason.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "securemsg"

MARKERS = {"_", "N_", "ngettext"}
# errors raised with a text for people, besides the classes of errors.py
OTHER_ERRORS = {
    "UsageError",
    "BadParameter",
    "BadOptionUsage",
    "BadArgumentUsage",
    "ClickException",
    "FileError",
    "ProtocolError",  # core/agentproto.py
    "Bech32Error",  # core/age/hazmat/bech32.py
}
# functions whose first argument is shown to people
OUTPUT = {
    "line", "field", "table", "panel", "message", "warn", "echo", "secho", "_say", "Bar",
    "prompt", "confirm", "_prompt", "getpass",
}  # fmt: skip
TEXT_KEYWORDS = {"hint", "message", "reason", "title"}
LABEL_PARAMS = {"what", "field"}  # a noun put into a message: "{what}: must be 32 bytes"
WORDS = re.compile(r"[A-Za-z]{2}")

# (file, the start of the literal): why it stays as written
ALLOWED: dict[tuple[str, str], str] = {
    ("cli/agentd.py", "securemsg.cli.agentd is started by"): (
        "the agent's entry point, reached only when run by hand; it selects no language"
    ),
    ("store/agent/server.py", "error cannot listen on"): (
        "the agent's start-up line read by `securemsg unlock` (a protocol), which words it"
    ),
}


def _is_text(node: ast.AST) -> bool:
    """A literal text for people (not a marked call, not a code)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(WORDS.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_is_text(v) for v in node.values)
    if isinstance(node, ast.BinOp):
        return _is_text(node.left) or _is_text(node.right)
    if isinstance(node, ast.IfExp):
        return _is_text(node.body) or _is_text(node.orelse)
    if isinstance(node, (ast.List, ast.Tuple)):
        return any(_is_text(e) for e in node.elts)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"  # "text {x}".format(x=...): the text is not marked
    ):
        return _is_text(node.func.value)
    return False


def _is_label(node: ast.AST) -> bool:
    """A literal label: any word, even one ("card")."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(WORDS.search(node.value))
    return isinstance(node, ast.JoinedStr) and any(_is_label(v) for v in node.values)


def _name(func: ast.AST) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _error_classes() -> set[str]:
    tree = ast.parse((SOURCE / "errors.py").read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.ClassDef)} | OTHER_ERRORS


def _label_positions(trees: dict[Path, ast.Module]) -> dict[str, set[tuple[int, str]]]:
    """Function name -> (positional index, keyword) of its label parameters."""
    found: dict[str, set[tuple[int, str]]] = {"Kind": {(1, "what")}, "Fields": {(1, "what")}}
    for tree in trees.values():
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("__"):
                continue
            args = [a.arg for a in node.args.posonlyargs + node.args.args]
            shift = 1 if args[:1] in (["self"], ["cls"]) else 0
            for index, arg in enumerate(args):
                if arg in LABEL_PARAMS:
                    found.setdefault(node.name, set()).add((index - shift, arg))
    return found


def unmarked(trees: dict[Path, ast.Module], root: Path = SOURCE) -> list[str]:
    """Every unmarked text in a checked position, as ``file:line: what``."""
    errors = _error_classes()
    labels = _label_positions(trees)
    out: list[str] = []

    def flag(path: Path, node: ast.AST, why: str) -> None:
        rel = path.relative_to(root).as_posix()
        text = ast.unparse(node)
        for (file, start), _reason in ALLOWED.items():
            if rel == file and start in text:
                return
        out.append(f"{rel}:{getattr(node, 'lineno', 0)}: {why}: {text[:100]}")

    for path, tree in trees.items():
        for node in _calls(tree):
            name = _name(node.func)
            if name in errors or name in OUTPUT or _is_stderr_write(node.func):
                shown = node.args[:2] if name == "table" else node.args[:1]  # title, columns
                for arg in shown:
                    if _is_text(arg):
                        flag(path, arg, f"text given to {name}()")
            for kw in node.keywords:
                if kw.arg in TEXT_KEYWORDS and _is_text(kw.value):
                    flag(path, kw.value, f"{kw.arg}= of {name}()")
            for index, keyword in labels.get(name, ()):
                given = [k.value for k in node.keywords if k.arg == keyword]
                if 0 <= index < len(node.args):
                    given.append(node.args[index])
                for arg in given:
                    if _is_label(arg):
                        flag(path, arg, f"label ({keyword}) given to {name}()")
        for node in ast.walk(tree):  # a label parameter's default value
            if isinstance(node, ast.FunctionDef):
                positional = node.args.posonlyargs + node.args.args
                for arg, default in zip(
                    positional[len(positional) - len(node.args.defaults) :],
                    node.args.defaults,
                    strict=True,
                ):
                    if arg.arg in LABEL_PARAMS and _is_label(default):
                        flag(path, default, f"default label ({arg.arg}) of {node.name}()")
    return out


def _calls(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) not in MARKERS:
            yield node


def _is_stderr_write(func: ast.AST) -> bool:
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "write"
        and isinstance(func.value, ast.Attribute)
        and func.value.attr in ("stderr", "stdout")
    )


def _sources() -> dict[Path, ast.Module]:
    return {
        path: ast.parse(path.read_text(encoding="utf-8"), str(path))
        for path in sorted(SOURCE.rglob("*.py"))
        if "demo" not in path.relative_to(SOURCE).parts  # the demo's story: tests/test_demo_fr
    }


def test_every_user_facing_literal_is_marked_for_translation() -> None:
    found = unmarked(_sources())
    assert not found, (
        f"{len(found)} texts shown to people are not marked for translation "
        "(wrap them in _() or N_(), then add the French and run `make messages`):\n"
        + "\n".join(found)
    )


def test_the_allow_list_names_only_texts_that_exist() -> None:
    for (file, start), reason in ALLOWED.items():
        assert reason
        assert start in (SOURCE / file).read_text(encoding="utf-8"), (file, start)


def test_the_scan_sees_each_kind_of_unmarked_text(tmp_path: Path) -> None:
    """The scan fails on the mistakes it is for (and passes marked texts)."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from securemsg.errors import UsageError\n"
        "from securemsg.i18n import N_, _\n"
        "def check(data, what):\n"
        "    return data\n"
        "def f(out, name):\n"
        "    raise UsageError(f'{name} is not a contact', hint='add them first')\n"
        "def g(out, name):\n"
        "    out.line('Sent the card to {who}'.format(who=name))\n"
        "    out.table(_('Log'), ['#', 'Time'], [])\n"
        "    check(b'', 'consent grant')\n"
        "    check(b'', what=f'{name} payload')\n"
        "def ok(out, name):\n"
        "    out.line(_('Sent the card to {who}').format(who=name), 'bold red')\n"
        "    out.table(_('Log'), ['#', _('Time')], [])\n"
        "    check(b'', N_('consent grant'))\n"
        "    raise UsageError(_('{name} is not a contact').format(name=name), hint=_('add'))\n"
    )
    found = unmarked({bad: ast.parse(bad.read_text())}, root=tmp_path)
    lines = sorted(int(f.split(":")[1]) for f in found)
    assert lines == [6, 6, 8, 9, 10, 11], found
