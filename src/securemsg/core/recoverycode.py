"""Recovery codes: a backup passphrase drawn by the machine (pure).

``securemsg backup --recovery-code`` encrypts the backup to a code of
:data:`CODE_BITS` random bits instead of a passphrase of the user's: 32
characters of the RFC 4648 base32 alphabet (``A``-``Z``, ``2``-``7``) in 8
groups of 4 joined by ``-``, like the one-time code of ``device add``
(docs/format-backup.md §2a). The age scrypt passphrase is that **canonical**
text exactly, dashes included, so ``age -d`` opens the file when the code is
typed as shown.

Typed back, a code may differ from the canonical text in case, grouping and
separators, and the digits that the alphabet leaves out because they look like
letters are read as those letters (``0`` as ``O``, ``1`` as ``I``, ``8`` as
``B``): :func:`canonical` gives the canonical text, or None when what was typed
cannot be a code (then it is an ordinary passphrase).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Final

CODE_BITS: Final = 160
CODE_CHARS: Final = CODE_BITS // 5  # 32
GROUP: Final = 4
ALPHABET: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
SEPARATORS: Final = frozenset(" -_.\t")
LOOK_ALIKES: Final = {"0": "O", "1": "I", "8": "B"}


def new_code(rng: Callable[[int], bytes]) -> str:
    """A recovery code in its canonical form, from :data:`CODE_BITS` bits of ``rng``."""
    return _grouped(base64.b32encode(bytes(rng(CODE_BITS // 8))).decode("ascii"))


def canonical(typed: str) -> str | None:
    """The canonical form of a code typed in any case and grouping, or None if
    ``typed`` is not a recovery code."""
    if not typed.isascii():
        return None
    chars = [LOOK_ALIKES.get(c, c) for c in typed.strip().upper() if c not in SEPARATORS]
    if len(chars) != CODE_CHARS or not all(c in ALPHABET for c in chars):
        return None
    return _grouped("".join(chars))


def _grouped(text: str) -> str:
    return "-".join(text[i : i + GROUP] for i in range(0, len(text), GROUP))
