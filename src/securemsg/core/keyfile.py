"""The passphrase-protected key file format, ``securemsg-keyfile-v1``.

Pure: bytes in, bytes out. Randomness is a parameter so test vectors are
reproducible. The normative specification is docs/format-keyfile.md; keep the two
in step.

Layout (all integers big-endian)::

    offset  size  field
    0       21    magic   b"securemsg-keyfile-v1\\n"
    21      1     kdf     0x01 = Argon2id v1.3 (libsodium crypto_pwhash_argon2id)
    22      4     opslimit  uint32, 1..20
    26      4     memlimit  uint32, bytes, multiple of 1024, 8 KiB..1 GiB
    30      16    salt
    46      24    nonce
    70      n+16  XChaCha20-Poly1305-IETF(key, nonce, aad=bytes[0:70], secret)

    key = Argon2id(passphrase, salt, t=opslimit, m=memlimit/1024 KiB, p=1, len=32)
"""

from __future__ import annotations

import struct
import unicodedata
from collections.abc import Callable

import nacl.bindings
import nacl.exceptions
import nacl.utils

from securemsg.core.frozen import Frozen, _set
from securemsg.errors import FormatError, WrongPassphraseError
from securemsg.i18n import N_, _

MAGIC_PREFIX = b"securemsg-keyfile-v"
MAGIC = MAGIC_PREFIX + b"1\n"
KDF_ARGON2ID = 0x01

SALT_SIZE = 16
NONCE_SIZE = 24
KEY_SIZE = 32
TAG_SIZE = 16
HEADER_SIZE = len(MAGIC) + 1 + 4 + 4 + SALT_SIZE + NONCE_SIZE  # 70
MAX_SECRET_SIZE = 64 * 1024
MAX_FILE_SIZE = HEADER_SIZE + MAX_SECRET_SIZE + TAG_SIZE

OPSLIMIT_MIN = 1  # libsodium crypto_pwhash_argon2id_OPSLIMIT_MIN
OPSLIMIT_MAX = 20  # ours: anything above is an attack on the unlocking machine
MEMLIMIT_MIN = 8192  # libsodium crypto_pwhash_argon2id_MEMLIMIT_MIN
MEMLIMIT_MAX = 1 << 30  # ours: 1 GiB

_PARAMS = struct.Struct(">BII")

UNLOCK_FAILED = N_("wrong passphrase, or the key file was altered")
UNLOCK_FAILED_HINT = N_(
    "check the passphrase (or SECUREMSG_PASSPHRASE if it is set); if it is right, "
    "the key file was damaged or tampered with: restore it from a backup"
)


def _params_problem(opslimit: int, memlimit: int) -> str | None:
    """Why these Argon2id parameters are unacceptable, or None if they are fine."""
    if type(opslimit) is not int or type(memlimit) is not int:  # not True, not 3.0
        return _("opslimit and memlimit must be integers")
    if not OPSLIMIT_MIN <= opslimit <= OPSLIMIT_MAX:
        return _("opslimit {opslimit} is outside {low}..{high}").format(
            opslimit=opslimit, low=OPSLIMIT_MIN, high=OPSLIMIT_MAX
        )
    if not MEMLIMIT_MIN <= memlimit <= MEMLIMIT_MAX:
        return _("memlimit {memlimit} is outside {low}..{high} bytes").format(
            memlimit=memlimit, low=MEMLIMIT_MIN, high=MEMLIMIT_MAX
        )
    if memlimit % 1024:
        return _("memlimit {memlimit} is not a whole number of KiB").format(memlimit=memlimit)
    return None


class KdfParams(Frozen):
    """Argon2id cost parameters, in libsodium's units (passes, bytes).

    The classes here are frozen values (core.frozen: no dataclass on whoami's
    import path)."""

    __slots__ = ("opslimit", "memlimit")  # noqa: RUF023 (field order)
    opslimit: int
    memlimit: int

    def __init__(self, opslimit: int, memlimit: int) -> None:
        problem = _params_problem(opslimit, memlimit)
        if problem is not None:
            raise ValueError(problem)
        _set(self, "opslimit", opslimit)
        _set(self, "memlimit", memlimit)

    def __str__(self) -> str:
        mem = self.memlimit
        size = f"{mem >> 20} MiB" if mem % (1 << 20) == 0 else f"{mem >> 10} KiB"
        passes = "pass" if self.opslimit == 1 else "passes"
        return f"Argon2id, {size}, {self.opslimit} {passes}"


# 32 MiB keeps the whole process under a 64 MiB peak RSS budget; 3 passes over it
# is above OWASP's Argon2id floor (19 MiB x 2). Rationale: docs/format-keyfile.md.
DEFAULT_PARAMS = KdfParams(opslimit=3, memlimit=32 * 1024 * 1024)


class KeyFileHeader(Frozen):
    """Everything before the ciphertext; its encoding is the AEAD's associated data."""

    __slots__ = ("params", "salt", "nonce")  # noqa: RUF023 (field order)
    params: KdfParams
    salt: bytes
    nonce: bytes

    def __init__(self, params: KdfParams, salt: bytes, nonce: bytes) -> None:
        if len(salt) != SALT_SIZE:
            raise ValueError(_("salt must be {SALT_SIZE} bytes").format(SALT_SIZE=SALT_SIZE))
        if len(nonce) != NONCE_SIZE:
            raise ValueError(_("nonce must be {NONCE_SIZE} bytes").format(NONCE_SIZE=NONCE_SIZE))
        _set(self, "params", params)
        _set(self, "salt", salt)
        _set(self, "nonce", nonce)

    def __bytes__(self) -> bytes:
        fixed = _PARAMS.pack(KDF_ARGON2ID, self.params.opslimit, self.params.memlimit)
        return MAGIC + fixed + self.salt + self.nonce


