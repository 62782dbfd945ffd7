"""The mailbox's append-only, hash-chained, signed log (pure part).

Entry i is a COSE_Sign1 (type log-entry) by the mailbox owner over canonical
CBOR {"v", "seq", "prev", "time", "event", ["id"], ["peer"], ["digest"]};
prev is the chain hash of entry i-1 (32 zero bytes for entry 0) and the chain
hash of an entry is SHA-256(LOG_CHAIN || 0x00 || entry bytes). Editing,
deleting, inserting or reordering an entry breaks a signature or a link.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from securemsg.core import labels, signed
from securemsg.core.card import Card
from securemsg.core.frozen import Frozen, _set
from securemsg.core.identity import KeyHolder
from securemsg.errors import FormatError, SecureMsgError, VerificationError
from securemsg.i18n import N_, _

GENESIS = bytes(32)
EVENTS = ("send", "accept", "receipt", "refusal", "consent")


Owner = Card | Sequence[Card]
"""The mailbox owner's card, or all of them (current first) after a key
rotation: each entry and checkpoint is held to the one its key id names."""


def _pick(encoded: bytes, owner: Owner, what: str) -> Card:
    if isinstance(owner, Card):
        return owner
    try:
        _type, kid = signed.peek(encoded, what)
    except SecureMsgError:
        return owner[0]  # the reader reports the malformed object
    return next((c for c in owner if c.fingerprint == kid), owner[0])


def chain_hash(entry: bytes) -> bytes:
    return hashlib.sha256(labels.LOG_CHAIN + b"\x00" + entry).digest()


def _not_the_owner(kind: signed.Kind, kid: bytes, signer: signed.Signer) -> VerificationError:
    return VerificationError(_("log entry: signed with another key than the mailbox owner's"))


LOG_ENTRY = signed.Kind(
    labels.COSE_LOG_ENTRY,
    N_("log entry"),
    required=("seq", "prev", "time", "event"),
    optional=("id", "peer", "digest"),
    wrong_signer=_not_the_owner,
)


class LogEntry(signed.Signed, Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "seq",
        "prev",
        "time",
        "event",
        "message_id",
        "peer",
        "digest",
        "encoded",
    )
    seq: int
    prev: bytes
    time: int
    event: str
    message_id: bytes | None
    peer: str | None
    digest: bytes | None
    encoded: bytes

    def __init__(
        self,
        seq: int,
        prev: bytes,
        time: int,
        event: str,
        message_id: bytes | None,
        peer: str | None,
        digest: bytes | None,
        encoded: bytes,
    ) -> None:
        _set(self, "seq", seq)
        _set(self, "prev", prev)
        _set(self, "time", time)
        _set(self, "event", event)
        _set(self, "message_id", message_id)
        _set(self, "peer", peer)
        _set(self, "digest", digest)
        _set(self, "encoded", encoded)

    @property
    def hash(self) -> bytes:
        return chain_hash(self.encoded)

    @classmethod
    def sign(
        cls,
        secret: KeyHolder,
        seq: int,
        prev: bytes,
        now: int,
        event: str,
        message_id: bytes | None = None,
        peer: str | None = None,
        digest: bytes | None = None,
    ) -> LogEntry:
        if event not in EVENTS:
            raise ValueError(_("unknown log event {event}").format(event=event))
        payload: dict[str, Any] = {
            "v": signed.VERSION,
            "seq": seq,
            "prev": prev,
            "time": now,
            "event": event,
        }
        if message_id is not None:
            payload["id"] = message_id
        if peer is not None:
            payload["peer"] = bytes.fromhex(peer)
        if digest is not None:
            payload["digest"] = digest
        encoded = signed.sign(secret, LOG_ENTRY, payload)
        return cls(seq, prev, now, event, message_id, peer, digest, encoded)

    @classmethod
    def verify(cls, encoded: bytes, owner: Owner) -> LogEntry:
        p = signed.read(encoded, LOG_ENTRY, _pick(encoded, owner, N_("log entry")))
        event = p.raw("event")
        if event not in EVENTS:
            raise FormatError(_("log entry: unknown event {event!r}").format(event=str(event)[:20]))
        return cls(
            p.integer("seq", 0),
            p.bstr("prev", 32),
            p.integer("time"),
            event,
            p.bstr("id", 16, N_("message id")) if "id" in p else None,
            p.fp("peer") if "peer" in p else None,
            p.bstr("digest", 32) if "digest" in p else None,
            encoded,
        )


class LogProblem(enum.Enum):
    """What is wrong with a log: a stable code (matched by the callers, never the
    text), worded in the user's language only when shown (:class:`Issue`)."""

    BAD_ENTRY = "bad-entry"
    OUT_OF_SEQUENCE = "out-of-sequence"
    BROKEN_LINK = "broken-link"
    STORED_HASH = "stored-hash"
    HEAD_MISMATCH = "head-mismatch"
    CHECKPOINT_MISSING = "checkpoint-missing"
    BAD_CHECKPOINT = "bad-checkpoint"
    ENTRIES_REMOVED = "entries-removed"
    CHECKPOINT_MISMATCH = "checkpoint-mismatch"
    NO_ACCEPT = "no-accept-event"
    NO_SEND = "no-send-event"
    NO_RECEIPT = "no-receipt-event"
    NO_REFUSAL = "no-refusal-event"


