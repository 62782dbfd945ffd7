"""A letter as the doctor writes it: Markdown, optional front matter, sections.

---
subject: Referral for chest pain
---
Dear colleague, ...            <- preamble: a `medical` section
## History                     <- untagged: `medical`
## Dressing care {nursing}     <- tagged with a care domain
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from securemsg.core.domains import Domain
from securemsg.core.letter import limits
from securemsg.core.letter.limits import MAX_SOURCE
from securemsg.errors import FormatError, InvalidValue

_HEADING = re.compile(r"^## +(?P<title>.*?)(?: *\{(?P<domain>[a-z-]+)\})? *$")


@dataclass(frozen=True, slots=True)
class Section:
    title: str  # "" for the preamble
    domain: Domain
    text: str  # the section's Markdown, heading line included

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8")


@dataclass(frozen=True, slots=True)
class LetterSource:
    subject: str
    sections: tuple[Section, ...]
    raw: bytes  # the exact file, for the letter digest (R4)


def parse_letter(raw: bytes, default_subject: str) -> LetterSource:
    if len(raw) > MAX_SOURCE:
        raise InvalidValue(
            f"the letter is larger than {MAX_SOURCE // 1024 // 1024} MiB of text",
            hint="put large content in attachments (--attach)",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError("the letter is not UTF-8 text") from exc
    text = text.replace("\r\n", "\n")
    subject = default_subject
    lines = text.split("\n")
    if lines and lines[0].strip() == "---":
        try:
            end = lines.index("---", 1)
        except ValueError as exc:
            raise InvalidValue("the front matter (---) is not closed") from exc
        for line in lines[1:end]:
            key, sep, value = line.partition(":")
            if not sep:
                continue
            if key.strip().lower() == "subject":
                subject = value.strip()
        lines = lines[end + 1 :]
    subject = limits.subject(subject)
    sections: list[Section] = []
    title, domain, current = "", Domain.MEDICAL, []
    for line in [*lines, "## \x00end"]:
        m = _HEADING.match(line)
        if not m:
            current.append(line)
            continue
        body = "\n".join(current).strip("\n")
        if body:
            sections.append(Section(title, domain, body + "\n"))
        if line == "## \x00end":
            break
        title, tag = limits.item_name(m.group("title").strip(), "section"), m.group("domain")
        try:
            domain = Domain(tag) if tag else Domain.MEDICAL
        except ValueError as exc:
            choices = ", ".join(d.value for d in Domain)
            raise InvalidValue(
                f"unknown care domain {{{tag}}} in heading {line!r}", hint=f"use one of: {choices}"
            ) from exc
        current = [f"## {title}"]
    if not sections:
        raise InvalidValue("the letter is empty")
    limits.item_count(len(sections), len(sections))
    limits.sections_size(sum(len(s.data) for s in sections))
    return LetterSource(subject, tuple(sections), raw)
