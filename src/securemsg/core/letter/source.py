"""A letter as the doctor writes it: Markdown, optional YAML front matter,
sections tagged by care domain (docs/letters.md is the full rule).

---
subject: Referral for chest pain   <- YAML (safe loader), known keys only
---
{shared}                       <- a marker line: what follows goes to every recipient
Dear colleague, ...
## History                     <- untagged: `medical` (R2: a forgotten tag withholds)
## Dressing care {nursing}     <- tagged with a care domain
{shared}                       <- the sign-off: shared, wherever it stands
Kind regards,
Dr Alice Martin

``{shared}`` (on a heading or alone on a line) is text every recipient needs
(greeting, reason for the referral, sign-off, R2): it travels in the
``administrative`` domain, the one every role receives (core/domains.py), so the
signed manifest needs no new domain. Without a subject in the front matter, a
first line ``# Title`` is the subject (and is not repeated in the text); else
the subject is the caller's default (the file name).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from securemsg.core.domains import Domain
from securemsg.core.frozen import Frozen, _set
from securemsg.core.letter import limits
from securemsg.core.letter.limits import MAX_SOURCE
from securemsg.core.names import suggest
from securemsg.core.text import hidden
from securemsg.errors import FormatError, InvalidValue
from securemsg.i18n import _

_HEADING = re.compile(r"^## +(?P<title>.*?)(?: *\{(?P<domain>[a-z-]+)\})? *$")
_MARKER = re.compile(r"^ {0,3}\{(?P<domain>[a-z-]+)\} *$")
_TITLE = re.compile(r"^# +(?P<title>.+?)(?: +#+)? *$")
SHARED = "shared"
SHARED_DOMAIN = Domain.ADMINISTRATIVE  # what every role receives
FRONT_MATTER_KEYS = ("subject",)
MAX_FRONT_MATTER = 8192  # characters: a subject is at most 300
TAGS = (SHARED, *(d.value for d in Domain))


class Section(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "title",
        "domain",
        "text",
    )
    title: str  # "" for untitled text (the preamble, a {shared} block)
    domain: Domain
    text: str  # the section's Markdown, heading line included

    def __init__(self, title: str, domain: Domain, text: str) -> None:
        _set(self, "title", title)
        _set(self, "domain", domain)
        _set(self, "text", text)

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8")


class LetterSource(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "subject",
        "sections",
        "raw",
    )
    subject: str
    sections: tuple[Section, ...]
    raw: bytes  # the exact file, for the letter digest (R4)

    def __init__(self, subject: str, sections: tuple[Section, ...], raw: bytes) -> None:
        _set(self, "subject", subject)
        _set(self, "sections", sections)
        _set(self, "raw", raw)


class _StrictLoader(yaml.SafeLoader):
    """The safe loader, refusing a key given twice (PyYAML keeps the last)."""


def _no_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, str):
            raise yaml.constructor.ConstructorError(
                None, None, _("a key is not a word"), key_node.start_mark
            )
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, _("the key {key!r} is given twice").format(key=key), key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def front_matter(text: str, first_line: int = 2) -> dict[str, str]:
    """The front matter (the YAML between the ``---`` lines) as known keys to
    strings; ``first_line`` is its first line's number in the file (errors say it)."""
    if len(text) > MAX_FRONT_MATTER:
        raise InvalidValue(
            _("the front matter is longer than {MAX_FRONT_MATTER} characters").format(
                MAX_FRONT_MATTER=MAX_FRONT_MATTER
            ),
            hint=_("it holds the subject only; the letter goes after the second ---"),
        )
    for number, row in enumerate(text.split("\n"), start=first_line):
        bad = next((ch for ch in row if ch != "\t" and hidden(ch)), None)
        if bad is not None:  # said as the subject's cleaning says it, before YAML does
            field = row.partition(":")[0].strip() if ":" in row else _("the front matter")
            raise InvalidValue(
                _(
                    "{field} holds an invisible or control character (U+{bad:04X}) at line {number}"
                ).format(field=_(field), bad=ord(bad), number=number),
                hint=_("type the text again without copy-pasting it"),
            )
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except RecursionError as exc:  # "[[[[...": PyYAML's composer recurses
        raise InvalidValue(
            _("the front matter is nested too deeply to be 'key: value' lines")
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InvalidValue(
            _("the front matter is not valid YAML at line {line}: {problem}").format(
                line=mark.line + first_line, problem=problem
            )
            if mark is not None
            else _("the front matter is not valid YAML: {problem}").format(problem=problem),
            hint=_(
                "write it as 'subject: ...', one key per line; quote a value that holds "
                "a colon followed by a space or starts with a special character"
            ),
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidValue(
            _("the front matter is not a list of 'key: value' lines"),
            hint=_("write it as 'subject: ...'"),
        )
    out: dict[str, str] = {}
    lines = text.split("\n")
    for key, value in data.items():
        line = next(
            (i + first_line for i, ln in enumerate(lines) if ln.startswith(f"{key}:")), first_line
        )
        if key not in FRONT_MATTER_KEYS:
            raise InvalidValue(
                _("unknown key {key!r} in the front matter at line {line}").format(
                    key=key, line=line
                )
                + suggest(str(key), FRONT_MATTER_KEYS),
                hint=_("known keys: {FRONT_MATTER_KEYS}").format(
                    FRONT_MATTER_KEYS=", ".join(FRONT_MATTER_KEYS)
                ),
            )
        if not isinstance(value, str):
            raise InvalidValue(
                _("the front matter's {key} at line {line} is not text").format(key=key, line=line),
                hint=_('put it in quotes: {key}: "..."').format(key=key),
            )
        out[key] = value
    return out


def _domain(tag: str, line: str, number: int) -> Domain:
    if tag == SHARED:
        return SHARED_DOMAIN
    try:
        return Domain(tag)
    except ValueError as exc:
        raise InvalidValue(
            _("unknown care domain {{{tag}}} at line {number}: {line!r}").format(
                tag=tag, number=number, line=line
            )
            + suggest(tag, TAGS),
            hint=_("use one of: {TAGS} (docs/letters.md)").format(TAGS=", ".join(TAGS)),
        ) from exc


def _title(lines: list[str]) -> tuple[str, list[str]] | None:
    """A first line ``# Title`` (blank lines before it skipped): the subject, and
    the lines without it (the subject is shown with the letter: not twice)."""
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        m = _TITLE.match(line)
        return (m.group("title").strip(), lines[i + 1 :]) if m else None
    return None


def parse_letter(raw: bytes, default_subject: str) -> LetterSource:
    if len(raw) > MAX_SOURCE:
        raise InvalidValue(
            _("the letter is larger than {value} MiB of text").format(
                value=MAX_SOURCE // 1024 // 1024
            ),
            hint=_("put large content in attachments (--attach)"),
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(_("the letter is not UTF-8 text")) from exc
    text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    first = 1  # the file's line number of lines[0]
    meta: dict[str, str] = {}
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), None)
        if end is None:
            raise InvalidValue(
                _("the front matter (---) is not closed"),
                hint=_("end it with a line holding only ---"),
            )
        meta = front_matter("\n".join(lines[1:end]))
        lines, first = lines[end + 1 :], end + 2
    subject = meta.get("subject")
    if subject is None:
        titled = _title(lines)
        if titled is not None:
            subject, rest = titled
            first += len(lines) - len(rest)
            lines = rest
    subject = limits.subject(subject or default_subject)
    sections: list[Section] = []
    title, domain = "", Domain.MEDICAL
    current: list[str] = []

    def close() -> None:
        body = "\n".join(current).strip("\n")
        if body:
            sections.append(Section(title, domain, body + "\n"))

    for number, line in enumerate(lines, start=first):
        heading, marker = _HEADING.match(line), _MARKER.match(line)
        if marker:
            close()
            title, domain, current = "", _domain(marker.group("domain"), line, number), []
        elif heading:
            close()
            title = limits.item_name(heading.group("title").strip(), "section")
            tag = heading.group("domain")
            domain = _domain(tag, line, number) if tag else Domain.MEDICAL
            current = [f"## {title}"]
        else:
            current.append(line)
    close()
    if not sections:
        raise InvalidValue(_("the letter is empty"))
    limits.item_count(len(sections), len(sections))
    limits.sections_size(sum(len(s.data) for s in sections))
    return LetterSource(subject, tuple(sections), raw)
