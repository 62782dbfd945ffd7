"""COSE_Sign1 (RFC 9052 §4.2) with EdDSA over Ed25519, as securemsg uses it.

Profile (normative, docs/format.md §COSE):
- tagged COSE_Sign1 (CBOR tag 18), payload embedded;
- protected header, canonical CBOR map with exactly {1: -8 (EdDSA),
  3: object type (a media type from core.labels), 4: kid (signer fingerprint)};
- unprotected header: empty map;
- external_aad: empty; Sig_structure = ["Signature1", protected, h'', payload].

The object type in the protected header is the domain-separation label of
every signature: a card can never verify as a consent, a consent never as a
letter manifest, and so on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import cbor2
import nacl.exceptions
import nacl.signing

from securemsg.core import cbor, labels
from securemsg.core.frozen import Frozen, _set
from securemsg.errors import FormatError, SignatureError
from securemsg.i18n import N_, _

COSE_SIGN1_TAG = 18
ALG_EDDSA = -8
H_ALG, H_CONTENT_TYPE, H_KID = 1, 3, 4
MAX_COSE = cbor.MAX_OBJECT


class Sign1(Frozen):
    """A parsed, not yet verified COSE_Sign1 (a frozen value, core.frozen)."""

    __slots__ = ("object_type", "kid", "payload", "protected", "signature")  # noqa: RUF023 (field order)
    object_type: str
    kid: bytes
    payload: bytes
    protected: bytes
    signature: bytes

    def __init__(
        self, object_type: str, kid: bytes, payload: bytes, protected: bytes, signature: bytes
    ) -> None:
        _set(self, "object_type", object_type)
        _set(self, "kid", kid)
        _set(self, "payload", payload)
        _set(self, "protected", protected)
        _set(self, "signature", signature)

    def to_be_signed(self) -> bytes:
        return sig_structure(self.protected, self.payload)


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor.dumps(["Signature1", protected, b"", payload])


def protected_header(object_type: str, kid: bytes) -> bytes:
    return cbor.dumps({H_ALG: ALG_EDDSA, H_CONTENT_TYPE: object_type, H_KID: kid})


def sign(
    key: nacl.signing.SigningKey | Callable[[bytes], bytes],
    object_type: str,
    kid: bytes,
    payload: bytes,
) -> bytes:
    """Return the encoded, tagged COSE_Sign1 over ``payload``. ``key`` is a signing
    key, or a function giving the Ed25519 signature of the Sig_structure (a
    ``KeyHolder.sign_detached``: the key may live in the agent)."""
    protected = protected_header(object_type, kid)
    message = sig_structure(protected, payload)
    if isinstance(key, nacl.signing.SigningKey):
        signature = bytes(key.sign(message).signature)
    else:
        signature = key(message)
    if len(signature) != 64:
        raise ValueError(_("an Ed25519 signature is 64 bytes"))
    return cbor.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, bytes(signature)]))


def parse(data: bytes, what: str = N_("signed object")) -> Sign1:
    """Parse strictly; does not verify the signature (see :func:`verify`)."""
    value = cbor.loads(data, what, MAX_COSE)
    if not isinstance(value, cbor2.CBORTag) or value.tag != COSE_SIGN1_TAG:
        raise FormatError(_("{what}: not a COSE_Sign1 object").format(what=_(what)))
    body: Any = value.value
    if not isinstance(body, list | tuple) or len(body) != 4:
        raise FormatError(_("{what}: COSE_Sign1 must be an array of 4 items").format(what=_(what)))
    protected, unprotected, payload, signature = body
    if not isinstance(protected, bytes) or not isinstance(payload, bytes):
        raise FormatError(
            _("{what}: COSE_Sign1 protected header and payload must be bytes").format(what=_(what))
        )
    if not isinstance(unprotected, Mapping) or len(unprotected) != 0:
        raise FormatError(
            _("{what}: COSE_Sign1 unprotected header must be empty").format(what=_(what))
        )
    if not isinstance(signature, bytes) or len(signature) != 64:
        raise FormatError(_("{what}: COSE_Sign1 signature must be 64 bytes").format(what=_(what)))
    header = cbor.loads(protected, _("{what} protected header").format(what=_(what)))
    # Labels and the algorithm are integers, never booleans: in Python True == 1,
    # so {true: -8, ...} would otherwise read as {1: -8, ...} (docs/format.md §COSE).
    if (
        not isinstance(header, dict)
        or not all(type(label) is int for label in header)
        or set(header) != {H_ALG, H_CONTENT_TYPE, H_KID}
    ):
        raise FormatError(
            _("{what}: protected header must hold exactly alg, content type, kid").format(
                what=_(what)
            )
        )
    if type(header[H_ALG]) is not int or header[H_ALG] != ALG_EDDSA:
        raise FormatError(
            _("{what}: unsupported signature algorithm {header}").format(
                what=_(what), header=str(header[H_ALG])[:20]
            )
        )
    otype, kid = header[H_CONTENT_TYPE], header[H_KID]
    if not isinstance(otype, str) or not isinstance(kid, bytes):
        raise FormatError(_("{what}: protected header has wrong types").format(what=_(what)))
    return Sign1(otype, kid, payload, protected, signature)


def verify(obj: Sign1, expected_type: str, key: nacl.signing.VerifyKey, what: str) -> bytes:
    """Check type and signature; return the payload bytes."""
    check_type(obj, expected_type, what)
    try:
        key.verify(obj.to_be_signed(), obj.signature)
    except nacl.exceptions.BadSignatureError as exc:
        raise SignatureError(
            _("{what}: the signature does not verify").format(what=_(what)),
            hint=_("the file was altered or was not signed by who it claims; ask for a new copy"),
        ) from exc
    return obj.payload


def check_type(obj: Sign1, expected_type: str, what: str) -> None:
    if obj.object_type != expected_type:
        raise SignatureError(
            _("{what}: this is {article}, not {article2}").format(
                what=_(what),
                article=_article(describe_type(obj.object_type)),
                article2=_article(describe_type(expected_type)),
            ),
            hint=_("check that you passed the right file"),
        )


def _article(noun: str) -> str:
    return (_("an {noun}") if noun[:1] in "aeiou" else _("a {noun}")).format(noun=noun)


# the names of the object types in messages (the rest: its content type's middle part)
_TYPE_NAMES = {
    labels.COSE_CARD: N_("card"),
    labels.COSE_CONSENT_GRANT: N_("consent grant"),
    labels.COSE_CONSENT_REVOCATION: N_("consent revocation"),
    labels.COSE_CONSENT_OBJECTION: N_("consent objection"),
    labels.COSE_LETTER_MANIFEST: N_("letter manifest"),
    labels.COSE_ENVELOPE_BINDING: N_("envelope binding"),
    labels.COSE_RECEIPT: N_("receipt"),
    labels.COSE_REFUSAL: N_("refusal"),
    labels.COSE_LOG_ENTRY: N_("log entry"),
    labels.COSE_LOG_CHECKPOINT: N_("log checkpoint"),
    labels.COSE_KEY_SUCCESSION: N_("key succession"),
    labels.COSE_KEY_ACCEPTANCE: N_("key acceptance"),
    labels.COSE_KEY_REVOCATION: N_("key revocation"),
    labels.COSE_DOUBLE_RECORD: N_("double record"),
}


def describe_type(object_type: str) -> str:
    """An object type's name for people, in the selected language."""
    known = _TYPE_NAMES.get(object_type)
    if known is not None:
        return _(known)
    prefix, suffix = "application/vnd.securemsg.", ".v1+cbor"
    if object_type.startswith(prefix) and object_type.endswith(suffix):
        return object_type[len(prefix) : -len(suffix)].replace("-", " ")
    return _("unknown object type {type}").format(type=repr(object_type[:60]))
