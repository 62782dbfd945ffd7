"""Importing receipts and refusal notices: match them to the double they prove.

A proof is verified against the card of the contact who signed it, then
matched, in one transaction, to the delivery of that letter to that contact:
the same envelope (by digest), still awaiting its proof.
"""

from __future__ import annotations

from dataclasses import dataclass

from securemsg.core import labels
from securemsg.core.letter.proofs import Receipt, Refusal
from securemsg.core.signed import peek as peek_signer
from securemsg.errors import FormatError, NotFoundError, VerificationError
from securemsg.store.contacts import Contacts
from securemsg.store.mailbox import Mailbox

MAX_PROOF = 64 * 1024


@dataclass(frozen=True, slots=True)
class ProofResult:
    kind: str  # receipt | refusal
    message_id: str
    recipient: str
    recipient_name: str
    status: str  # delivered | refused | unchanged | unverified (a notice from a non-recipient)
    rule: str | None = None
    reason: str | None = None


def import_proof(box: Mailbox, data: bytes, now: int) -> ProofResult:
    if len(data) > MAX_PROOF:
        raise FormatError("this file is too large to be a receipt")
    otype, signer = peek_signer(data, "receipt")
    contact = Contacts(box.home).get(signer)
    if contact is None:
        raise VerificationError(
            f"this proof is signed by key {signer[:16]}, not a contact",
            hint="add the recipient's card first",
        )
    if otype == labels.COSE_RECEIPT:
        r = Receipt.verify(data, contact.card)
        kind, mid, digest, status = "receipt", r.message_id.hex(), r.envelope_digest, "delivered"
        rule = reason = None
    elif otype == labels.COSE_REFUSAL:
        f = Refusal.verify(data, contact.card)
        kind, mid, digest, status = "refusal", f.message_id.hex(), f.envelope_digest, "refused"
        rule, reason = f.rule, f.reason
    else:
        from securemsg.core.cose import describe_type

        raise VerificationError(f"this is a {describe_type(otype)}, not a receipt or refusal")
    with box.transaction():
        row = box.delivery(mid, signer)
        if row is None:
            if kind == "refusal" and box.get(mid, "sent") is not None:
                # Signed by a contact who was never sent this letter: what it
                # says (that my letter reached them and was refused) is only
                # their word; shown as such, nothing recorded.
                return ProofResult(kind, mid, signer, contact.name, "unverified", rule, reason)
            if box.get(mid, "sent") is not None:
                raise VerificationError(
                    f"{contact.name} reports receiving your letter {mid}, which you never sent "
                    "them: someone forwarded a copy",
                    hint="find out which recipient passed it on; see `securemsg sent`",
                )
            raise NotFoundError(f"no letter {mid} was sent to {contact.name} from this mailbox")
        sent_digest, current = row
        if sent_digest != digest:
            raise VerificationError(
                f"this {kind} is for another envelope than the one sent to {contact.name}",
                hint="the letter they received is not the one you sent",
            )
        if current == status:
            return ProofResult(kind, mid, signer, contact.name, "unchanged", rule, reason)
        if current != "sent":
            raise VerificationError(f"letter {mid} is already marked {current} for {contact.name}")
        box.settle_delivery(mid, signer, status, data, now)
        box.append_log(now, kind, bytes.fromhex(mid), signer, digest)
    return ProofResult(kind, mid, signer, contact.name, status, rule, reason)
