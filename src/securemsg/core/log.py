"""The mailbox's append-only, hash-chained, signed log (pure part).

Entry i is a COSE_Sign1 (type log-entry) by the mailbox owner over canonical
CBOR {"v", "seq", "prev", "time", "event", ["id"], ["peer"], ["digest"]};
prev is the chain hash of entry i-1 (32 zero bytes for entry 0) and the chain
hash of an entry is SHA-256(LOG_CHAIN || 0x00 || entry bytes). Editing,
deleting, inserting or reordering an entry breaks a signature or a link.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from securemsg.core import cbor, cose, labels
from securemsg.core.card import Card
from securemsg.core.fingerprint import fingerprint
from securemsg.core.identity import SecretIdentity
from securemsg.errors import SecureMsgError, VerificationError

GENESIS = bytes(32)
EVENTS = ("send", "accept", "receipt", "refusal", "consent")
FIELDS = {"v", "seq", "prev", "time", "event", "id", "peer", "digest"}


def chain_hash(entry: bytes) -> bytes:
    return hashlib.sha256(labels.LOG_CHAIN + b"\x00" + entry).digest()


@dataclass(frozen=True, slots=True)
class LogEntry:
    seq: int
    prev: bytes
    time: int
    event: str
    message_id: bytes | None
    peer: str | None
    digest: bytes | None
    encoded: bytes

    @property
    def hash(self) -> bytes:
        return chain_hash(self.encoded)


def make_entry(
    secret: SecretIdentity,
    seq: int,
    prev: bytes,
    now: int,
    event: str,
    message_id: bytes | None = None,
    peer: str | None = None,
    digest: bytes | None = None,
) -> LogEntry:
    if event not in EVENTS:
        raise ValueError(f"unknown log event {event}")
    payload: dict[str, Any] = {"v": 1, "seq": seq, "prev": prev, "time": now, "event": event}
    if message_id is not None:
        payload["id"] = message_id
    if peer is not None:
        payload["peer"] = bytes.fromhex(peer)
    if digest is not None:
        payload["digest"] = digest
    encoded = cose.sign(
        secret.signing_key,
        labels.COSE_LOG_ENTRY,
        fingerprint(secret.sign_public),
        cbor.dumps(payload),
    )
    return LogEntry(seq, prev, now, event, message_id, peer, digest, encoded)


def parse_entry(encoded: bytes, owner: Card) -> LogEntry:
    obj = cose.parse(encoded, "log entry")
    if obj.kid != fingerprint(owner.sign_public):
        raise VerificationError("log entry: signed with another key than the mailbox owner's")
    p = cbor.loads(
        cose.verify(obj, labels.COSE_LOG_ENTRY, owner.verify_key(), "log entry"), "log entry"
    )
    if not isinstance(p, dict) or p.get("v") != 1 or not set(p) <= FIELDS:
        raise VerificationError("log entry: unsupported version or fields")
    seq, prev, time, event = p.get("seq"), p.get("prev"), p.get("time"), p.get("event")
    mid, peer, digest = p.get("id"), p.get("peer"), p.get("digest")
    if not (type(seq) is int and seq >= 0 and type(time) is int and event in EVENTS):
        raise VerificationError("log entry: missing or invalid seq, time or event")
    if not (isinstance(prev, bytes) and len(prev) == 32):
        raise VerificationError("log entry: missing or invalid prev")
    if mid is not None and not (isinstance(mid, bytes) and len(mid) == 16):
        raise VerificationError("log entry: invalid message id")
    if peer is not None and not (isinstance(peer, bytes) and len(peer) == 20):
        raise VerificationError("log entry: invalid peer")
    if digest is not None and not (isinstance(digest, bytes) and len(digest) == 32):
        raise VerificationError("log entry: invalid digest")
    return LogEntry(seq, prev, time, event, mid, peer.hex() if peer else None, digest, encoded)


@dataclass(frozen=True, slots=True)
class ChainReport:
    entries: int
    head: bytes
    problem: str | None  # the first inconsistency, or None
    at_seq: int | None


def verify_chain(
    rows: Iterable[tuple[int, bytes, bytes]], owner: Card, expected_head: bytes | None = None
) -> ChainReport:
    """rows: (seq, entry bytes, stored chain hash) in seq order."""
    prev, count = GENESIS, 0
    for seq, encoded, stored in rows:
        try:
            entry = parse_entry(encoded, owner)
        except SecureMsgError as exc:
            return ChainReport(count, prev, f"entry {seq}: {exc.message}", seq)
        if seq != count or entry.seq != seq:
            return ChainReport(
                count,
                prev,
                f"entry {seq}: out of sequence (expected {count}): "
                "an entry was deleted, inserted or reordered",
                seq,
            )
        if entry.prev != prev:
            return ChainReport(count, prev, f"entry {seq}: does not follow the previous entry", seq)
        if stored != entry.hash:
            return ChainReport(count, prev, f"entry {seq}: stored hash does not match", seq)
        prev, count = entry.hash, count + 1
    if expected_head is not None and expected_head != prev:
        return ChainReport(
            count, prev, "the last entries were removed (head does not match)", count
        )
    return ChainReport(count, prev, None, None)
