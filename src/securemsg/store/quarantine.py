"""Letters kept aside: refused only because their author was not (yet) one of my
contacts, kept as they came (age files, encrypted to me: nothing in clear) in
HOME/quarantine/, to be received again once the author is added
(``contacts add``) or with ``receive --retry`` (app/receive.py).

Each letter is ``AUTHOR_FP.DIGEST.smsg`` (the author's fingerprint as the
envelope claims it, unverified; the first 32 hex digits of the file's envelope
digest), beside ``AUTHOR_FP.DIGEST.json``, where it came from (a drop folder or
a file's folder: where its receipt goes). Bounded: at most :data:`MAX_FILES`
letters and :data:`MAX_BYTES` in all; a letter beyond that is not kept (the
receive report says so). Letters kept longer than the retention (the same as
the drop folder's refused files, 30 days by default) are removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path
from typing import BinaryIO

from securemsg.core.frozen import Frozen, _set
from securemsg.store.fs import atomic_writer, ensure_private_dir
from securemsg.store.home import Home

MAX_FILES = 100
MAX_BYTES = 256 * 1024 * 1024
_NAME = re.compile(r"^([0-9a-f]{40})\.([0-9a-f]{32})\.smsg$")


class Kept(Frozen):
    """One letter kept aside."""

    __slots__ = (  # noqa: RUF023 (field order)
        "path",
        "author_fp",
        "origin",
        "kept_at",
    )
    path: Path
    author_fp: str  # as the envelope claims it (unverified until received)
    origin: dict[str, str]  # {"drop": DIR} or {"dir": DIR, "name": FILE NAME}
    kept_at: int

    def __init__(self, path: Path, author_fp: str, origin: dict[str, str], kept_at: int) -> None:
        _set(self, "path", path)
        _set(self, "author_fp", author_fp)
        _set(self, "origin", origin)
        _set(self, "kept_at", kept_at)


def folder(home: Home) -> Path:
    return home.path / "quarantine"


def _usage(d: Path) -> tuple[int, int]:
    n = size = 0
    for f in d.iterdir():
        if _NAME.match(f.name):
            n += 1
            size += f.stat().st_size
    return n, size


def keep(
    home: Home, src: BinaryIO, size: int, author_fp: str, digest: bytes, origin: dict[str, str]
) -> Path | None:
    """Copy the letter ``src`` (``size`` bytes) aside; None when the quarantine is
    full (nothing written). The same letter kept twice is kept once."""
    d = ensure_private_dir(folder(home))
    name = f"{author_fp}.{digest.hex()[:32]}.smsg"
    target = d / name
    if target.exists():
        return target
    n, used = _usage(d)
    if n >= MAX_FILES or used + size > MAX_BYTES:
        return None
    with atomic_writer(target.with_suffix(".json")) as fh:
        fh.write(json.dumps(origin).encode())
    with atomic_writer(target) as fh:
        while data := src.read(1 << 16):
            fh.write(data)
    return target


def kept(home: Home, author_fp: str | None = None) -> list[Kept]:
    """The letters kept aside (of one author), oldest first."""
    d = folder(home)
    if not d.is_dir():
        return []
    out: list[Kept] = []
    for f in d.iterdir():
        m = _NAME.match(f.name)
        if m is None or (author_fp is not None and m.group(1) != author_fp):
            continue
        try:
            origin = json.loads(f.with_suffix(".json").read_text())
            if not isinstance(origin, dict):
                origin = {}
        except (OSError, ValueError):
            origin = {}
        origin = {str(k): str(v) for k, v in origin.items()}
        out.append(Kept(f, m.group(1), origin, int(f.stat().st_mtime)))
    return sorted(out, key=lambda k: (k.kept_at, k.path.name))


def release(k: Kept) -> None:
    """Remove a letter from the quarantine (received, or refused for another reason)."""
    for p in (k.path, k.path.with_suffix(".json")):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(p)


def expire(home: Home, now: int, days: int) -> int:
    """Remove the letters kept more than ``days`` days; how many."""
    gone = 0
    for k in kept(home):
        if now - k.kept_at >= days * 86400:
            release(k)
            gone += 1
    return gone
