"""Opening a letter envelope addressed to me, step by step, verifying as it goes.

The caller (store/mailbox.py) interleaves its own checks::

    env = Opening(src, my_secret, my_fp)        # age header: is it for me?
    author = lookup(env.author_fp)                # a known contact, or refuse
    manifest = env.verify(author)                 # signature, binding, my place
    consent, card = env.basis_records()           # then check the consent rules
    for head, item, chunks in env.items(): ...    # names, sizes checked; digests while streaming
    env.finish()                                  # every item of my domains seen

No section is decrypted before the consent has been checked: items come
after the manifest, binding and consent in the stream.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import BinaryIO

from securemsg.core.age import NoIdentityMatchError
from securemsg.core.age.hazmat.file import decrypt_payload, read_header, unwrap_file_key
from securemsg.core.card import Card
from securemsg.core.identity import KeyHolder
from securemsg.core.letter import limits
from securemsg.core.letter.container import (
    BINDING,
    CONSENT,
    MANIFEST,
    PATIENT_CARD,
    EnvelopeReader,
    InItemHead,
)
from securemsg.core.letter.manifest import (
    MANIFEST_VERSION,
    Item,
    ItemHasher,
    Manifest,
    RecipientEntry,
    peek_author,
)
from securemsg.core.letter.proofs import Binding
from securemsg.errors import FormatError, NotForMe, VerificationError
from securemsg.i18n import N_, _


class Opening:
    def __init__(
        self,
        src: BinaryIO,
        secret: KeyHolder,
        my_fp: str,
        previous: Sequence[tuple[KeyHolder, str]] = (),
        *,
        require_padding: bool = True,
    ) -> None:
        """``previous``: my key pairs before a key rotation, with their
        fingerprints, newest first; tried after the current one (old letters and
        doubles still open, docs/format-keys.md). ``require_padding`` False: a
        letter already in the mailbox, which an earlier version (envelopes without
        PADDING) may have received."""
        self.header, self.header_bytes = read_header(src)
        file_key = None
        for key, fp in [(secret, my_fp), *previous]:
            identity = key.share_opener()
            try:
                file_key = unwrap_file_key(self.header, self.header_bytes, [identity])
            except NoIdentityMatchError:
                continue
            self.my_fp = fp
            break
        if file_key is None:
            raise NotForMe(
                _("this letter is not encrypted to you"),
                hint=_("check that you are its recipient (securemsg whoami)"),
            )
        self.reader = EnvelopeReader(decrypt_payload(file_key, src), require_padding)
        self.manifest_bytes = self.reader.small(MANIFEST, N_("manifest"))
        self.author_fp = peek_author(self.manifest_bytes)
        self.manifest: Manifest | None = None
        self.entry: RecipientEntry | None = None
        self._seen: set[int] = set()

    def verify(self, author: Card, signed: list[Manifest] | None = None) -> Manifest:
        """``signed`` gets the manifest as soon as its signature verified (what a
        refusal notice may name), before the binding and recipient checks."""
        manifest = Manifest.verify(self.manifest_bytes, author)
        if signed is not None:
            signed.append(manifest)
        if manifest.version < MANIFEST_VERSION:
            if self.reader.require_padding:  # receive, verify: never a format-1 letter
                raise FormatError(
                    _(
                        "this letter is in format {version}, written by an earlier version of "
                        "securemsg (its envelopes are not padded)"
                    ).format(version=manifest.version),
                    hint=_("ask its author to update securemsg and send it again"),
                )
        else:
            self.reader.require_padding = True  # format 2 is always padded
        binding = self.reader.small(BINDING, N_("envelope binding"))
        Binding.verify(binding, author).check(self.manifest_bytes, self.header_bytes, self.my_fp)
        entry = manifest.entry_for(self.my_fp)
        if entry is None and manifest.author == self.my_fp:
            # The author's own double: every item, sealed to the author's key.
            entry = RecipientEntry(
                self.my_fp, author.profile.role, frozenset(i.domain for i in manifest.items)
            )
        if entry is None:
            raise VerificationError(
                _("you are not among the letter's intended recipients"),
                hint=_("do not read it; tell its author"),
            )
        limits.check_manifest(manifest)  # the sender's own rules (core/letter/limits.py)
        self.manifest, self.entry = manifest, entry
        return manifest

    def basis_records(self) -> tuple[bytes | None, bytes | None]:
        consent = self.reader.optional(CONSENT, N_("consent"))
        card = self.reader.optional(PATIENT_CARD, N_("patient card"))
        return consent, card

    def items(self) -> Iterator[tuple[InItemHead, Item, Iterator[memoryview]]]:
        """Each item with a chunk iterator; the digest is checked when it ends."""
        if self.manifest is None or self.entry is None:
            raise FormatError(_("verify the manifest before reading items"))
        last = -1
        received = limits.ReceivedItems()
        while (head := self.reader.next_item()) is not None:
            if head.n <= last or head.n >= len(self.manifest.items):
                raise VerificationError(
                    _("the letter holds an item without a digest in the manifest")
                )
            item = self.manifest.items[head.n]
            if item.domain not in self.entry.domains:
                raise VerificationError(
                    _(
                        "the letter discloses a {value} item to you, which its manifest does not "
                        "grant you"
                    ).format(value=item.domain.value)
                )
            received.check(item.kind, head.name, head.size)  # before its body is read
            last = head.n
            yield head, item, self._checked(head, item)
            self._seen.add(head.n)

    def _checked(self, head: InItemHead, item: Item) -> Iterator[memoryview]:
        hasher = ItemHasher(item.n, item.kind, item.domain, head.name, head.size, head.salt)
        for piece in self.reader.body(head.size):
            hasher.update(piece)
            yield piece
        if hasher.digest() != item.digest:
            raise VerificationError(
                _("item {n} of the letter does not match its signed digest: it was altered").format(
                    n=item.n
                ),
                hint=_("ask the author to send the letter again"),
            )

    def finish(self) -> None:
        """After items(): every item meant for my domains must have arrived."""
        if self.manifest is None or self.entry is None:
            raise FormatError(_("verify the manifest first"))
        missing = [
            i.n
            for i in self.manifest.items
            if i.domain in self.entry.domains and i.n not in self._seen
        ]
        if missing:
            raise VerificationError(
                _(
                    "items {missing} of the letter are signed for you but missing from the envelope"
                ).format(missing=missing)
            )
