"""The receive loop for files and drop folders: one letter at a time, each
committed (or refused) on its own; receipts and refusal notices go back."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from securemsg.errors import SecureMsgError
from securemsg.store import drop as dropfolder
from securemsg.store.fs import atomic_write
from securemsg.store.mailbox import Mailbox
from securemsg.store.proofs import import_proof
from securemsg.store.receiving import receive as accept
from securemsg.store.receiving import refusal_notice

MAX_PROOF = 64 * 1024


def _accept(box: Mailbox, path: Path, now: int) -> tuple[dict[str, Any], bytes | None, str | None]:
    """Returns (report row, proof bytes to send back, author fingerprint)."""
    try:
        with path.open("rb") as fh:
            result = accept(box, fh, now)
    except SecureMsgError as exc:
        refused = refusal_notice(box, path, exc, now)
        row = {
            "file": str(path),
            "status": "refused",
            "error": exc.code,
            "rule": getattr(exc, "rule", None),
            "detail": exc.message,
            "hint": exc.hint,
            "notice": refused.notice is not None,
        }
        if refused.notice is not None:
            row["message_id"] = refused.notice.message_id.hex()
        return row, (refused.notice.encoded if refused.notice else None), refused.author_fp
    m = result.manifest
    row = {
        "file": str(path),
        "status": "duplicate" if result.duplicate else "accepted",
        "message_id": m.id_hex,
        "from": result.author.name,
        "kind": m.kind.value,
        "domains": list(result.domains),
        "detail": m.subject,
    }
    return row, result.receipt.encoded, m.author


def receive_files(
    box: Mailbox, files: list[Path], receipt_out: Path | None, now: int
) -> list[dict[str, Any]]:
    rows = []
    for path in files:
        if path.suffix in (".receipt", ".refusal"):
            rows.append(import_file(box, path, now))
            continue
        row, proof, _author = _accept(box, path, now)
        if proof is not None:
            kind = "refusal" if row["status"] == "refused" else "receipt"
            target = receipt_out or path.with_name(f"{path.stem}.{kind}")
            atomic_write(target, proof, mode=0o644)
            row["proof_file"] = str(target)
        rows.append(row)
    return rows


def import_file(box: Mailbox, path: Path, now: int) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            r = import_proof(box, fh.read(MAX_PROOF + 1), now)
    except SecureMsgError as exc:
        return {
            "file": str(path),
            "status": "refused",
            "error": exc.code,
            "detail": exc.message,
            "hint": exc.hint,
        }
    status = {
        "delivered": "receipt: delivered",
        "refused": "notice: refused by recipient",
        "unchanged": f"{r.kind}: already recorded",
    }[r.status]
    return {
        "file": str(path),
        "status": status,
        "message_id": r.message_id,
        "from": r.recipient_name,
        "detail": r.reason or "",
    }


def receive_drop(box: Mailbox, drop: Path, now: int) -> list[dict[str, Any]]:
    box.cleanup_orphans()
    my_fp = box.card.fingerprint
    rows = []
    for path in dropfolder.collect(drop, my_fp):
        if path.suffix in (".receipt", ".refusal"):
            row = import_file(box, path, now)
            if row["status"] != "refused":
                _remove(path)
            else:  # kept for inspection, never processed again
                with contextlib.suppress(FileNotFoundError):
                    os.replace(path, path.with_name(path.name + ".refused"))
            rows.append(row)
            continue
        try:
            row, proof, author = _accept(box, path, now)
        except FileNotFoundError:
            if path.exists():
                raise
            continue  # another receiver took it meanwhile
        if proof is not None and author is not None:
            kind = "refusal" if row["status"] == "refused" else "receipt"
            mid = row.get("message_id") or path.stem
            dropfolder.put_proof(drop, author, mid, my_fp, kind, proof)
        if row["status"] == "refused":
            with contextlib.suppress(FileNotFoundError):
                os.replace(path, path.with_name(path.name + ".refused"))
        else:
            _remove(path)
        rows.append(row)
    return rows


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
