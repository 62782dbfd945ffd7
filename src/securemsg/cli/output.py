"""One renderer: results (classes with ``to_json`` and ``render``) become text
(rich) or JSON (stable schema).

stdout carries results only; messages go to stderr. Every string a Printer is
given may come from someone else (a letter, a card, a consent, a notice), so
every one is shown through core.text's sanitiser: controls, bidi and format
characters appear as ``\\u{hex}``, never as themselves; trusted labels pass
through the same way (a no-op for them). No call site can forget: the Printer
takes strings and builds the rich objects itself, and its console escapes, as a
last pass, anything hidden that still reaches the output. User text is never
rich markup, nothing is highlighted, no hyperlink (OSC 8) is ever written, and
JSON carries the same characters as ``\\uXXXX`` escapes (docs/cli.md, output rules).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any, Protocol, TextIO

from securemsg import i18n
from securemsg.core.text import escape_hidden, for_terminal, json_text


class Result(Protocol):
    schema: str

    def to_json(self) -> dict[str, Any]: ...

    def render(self, out: Printer) -> None: ...


def _console(stream: TextIO, **options: Any) -> Any:
    """A rich console whose output is checked once more on its way out: every
    hidden character in user text escaped (rich's own control sequences, kept
    apart as control segments, pass), every hyperlink dropped."""
    from rich.console import Console
    from rich.segment import Segment

    class GuardedConsole(Console):
        def _render_buffer(self, buffer: Any) -> str:
            return super()._render_buffer(
                segment
                if segment.control
                else Segment(
                    escape_hidden(segment.text),
                    segment.style.update_link(None)
                    if segment.style is not None and segment.style.link
                    else segment.style,
                )
                for segment in buffer
            )

    return GuardedConsole(
        file=stream,
        no_color=bool(os.environ.get("NO_COLOR")),
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
        **options,
    )


class Printer:
    """Small facade over rich, imported only when text is printed. Every text
    argument is untrusted; styles are the caller's."""

    def __init__(
        self, stream: TextIO | None = None, _console: Any = None, force_plain: bool = False
    ) -> None:
        self.stream: TextIO = sys.stdout if stream is None else stream
        self._console = _console
        self.force_plain = force_plain  # `read --plain`: plain even on a terminal

    def __repr__(self) -> str:
        return f"Printer(stream={self.stream!r})"

    @property
    def console(self) -> Any:
        if self._console is None:
            self._console = _console(self.stream)
        return self._console

    @property
    def plain(self) -> bool:
        """Not a terminal: no style can show, so skip rich (~25 ms of imports)
        and write plain, unwrapped lines (sanitised all the same)."""
        isatty = getattr(self.stream, "isatty", None)
        if self.force_plain:
            return True
        if os.environ.get("FORCE_COLOR"):  # rich's own switch: render as on a terminal
            return False
        return self._console is None and not (isatty is not None and isatty())

    def line(self, text: str = "", style: str | None = None) -> None:
        """One line: a line feed in ``text`` is shown escaped, never obeyed."""
        text = for_terminal(text)
        if self.plain:
            self.stream.write(text + "\n")
            return
        self.console.print(text, style=style, markup=False, highlight=False)

    def field(self, label: str, value: str, style: str | None = None) -> None:
        label, value = for_terminal(label), for_terminal(value)
        if self.plain:
            self.stream.write(f"{label}: {value}\n")
            return
        from rich.text import Text

        self.console.print(Text.assemble((f"{label}: ", "bold"), (value, style or "")))

    def table(self, title: str, columns: list[str], rows: list[list[str]]) -> None:
        title = for_terminal(title)
        cells = [[for_terminal(c) for c in row] for row in [columns, *rows]]
        if self.plain:  # aligned columns, no rich (an `inbox` page in a pipe)
            widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
            lines = [title]
            for row in cells:
                lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
            self.stream.write("\n".join(line.rstrip() for line in lines) + "\n")
            return
        from rich.table import Table

        if _min_width(cells) > self.console.width:
            self._records(title, cells)  # too narrow for columns: never cut a word
            return
        table = Table(title=title, title_justify="left")
        for col in cells[0]:
            table.add_column(col, overflow="fold")
        for row in cells[1:]:
            table.add_row(*row)
        self.console.print(table)

    def _records(self, title: str, cells: list[list[str]]) -> None:
        """A table too wide for the terminal, one record after another (``Label:
        value`` lines, wrapped between words by rich), never folded inside a word."""
        from rich.text import Text

        self.console.print(title, style="bold", markup=False, highlight=False)
        for row in cells[1:]:
            self.console.print()
            for label, value in zip(cells[0], row, strict=True):
                if value:
                    self.console.print(Text.assemble((f"{label}: ", "bold"), value))

    def panel(self, title: str, rows: Sequence[tuple[str, str, str]]) -> None:
        """A framed block of ``label: value`` lines, ``(label, value, style)``; not
        on a terminal, the lines without a frame."""
        if self.plain:
            self.stream.write(for_terminal(title) + "\n")
            for label, value, _style in rows:
                self.stream.write(f"{for_terminal(label)}: {for_terminal(value)}".rstrip() + "\n")
            return
        from rich.panel import Panel
        from rich.text import Text

        body = Text()
        for label, value, style in rows:
            body.append(f"{for_terminal(label)}: ", style="bold")
            body.append(for_terminal(value) + "\n", style=style)
        self.console.print(Panel(body, title=for_terminal(title), title_align="left"))

    def markdown(self, text: str) -> None:
        """A letter's section: Markdown with nothing hidden (cli/markdown.py); not on
        a terminal, the text as written (no layout, no trailing spaces)."""
        if self.plain:
            self.text(text)
            return
        from securemsg.cli.markdown import LetterMarkdown

        self.console.print(LetterMarkdown(text))

    def text(self, text: str) -> None:
        """Text shown as it is, line by line (no layout: any size, in one pass),
        without trailing spaces."""
        body = "\n".join(x.rstrip() for x in for_terminal(text, lines=True).split("\n"))
        self.stream.write(body if body.endswith("\n") else body + "\n")
        self.stream.flush()


