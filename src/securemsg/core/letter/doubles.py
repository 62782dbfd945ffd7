"""The double record: what one device of a practitioner tells the others about a
letter it sent (docs/format.md §18.2).

A device that sends a letter by mail also mails its double (the author's own
envelope, encrypted to the author's key) to the practitioner's own address,
with this record, signed by the author: the message id, the digest of the
double, and for each recipient the digest of the envelope sent to them. The
other device files the double under ``sent`` with those deliveries, so that
the recipients' receipts (which name their envelope's digest) settle there too.
"""

from __future__ import annotations

from dataclasses import dataclass

from securemsg.core import labels, signed
from securemsg.core.fingerprint import FINGERPRINT_BYTES
from securemsg.core.identity import KeyHolder
from securemsg.core.letter.manifest import ID_BYTES, MAX_RECIPIENTS
from securemsg.errors import FormatError
from securemsg.i18n import N_, _

DOUBLE_RECORD = signed.Kind(
    labels.COSE_DOUBLE_RECORD,
    N_("double record"),
    required=("id", "double", "deliveries", "time"),
    optional=("chain",),
)
DIGEST_BYTES = 32
CHAIN_BYTES = 16  # the sending device's log chain id (docs/format.md §14)


@dataclass(frozen=True, slots=True)
class DoubleRecord(signed.Signed):
    message_id: bytes
    double_digest: bytes  # envelope digest (§13) of the double
    deliveries: tuple[tuple[str, bytes], ...]  # (recipient fingerprint hex, envelope digest)
    time: int
    encoded: bytes
    chain: bytes | None = None  # the sending device's log chain; None: the first device

    @classmethod
    def sign(
        cls,
        secret: KeyHolder,
        message_id: bytes,
        double_digest: bytes,
        deliveries: list[tuple[str, bytes]],
        now: int,
        chain: bytes | None = None,
    ) -> DoubleRecord:
        if len(message_id) != ID_BYTES or len(double_digest) != DIGEST_BYTES:
            raise ValueError(_("a double record names a 16-byte id and a 32-byte digest"))
        ordered = tuple(sorted(deliveries))
        payload = {
            "v": signed.VERSION,
            "id": message_id,
            "double": double_digest,
            "deliveries": [[bytes.fromhex(fp), digest] for fp, digest in ordered],
            "time": now,
        }
        if chain is not None:
            if len(chain) != CHAIN_BYTES:
                raise ValueError(_("a log chain id is 16 bytes"))
            payload["chain"] = chain
        encoded = signed.sign(secret, DOUBLE_RECORD, payload)
        return cls.verify(encoded, signed.Key(secret.sign_public))

    @classmethod
    def verify(cls, encoded: bytes, author: signed.Signer) -> DoubleRecord:
        """Signed by ``author`` (the practitioner's own card), read strictly."""
        p = signed.read(encoded, DOUBLE_RECORD, author)
        rows = p.array("deliveries", 1, MAX_RECIPIENTS, "recipients")
        deliveries: list[tuple[str, bytes]] = []
        for row in rows:
            if (
                not isinstance(row, list)
                or len(row) != 2
                or not isinstance(row[0], bytes)
                or len(row[0]) != FINGERPRINT_BYTES
                or not isinstance(row[1], bytes)
                or len(row[1]) != DIGEST_BYTES
            ):
                raise FormatError(
                    _("double record: each delivery is [fingerprint, envelope digest]")
                )
            deliveries.append((row[0].hex(), row[1]))
        if deliveries != sorted(deliveries) or len({fp for fp, _d in deliveries}) != len(rows):
            raise FormatError(_("double record: deliveries must be sorted, one per recipient"))
        return cls(
            p.bstr("id", ID_BYTES),
            p.bstr("double", DIGEST_BYTES, "double digest"),
            tuple(deliveries),
            p.time("time"),
            encoded,
            p.bstr("chain", CHAIN_BYTES, "log chain") if "chain" in p else None,
        )

    @property
    def id_hex(self) -> str:
        return self.message_id.hex()
