"""Importing receipts and refusal notices: match them to the double they prove.

A proof is verified against the card of the contact who signed it, then
matched, in one transaction, to the delivery of that letter to that contact:
the same envelope (by digest), still awaiting its proof.
"""

from __future__ import annotations

from securemsg.core import labels
from securemsg.core.card import Card
from securemsg.core.frozen import Frozen, _set
from securemsg.core.letter.proofs import Receipt, Refusal
from securemsg.core.signed import peek as peek_signer
from securemsg.errors import (
    FormatError,
    NotFoundError,
    PeerLogRewritten,
    SecureMsgError,
    VerificationError,
)
from securemsg.i18n import _
from securemsg.store.contacts import Contacts
from securemsg.store.mailbox import Mailbox

MAX_PROOF = 64 * 1024


class ProofResult(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "kind",
        "message_id",
        "recipient",
        "recipient_name",
        "status",
        "rule",
        "reason",
    )
    kind: str  # receipt | refusal
    message_id: str
    recipient: str
    recipient_name: str
    status: str  # delivered | refused | unchanged | unverified (a notice from a non-recipient)
    rule: str | None
    reason: str | None

    def __init__(
        self,
        kind: str,
        message_id: str,
        recipient: str,
        recipient_name: str,
        status: str,
        rule: str | None = None,
        reason: str | None = None,
    ) -> None:
        _set(self, "kind", kind)
        _set(self, "message_id", message_id)
        _set(self, "recipient", recipient)
        _set(self, "recipient_name", recipient_name)
        _set(self, "status", status)
        _set(self, "rule", rule)
        _set(self, "reason", reason)


def import_proof(box: Mailbox, data: bytes, now: int) -> ProofResult:
    if len(data) > MAX_PROOF:
        raise FormatError(_("this file is too large to be a receipt"))
    otype, signer = peek_signer(data, "receipt")
    contact = Contacts(box.home).get(signer)
    if contact is None:
        raise VerificationError(
            _("this proof is signed by key {signer}, not a contact").format(signer=signer[:16]),
            hint=_("add the recipient's card first"),
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

        raise VerificationError(
            _("this is a {otype}, not a receipt or refusal").format(otype=describe_type(otype))
        )
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
                    _(
                        "{name} reports receiving your letter {mid}, which you never sent them: "
                        "someone forwarded a copy"
                    ).format(name=contact.name, mid=mid),
                    hint=_("find out which recipient passed it on; see `securemsg sent`"),
                )
            raise NotFoundError(
                _("no letter {mid} was sent to {name} from this mailbox").format(
                    mid=mid, name=contact.name
                )
            )
        sent_digest, current = row
        if sent_digest != digest:
            raise VerificationError(
                _("this {kind} is for another envelope than the one sent to {name}").format(
                    kind=kind, name=contact.name
                ),
                hint=_("the letter they received is not the one you sent"),
            )
        if current == status:
            return ProofResult(kind, mid, signer, contact.name, "unchanged", rule, reason)
        if current != "sent":
            raise VerificationError(
                _("letter {mid} is already marked {current} for {name}").format(
                    mid=mid, current=current, name=contact.name
                )
            )
        if otype == labels.COSE_RECEIPT:
            _check_log_position(box, contact.card, contact.name, r)
        box.settle_delivery(mid, signer, status, data, now)
        box.append_log(now, kind, bytes.fromhex(mid), signer, digest)
    return ProofResult(kind, mid, signer, contact.name, status, rule, reason)


# Receipts signed less than this apart are not ordered by their times: two receive
# processes of one mailbox (or one long receive) sign with the time they started, and
# commit in either order (tests/hostile/test_concurrency.py). A rollback is reported once
# a receipt signed more than this after another one sits lower in the log.
ORDER_MARGIN = 3600


def _check_log_position(box: Mailbox, card: Card, name: str, r: Receipt) -> None:
    """A receipt carries (seq, head) of the recipient's log entry accepting the letter.
    Against this recipient's earlier receipts: one head per seq (two letters at the
    same seq, or a head that differs), and a receipt signed more than ORDER_MARGIN
    later never at a lower seq. Either means their log was rewritten or rolled back."""
    for data in box.proofs_from(card.fingerprint):
        try:
            other = Receipt.verify(data, card)
        except SecureMsgError:
            continue  # a refusal notice, or a receipt under an earlier key
        if other.message_id == r.message_id or other.chain != r.chain:
            continue  # another device's log is another chain (docs/format.md §14)
        if other.log_seq == r.log_seq:
            problem = _(
                "{name}'s receipt for letter {message_id} is at position "
                "{log_seq} of their log, where their receipt for letter "
                "{other_id} already was"
            ).format(
                name=name,
                message_id=r.message_id.hex(),
                log_seq=r.log_seq,
                other_id=other.message_id.hex(),
            )
        elif abs(other.time - r.time) > ORDER_MARGIN and (other.time < r.time) != (
            other.log_seq < r.log_seq
        ):
            problem = _(
                "{name}'s log went backwards: their receipt for letter "
                "{message_id} is at position {log_seq}, their earlier receipt "
                "for letter {other_id} at position {other_seq}"
            ).format(
                name=name,
                message_id=r.message_id.hex(),
                log_seq=r.log_seq,
                other_id=other.message_id.hex(),
                other_seq=other.log_seq,
            )
        else:
            continue
        raise PeerLogRewritten(
            problem,
            hint=_(
                "{name}'s mailbox log was rewritten or restored from an older copy: ask "
                "them to run `securemsg log verify`; this receipt was not recorded"
            ).format(name=name),
        )
