"""Fingerprints of signing keys and Signal-style safety numbers."""

from __future__ import annotations

from nacl.bindings import crypto_hash_sha256

from securemsg.core import labels
from securemsg.i18n import _

FINGERPRINT_BYTES = 20
SAFETY_ITERATIONS = 5200


def fingerprint(sign_public: bytes) -> bytes:
    """SHA-256(label || 0x00 || Ed25519 public key), first 20 bytes.

    libsodium's SHA-256 (already loaded with nacl.signing), not hashlib's: the
    same function, without loading OpenSSL (~2 ms) at the start of every command."""
    digest: bytes = crypto_hash_sha256(labels.FINGERPRINT + b"\x00" + sign_public)
    return digest[:FINGERPRINT_BYTES]


def format_fingerprint(fp_hex: str) -> str:
    """Groups of four hex digits: ``1a2b 3c4d ...``."""
    return " ".join(fp_hex[i : i + 4] for i in range(0, len(fp_hex), 4))


def normalize_fingerprint(text: str) -> str:
    """Accept a pasted fingerprint with spaces, colons or upper case."""
    return "".join(ch for ch in text.lower() if ch not in " :-\t")


def _half(sign_public: bytes, enc_public: bytes) -> str:
    """30 digits for one user: iterated SHA-512 over both of its public keys."""
    import hashlib

    keys = sign_public + enc_public
    digest = hashlib.sha512(labels.SAFETY_NUMBER + b"\x00" + keys).digest()
    for _round in range(SAFETY_ITERATIONS):
        digest = hashlib.sha512(digest + keys).digest()
    chunks = (int.from_bytes(digest[i : i + 5], "big") % 100000 for i in range(0, 30, 5))
    return "".join(f"{c:05d}" for c in chunks)


def safety_number(a: tuple[bytes, bytes], b: tuple[bytes, bytes]) -> str:
    """60 digits in 12 groups of 5, the same whichever side computes it.

    ``a`` and ``b`` are (Ed25519 public, X25519 public) pairs.
    """
    halves = sorted([_half(*a), _half(*b)])
    digits = halves[0] + halves[1]
    return " ".join(digits[i : i + 5] for i in range(0, 60, 5))


# A fingerprint prefix that verifies a key: 128 bits (32 of its 40 hex digits),
# far beyond what a forger could grind a key to match.
MIN_VERIFY_PREFIX = 32


def check_evidence(evidence: str, fp_hex: str, safety: str, name: str) -> None:
    """What the user read with ``name`` (``contacts verify``): the whole fingerprint,
    a prefix of at least :data:`MIN_VERIFY_PREFIX` hex digits, or the whole safety
    number. A correct but shorter prefix is "too short" (a usage error), never
    the key-mismatch alarm, which is for evidence that does not match."""
    from securemsg.errors import InvalidValue, VerificationError

    given = normalize_fingerprint(evidence)
    digits = "".join(ch for ch in evidence if ch.isdigit())
    full_sn = safety.replace(" ", "")
    if given == fp_hex or (len(digits) == 60 and digits == full_sn):
        return
    if given and fp_hex.startswith(given):
        if len(given) >= MIN_VERIFY_PREFIX:
            return
        raise InvalidValue(
            _(
                "the start of {name}'s fingerprint matches, but it is too short to "
                "verify a key: give at least {MIN_VERIFY_PREFIX} characters (the first "
                "{value} groups of 4), or the whole fingerprint"
            ).format(name=name, MIN_VERIFY_PREFIX=MIN_VERIFY_PREFIX, value=MIN_VERIFY_PREFIX // 4),
            hint=_("securemsg contacts show NAME prints the fingerprint and the safety number"),
        )
    if digits and given == digits and full_sn.startswith(digits):
        raise InvalidValue(
            _(
                "the start of your safety number with {name} matches, but a safety "
                "number is checked whole: give all 60 digits"
            ).format(name=name),
            hint=_("securemsg contacts show NAME prints it"),
        )
    raise VerificationError(
        _(
            "this does not match the key of {name}: the key you hold is not the one "
            "they read to you"
        ).format(name=name),
        hint=_("do not send them anything until you have found out why; ask for their card again"),
    )
