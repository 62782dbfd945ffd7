"""compose.envelopes (the sender's path: every envelope of a letter from one
read of each attachment) writes each envelope byte for byte as the one-envelope
writer of tests/reference.py does, and reads each item once. (Speed is measured by benchmarks/.)"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from letterworld import World

import reference
from securemsg.core.domains import Domain
from securemsg.core.letter import compose
from securemsg.core.letter.container import OutItem

M, N = Domain.MEDICAL, Domain.NURSING


def counter_rng(seed: bytes) -> Callable[[int], bytes]:
    state = {"i": 0}

    def rng(n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256(seed + state["i"].to_bytes(8, "big")).digest()
            state["i"] += 1
        return out[:n]

    return rng


def test_envelopes_match_envelope_and_read_each_item_once(world: World) -> None:
    big = bytes(range(256)) * 1100  # several STREAM chunks, odd offsets
    planned = world.plan(
        to=(("card", frozenset({M, N})), ("nurse", frozenset({N}))),
        attachments=[("scan.pdf", M, big), ("care.txt", N, b"dressing daily\n" * 9000)],
    )
    reads: dict[int, int] = {}

    def counted(out: OutItem) -> OutItem:
        inner = out.content

        def content() -> Iterable[bytes]:
            reads[out.n] = reads.get(out.n, 0) + 1
            data = b"".join(inner())
            yield from (data[i : i + 70_001] for i in range(0, len(data), 70_001))

        return OutItem(out.n, out.salt, out.name, out.size, content)

    planned = compose.Planned(
        planned.manifest, tuple((item, counted(out)) for item, out in planned.items)
    )
    consent = world.path("consent.cose").read_bytes()
    pcard = world.card("pat").encoded
    targets = [
        (world.card("card"), frozenset({M, N})),
        (world.card("nurse"), frozenset({N})),
        (world.card("gp"), frozenset({M, N})),
    ]
    sealings, plaintext = compose.envelopes(
        planned, world.secret("gp"), targets, consent, pcard, counter_rng(b"x")
    )
    got = [[s.header, s.nonce] for s in sealings]
    for who, piece in plaintext:
        for k in who:
            got[k].append(bytes(sealings[k].encryptor.feed(piece)))
    for k, s in enumerate(sealings):
        got[k].append(s.encryptor.finalize())
    assert all(n == 1 for n in reads.values()) and len(reads) == len(planned.items)

    rng = counter_rng(b"x")  # the same draws, envelope after envelope
    for k, (card, domains) in enumerate(targets):
        one = reference.envelope(planned, world.secret("gp"), card, domains, consent, pcard, rng)
        assert b"".join(got[k]) == b"".join(one)
