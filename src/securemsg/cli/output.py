"""One renderer: results (classes with ``to_json`` and ``render``) become text
(rich) or JSON (stable schema).

stdout carries results only; messages go to stderr. User-supplied text is never
interpreted as rich markup.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Protocol, TextIO


class Result(Protocol):
    schema: str

    def to_json(self) -> dict[str, Any]: ...

    def render(self, out: Printer) -> None: ...


# C0 (but tab and newline), DEL and C1 controls, shown as U+FFFD in plain output.
_CONTROLS = {c: "\ufffd" for c in (*range(0x20), *range(0x7F, 0xA0)) if c not in (9, 10)}


class Printer:
    """Small facade over rich, imported only when text is printed."""

    def __init__(self, stream: TextIO | None = None, _console: Any = None) -> None:
        self.stream: TextIO = sys.stdout if stream is None else stream
        self._console = _console

    def __repr__(self) -> str:
        return f"Printer(stream={self.stream!r})"

    @property
    def console(self) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(
                file=self.stream,
                no_color=bool(os.environ.get("NO_COLOR")),
                highlight=False,
                markup=False,
                emoji=False,
                soft_wrap=False,
            )
        return self._console

    @property
    def plain(self) -> bool:
        """Not a terminal: no style can show, so skip rich (~25 ms of imports)
        and write plain, unwrapped lines with control characters neutralised."""
        isatty = getattr(self.stream, "isatty", None)
        if os.environ.get("FORCE_COLOR"):  # rich's own switch: render as on a terminal
            return False
        return self._console is None and not (isatty is not None and isatty())

    def line(self, text: str = "", style: str | None = None) -> None:
        if self.plain:
            self.stream.write(text.translate(_CONTROLS) + "\n")
            return
        self.console.print(text, style=style, markup=False, highlight=False)

    def field(self, label: str, value: str, style: str | None = None) -> None:
        if self.plain:
            self.stream.write(f"{label}: {value}".translate(_CONTROLS) + "\n")
            return
        from rich.text import Text

        self.console.print(Text.assemble((f"{label}: ", "bold"), (value, style or "")))

    def table(self, title: str, columns: list[str], rows: list[list[str]]) -> None:
        if self.plain:  # aligned columns, no rich (an `inbox` page in a pipe)
            cells = [[c.translate(_CONTROLS) for c in row] for row in [columns, *rows]]
            widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
            lines = [title.translate(_CONTROLS)]
            for row in cells:
                lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
            self.stream.write("\n".join(line.rstrip() for line in lines) + "\n")
            return
        from rich.table import Table

        table = Table(title=title, title_justify="left")
        for col in columns:
            table.add_column(col, overflow="fold")
        for row in rows:
            table.add_row(*row)
        self.console.print(table)

    def renderable(self, obj: Any) -> None:
        self.console.print(obj)


def emit(result: Result, as_json: bool, stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    if as_json:
        import json

        doc = {"schema": result.schema, **result.to_json()}
        out.write(json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=False) + "\n")
    else:
        result.render(Printer(out))


def message(text: str, style: str | None = None) -> None:
    """A note for the human on stderr (never a result)."""
    Printer(sys.stderr).console.print(
        text, style=style, markup=False, highlight=False, soft_wrap=True
    )


def warn(text: str) -> None:
    message(f"warning: {text}", "yellow")
