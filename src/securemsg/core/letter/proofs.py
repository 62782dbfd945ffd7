"""Signed statements about one envelope: binding, receipt, refusal notice.

- Envelope binding (author): this manifest was sent in THIS age header to THIS
  recipient. A recipient who re-encrypts the letter to a third party produces
  a new header, so the binding no longer verifies (surreptitious forwarding).
- Receipt (recipient's mailbox): I accepted exactly this envelope.
- Refusal notice (recipient's mailbox): I refused this envelope, by this rule.
"""

from __future__ import annotations

import hashlib

from securemsg.core import labels, signed
from securemsg.core.card import Card
from securemsg.core.digests import object_digest
from securemsg.core.frozen import Frozen, _set
from securemsg.core.identity import KeyHolder
from securemsg.core.letter.manifest import ID_BYTES
from securemsg.errors import FormatError, VerificationError
from securemsg.i18n import N_, _


def header_digest(header_bytes: bytes) -> bytes:
    return hashlib.sha256(labels.ENVELOPE_HEADER + b"\x00" + header_bytes).digest()


class EnvelopeHasher:
    """Digest of a whole envelope file, fed as it streams."""

    def __init__(self) -> None:
        self._h = hashlib.sha256(labels.ENVELOPE_FILE + b"\x00")

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._h.update(data)

    def digest(self) -> bytes:
        return self._h.digest()


# -- binding -----------------------------------------------------------------
BINDING = signed.Kind(
    labels.COSE_ENVELOPE_BINDING,
    N_("envelope binding"),
    required=("manifest", "header", "recipient"),
)


class Binding(signed.Signed, Frozen):
    """The author's statement: this manifest, in this age header, for this recipient."""

    __slots__ = (  # noqa: RUF023 (field order)
        "manifest_digest",
        "header_digest",
        "recipient",
        "encoded",
    )
    manifest_digest: bytes
    header_digest: bytes
    recipient: str
    encoded: bytes

    def __init__(
        self, manifest_digest: bytes, header_digest: bytes, recipient: str, encoded: bytes
    ) -> None:
        _set(self, "manifest_digest", manifest_digest)
        _set(self, "header_digest", header_digest)
        _set(self, "recipient", recipient)
        _set(self, "encoded", encoded)

    @classmethod
    def sign(
        cls, author: KeyHolder, manifest: bytes, header_bytes: bytes, recipient_fp: str
    ) -> Binding:
        manifest_digest, header = object_digest(manifest), header_digest(header_bytes)
        payload = {
            "v": signed.VERSION,
            "manifest": manifest_digest,
            "header": header,
            "recipient": bytes.fromhex(recipient_fp),
        }
        return cls(manifest_digest, header, recipient_fp, signed.sign(author, BINDING, payload))

    @classmethod
    def verify(cls, encoded: bytes, author: Card) -> Binding:
        """Signed by ``author``; then :meth:`check` it against the envelope."""
        p = signed.read(encoded, BINDING, author)
        return cls(p.bstr("manifest", 32), p.bstr("header", 32), p.fp("recipient"), encoded)

    def check(self, manifest: bytes, header_bytes: bytes, my_fp: str) -> None:
        """It binds this manifest, to me, in this age header (docs/format.md §12)."""
        if self.manifest_digest != object_digest(manifest):
            raise VerificationError(_("envelope binding: it binds another letter manifest"))
        if self.recipient != my_fp:
            raise VerificationError(
                _(
                    "this letter was addressed by its author to someone else and "
                    "re-encrypted to you"
                ),
                hint=_("whoever forwarded it is not its author; do not trust it as sent to you"),
            )
        if self.header_digest != header_digest(header_bytes):
            raise VerificationError(
                _(
                    "the envelope was re-encrypted or its recipients changed after the "
                    "author signed it"
                ),
                hint=_("ask the author to send it to you directly"),
            )


# -- receipt -----------------------------------------------------------------
RECEIPT = signed.Kind(
    labels.COSE_RECEIPT,
    N_("receipt"),
    required=("id", "manifest", "envelope", "recipient", "time", "log_seq", "log_head"),
    optional=("chain",),
)
CHAIN_BYTES = 16  # a second device's log chain id (docs/format.md §14)


