"""Key statements that come to ``receive`` (issue 16): a correspondent's key
succession or key revocation, given as a file (recognised by its content, not
its name), found in my drop folder (``NAME.statement``) or mailed
(``statement/1``). Each is imported exactly as ``contacts add`` imports it
(app/keys.py, store/keychanges.py: the same checks, the same outcomes, the
contacts unchanged on a refusal) and reported as one row of the receive report
(``key succession: moved``, ``key revocation: recorded``, ``...: already
recorded`` or ``refused`` with its error). Statements are taken before the
letters of the same run, so that a letter signed by a new key is received under
it; a succession that moves a contact also receives the letters kept aside from
the new key (app/retry.py).
"""

from __future__ import annotations

import functools
from pathlib import Path

from securemsg.app.receive import LETTER_CAP, Outcome, ProofReceived, Received
from securemsg.core import labels
from securemsg.core.frozen import replace
from securemsg.core.sniff import HEAD, FileKind, sniff
from securemsg.core.times import shown
from securemsg.errors import FormatError, SecureMsgError, TooLargeError, UnreadableError
from securemsg.i18n import _
from securemsg.store import drop_files
from securemsg.store.checked import Opened, Unsafe, open_path
from securemsg.store.dirfd import Dir
from securemsg.store.drop_files import Bad, unreadable
from securemsg.store.home import Home

MAX_STATEMENT = 64 * 1024  # the largest key statement read (a succession carries a card)
SUFFIX = ".statement"  # its name in a drop folder: <32 hex>.<signer fp>.statement
SUCCESSION = "key succession"  # the row's kind (JSON keeps it in English)
REVOCATION = "key revocation"
_KINDS = {labels.COSE_KEY_SUCCESSION: SUCCESSION, labels.COSE_KEY_REVOCATION: REVOCATION}


def is_statement(head: bytes) -> bool:
    """``head`` (a file's first bytes) looks like a key succession or revocation."""
    return sniff(head) in (FileKind.KEY_SUCCESSION, FileKind.KEY_REVOCATION)


def import_bytes(home: Home, where: Path, data: bytes, now: int) -> list[Received]:
    """One statement imported as ``contacts add`` would: its row, then the rows of
    the letters kept aside from a contact's new key, received now."""
    # here, not at import: `receive` builds no dataclass at start-up (CONTRIBUTING.md)
    from securemsg.app import keys
    from securemsg.core.keychange import kind_of

    kind = SUCCESSION
    try:
        if len(data) > MAX_STATEMENT:
            raise TooLargeError(
                _("a key statement of more than {n} bytes").format(n=MAX_STATEMENT),
                hint=_("this is not a key statement; ask its sender what it is"),
            )
        object_type, _fp = kind_of(data)
        if object_type not in _KINDS:
            raise FormatError(
                _("this is not a key succession or key revocation"),
                hint=_("ask its sender what it is"),
            )
        kind = _KINDS[object_type]
        if kind == SUCCESSION:
            return _moved(home, where, data, now)
        done = keys.import_revocation(home, data, now)
    except SecureMsgError as exc:
        return [ProofReceived(where, Outcome.REFUSED, kind=kind, error=exc)]
    c = done.contact
    if done.status == "unchanged":
        return [_row(where, Outcome.ALREADY_RECORDED, REVOCATION, c.name, "")]
    text = _(
        "the key {key} of {name} is revoked as of {when} ({reason}): its letters from "
        "then on are refused, and nothing is encrypted to it any more"
    ).format(
        key=c.card.display_fingerprint,
        name=c.name,
        when=shown(c.revoked_as_of or 0),
        reason=done.revocation.reason.value,
    )
    if done.unvouched is not None:
        text += " " + _(
            "(its successor {key} is NOT verified any more: compare the safety number "
            "with them, securemsg contacts verify)"
        ).format(key=done.unvouched.card.display_fingerprint)
    return [_row(where, Outcome.RECORDED, REVOCATION, c.name, text)]


