"""Seeded mutators of the subprocess fuzzer (fuzz/subprocess_fuzz.py).

Three kinds of attacker, three kinds of mutant:

- :func:`mutate_bytes`: anyone with write access to the drop folder, no key: a few
  random edits of the bytes (bit flips, interesting bytes, inserts, deletes,
  duplicated or swapped ranges, truncation, garbage, splices of another input);
- :class:`LetterKit.sealed`: anyone who has the recipient's public card (everyone):
  the plaintext records of a letter mutated, then encrypted to the recipient under a
  fresh age header, so the container parser and the COSE readers behind the age
  layer see the mutation (the binding no longer matches: a refusal, late);
- :class:`LetterKit.signed` and :func:`resign`: a correspondent with a valid key:
  the payload of a signed object (manifest, item heads, consent, card) mutated as
  CBOR values and signed again, with a fresh binding for the new header, so the
  payload readers behind the signature see it. Such a letter may be accepted: it
  is a letter its author could send; only a crash is a failure.

Every mutant is a function of ``random.Random(seed)``'s state: a run is repeatable.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cbor2

from securemsg.core import age, cbor, cose
from securemsg.core.age.hazmat.file import build_header, new_file_key, new_payload_nonce
from securemsg.core.age.hazmat.stream import StreamEncryptor
from securemsg.core.fingerprint import fingerprint
from securemsg.core.identity import SecretIdentity
from securemsg.core.letter.container import BINDING, ITEM_HEAD, MANIFEST, record_head
from securemsg.core.letter.proofs import Binding

INTERESTING_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFF, 0x1B, 0x0A, 0xA0, 0xBF, 0xF6, 0xF7)
INTERESTING: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    -1,
    1,
    255,
    2**31,
    2**63,
    2**64 - 1,
    -(2**64),
    2**100,
    1.5,
    math.nan,
    math.inf,
    "",
    "\x1b]0;pwned\x07",
    "\x1b[2J\x1b[H",
    "\u202eevil",
    "\x00",
    "\ud7ff\U0010ffff",
    "a" * 5000,
    b"",
    b"\x00" * 20,
    b"\xff" * 32,
    [],
    {},
    [[[[[]]]]],
    {"v": 1},
    cbor2.CBORTag(24, b"\x00"),
    cbor2.CBORTag(1, 0),
)
WORDS = (b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff", b"\x00\x00\x00\x01")
KEYS = ("v", "id", "fp", "n", "name", "salt", "items", "domain", "digest", "size", "kind", "to")


def mutate_bytes(rng: random.Random, data: bytes, pool: Sequence[bytes] = ()) -> bytes:
    """One to eight random edits of ``data``; never ``data`` itself."""
    out = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 5, 8))):
        n = len(out)
        op = rng.randrange(10)
        if n == 0 or op == 0:
            a = rng.randint(0, n)
            out[a:a] = rng.randbytes(rng.choice((1, 2, 4, 16, 99)))
        elif op == 1:
            out[rng.randrange(n)] ^= 1 << rng.randrange(8)
        elif op == 2:
            out[rng.randrange(n)] = rng.choice(INTERESTING_BYTES)
        elif op == 3:
            a = rng.randrange(n)
            del out[a : a + rng.choice((1, 2, 8, 100, 70000))]
        elif op == 4:
            a = rng.randrange(n)
            out[a:a] = out[a : a + rng.choice((1, 8, 64, 1000, 65552))]
        elif op == 5:
            del out[rng.randrange(n) :]
        elif op == 6:
            out += rng.randbytes(rng.choice((1, 16, 300)))
        elif op == 7:
            a, b = sorted(rng.sample(range(n + 1), 2)) if n > 1 else (0, n)
            out[a:b] = bytes(out[a:b])[::-1]
        elif op == 8 and pool:
            other = rng.choice(pool)
            a, b = rng.randrange(n), rng.randrange(len(other) + 1)
            out[a:] = other[b:]
        else:
            a = rng.randrange(n)
            out[a : a + 4] = rng.choice(WORDS)  # a length or a count, maybe
    if out == data:  # edits that undid themselves: a mutant is never the original
        if out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        else:
            out.append(rng.randrange(256))
    return bytes(out)


def mutate_value(rng: random.Random, value: Any, depth: int = 0) -> Any:
    """A CBOR value with one random change somewhere inside it."""
    if isinstance(value, dict) and value and depth < 6:
        out = dict(value)
        key = rng.choice(list(out))
        op = rng.randrange(5)
        if op == 0:
            del out[key]
        elif op == 1:
            out[rng.choice((*KEYS, "zz", 7, b"k"))] = rng.choice(INTERESTING)
        elif op == 2:
            out[key] = rng.choice(INTERESTING)
        else:
            out[key] = mutate_value(rng, out[key], depth + 1)
        return out
    if isinstance(value, list) and value and depth < 6:
        out_list = list(value)
        i = rng.randrange(len(out_list))
        op = rng.randrange(5)
        if op == 0:
            del out_list[i]
        elif op == 1:
            out_list.insert(i, out_list[i])
        elif op == 2:
            out_list[i] = rng.choice(INTERESTING)
        else:
            out_list[i] = mutate_value(rng, out_list[i], depth + 1)
        return out_list
    if isinstance(value, bytes) and value and rng.random() < 0.5:
        return mutate_bytes(rng, value)
    if isinstance(value, str) and value and rng.random() < 0.5:
        return value + rng.choice(("\x1b[31m", "\u200b", "\x00", "é", "\ufeff", "x" * 300))
    if isinstance(value, int) and not isinstance(value, bool) and rng.random() < 0.5:
        return value + rng.choice((-1, 1, 2**32, -(2**40)))
    return rng.choice(INTERESTING)


def mutate_payload(rng: random.Random, payload: bytes) -> bytes:
    """A signed object's payload: as a CBOR value mostly, else as bytes."""
    if rng.random() < 0.8:
        try:
            return cbor.dumps(mutate_value(rng, cbor2.loads(payload)))
        except Exception:  # noqa: S110 - a value canonical CBOR cannot hold: mutate the bytes
            pass
    return mutate_bytes(rng, payload)