class Receipt(signed.Signed, Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "message_id",
        "manifest_digest",
        "envelope_digest",
        "recipient",
        "time",
        "log_seq",
        "log_head",
        "encoded",
        "chain",
    )
    message_id: bytes
    manifest_digest: bytes
    envelope_digest: bytes
    recipient: str
    time: int
    log_seq: int
    log_head: bytes
    encoded: bytes
    chain: bytes | None  # the log chain of a second device; None: the first device's

    def __init__(
        self,
        message_id: bytes,
        manifest_digest: bytes,
        envelope_digest: bytes,
        recipient: str,
        time: int,
        log_seq: int,
        log_head: bytes,
        encoded: bytes,
        chain: bytes | None = None,
    ) -> None:
        _set(self, "message_id", message_id)
        _set(self, "manifest_digest", manifest_digest)
        _set(self, "envelope_digest", envelope_digest)
        _set(self, "recipient", recipient)
        _set(self, "time", time)
        _set(self, "log_seq", log_seq)
        _set(self, "log_head", log_head)
        _set(self, "encoded", encoded)
        _set(self, "chain", chain)

    @classmethod
    def sign(
        cls,
        secret: KeyHolder,
        message_id: bytes,
        manifest: bytes,
        envelope_digest: bytes,
        recipient_fp: str,
        now: int,
        log_seq: int,
        log_head: bytes,
        chain: bytes | None = None,
    ) -> Receipt:
        payload = {
            "v": signed.VERSION,
            "id": message_id,
            "manifest": object_digest(manifest),
            "envelope": envelope_digest,
            "recipient": bytes.fromhex(recipient_fp),
            "time": now,
            "log_seq": log_seq,
            "log_head": log_head,
        }
        if chain is not None:
            if len(chain) != CHAIN_BYTES:
                raise ValueError(_("a log chain id is 16 bytes"))
            payload["chain"] = chain
        encoded = signed.sign(secret, RECEIPT, payload)
        return cls(
            message_id,
            object_digest(manifest),
            envelope_digest,
            recipient_fp,
            now,
            log_seq,
            log_head,
            encoded,
            chain,
        )

    @classmethod
    def verify(cls, encoded: bytes, recipient: Card) -> Receipt:
        p = signed.read(encoded, RECEIPT, recipient)
        if p.fp("recipient") != recipient.fingerprint:
            raise FormatError(_("receipt: the recipient field does not match the signer"))
        return cls(
            p.bstr("id", ID_BYTES),
            p.bstr("manifest", 32, N_("manifest digest")),
            p.bstr("envelope", 32, N_("envelope digest")),
            recipient.fingerprint,
            p.integer("time"),
            p.integer("log_seq", name=N_("log position")),
            p.bstr("log_head", 32, N_("log head")),
            encoded,
            p.bstr("chain", CHAIN_BYTES, N_("log chain")) if "chain" in p else None,
        )


# -- refusal notice ----------------------------------------------------------
REFUSAL = signed.Kind(
    labels.COSE_REFUSAL,
    N_("refusal notice"),
    required=("id", "envelope", "recipient", "time", "rule", "reason"),
)
MAX_RULE, MAX_REASON = 80, 500  # characters kept by writer and reader


class Refusal(signed.Signed, Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "message_id",
        "envelope_digest",
        "recipient",
        "time",
        "rule",
        "reason",
        "encoded",
    )
    message_id: bytes
    envelope_digest: bytes
    recipient: str
    time: int
    rule: str
    reason: str
    encoded: bytes

    def __init__(
        self,
        message_id: bytes,
        envelope_digest: bytes,
        recipient: str,
        time: int,
        rule: str,
        reason: str,
        encoded: bytes,
    ) -> None:
        _set(self, "message_id", message_id)
        _set(self, "envelope_digest", envelope_digest)
        _set(self, "recipient", recipient)
        _set(self, "time", time)
        _set(self, "rule", rule)
        _set(self, "reason", reason)
        _set(self, "encoded", encoded)

    @classmethod
    def sign(
        cls,
        secret: KeyHolder,
        message_id: bytes,
        envelope_digest: bytes,
        recipient_fp: str,
        now: int,
        rule: str,
        reason: str,
    ) -> Refusal:
        rule, reason = rule[:MAX_RULE], reason[:MAX_REASON]
        encoded = signed.sign(
            secret,
            REFUSAL,
            {
                "v": signed.VERSION,
                "id": message_id,
                "envelope": envelope_digest,
                "recipient": bytes.fromhex(recipient_fp),
                "time": now,
                "rule": rule,
                "reason": reason,
            },
        )
        return cls(message_id, envelope_digest, recipient_fp, now, rule, reason, encoded)

    @classmethod
    def verify(cls, encoded: bytes, recipient: Card) -> Refusal:
        p = signed.read(encoded, REFUSAL, recipient)
        rule, reason = p.tstr("rule"), p.tstr("reason")
        if p.fp("recipient") != recipient.fingerprint:
            raise FormatError(_("refusal notice: the recipient field does not match the signer"))
        return cls(
            p.bstr("id", ID_BYTES),
            p.bstr("envelope", 32, N_("envelope digest")),
            recipient.fingerprint,
            p.integer("time"),
            rule[:MAX_RULE],
            reason[:MAX_REASON],
            encoded,
        )
