"""An age file step by step: the file key, the header, the payload nonce, then the
payload (hazmat/stream.py); and back. ``core/age/__init__.py`` composes these
into ``encrypt``/``decrypt``; securemsg letters call them one at a time, to sign
the header bytes before the payload (``core/letter/compose.py``) and to verify
as the payload streams (``core/letter/opening.py``).

"Header bytes" are always the complete header as it is on the wire, from
``age-encryption.org/v1`` through the ``--- <mac>`` line and its newline:
:func:`build_header` returns them and :func:`read_header` returns the same bytes
back. The profile, limits and errors are specified in docs/format-age.md.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator, Sequence

import nacl.utils

from securemsg.errors import HeaderError, HMACError, NoIdentityMatchError
from securemsg.i18n import _

from ..keys import Identity, Recipient, ScryptIdentity, ScryptRecipient, ShareOpener
from . import scrypt, x25519
from .header import (
    Header,
    LineReader,
    Stanza,
    compute_mac,
    encode_without_mac,
    header_mac_input,
    parse,
)
from .stream import ENC_CHUNK_SIZE, NONCE_SIZE, StreamDecryptor

Rng = Callable[[int], bytes]
FILE_KEY_SIZE = x25519.FILE_KEY_SIZE
BLOCK = 16 * ENC_CHUNK_SIZE


def _draw(rng: Rng, n: int) -> bytes:
    out = bytes(rng(n))
    if len(out) != n:
        raise ValueError(_("rng returned the wrong number of bytes"))
    return out


def new_file_key(rng: Rng = nacl.utils.random) -> bytes:
    return _draw(rng, FILE_KEY_SIZE)


def new_payload_nonce(rng: Rng = nacl.utils.random) -> bytes:
    """The payload's 16-byte nonce, written right after the header."""
    return _draw(rng, NONCE_SIZE)


def build_header(
    file_key: bytes, recipients: Sequence[Recipient], rng: Rng = nacl.utils.random
) -> bytes:
    """The full header (through ``--- <mac>\\n``) wrapping ``file_key`` to each recipient.

    A :class:`ScryptRecipient` must be the only recipient (age spec)."""
    if not recipients:
        raise ValueError(_("at least one recipient is required"))
    if len(recipients) > 1 and any(isinstance(r, ScryptRecipient) for r in recipients):
        raise ValueError(_("a passphrase (scrypt) recipient must be the only recipient"))
    stanzas = tuple(
        scrypt.wrap(file_key, r.passphrase, r.work_factor, rng)
        if isinstance(r, ScryptRecipient)
        else x25519.wrap(file_key, r, rng)
        for r in recipients
    )
    mac_input = encode_without_mac(stanzas)
    return Header(stanzas, compute_mac(file_key, mac_input)).encode()


def read_header(src: LineReader) -> tuple[Header, bytes]:
    """Parse the header at the start of ``src``; return it and its exact bytes.

    Also applies the header-wide rules of the stanza types we know without
    holding their identity: an scrypt stanza is alone and well formed
    (hazmat/scrypt.py). ``src`` is left positioned at the payload nonce.
    """
    header, header_bytes = parse(src)
    scrypt.check_header(header)
    return header, header_bytes


def _unwrap(stanza: Stanza, identity: Identity | ShareOpener) -> bytes | None:
    if isinstance(identity, ScryptIdentity):
        return scrypt.unwrap(stanza, identity.passphrase, identity.max_work_factor)
    return x25519.unwrap(stanza, identity)


def unwrap_file_key(
    header: Header, header_bytes: bytes, identities: Sequence[Identity | ShareOpener]
) -> bytes:
    """Find the file key with ``identities`` and check the header MAC."""
    if header.encode() != header_bytes:
        raise HeaderError(_("the header bytes do not match the parsed header"))
    scrypt.check_header(header)  # also for a header that did not come from read_header
    file_key = None
    for identity in identities:
        for stanza in header.stanzas:
            file_key = _unwrap(stanza, identity)
            if file_key is not None:
                break
        if file_key is not None:
            break
    if file_key is None:
        raise NoIdentityMatchError(_("no identity matched any of the file's recipients"))
    expected = compute_mac(file_key, header_mac_input(header_bytes))
    if not hmac.compare_digest(expected, header.mac):
        raise HMACError(_("the header MAC is wrong: the header was altered"))
    return file_key


def _read_exact(src: LineReader, n: int) -> bytes:
    buf = b""
    while len(buf) < n and (data := src.read(n - len(buf))):
        buf += data
    return buf


def decrypt_payload(file_key: bytes, src: LineReader, block: int = BLOCK) -> Iterator[bytearray]:
    """The plaintext of the payload in ``src``, as it authenticates.

    Reads ``src`` in pieces of up to ``block`` bytes (with ``read1`` if it has one)
    and yields the plaintext of the whole chunks each completes: new buffers the
    caller owns (hazmat/stream.py). Raises :class:`PayloadError` when the payload
    turns out bad, after yielding what authenticated before; a missing nonce is a
    :class:`HeaderError`.
    """
    nonce = _read_exact(src, NONCE_SIZE)
    if len(nonce) != NONCE_SIZE:
        raise HeaderError(_("the file ends before the payload nonce"))
    dec = StreamDecryptor(file_key, nonce)
    read = getattr(src, "read1", src.read)
    while data := read(block):
        if plain := dec.feed(data):
            yield plain
    if last := dec.finalize():
        yield last
