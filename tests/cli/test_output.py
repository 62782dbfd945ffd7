"""cli/output.py: every string a Printer is given reaches the stream sanitised,
through every method, on a pipe and on a terminal; JSON escapes the same
characters; and no other module builds rich output from strings."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securemsg.cli import output
from securemsg.cli.output import Printer, dumps
from securemsg.core.text import hidden

SRC = Path(__file__).resolve().parents[2] / "src" / "securemsg"
HOSTILE = "x\x1b]0;title\x07 \x1b]52;c;ZXZpbA==\x07 \x1b[2J \x9b1m \u202eevil \x7f\r\x08\n\u200b"
SGR = re.compile("\x1b\\[[0-9;]*m")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _raw(text: str, styled: bool) -> list[str]:
    if styled:
        text = SGR.sub("", text)
    return [f"U+{ord(c):04X}" for c in text if hidden(c) and c != "\n"]


CALLS = {
    "line": lambda p: p.line(HOSTILE, "bold"),
    "field": lambda p: p.field(HOSTILE, HOSTILE, "green"),
    "table": lambda p: p.table(HOSTILE, [HOSTILE, "b"], [[HOSTILE, HOSTILE]]),
    "panel": lambda p: p.panel(HOSTILE, [(HOSTILE, HOSTILE, "yellow")]),
    "markdown": lambda p: p.markdown(f"# {HOSTILE}\n\n{HOSTILE}\n\n[{HOSTILE}]({HOSTILE})"),
    "text": lambda p: p.text(HOSTILE),
}


def test_every_printer_method_is_checked() -> None:
    public = {
        name
        for name in vars(Printer)
        if not name.startswith("_") and callable(getattr(Printer, name))
    }
    assert public == set(CALLS), "a Printer method without a sanitising test"


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
@pytest.mark.parametrize("method", list(CALLS))
def test_printer_sanitises(monkeypatch: pytest.MonkeyPatch, method: str, terminal: bool) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    stream = Terminal() if terminal else io.StringIO()
    CALLS[method](Printer(stream))
    out = stream.getvalue()
    assert _raw(out, terminal) == [], out
    for shown in ("\\u{1b}]0;title\\u{7}", "\\u{9b}1m", "\\u{202e}evil", "\\u{7f}"):
        assert shown in SGR.sub("", out), shown
    assert "\x1b]" not in out  # no OSC: no title, clipboard or hyperlink


def test_the_console_escapes_what_a_caller_passed_raw(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last pass: rich objects built with raw text, and rich hyperlinks."""
    from rich.style import Style
    from rich.text import Text

    monkeypatch.setenv("TERM", "xterm-256color")
    stream = Terminal()
    printer = Printer(stream)
    printer.console.print(Text(HOSTILE, style=Style(link="https://evil.example/")))
    out = stream.getvalue()
    assert _raw(out, True) == [] and "\x1b]8" not in out
    assert "\\u{1b}]0;title" in out  # (rich drops BEL, CR and BS itself)


def test_messages_on_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    output.message(HOSTILE)
    output.warn(HOSTILE)
    err = capsys.readouterr().err
    assert _raw(err, True) == [] and err.count("\\u{1b}]0;title\\u{7}") == 2


def test_json(capsys: pytest.CaptureFixture[str]) -> None:
    class R:
        schema = "test/1"

        def to_json(self) -> dict[str, Any]:
            return {"text": HOSTILE, "list": [HOSTILE]}

        def render(self, out: Printer) -> None:
            raise AssertionError

    output.emit(R(), as_json=True, stream=sys.stdout)
    text = capsys.readouterr().out
    assert _raw(text, False) == []
    assert json.loads(text) == {"schema": "test/1", "text": HOSTILE, "list": [HOSTILE]}
    assert json.loads(dumps({"a": HOSTILE}, indent=None)) == {"a": HOSTILE}


def test_only_the_printer_builds_rich_output_from_strings() -> None:
    """rich is imported by the Printer (cli/output.py), the letter Markdown it uses
    (cli/markdown.py), the progress bar (its own label) and the demo (its own text)."""
    allowed = {"cli/output.py", "cli/markdown.py", "cli/progress.py", "demo/__main__.py"}
    users = {
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if re.search(r"^\s*(from|import) rich\b", path.read_text("utf-8"), re.M)
    }
    assert users <= allowed, users - allowed


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["\x1b", "\x9b", "\u202e", "&#x202e;", "&#27;", "<b>", "<!--", "[a](", ")",
                         "![i](", "`", "```", "\n", "    ", "> ", "- ", "# ", "*", "\\", "u{", "é"])
        | st.text(max_size=5),
        max_size=40,
    ).map("".join)
)  # fmt: skip
def test_letter_markdown_alone_leaves_nothing_hidden(text: str) -> None:
    """cli/markdown.py's tokens, laid out by a plain rich console (no last pass)."""
    from rich.console import Console

    from securemsg.cli.markdown import LetterMarkdown

    stream = io.StringIO()
    Console(file=stream, width=60, color_system=None, markup=False).print(LetterMarkdown(text))
    assert _raw(stream.getvalue(), False) == []
