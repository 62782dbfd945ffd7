"""What a letter may hold: the same limits and text rules when sending and when
receiving (docs/format.md §19).

A sender's tool checks them while it builds the letter (:class:`InvalidValue`,
exit 2). A receiving mailbox holds a letter to exactly the same rules, since
its author may not have used our tool (:class:`BadText` and :class:`OverLimit`,
exit 3, before anything is stored): the text fields of the signed manifest must
be what the sender's cleaning gives back unchanged, every item name what the
sender's check accepts, and the sections within the sender's sizes, so that
reading the largest letter a mailbox accepts stays bounded in time and memory.
"""

from __future__ import annotations

from collections.abc import Callable

from securemsg.core import names
from securemsg.core.letter.manifest import MAX_ITEMS as MAX_ITEMS  # the format's own limit
from securemsg.core.letter.manifest import Manifest
from securemsg.core.text import hidden
from securemsg.errors import BadText, InvalidValue, OverLimit
from securemsg.i18n import N_, _

MAX_ENVELOPE = 1 << 40  # bytes: the largest envelope a recipient accepts (and a sender writes)
MAX_SOURCE = 4 * 1024 * 1024  # bytes: a letter's Markdown file, and all its sections' text
MAX_SECTIONS = 256
MAX_NAME = 255  # bytes of UTF-8: a section heading or an attachment's name (a file name)
MAX_SUBJECT = 300  # characters
MAX_PSEUDONYM = 100  # characters


# -- the rules, as a sender's tool applies them (InvalidValue) -----------------------------
def subject(value: str) -> str:
    return names.clean_text(value, N_("subject"), max_len=MAX_SUBJECT)


def pseudonym(value: str) -> str:
    return names.clean_text(value, N_("pseudonym"), max_len=MAX_PSEUDONYM)


def item_name(value: str, kind: str) -> str:
    """A section's title (``""`` for the preamble) or an attachment's file name:
    at most :data:`MAX_NAME` bytes, no character that a terminal would not show
    as itself (core.text.hidden: controls, bidi, format, invisible)."""
    what = N_("a section heading") if kind == "section" else N_("an attachment's name")
    if kind != "section" and not value:
        raise InvalidValue(_("{what} is empty").format(what=_(what)))
    if len(value.encode("utf-8", "surrogatepass")) > MAX_NAME:
        raise InvalidValue(
            _("{what} is longer than {MAX_NAME} bytes: {value!r}...").format(
                what=_(what), MAX_NAME=MAX_NAME, value=value[:40]
            ),
            hint=_("shorten the heading or rename the file"),
        )
    for ch in value:
        if hidden(ch):
            raise InvalidValue(
                _("{what} holds an invisible or control character (U+{ch:04X}): {value!r}").format(
                    what=_(what), ch=ord(ch), value=value[:80]
                ),
                hint=_("retype the heading, or rename the file, without that character"),
            )
    return value


def sections_size(total: int) -> None:
    """All of a letter's section text, in bytes."""
    if total > MAX_SOURCE:
        raise InvalidValue(
            _("the letter is larger than {value} MiB of text").format(
                value=MAX_SOURCE // 1024 // 1024
            ),
            hint=_("put large content in attachments (--attach)"),
        )


def item_count(sections: int, items: int) -> None:
    if sections > MAX_SECTIONS:
        raise InvalidValue(
            _("the letter has more than {MAX_SECTIONS} sections").format(MAX_SECTIONS=MAX_SECTIONS)
        )
    if items > MAX_ITEMS:
        raise InvalidValue(
            _("the letter has more than {MAX_ITEMS} sections and attachments").format(
                MAX_ITEMS=MAX_ITEMS
            ),
            hint=_("send the attachments in several letters"),
        )


# -- the same rules, on a letter received (BadText, OverLimit) ----------------------------
def _same(rule: Callable[[str], str], value: str, field: str) -> None:
    """``value`` is what ``rule`` (a sender's cleaning) accepts and gives back unchanged."""
    try:
        ok = rule(value) == value
    except InvalidValue as exc:
        raise BadText(
            _("the letter's {field} is not one a sender's tool may write: {message}").format(
                field=_(field), message=exc.message
            ),
            hint=_("do not trust this letter; ask its author to send it again"),
        ) from exc
    if not ok:
        raise BadText(
            _(
                "the letter's {field} is not in the form a sender's tool writes (not "
                "normalised, or spaces around it)"
            ).format(field=_(field)),
            hint=_("do not trust this letter; ask its author to send it again"),
        )


_PATIENT_FIELDS = {
    "name": N_("patient name"),
    "ins": N_("patient ins"),
    "birth_date": N_("patient birth date"),
}
_PATIENT_RULES: dict[str, Callable[[str], str]] = {
    "name": lambda v: names.clean_name(v, N_("patient's name")),
    "ins": names.check_ins,
    "birth_date": lambda v: names.check_date(v, N_("patient's birth date")),
}


def check_manifest(m: Manifest) -> None:
    """A received manifest's text fields and section count, by the sender's rules."""
    _same(subject, m.subject, N_("subject"))
    if m.pseudonym is not None:
        _same(pseudonym, m.pseudonym, N_("pseudonym"))
    for key, value in m.patient_ids:
        _same(_PATIENT_RULES[key], value, _PATIENT_FIELDS.get(key, key))
    for r in m.recipients:
        if r.name is not None:
            _same(
                lambda v: names.clean_name(v, N_("recipient's name")), r.name, N_("recipient name")
            )
    sections = sum(1 for i in m.items if i.kind == "section")
    if sections > MAX_SECTIONS:
        raise OverLimit(
            _(
                "the letter has {sections} sections: a sender's tool writes at most {MAX_SECTIONS}"
            ).format(sections=sections, MAX_SECTIONS=MAX_SECTIONS),
            hint=_("do not trust this letter; ask its author to send it again"),
        )


class ReceivedItems:
    """Checks each item head of a received envelope before its body is read."""

    def __init__(self) -> None:
        self.section_bytes = 0

    def check(self, kind: str, name: str, size: int) -> None:
        if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME:
            raise OverLimit(
                _(
                    "an item of the letter has a name of more than {MAX_NAME} bytes, more "
                    "than a sender's tool writes"
                ).format(MAX_NAME=MAX_NAME),
                hint=_("do not trust this letter; ask its author to send it again"),
            )
        try:
            item_name(name, kind)
        except InvalidValue as exc:
            raise BadText(
                _("{message} (a sender's tool refuses it)").format(message=exc.message),
                hint=_("do not trust this letter; ask its author to send it again"),
            ) from exc
        if kind == "section":
            self.section_bytes += size
            if self.section_bytes > MAX_SOURCE:
                raise OverLimit(
                    _(
                        "the letter holds more than {value} MiB of section text, more than a "
                        "sender's tool writes"
                    ).format(value=MAX_SOURCE // 1024 // 1024),
                    hint=_(
                        "do not trust this letter; ask its author to send large content as "
                        "attachments"
                    ),
                )
