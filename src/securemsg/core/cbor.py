"""Canonical CBOR for signed payloads: length-first map keys (RFC 8949 §4.2.3; docs/format.md).

Decoding is strict: the input must be at most ``max_size`` bytes, must decode
without error, and must re-encode to exactly the same bytes. So one value has
exactly one encoding and a signature cannot be replayed over a different byte
string that decodes to the same value.

Of CBOR's major type 7 only ``false``, ``true`` and ``null`` are accepted:
securemsg's formats hold no floating-point number (so ``1.0`` can never stand
where the integer ``1`` is required) and no ``undefined`` or other simple value
(docs/format.md §1). ``true`` is refused where an integer is required by the
readers of each field (``type(x) is int``: in Python ``True == 1``).
"""

from __future__ import annotations

from typing import Any

import cbor2

from securemsg.errors import FormatError
from securemsg.i18n import _

MAX_OBJECT = 1 << 20  # 1 MiB: no signed object of ours is near this.
MAX_DEPTH = 16


def dumps(value: Any) -> bytes:
    return bytes(cbor2.dumps(value, canonical=True))


def loads(data: bytes, what: str, max_size: int = MAX_OBJECT) -> Any:
    if len(data) > max_size:
        raise FormatError(
            _("{what}: {count} bytes is larger than the {max_size} allowed").format(
                what=_(what), count=len(data), max_size=max_size
            )
        )
    _scan(data, what)
    try:
        value = cbor2.loads(data)
    except Exception as exc:  # cbor2 raises many types on hostile input
        raise FormatError(
            _("{what}: not valid CBOR ({name})").format(what=_(what), name=type(exc).__name__)
        ) from exc
    try:
        again = dumps(value)
    except Exception as exc:
        raise FormatError(
            _("{what}: CBOR holds values we do not accept").format(what=_(what))
        ) from exc
    if again != data:
        raise FormatError(_("{what}: CBOR is not in canonical form").format(what=_(what)))
    return value


# Major type 7: additional information 20, 21, 22 are false, true, null; 25, 26,
# 27 are floats; 28-30 are reserved and 31 is "break" (cbor2 and the canonical
# check refuse those).
_SIMPLE_ACCEPTED = frozenset({20, 21, 22})


def _scan(data: bytes, what: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH, floating-point numbers and simple
    values other than false/true/null, before handing bytes to cbor2.

    A linear scan over the CBOR item heads; only arrays, maps and tags nest.
    """
    stack: list[int] = []  # remaining items per open container
    pos = 0
    n = len(data)
    items_left = 1
    while items_left or stack:
        if items_left == 0:
            items_left = stack.pop()
            continue
        if pos >= n:
            return  # truncated: let cbor2 report it
        ib = data[pos]
        major, info = ib >> 5, ib & 0x1F
        pos += 1
        if major == 7 and info < 28 and info not in _SIMPLE_ACCEPTED:
            kind = _("a floating-point number") if 25 <= info <= 27 else _("a simple value")
            raise FormatError(
                _(
                    "{what}: CBOR holds {kind}; securemsg's formats have only integers, "
                    "text, bytes, arrays, maps, false, true and null"
                ).format(what=_(what), kind=kind)
            )
        if info < 24:
            arg = info
        elif info <= 27:
            size = 1 << (info - 24)
            if pos + size > n:
                return
            arg = int.from_bytes(data[pos : pos + size], "big")
            pos += size
        else:
            return  # indefinite lengths and reserved values: cbor2 + canonical check refuse
        items_left -= 1
        if major in (2, 3):
            pos += arg
        elif major in (4, 5, 6):
            count = arg * 2 if major == 5 else (1 if major == 6 else arg)
            if count > n:
                raise FormatError(
                    _("{what}: CBOR announces more items than it has bytes").format(what=_(what))
                )
            stack.append(items_left)
            if len(stack) > MAX_DEPTH:
                raise FormatError(
                    _("{what}: CBOR nested deeper than {MAX_DEPTH} levels").format(
                        what=_(what), MAX_DEPTH=MAX_DEPTH
                    )
                )
            items_left = count
