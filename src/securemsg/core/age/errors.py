"""Errors of the age layer, one class per outcome of the age test vectors.

=====================  ==================  =====================================
class                  vector ``expect:``  meaning
=====================  ==================  =====================================
``HeaderError``        header failure      the header (or the payload nonce) is
                                           malformed, non-canonical, too large,
                                           or a stanza addressed to one of our
                                           key types is invalid
``NoIdentityMatchError`` no match          no stanza could be opened with the
                                           identities given
``HMACError``          HMAC failure        the file key was found but the header
                                           MAC is wrong: the header was altered
``PayloadError``       payload failure     the encrypted payload is truncated,
                                           altered or has trailing data
``ArmorError``         armor failure       the ASCII armor is not canonical
=====================  ==================  =====================================

Messages never say *which* of several stanzas failed: an attacker who can edit a
file learns nothing beyond the outcome class (the spec's distinction).
"""

from __future__ import annotations

from securemsg.errors import FormatError


class AgeError(FormatError):
    """Base class: an age file (or key) that cannot be used."""

    code = "age"
    expect = "failure"
    default_hint: str | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint if hint is not None else type(self).default_hint)


class KeyFormatError(AgeError):
    """An age recipient or identity string (or raw key) is malformed."""

    code = "age_key"
    default_hint = (
        "Check that the key was copied whole: recipients start with 'age1', "
        "identities with 'AGE-SECRET-KEY-1'."
    )


class HeaderError(AgeError):
    code = "age_header"
    expect = "header failure"
    default_hint = "The file is not a valid age v1 file, or it was truncated or altered."


class NoIdentityMatchError(AgeError):
    code = "age_no_match"
    expect = "no match"
    default_hint = (
        "The message was not encrypted to any of your keys; ask the sender to "
        "encrypt it to your current recipient."
    )


class HMACError(AgeError):
    code = "age_hmac"
    expect = "HMAC failure"
    default_hint = "The header was altered after encryption; do not trust this file."


class PayloadError(AgeError):
    code = "age_payload"
    expect = "payload failure"
    default_hint = (
        "The encrypted content was truncated or altered; discard any output already "
        "written and ask for the file again."
    )


class ArmorError(AgeError):
    code = "age_armor"
    expect = "armor failure"
    default_hint = (
        "The ASCII-armored text was changed (re-wrapped, trimmed or edited); "
        "copy the whole block from BEGIN to END again."
    )
