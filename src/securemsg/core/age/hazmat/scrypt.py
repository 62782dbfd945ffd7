"""The scrypt (passphrase) recipient stanza: wrap and unwrap a 16-byte file key.

::

    -> scrypt <base64 16-byte salt> <log2(work factor), decimal>
    <base64 ChaCha20-Poly1305(wrap_key, nonce=0, file_key)>

    wrap_key = scrypt(passphrase, salt = "age-encryption.org/v1/scrypt" || salt,
                      N = 2^log2, r = 8, p = 1, dkLen = 32)

scrypt is the standard library's (``hashlib.scrypt``, OpenSSL), the AEAD is
libsodium's through PyNaCl. The rules of the age spec (docs/format-age.md §4a):

- an scrypt stanza MUST be the only stanza in the header: "scrypt stanzas MAY
  NOT be mixed with other scrypt stanzas or stanzas of other types", so a
  header that holds one beside any other stanza is a header failure, whatever
  identities the reader holds (C2SP vectors ``scrypt_and_x25519``,
  ``scrypt_double``); a writer never makes such a header (``build_header``);
- an scrypt stanza has exactly two arguments after its type: a canonical
  base64 16-byte salt and a work factor written ``^[1-9][0-9]*$``, at most
  :data:`MAX_WORK_FACTOR`; its body is exactly 32 bytes (the other
  ``scrypt_*`` header-failure vectors);
- a body that does not open under the passphrase is "no match" (wrong
  passphrase, or a work factor that is not the one the file was made with).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

import nacl.exceptions
import nacl.utils
from nacl.bindings import (
    crypto_aead_chacha20poly1305_ietf_decrypt,
    crypto_aead_chacha20poly1305_ietf_encrypt,
)

from securemsg.errors import HeaderError
from securemsg.i18n import _

from .header import Header, Stanza, b64decode_raw, b64encode_raw

STANZA_TYPE = "scrypt"  # case-sensitive: "Scrypt" is another, unknown, stanza type
LABEL = b"age-encryption.org/v1/scrypt"
SALT_SIZE = 16
FILE_KEY_SIZE = 16
BODY_SIZE = FILE_KEY_SIZE + 16  # the file key and the ChaCha20-Poly1305 tag
R = 8
P = 1
# The spec asks readers to bound the work factor; age's default bound is 2^22.
MAX_WORK_FACTOR = 22
# What securemsg writes: 2^18 (256 MiB, about 1 s here), age's own choice on a
# typical machine; the threat model (docs/threat-model.md) says why.
DEFAULT_WORK_FACTOR = 18
_ZERO_NONCE = bytes(12)
_DECIMAL = re.compile(r"[1-9][0-9]*", re.ASCII)


def memory_needed(log_n: int) -> int:
    """The bytes scrypt(N = 2^log_n, r = 8, p = 1) allocates (OpenSSL's own bound)."""
    return 128 * R * ((1 << log_n) + 2) + 128 * R * P + (1 << 20)


def wrap_key(passphrase: bytes, salt: bytes, log_n: int) -> bytes:
    """The 32-byte key that wraps the file key."""
    if not 1 <= log_n <= MAX_WORK_FACTOR or len(salt) != SALT_SIZE:
        raise ValueError(_("scrypt: invalid salt or work factor"))
    try:
        return hashlib.scrypt(
            passphrase,
            salt=LABEL + salt,
            n=1 << log_n,
            r=R,
            p=P,
            maxmem=memory_needed(log_n),
            dklen=32,
        )
    except MemoryError:
        raise HeaderError(
            _("not enough memory for scrypt at work factor 2^{log_n}").format(log_n=log_n),
            hint=_("close other programs, or open the file on a machine with more memory"),
        ) from None


def wrap(
    file_key: bytes,
    passphrase: bytes,
    log_n: int = DEFAULT_WORK_FACTOR,
    rng: Callable[[int], bytes] = nacl.utils.random,
) -> Stanza:
    """Encrypt ``file_key`` under ``passphrase`` with a fresh salt from ``rng``."""
    if len(file_key) != FILE_KEY_SIZE:
        raise ValueError(_("the file key is 16 bytes"))
    if not passphrase:
        raise ValueError(_("the passphrase is empty"))
    salt = bytes(rng(SALT_SIZE))
    if len(salt) != SALT_SIZE:
        raise ValueError(_("rng returned the wrong number of bytes"))
    key = wrap_key(passphrase, salt, log_n)
    body: bytes = crypto_aead_chacha20poly1305_ietf_encrypt(file_key, None, _ZERO_NONCE, key)
    return Stanza(STANZA_TYPE, (b64encode_raw(salt), str(log_n)), body)


def unwrap(stanza: Stanza, passphrase: bytes, max_log_n: int = MAX_WORK_FACTOR) -> bytes | None:
    """The file key if ``stanza`` opens under ``passphrase``; None if it does not
    (another type, a wrong passphrase, a wrong work factor). A malformed scrypt
    stanza, or one above ``max_log_n``, is a :class:`HeaderError`."""
    if stanza.type != STANZA_TYPE:
        return None
    salt, log_n = check_stanza(stanza)
    if log_n > max_log_n:
        raise HeaderError(
            _("the scrypt work factor 2^{log_n} is above this reader's limit 2^{max_log_n}").format(
                log_n=log_n, max_log_n=max_log_n
            )
        )
    key = wrap_key(passphrase, salt, log_n)
    try:
        file_key: bytes = crypto_aead_chacha20poly1305_ietf_decrypt(
            stanza.body, None, _ZERO_NONCE, key
        )
    except nacl.exceptions.CryptoError:
        return None
    return file_key


def check_header(header: Header) -> None:
    """Raise :class:`HeaderError` if ``header`` breaks a rule of the scrypt stanza."""
    scrypt = [s for s in header.stanzas if s.type == STANZA_TYPE]
    if not scrypt:
        return
    if len(header.stanzas) != 1:
        raise HeaderError(_("an scrypt stanza must be the only stanza in the header"))
    check_stanza(scrypt[0])


def check_stanza(stanza: Stanza) -> tuple[bytes, int]:
    """The shape of one scrypt stanza (arguments, body size); its salt and log2(N)."""
    if len(stanza.args) != 2:
        raise HeaderError(_("invalid scrypt stanza: expected a salt and a work factor"))
    salt_text, work_factor = stanza.args
    try:
        salt = b64decode_raw(salt_text)
        if len(salt) != SALT_SIZE:
            raise ValueError
    except ValueError:
        raise HeaderError(_("invalid scrypt stanza: the salt is not 16 bytes in base64")) from None
    if not _DECIMAL.fullmatch(work_factor):
        raise HeaderError(_("invalid scrypt stanza: the work factor is not a decimal number"))
    if len(work_factor) > 2 or int(work_factor) > MAX_WORK_FACTOR:
        raise HeaderError(
            _("invalid scrypt stanza: the work factor is above 2^{MAX_WORK_FACTOR}").format(
                MAX_WORK_FACTOR=MAX_WORK_FACTOR
            )
        )
    if len(stanza.body) != BODY_SIZE:
        raise HeaderError(_("invalid scrypt stanza: the wrapped file key has the wrong size"))
    return salt, int(work_factor)