def _moved(home: Home, where: Path, data: bytes, now: int) -> list[Received]:
    from securemsg.app import keys

    moved = keys.import_succession(home, data, now)
    c = moved.contact
    if moved.status == "unchanged":
        return [_row(where, Outcome.ALREADY_RECORDED, SUCCESSION, c.name, "")]
    if c.verified:
        text = _(
            "{name} has a new key: {old} -> {new}; their old key vouches for it (still verified)"
        )
    else:
        text = _("{name} has a new key: {old} -> {new}; their old key vouches for it")
    words = text.format(
        name=c.name, old=moved.previous.card.display_fingerprint, new=c.card.display_fingerprint
    )
    rows: list[Received] = [_row(where, Outcome.KEY_MOVED, SUCCESSION, c.name, words)]
    from securemsg.app.retry import retry, waiting  # only when a contact moved

    if waiting(home, c.fingerprint):
        rows += retry(home, now, c.fingerprint)
    return rows


def _row(where: Path, outcome: Outcome, kind: str, name: str, text: str) -> ProofReceived:
    return ProofReceived(where, outcome, kind=kind, recipient=name, reason=text)


def _read(src: Opened, limit: int) -> bytes:
    return src.reader(functools.partial(unreadable, src.path)).read(limit)


def statement_mail(raw: bytes | None) -> bool:
    """A key statement's mail (``X-Securemsg: statement/1``), taken before the
    letters of its group by ``receive --mail``: only the order depends on this
    look at the headers; the mail is then parsed and checked as any other."""
    from securemsg.store import maillayout  # already loaded: the mail path

    head = (raw or b"")[:16384].partition(b"\r\n\r\n")[0].lower()
    return f"{maillayout.HEADER.lower()}: statement/".encode() in head


def first(uids: list[int], bodies: dict[int, bytes]) -> list[int]:
    """``uids`` with the key statements' mails first (:func:`statement_mail`)."""
    return sorted(uids, key=lambda u: not statement_mail(bodies.get(u)))


# -- files the user named ------------------------------------------------------------
def take_files(home: Home, files: list[Path], now: int) -> tuple[list[Received], list[Path]]:
    """The key statements among ``files`` (by content), imported first: their rows,
    and the files left for the letters' path (which reports any it cannot open)."""
    rows: list[Received] = []
    rest: list[Path] = []
    for path in files:
        try:
            opened = open_path(path, LETTER_CAP)
        except Unsafe:
            rest.append(path)
            continue
        with opened:
            try:
                head = _read(opened, HEAD)
                if not is_statement(head):
                    rest.append(path)
                    continue
                data = _read(opened, MAX_STATEMENT + 1)
            except UnreadableError as exc:
                rows.append(ProofReceived(path, Outcome.SKIPPED, kind=SUCCESSION, error=exc))
                continue
        rows += import_bytes(home, path, data, now)
    return rows, rest


# -- my drop folder ------------------------------------------------------------------
def from_drop(home: Home, mine: Dir, name: str, now: int) -> list[Received]:
    """``NAME.statement`` of my drop folder, with the folder's rules for hostile
    files (store/drop_files.py): checked before a byte is read, removed once
    imported (or already known), renamed ``NAME.refused`` when refused, left
    where it is when it cannot be read."""
    path = mine.path / name
    opened = drop_files.open_entry(mine, name, MAX_STATEMENT)
    if opened is None:
        return []
    if isinstance(opened, Bad):
        row = ProofReceived(path, _bad(opened), kind=SUCCESSION, error=opened.error)
        if not opened.keep:
            row = replace(row, problem=drop_files.set_aside(mine, name, opened.ident))
        return [row]
    with opened:
        try:
            data = _read(opened, MAX_STATEMENT + 1)
        except UnreadableError as exc:
            return [ProofReceived(path, Outcome.SKIPPED, kind=SUCCESSION, error=exc)]
        rows = import_bytes(home, path, data, now)
        first = rows[0]
        if first.outcome is Outcome.REFUSED:
            problem = drop_files.set_aside(mine, name, opened.ident)
        else:
            problem = drop_files.remove(mine, name, opened.ident)
    return [replace(first, problem=problem), *rows[1:]]


def _bad(bad: Bad) -> Outcome:
    return Outcome.SKIPPED if bad.keep else Outcome.REFUSED