def _min_width(cells: list[list[str]]) -> int:
    """The narrowest a rich table of ``cells`` can be without cutting a word: each
    column's longest word, plus its borders and padding (3 per column, 1 more)."""
    widest = [
        max((len(w) for row in cells for w in row[i].split()), default=0)
        for i in range(len(cells[0]))
    ]
    return sum(widest) + 3 * len(widest) + 1


def page(result: Result) -> None:
    """A result for a terminal, through the pager ($PAGER, else ``less``) when it is
    longer than the screen, else printed."""
    import io
    import shutil

    import click

    size = shutil.get_terminal_size()
    buf = io.StringIO()
    result.render(Printer(buf, _console(buf, force_terminal=True, width=size.columns)))
    text = buf.getvalue()
    if text.count("\n") < size.lines:
        sys.stdout.write(text)
        return
    click.echo_via_pager(text, color=not os.environ.get("NO_COLOR"))


def dumps(doc: Any, indent: int | None = 2) -> str:
    """JSON for stdout or stderr: UTF-8 text, with every control, bidi and format
    character as a ``\\uXXXX`` escape (core.text.json_text); round-trips exactly."""
    import json

    return json_text(json.dumps(doc, ensure_ascii=False, indent=indent, sort_keys=False))


def emit(result: Result, as_json: bool, stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    if as_json:
        doc = {"schema": result.schema, **result.to_json()}
        out.write(dumps(doc) + "\n")
    else:
        result.render(Printer(out))


def message(text: str, style: str | None = None) -> None:
    """A note for the human on stderr (never a result), on one line; off a
    terminal, a plain line (no rich: a warning must not cost its import)."""
    printer = Printer(sys.stderr)
    if printer.plain:
        sys.stderr.write(for_terminal(text) + "\n")
        return
    printer.console.print(
        for_terminal(text), style=style, markup=False, highlight=False, soft_wrap=True
    )


def warn(text: str) -> None:
    from securemsg.i18n import _

    message(_("warning: {text}").format(text=text), "yellow")


# where the keys are kept (Home.keystore's description: English, as JSON carries it)
KEYSTORES = {"passphrase file: ": i18n.N_("passphrase file: {where}"),
             "OS key store: ": i18n.N_("OS key store: {where}")}  # fmt: skip


def keystore_shown(description: str) -> str:
    """Where the keys are kept, in the language (whoami, device join, passphrase change)."""
    for prefix, text in KEYSTORES.items():
        if description.startswith(prefix):
            where = description[len(prefix) :]
            head, sep, passes = where.rpartition(" ")  # "... (Argon2id, 32 MiB, 3 passes)"
            count = head.rpartition(" ")[2]
            if sep and passes in ("pass)", "passes)") and count.isdigit():
                n = int(count)
                where = (
                    head[: -len(count)]
                    + i18n.ngettext("{n} pass", "{n} passes", n).format(n=n)
                    + ")"
                )
            return i18n._(text).format(where=where)
    return description
