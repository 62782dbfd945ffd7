"""Reading a stored letter (received or double): decrypt and re-verify it.

:func:`open_letter` is also what ``verify`` runs on a letter not stored
(app/verify.py), with the checks of receiving (current author, consent now).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import BinaryIO

from securemsg.app.mailbox import names_of
from securemsg.app.trust import (
    author_card,
    check_basis,
    known_author,
    patient_key_state,
    resolve_patient,
)
from securemsg.core.card import Card
from securemsg.core.consent import Grant
from securemsg.core.frozen import Frozen, _set, replace
from securemsg.core.identity import SecretIdentity
from securemsg.core.letter.manifest import Manifest
from securemsg.core.letter.opening import Opening
from securemsg.errors import UsageError, VerificationError
from securemsg.i18n import _
from securemsg.store.contacts import Contacts
from securemsg.store.fs import place_unique, safe_file_name
from securemsg.store.home import Home
from securemsg.store.mailbox import LetterRow, Mailbox


class OpenedItem(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "n",
        "kind",
        "domain",
        "name",
        "size",
        "text",
        "saved_to",
    )
    n: int
    kind: str
    domain: str
    name: str
    size: int
    text: str | None  # sections
    saved_to: Path | None  # attachments, when asked

    def __init__(
        self,
        n: int,
        kind: str,
        domain: str,
        name: str,
        size: int,
        text: str | None,
        saved_to: Path | None,
    ) -> None:
        _set(self, "n", n)
        _set(self, "kind", kind)
        _set(self, "domain", domain)
        _set(self, "name", name)
        _set(self, "size", size)
        _set(self, "text", text)
        _set(self, "saved_to", saved_to)


class OpenedLetter(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "manifest",
        "author",
        "author_verified",
        "patient",
        "grant",
        "items",
        "my_domains",
        "patient_key",
        "author_revoked_as_of",
        "accepted_at",
    )
    manifest: Manifest
    author: Card
    author_verified: bool
    patient: Card | None
    grant: Grant | None
    items: tuple[OpenedItem, ...]
    my_domains: tuple[str, ...]
    patient_key: str | None  # app/trust.py patient_key_state
    # Issue 16: the author's key was revoked as of this time (a letter kept from before)
    author_revoked_as_of: int | None
    accepted_at: int | None  # when this mailbox accepted it (a stored letter)

    def __init__(
        self,
        manifest: Manifest,
        author: Card,
        author_verified: bool,
        patient: Card | None,
        grant: Grant | None,
        items: tuple[OpenedItem, ...],
        my_domains: tuple[str, ...],
        patient_key: str | None = None,
        author_revoked_as_of: int | None = None,
        accepted_at: int | None = None,
    ) -> None:
        _set(self, "manifest", manifest)
        _set(self, "author", author)
        _set(self, "author_verified", author_verified)
        _set(self, "patient", patient)
        _set(self, "grant", grant)
        _set(self, "items", items)
        _set(self, "my_domains", my_domains)
        _set(self, "patient_key", patient_key)
        _set(self, "author_revoked_as_of", author_revoked_as_of)
        _set(self, "accepted_at", accepted_at)


class ReadResult(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "opened",
        "me",
        "names",
        "folder",
        "replied_to",
        "received_at",
        "first_read_at",
    )
    opened: OpenedLetter
    me: Card
    names: dict[str, str]  # fingerprint -> name, for every key this mailbox knows
    folder: str | None  # in | sent; None: a letter file, not stored
    replied_to: LetterRow | None  # the letter it answers, when held here
    received_at: int | None  # when it was received (or sent: the double kept)
    first_read_at: int | None  # None: read now for the first time

    def __init__(
        self,
        opened: OpenedLetter,
        me: Card,
        names: dict[str, str],
        folder: str | None = None,
        replied_to: LetterRow | None = None,
        received_at: int | None = None,
        first_read_at: int | None = None,
    ) -> None:
        _set(self, "opened", opened)
        _set(self, "me", me)
        _set(self, "names", names)
        _set(self, "folder", folder)
        _set(self, "replied_to", replied_to)
        _set(self, "received_at", received_at)
        _set(self, "first_read_at", first_read_at)


LATEST = "latest"


def read(
    home: Home, ref: str, now: int, save_dir: Path | None = None, mark_read: bool = True
) -> ReadResult:
    """A stored letter (by id, a unique prefix, or ``latest``: the one received
    last), re-verified as it was received: its author's card even if replaced or
    expired since; the consent is not checked again (it held when the letter was
    accepted). The first reading is recorded (read/unread state)."""
    box = Mailbox(home)
    row = box.latest("in") if ref.strip().lower() == LATEST else box.find(ref)
    with (box.home.path / row.path).open("rb") as fh:
        opened = open_letter(box, fh, now, save_dir=save_dir, check_consent_now=False)
    if opened.manifest.id_hex != row.id:
        raise VerificationError(_("the stored letter does not match its mailbox record"))
    opened = replace(opened, accepted_at=row.stored_at)
    first = box.read_times([row.id]).get((row.id, row.folder))
    if mark_read:
        box.mark_read(row.id, row.folder, now)
    return ReadResult(
        opened,
        box.card,
        names_of(box),
        row.folder,
        _original(box, row.in_reply_to),
        row.stored_at,
        first,
    )


def _original(box: Mailbox, message_id: str | None) -> LetterRow | None:
    """The letter a reply answers, if this mailbox holds it (received or sent)."""
    if message_id is None:
        return None
    return box.get(message_id, "in") or box.get(message_id, "sent")


def read_file(home: Home, file: Path, now: int, save_dir: Path | None = None) -> ReadResult:
    """A letter file addressed to me, opened with every check of receiving (current
    author, consent now) and shown, without storing it: no receipt, nothing kept
    (``receive FILE`` keeps it)."""
    import functools

    from securemsg.core.letter.limits import MAX_ENVELOPE
    from securemsg.store.checked import Unsafe, open_path
    from securemsg.store.drop_files import file_error, unreadable

    box = Mailbox(home)
    try:
        checked = open_path(file, MAX_ENVELOPE)
    except Unsafe as exc:
        raise file_error(exc) from exc
    with checked, checked.reader(functools.partial(unreadable, file)) as fh:
        opened = open_letter(box, fh, now, save_dir=save_dir)
    held = box.get(opened.manifest.id_hex, "in")
    replied = _original(
        box, opened.manifest.in_reply_to.hex() if opened.manifest.in_reply_to else None
    )
    return ReadResult(
        opened, box.card, names_of(box), None, replied, held.stored_at if held else None
    )


def open_letter(
    box: Mailbox,
    src: BinaryIO,
    now: int,
    save_dir: Path | None = None,
    check_consent_now: bool = True,
) -> OpenedLetter:
    # a stored letter may be addressed to a key of mine I rotated away from,
    # and may predate padding (no check now)
    previous = [] if check_consent_now else my_previous_keys(box)
    env = Opening(
        src, box.secret, box.card.fingerprint, previous, require_padding=check_consent_now
    )
    author = (
        author_card(box, env.author_fp, now)
        if check_consent_now
        else known_author(box, env.author_fp)
    )
    manifest = env.verify(author)
    consent, carried = env.basis_records()
    decision, patient = (
        check_basis(box, manifest, consent, carried, now)
        if check_consent_now
        else (None, resolve_patient(box, manifest, carried))
    )
    if decision is not None:  # the grant check_consent verified (None on another basis)
        grant = decision.grant
    else:
        grant = (
            Grant.verify(consent, patient) if consent is not None and patient is not None else None
        )
    items: list[OpenedItem] = []
    saved: list[tuple[int, Path, str]] = []  # (index in items, temp file, name wanted)
    try:
        for head, item, chunks in env.items():
            if item.kind == "section":
                data = b"".join(chunks)
                items.append(
                    OpenedItem(
                        item.n,
                        item.kind,
                        item.domain.value,
                        head.name,
                        head.size,
                        data.decode("utf-8", "replace"),
                        None,
                    )
                )
                continue
            if save_dir is not None:
                if not saved:
                    _make_dir(save_dir)
                import tempfile  # here: with shutil, lzma, bz2 (~2 ms), only to save

                fd, tmp = tempfile.mkstemp(prefix=".att-", dir=save_dir)
                saved.append((len(items), Path(tmp), head.name))
                with os.fdopen(fd, "wb") as fh:
                    for piece in chunks:
                        fh.write(piece)
            else:
                for _chunk in chunks:
                    pass
            items.append(
                OpenedItem(item.n, item.kind, item.domain.value, head.name, head.size, None, None)
            )
        env.finish()
        # Only now, every digest checked: each file takes a name of its own, never
        # one that is taken (not even by a dangling link): ``report (2).pdf``.
        if save_dir is not None:
            for k, done, name in saved:
                final = place_unique(done, save_dir, safe_file_name(name))
                items[k] = replace(items[k], saved_to=final)
    finally:
        for _k, left, _name in saved:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(left)
    contact = Contacts(box.home).get(author.fingerprint)
    entry = env.entry
    is_me = author.fingerprint in {c.fingerprint for c in box.cards}  # mine: nothing to verify
    return OpenedLetter(
        manifest,
        author,
        is_me or bool(contact and contact.verified),
        patient,
        grant,
        tuple(items),
        tuple(sorted(d.value for d in entry.domains)) if entry else (),
        patient_key_state(box, manifest.patient_fp),
        contact.revoked_as_of if contact else None,
    )


def my_previous_keys(box: Mailbox) -> list[tuple[SecretIdentity, str]]:
    """My key pairs before rotations, with their fingerprints, newest first
    (docs/format-keys.md §4): a stored letter may be addressed to one of them."""
    by_key = {c.sign_public: c.fingerprint for c in box.cards[1:]}
    old = box.home.unlock_history().previous if by_key else ()
    return [(k, by_key[k.sign_public]) for k in old if k.sign_public in by_key]


def _make_dir(directory: Path) -> None:
    """The folder attachments are saved into, made if needed."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:  # a file, or a link to no folder
        raise UsageError(
            _("{directory} is not a folder").format(directory=directory),
            hint=_("give a folder to save into"),
        ) from exc
