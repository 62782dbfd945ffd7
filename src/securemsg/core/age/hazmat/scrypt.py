"""The scrypt recipient stanza, for a reader that never decrypts one.

::

    -> scrypt <base64 16-byte salt> <log2(work factor), decimal>
    <base64 ChaCha20-Poly1305(wrap_key, nonce=0, file_key)>

securemsg neither writes nor opens scrypt (passphrase) stanzas. It still
applies the rules of the age spec that need no passphrase, so that it gives
the same outcome as an implementation that has one (docs/format-age.md §4a):

- an scrypt stanza MUST be the only stanza in the header: "scrypt stanzas MAY
  NOT be mixed with other scrypt stanzas or stanzas of other types", so a
  header that holds one beside any other stanza is a header failure, whatever
  identities the reader holds (C2SP vectors ``scrypt_and_x25519``,
  ``scrypt_double``);
- an scrypt stanza has exactly two arguments after its type: a canonical
  base64 16-byte salt and a work factor written ``^[1-9][0-9]*$``, at most
  :data:`MAX_WORK_FACTOR`; its body is exactly 32 bytes (the other
  ``scrypt_*`` header-failure vectors).

A well-formed scrypt stanza alone in its header is simply "not for us": no
identity of ours matches it.
"""

from __future__ import annotations

import re

from securemsg.errors import HeaderError

from .header import Header, Stanza, b64decode_raw

STANZA_TYPE = "scrypt"  # case-sensitive: "Scrypt" is another, unknown, stanza type
SALT_SIZE = 16
BODY_SIZE = 16 + 16  # the file key and the ChaCha20-Poly1305 tag
# The spec asks readers to bound the work factor; age's default bound is 2^22.
MAX_WORK_FACTOR = 22
_DECIMAL = re.compile(r"[1-9][0-9]*", re.ASCII)


def check_header(header: Header) -> None:
    """Raise :class:`HeaderError` if ``header`` breaks a rule of the scrypt stanza."""
    scrypt = [s for s in header.stanzas if s.type == STANZA_TYPE]
    if not scrypt:
        return
    if len(header.stanzas) != 1:
        raise HeaderError("an scrypt stanza must be the only stanza in the header")
    check_stanza(scrypt[0])


def check_stanza(stanza: Stanza) -> None:
    """The shape of one scrypt stanza: arguments and body size (no decryption)."""
    if len(stanza.args) != 2:
        raise HeaderError("invalid scrypt stanza: expected a salt and a work factor")
    salt, work_factor = stanza.args
    try:
        if len(b64decode_raw(salt)) != SALT_SIZE:
            raise ValueError
    except ValueError:
        raise HeaderError("invalid scrypt stanza: the salt is not 16 bytes in base64") from None
    if not _DECIMAL.fullmatch(work_factor):
        raise HeaderError("invalid scrypt stanza: the work factor is not a decimal number")
    if len(work_factor) > 2 or int(work_factor) > MAX_WORK_FACTOR:
        raise HeaderError(f"invalid scrypt stanza: the work factor is above 2^{MAX_WORK_FACTOR}")
    if len(stanza.body) != BODY_SIZE:
        raise HeaderError("invalid scrypt stanza: the wrapped file key has the wrong size")
