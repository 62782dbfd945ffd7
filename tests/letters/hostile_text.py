"""What a hostile correspondent writes to reach the victim's terminal, and how to
look for it in what a command printed (issue 12, cases 7, 8, 12)."""

from __future__ import annotations

import re

from securemsg.core.domains import Domain
from securemsg.core.letter.source import LetterSource, Section

ESC = "\x1b"
# Each sequence: what it does on a terminal, and how it must show instead.
SEQUENCES = {
    "clear the screen, cursor home": ("\x1b[2J\x1b[H", "\\u{1b}[2J\\u{1b}[H"),
    "cursor up 9 lines (redraw the panel)": ("\x1b[9A", "\\u{1b}[9A"),
    "window title (OSC 0)": ("\x1b]0;pwned-title\x07", "\\u{1b}]0;pwned-title\\u{7}"),
    "clipboard (OSC 52)": ("\x1b]52;c;ZXZpbA==\x07", "\\u{1b}]52;c;ZXZpbA==\\u{7}"),
    "hidden link (OSC 8)": (
        "\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07",
        "\\u{1b}]8;;https://evil.example/\\u{7}click\\u{1b}]8;;\\u{7}",
    ),
    "C1 CSI (8-bit)": ("\x9b31mred", "\\u{9b}31mred"),
    "right-to-left override": ("\u202eevil\u202c", "\\u{202e}evil\\u{202c}"),
    "bidi isolate": ("\u2067x\u2069", "\\u{2067}x\\u{2069}"),
    "DEL": ("a\x7fb", "a\\u{7f}b"),
    "backspace": ("ab\x08c", "ab\\u{8}c"),
    "zero width space": ("in\u200bvisible", "in\\u{200b}visible"),
    "Hangul filler": ("a\u3164b", "a\\u{3164}b"),
    "line separator": ("one\u2028two", "one\\u{2028}two"),
}
# A section made of them, one per line (so that no layout splits an escape), and a
# carriage return: a line ending for Markdown (CommonMark), shown as a line break.
HOSTILE_BODY = (
    "Dear colleague.\n"
    + "\n".join(f"{raw} end" for raw, _ in SEQUENCES.values())
    + "\nOverwrite\rthe line"
)

# Characters that must never reach a terminal as themselves.
_RAW = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u206f\u3164\ufeff\ufff9-\ufffb\U000e0000-\U000e0fff]"
)
SGR = re.compile("\x1b\\[[0-9;]*m")  # rich's own styles, on a forced terminal


def raw_controls(output: str, styled: bool = False) -> list[str]:
    """The hidden characters in ``output`` (rich's own SGR style sequences left
    out when ``styled``: the only escape sequences it may write)."""
    if styled:
        output = SGR.sub("", output)
    return sorted({f"U+{ord(c):04X}" for c in _RAW.findall(output)})


def source(*sections: tuple[str, Domain, str], subject: str = "Hostile letter") -> LetterSource:
    """A parsed letter as a hostile sender would build it, past parse_letter's checks:
    (title, domain, body) per section."""
    parts = tuple(
        Section(title, domain, (f"## {title}\n" if title else "") + body + "\n")
        for title, domain, body in sections
    )
    return LetterSource(subject, parts, "".join(p.text for p in parts).encode())
