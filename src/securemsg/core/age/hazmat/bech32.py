"""Bech32 (BIP-173, not bech32m) as age uses it: no 90-character limit.

Only what age keys need: ``encode(hrp, data)`` gives lower case (callers upper-case
identities), ``decode(s)`` rejects mixed case, bad checksums and non-zero padding,
and returns the human-readable part in the case it was written in.
"""

from __future__ import annotations

from securemsg.i18n import _

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_REV = {c: i for i, c in enumerate(_CHARSET)}
_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


class Bech32Error(ValueError):
    """The string is not valid bech32."""


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            if (top >> i) & 1:
                chk ^= _GEN[i]
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: bytes | list[int], frombits: int, tobits: int, pad: bool) -> list[int]:
    acc = bits = 0
    out: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or (acc << (tobits - bits)) & maxv:
        raise Bech32Error(_("invalid padding"))
    return out


def encode(hrp: str, data: bytes) -> str:
    """Encode ``data`` under ``hrp``; the result is lower case."""
    hrp = hrp.lower()
    if not hrp or any(not 33 <= ord(c) <= 126 for c in hrp):
        raise Bech32Error(_("invalid human-readable part"))
    values = _convert_bits(data, 8, 5, pad=True)
    poly = _polymod([*_hrp_expand(hrp), *values, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(poly >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[v] for v in values + checksum)


def decode(s: str) -> tuple[str, bytes]:
    """Return ``(hrp, data)``; ``hrp`` keeps the case it was written in."""
    if s.lower() != s and s.upper() != s:
        raise Bech32Error(_("mixed case"))
    pos = s.rfind("1")
    if pos < 1 or pos + 7 > len(s):
        raise Bech32Error(_("separator '1' at invalid position"))
    hrp = s[:pos]
    if any(not 33 <= ord(c) <= 126 for c in hrp):
        raise Bech32Error(_("invalid character in human-readable part"))
    try:
        values = [_REV[c] for c in s[pos + 1 :].lower()]
    except KeyError:
        raise Bech32Error(_("invalid character in data part")) from None
    if _polymod(_hrp_expand(hrp.lower()) + values) != 1:
        raise Bech32Error(_("invalid checksum"))
    return hrp, bytes(_convert_bits(values[:-6], 5, 8, pad=False))