class KeyFile(Frozen):
    """A parsed key file. Holds only public data: the header and the ciphertext."""

    __slots__ = ("header", "ciphertext")  # noqa: RUF023 (field order)
    header: KeyFileHeader
    ciphertext: bytes

    def __init__(self, header: KeyFileHeader, ciphertext: bytes) -> None:
        if not TAG_SIZE < len(ciphertext) <= MAX_SECRET_SIZE + TAG_SIZE:
            raise ValueError(_("ciphertext length out of range"))
        _set(self, "header", header)
        _set(self, "ciphertext", ciphertext)

    def __bytes__(self) -> bytes:
        return bytes(self.header) + self.ciphertext

    def __repr__(self) -> str:
        return f"KeyFile({self.header.params}, {len(self.ciphertext)} bytes of ciphertext)"

    @classmethod
    def parse(cls, data: bytes) -> KeyFile:
        """Parse a key file; raise FormatError for anything that is not a valid v1 file."""
        if len(data) < len(MAGIC) and MAGIC.startswith(data):
            raise FormatError(_("key file is truncated"), hint=_("restore it from a backup"))
        if not data.startswith(MAGIC_PREFIX):
            raise FormatError(
                _("not a securemsg key file"),
                hint=_("the file does not start with 'securemsg-keyfile-v'"),
            )
        if not data.startswith(MAGIC):
            line = data[len(MAGIC_PREFIX) : len(MAGIC_PREFIX) + 8].split(b"\n", 1)[0]
            version = line.decode("ascii", "replace")
            raise FormatError(
                _("unsupported key file version {version!r}").format(version=version),
                hint=_(
                    "this key file was written by another version of securemsg; upgrade "
                    "securemsg to read it"
                ),
            )
        if len(data) > MAX_FILE_SIZE:
            raise FormatError(_("key file is too large"), hint=_("it is not a securemsg key file"))
        if len(data) <= HEADER_SIZE + TAG_SIZE:
            raise FormatError(_("key file is truncated"), hint=_("restore it from a backup"))
        kdf, opslimit, memlimit = _PARAMS.unpack_from(data, len(MAGIC))
        if kdf != KDF_ARGON2ID:
            raise FormatError(
                _("unknown key derivation function 0x{kdf:02x} in key file").format(kdf=kdf),
                hint=_("upgrade securemsg, or restore the key file from a backup"),
            )
        problem = _params_problem(opslimit, memlimit)
        if problem is not None:
            raise FormatError(
                _("key file has unacceptable Argon2id parameters: {problem}").format(
                    problem=problem
                ),
                hint=_("the key file was damaged or tampered with: restore it from a backup"),
            )
        off = len(MAGIC) + _PARAMS.size
        header = KeyFileHeader(
            params=KdfParams(opslimit, memlimit),
            salt=data[off : off + SALT_SIZE],
            nonce=data[off + SALT_SIZE : HEADER_SIZE],
        )
        return cls(header=header, ciphertext=data[HEADER_SIZE:])


def passphrase_bytes(passphrase: str) -> bytes:
    """The Argon2id input for a passphrase: UTF-8 of its Unicode NFC form."""
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def derive_key(passphrase: bytes, params: KdfParams, salt: bytes) -> bytes:
    import nacl.pwhash.argon2id  # here, not at import: `whoami` only parses the header

    key: bytes = nacl.pwhash.argon2id.kdf(
        KEY_SIZE, passphrase, salt, opslimit=params.opslimit, memlimit=params.memlimit
    )
    return key


def seal_with(
    secret: bytes, passphrase: bytes, params: KdfParams, salt: bytes, nonce: bytes
) -> bytes:
    """Encrypt ``secret`` into a key file with the given salt and nonce (deterministic)."""
    if not 0 < len(secret) <= MAX_SECRET_SIZE:
        raise ValueError(
            _("the secret must be 1..{MAX_SECRET_SIZE} bytes").format(
                MAX_SECRET_SIZE=MAX_SECRET_SIZE
            )
        )
    if not passphrase:
        raise ValueError(_("the passphrase must not be empty"))
    header = KeyFileHeader(params=params, salt=salt, nonce=nonce)
    aad = bytes(header)
    key = derive_key(passphrase, params, salt)
    ct: bytes = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(secret, aad, nonce, key)
    return aad + ct


def seal(
    secret: bytes,
    passphrase: bytes,
    params: KdfParams = DEFAULT_PARAMS,
    rng: Callable[[int], bytes] = nacl.utils.random,
) -> bytes:
    """Encrypt ``secret`` into a key file; salt then nonce are drawn from ``rng``."""
    salt = rng(SALT_SIZE)
    nonce = rng(NONCE_SIZE)
    return seal_with(secret, passphrase, params, salt, nonce)


def open_keyfile(data: bytes, passphrase: bytes) -> bytes:
    """Decrypt a key file.

    FormatError: the bytes are not a well-formed v1 key file.
    WrongPassphraseError: the AEAD rejected it. A wrong passphrase and an altered
    file are indistinguishable here, and the message says so.
    """
    keyfile = KeyFile.parse(data)
    header = keyfile.header
    key = derive_key(passphrase, header.params, header.salt)
    try:
        secret: bytes = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            keyfile.ciphertext, bytes(header), header.nonce, key
        )
    except nacl.exceptions.CryptoError as exc:
        raise WrongPassphraseError(_(UNLOCK_FAILED), hint=_(UNLOCK_FAILED_HINT)) from exc
    return secret
