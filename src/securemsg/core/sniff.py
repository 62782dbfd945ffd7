"""What kind of securemsg file a few bytes look like: to tell a user who gave a
command the wrong file which command it is for. A guess, never a check: every
command still verifies what it reads (a file that looks right here can be refused
later, and one that is not recognised is refused by the command's own parser).

Looked at: the age header line, a card's text form, the COSE object type in the
protected header of a signed object (its content type string is near the start),
and text that looks like a Markdown letter.
"""

from __future__ import annotations

import enum
import re

from securemsg.core import labels
from securemsg.i18n import N_

HEAD = 1024  # bytes read to guess


class FileKind(enum.Enum):
    """A kind of file; its value describes it (English: translate it where shown)."""

    LETTER = N_("an encrypted letter")
    ARMORED_AGE = N_("an armored age file")
    CARD = N_("a contact card")
    CONSENT = N_("a consent grant")
    REVOCATION = N_("a consent revocation")
    OBJECTION = N_("a consent objection")
    RECEIPT = N_("a receipt")
    REFUSAL = N_("a refusal notice")
    KEY_SUCCESSION = N_("a key succession")
    KEY_REVOCATION = N_("a key revocation")
    LETTER_SOURCE = N_("a letter's Markdown source")


_COSE = {
    labels.COSE_CARD: FileKind.CARD,
    labels.COSE_CONSENT_GRANT: FileKind.CONSENT,
    labels.COSE_CONSENT_REVOCATION: FileKind.REVOCATION,
    labels.COSE_CONSENT_OBJECTION: FileKind.OBJECTION,
    labels.COSE_RECEIPT: FileKind.RECEIPT,
    labels.COSE_REFUSAL: FileKind.REFUSAL,
    labels.COSE_KEY_SUCCESSION: FileKind.KEY_SUCCESSION,
    labels.COSE_KEY_REVOCATION: FileKind.KEY_REVOCATION,
}
_MARKDOWN = re.compile(rb"(?m)^(?:---\s*$|#{1,6} |\{[a-z-]+\}\s*$)")

# The command for each kind, as a hint: "{file}" is replaced by the file's name
# (translated where shown).
COMMANDS = {
    FileKind.LETTER: N_("securemsg receive {file} (or securemsg verify {file})"),
    FileKind.ARMORED_AGE: N_("securemsg receive {file}"),
    FileKind.CARD: N_("securemsg contacts add {file}"),
    FileKind.CONSENT: N_("securemsg consent show {file}, then send with --consent {file}"),
    FileKind.REVOCATION: N_("securemsg consent import {file}"),
    FileKind.OBJECTION: N_("securemsg consent import {file}"),
    FileKind.RECEIPT: N_("securemsg receipts import {file}"),
    FileKind.REFUSAL: N_("securemsg receipts import {file}"),
    FileKind.KEY_SUCCESSION: N_("securemsg receive {file} (or securemsg contacts add {file})"),
    FileKind.KEY_REVOCATION: N_("securemsg receive {file} (or securemsg contacts add {file})"),
    FileKind.LETTER_SOURCE: N_("securemsg send {file} --to ... (or securemsg reply ID {file})"),
}


def _first(found: tuple[int, FileKind | None]) -> int:
    return found[0]


def sniff(head: bytes) -> FileKind | None:
    """The kind of file ``head`` (its first :data:`HEAD` bytes) looks like, if any."""
    if head.startswith(b"age-encryption.org/"):
        return FileKind.LETTER
    stripped = head.lstrip()
    if stripped.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----"):
        return FileKind.ARMORED_AGE
    if stripped.startswith(b"-----BEGIN SECUREMSG CARD-----"):
        return FileKind.CARD
    if head[:1] == b"\xd2":  # CBOR tag 18: a COSE_Sign1
        # the first type named is the object's own (its protected header comes
        # first); a key succession carries a card further on
        found = [(head.find(t.encode()), kind) for t, kind in _COSE.items()]
        return min(((i, k) for i, k in found if i >= 0), default=(0, None), key=_first)[1]
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:  # maybe cut inside a character
        if exc.start < len(head) - 3:
            return None
    return FileKind.LETTER_SOURCE if _MARKDOWN.search(head) else None