def resign(rng: random.Random, data: bytes, secret: SecretIdentity) -> bytes:
    """``data`` (a COSE_Sign1) with its payload mutated and signed again by ``secret``."""
    obj = cose.parse(data)
    kid = fingerprint(secret.sign_public) if rng.random() < 0.9 else obj.kid
    return cose.sign(secret.signing_key, obj.object_type, kid, mutate_payload(rng, obj.payload))


def records(plaintext: bytes) -> list[tuple[int, bytes]]:
    """A letter's plaintext as (type, body) records (core/letter/container.py)."""
    out, i = [], 0
    while i + 9 <= len(plaintext):
        rtype, size = plaintext[i], int.from_bytes(plaintext[i + 1 : i + 9], "big")
        out.append((rtype, plaintext[i + 9 : i + 9 + size]))
        i += 9 + size
    return out


def join(recs: Sequence[tuple[int, bytes]]) -> bytes:
    return b"".join(record_head(t, len(b)) + b for t, b in recs)


@dataclass(frozen=True)
class LetterKit:
    """A real letter (``envelope``, addressed to ``recipient``, written by ``author``)
    and what it takes to make mutants of it. ``recipient`` opens the seed only."""

    envelope: bytes
    recipient: SecretIdentity
    recipient_fp: str
    author: SecretIdentity

    def plaintext(self) -> bytes:
        out = io.BytesIO()
        identity = age.X25519Identity.from_bytes(self.recipient.enc_secret)
        age.decrypt([identity], io.BytesIO(self.envelope), out)
        return out.getvalue()

    def _seal(self, plaintext: bytes, rebind: Callable[[bytes], bytes] | None = None) -> bytes:
        public = age.X25519Identity.from_bytes(self.recipient.enc_secret).recipient
        file_key = new_file_key()
        header = build_header(file_key, [public])
        if rebind is not None:
            plaintext = rebind(header)
        nonce = new_payload_nonce()
        enc = StreamEncryptor(file_key, nonce)
        return header + nonce + bytes(enc.feed(plaintext)) + bytes(enc.finalize())

    def sealed(self, rng: random.Random, plaintext: bytes) -> bytes:
        """The plaintext mutated (mostly in its records before the first item body,
        where the parsers are), encrypted to the recipient under a fresh header."""
        cut = len(join(records(plaintext)[:3])) if rng.random() < 0.7 else len(plaintext)
        return self._seal(mutate_bytes(rng, plaintext[:cut]) + plaintext[cut:])

    def signed(self, rng: random.Random, plaintext: bytes) -> bytes:
        """As the author: the manifest's payload or an item head mutated as CBOR and
        signed again, or the records reordered; the binding signed for the new header."""
        recs = records(plaintext)
        op = rng.randrange(4)
        if op == 0 or len(recs) < 3:
            recs = [(t, resign(rng, b, self.author) if t == MANIFEST else b) for t, b in recs]
        elif op == 1:
            heads = [i for i, (t, _) in enumerate(recs) if t == ITEM_HEAD]
            if heads:
                i = rng.choice(heads)
                recs[i] = (ITEM_HEAD, mutate_payload(rng, recs[i][1]))
        elif op == 2:
            i, j = rng.randrange(len(recs)), rng.randrange(len(recs))
            recs[i], recs[j] = recs[j], recs[i]
        else:
            i = rng.randrange(len(recs))
            recs.insert(i, recs[i]) if rng.random() < 0.5 else recs.pop(i)
        manifest = next((b for t, b in recs if t == MANIFEST), b"")

        def rebind(header: bytes) -> bytes:
            binding = Binding.sign(self.author, manifest, header, self.recipient_fp).encoded
            return join([(t, binding if t == BINDING else b) for t, b in recs])

        return self._seal(b"", rebind)
