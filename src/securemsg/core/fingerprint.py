"""Fingerprints of signing keys and Signal-style safety numbers."""

from __future__ import annotations

from nacl.bindings import crypto_hash_sha256

from securemsg.core import labels

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
    for _ in range(SAFETY_ITERATIONS):
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