_PROBLEM_TEXTS = {
    LogProblem.BAD_ENTRY: N_("entry {seq}: {detail}"),
    LogProblem.OUT_OF_SEQUENCE: N_(
        "entry {seq}: out of sequence (expected {expected}): "
        "an entry was deleted, inserted or reordered"
    ),
    LogProblem.BROKEN_LINK: N_("entry {seq}: does not follow the previous entry"),
    LogProblem.STORED_HASH: N_("entry {seq}: stored hash does not match"),
    LogProblem.HEAD_MISMATCH: N_("the last entries were removed (head does not match)"),
    LogProblem.CHECKPOINT_MISSING: N_(
        "the signed checkpoint is missing: the end of the log cannot be checked "
        "(entries may have been removed)"
    ),
    LogProblem.BAD_CHECKPOINT: N_("checkpoint: {detail}"),
    LogProblem.ENTRIES_REMOVED: N_(
        "the last entries were removed: the signed checkpoint counts {counted} "
        "entries, the log holds {held}"
    ),
    LogProblem.CHECKPOINT_MISMATCH: N_(
        "the log does not match its signed checkpoint ({counted} entries)"
    ),
    LogProblem.NO_ACCEPT: N_("received letter {mid} has no matching accept event in the log"),
    LogProblem.NO_SEND: N_("letter {mid} to {peer} has no matching send event in the log"),
    LogProblem.NO_RECEIPT: N_(
        "letter {mid} is marked delivered for {peer} with no matching receipt event in the log"
    ),
    LogProblem.NO_REFUSAL: N_(
        "letter {mid} is marked refused for {peer} with no matching refusal event in the log"
    ),
}


class Issue(Frozen):
    """One inconsistency: its code and the values its text names."""

    __slots__ = ("code", "values")
    code: LogProblem
    values: tuple[tuple[str, str | int], ...]

    def __init__(self, code: LogProblem, values: tuple[tuple[str, str | int], ...] = ()) -> None:
        _set(self, "code", code)
        _set(self, "values", values)

    def __str__(self) -> str:
        return _(_PROBLEM_TEXTS[self.code]).format(**dict(self.values))


class ChainReport(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "entries",
        "head",
        "issue",
        "at_seq",
    )
    entries: int
    head: bytes
    issue: Issue | None  # the first inconsistency, or None
    at_seq: int | None

    def __init__(self, entries: int, head: bytes, issue: Issue | None, at_seq: int | None) -> None:
        _set(self, "entries", entries)
        _set(self, "head", head)
        _set(self, "issue", issue)
        _set(self, "at_seq", at_seq)

    @property
    def problem(self) -> str | None:
        """The first inconsistency in the selected language, or None."""
        return None if self.issue is None else str(self.issue)


def _issue(code: LogProblem, **values: str | int) -> Issue:
    return Issue(code, tuple(sorted(values.items())))


def verify_chain(
    rows: Iterable[tuple[int, bytes, bytes]], owner: Owner, expected_head: bytes | None = None
) -> ChainReport:
    """rows: (seq, entry bytes, stored chain hash) in seq order."""
    prev, count = GENESIS, 0
    for seq, encoded, stored in rows:
        try:
            entry = LogEntry.verify(encoded, owner)
        except SecureMsgError as exc:
            return ChainReport(
                count, prev, _issue(LogProblem.BAD_ENTRY, seq=seq, detail=exc.message), seq
            )
        if seq != count or entry.seq != seq:
            return ChainReport(
                count, prev, _issue(LogProblem.OUT_OF_SEQUENCE, seq=seq, expected=count), seq
            )
        if entry.prev != prev:
            return ChainReport(count, prev, _issue(LogProblem.BROKEN_LINK, seq=seq), seq)
        if stored != entry.hash:
            return ChainReport(count, prev, _issue(LogProblem.STORED_HASH, seq=seq), seq)
        prev, count = entry.hash, count + 1
    if expected_head is not None and expected_head != prev:
        return ChainReport(count, prev, _issue(LogProblem.HEAD_MISMATCH), count)
    return ChainReport(count, prev, None, None)


