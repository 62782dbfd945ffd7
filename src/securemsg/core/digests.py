"""Labelled SHA-256 digests shared by consent and letters."""

from __future__ import annotations

import hashlib

from securemsg.core import labels


def letter_digest(letter_source: bytes) -> bytes:
    """Digest of a letter's exact Markdown source, as the patient read it (R4).

    SHA-256(LETTER_DIGEST || 0x00 || source bytes). A consent bound to a letter
    carries this value; so does the letter's manifest.
    """
    return hashlib.sha256(labels.LETTER_DIGEST + b"\x00" + letter_source).digest()


def object_digest(encoded: bytes) -> bytes:
    """Digest of an encoded signed object (consent, manifest, receipt...)."""
    return hashlib.sha256(labels.OBJECT_DIGEST + b"\x00" + encoded).digest()