def _checkpoint_not_the_owners(
    kind: signed.Kind, kid: bytes, signer: signed.Signer
) -> VerificationError:
    return VerificationError(_("log checkpoint: signed with another key than the mailbox owner's"))


LOG_CHECKPOINT = signed.Kind(
    labels.COSE_LOG_CHECKPOINT,
    N_("log checkpoint"),
    required=("entries", "head"),
    optional=(),
    wrong_signer=_checkpoint_not_the_owners,
)


class Checkpoint(signed.Signed, Frozen):
    """The owner's signature over the log's length and head: a cut tail shows."""

    __slots__ = (  # noqa: RUF023 (field order)
        "entries",
        "head",
        "encoded",
    )
    entries: int
    head: bytes
    encoded: bytes

    def __init__(self, entries: int, head: bytes, encoded: bytes) -> None:
        _set(self, "entries", entries)
        _set(self, "head", head)
        _set(self, "encoded", encoded)

    @classmethod
    def sign(cls, secret: KeyHolder, entries: int, head: bytes) -> Checkpoint:
        payload: dict[str, Any] = {"v": signed.VERSION, "entries": entries, "head": head}
        return cls(entries, head, signed.sign(secret, LOG_CHECKPOINT, payload))

    @classmethod
    def verify(cls, encoded: bytes, owner: Owner) -> Checkpoint:
        p = signed.read(encoded, LOG_CHECKPOINT, _pick(encoded, owner, N_("log checkpoint")))
        return cls(p.integer("entries", 0), p.bstr("head", 32), encoded)


def check_checkpoint(report: ChainReport, checkpoint: bytes | None, owner: Owner) -> ChainReport:
    """A chain report, held to the signed checkpoint (None: there is none)."""
    if report.issue is not None:
        return report
    entries, head = report.entries, report.head
    if checkpoint is None:
        if entries == 0:
            return report
        return ChainReport(entries, head, _issue(LogProblem.CHECKPOINT_MISSING), entries)
    try:
        cp = Checkpoint.verify(checkpoint, owner)
    except SecureMsgError as exc:
        return ChainReport(
            entries, head, _issue(LogProblem.BAD_CHECKPOINT, detail=exc.message), None
        )
    if cp.entries > entries:
        issue = _issue(LogProblem.ENTRIES_REMOVED, counted=cp.entries, held=entries)
        return ChainReport(entries, head, issue, entries)
    if cp.entries != entries or cp.head != head:
        issue = _issue(LogProblem.CHECKPOINT_MISMATCH, counted=cp.entries)
        return ChainReport(entries, head, issue, min(cp.entries, entries))
    return report


def cross_check(
    entries: Iterable[LogEntry],
    received: Iterable[tuple[str, str, bytes]],
    deliveries: Iterable[tuple[str, str, bytes, str]],
) -> Issue | None:
    """The first letter or delivery of the mailbox that no log event accounts for.

    received: (message id hex, author fp, envelope digest) of each letter in the
    in-box; deliveries: (message id hex, recipient fp, envelope digest, status).
    Every received letter has its "accept", every delivery its "send", and every
    delivered or refused one its "receipt" or "refusal", same id, peer and digest.
    """
    seen = {
        (e.event, e.message_id.hex(), e.peer, e.digest) for e in entries if e.message_id is not None
    }
    for mid, author, digest in received:
        if ("accept", mid, author, digest) not in seen:
            return _issue(LogProblem.NO_ACCEPT, mid=mid)
    proofs = {
        "delivered": ("receipt", LogProblem.NO_RECEIPT),
        "refused": ("refusal", LogProblem.NO_REFUSAL),
    }
    for mid, recipient, digest, status in deliveries:
        if ("send", mid, recipient, digest) not in seen:
            return _issue(LogProblem.NO_SEND, mid=mid, peer=recipient[:16])
        proof = proofs.get(status)
        if proof is not None and (proof[0], mid, recipient, digest) not in seen:
            return _issue(proof[1], mid=mid, peer=recipient[:16])
    return None
