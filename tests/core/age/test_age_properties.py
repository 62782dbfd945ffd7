"""Hypothesis properties: round-trips of STREAM, armor and header, and that any
single mutation of an encrypted file is rejected without releasing anything but a
prefix of the true plaintext."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import tamper
from reference import RefStreamDecryptor, RefStreamEncryptor, armor_decode, armor_encode
from securemsg.core import age
from securemsg.core.age.hazmat import armor, header, stream

CHUNK = stream.CHUNK_SIZE
IDENTITY = age.X25519Identity(hashlib.sha256(b"property identity").digest())
OTHER = age.X25519Identity(hashlib.sha256(b"other identity").digest())

# Sizes that straddle the chunk boundaries, where the bugs live.
sizes = st.one_of(
    st.integers(0, 300),
    st.sampled_from([CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 1]),
    st.integers(0, 3 * CHUNK + 17),
)


def _data(size: int, seed: int) -> bytes:
    block = hashlib.sha256(seed.to_bytes(8, "big")).digest()
    return (block * (size // 32 + 1))[:size]


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for p in [*points, len(data)]:
        pieces.append(data[last:p])
        last = p
    return pieces


@settings(max_examples=60, deadline=None)
@given(size=sizes, seed=st.integers(0, 2**32), cuts=st.lists(st.integers(0, 10**6), max_size=6))
def test_stream_round_trip_any_split(size: int, seed: int, cuts: list[int]) -> None:
    pt = _data(size, seed)
    key, nonce = _data(16, seed + 1), _data(16, seed + 2)
    enc = stream.StreamEncryptor(key, nonce)
    ct = b"".join(enc.feed(p) for p in _split(pt, cuts)) + enc.finalize()
    whole = RefStreamEncryptor(key, nonce)
    assert ct == whole.update(pt) + whole.finalize()
    dec = stream.StreamDecryptor(key, nonce)
    out: list[bytes] = [bytes(dec.feed(piece)) for piece in _split(ct, cuts)]
    assert all(len(c) % CHUNK == 0 for c in out)  # whole chunks only, until the last
    out.append(bytes(dec.finalize()))
    assert b"".join(out) == pt
    ref = RefStreamDecryptor(key, nonce)
    chunks: list[bytes] = []
    for piece in _split(ct, cuts):
        chunks += ref.update(piece)
    chunks += ref.finalize()
    assert b"".join(chunks) == pt
    assert all(len(c) <= CHUNK for c in chunks)


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=2000), cuts=st.lists(st.integers(0, 10**6), max_size=6))
def test_armor_round_trip(data: bytes, cuts: list[int]) -> None:
    text = armor_encode(data)
    assert armor_decode(text) == data
    sink = io.BytesIO()
    writer = armor.ArmorWriter(sink)
    for piece in _split(data, cuts):
        writer.write(piece)
    writer.close()
    assert sink.getvalue() == text
    # CRLF line endings are accepted too.
    assert armor_decode(text.replace(b"\n", b"\r\n")) == data
    reader = armor.ArmorReader(io.BytesIO(text))
    got = b"".join(iter(lambda: reader.read(7), b""))
    assert got == data


@settings(max_examples=200, deadline=None)
@given(data=st.binary(min_size=1, max_size=300), index=st.integers(0, 10**6), bit=st.integers(0, 7))
def test_armor_is_canonical_under_bit_flips(data: bytes, index: int, bit: int) -> None:
    """Armor is an encoding, not a MAC: a flip may decode to other data, but only if
    the flipped text is itself the one canonical armoring of that data."""
    text = armor_encode(data)
    mutated = tamper.flip(text, index % len(text), 1 << bit)
    try:
        decoded = armor_decode(mutated)
    except age.ArmorError:
        return
    assert armor_encode(decoded).strip() == mutated.strip()


vchar = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1)
stanzas = st.builds(
    header.Stanza,
    type=vchar,
    args=st.lists(vchar, max_size=4).map(tuple),
    body=st.binary(max_size=200),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(stanzas, max_size=5), st.binary(min_size=32, max_size=32), st.binary(max_size=40))
def test_header_encode_parse_round_trip(
    items: list[header.Stanza], mac: bytes, payload: bytes
) -> None:
    h = header.Header(tuple(items), mac)
    raw = h.encode()
    src = io.BytesIO(raw + payload)
    parsed, parsed_raw = header.parse(src)
    assert parsed == h and parsed_raw == raw
    assert src.read() == payload  # the parser never reads past the header


@settings(max_examples=100, deadline=None)
@given(st.lists(stanzas, min_size=1, max_size=3), st.integers(0, 10**6), st.integers(0, 7))
def test_header_mutation_is_rejected_or_canonical(
    items: list[header.Stanza], index: int, bit: int
) -> None:
    raw = header.Header(tuple(items), bytes(32)).encode()
    mutated = tamper.flip(raw, index % len(raw), 1 << bit)
    try:
        parsed, parsed_raw = header.parse(io.BytesIO(mutated))
    except age.HeaderError:
        return
    # If it still parses, it parses to exactly what it is: no two encodings of one header.
    assert parsed.encode() == parsed_raw == mutated[: len(parsed_raw)]


# -- any single mutation of a whole encrypted file is rejected -------------------


def _encrypt(size: int, seed: int, armored: bool) -> tuple[bytes, bytes]:
    pt = _data(size, seed)
    out = io.BytesIO()
    age.encrypt([OTHER.recipient, IDENTITY.recipient], pt, out, armor=armored)
    return pt, out.getvalue()


def _decrypt(blob: bytes) -> tuple[bytes, Exception | None]:
    out = io.BytesIO()
    try:
        age.decrypt([IDENTITY], io.BytesIO(blob), out)
    except age.AgeError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


mutations = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**7), st.integers(0, 7)),
    st.tuples(st.just("truncate"), st.integers(0, 10**7), st.just(0)),
    st.tuples(st.just("extend"), st.binary(min_size=1, max_size=20), st.just(0)),
    st.tuples(st.just("duplicate"), st.integers(0, 10**7), st.integers(1, CHUNK + 40)),
    st.tuples(st.just("delete"), st.integers(0, 10**7), st.integers(1, CHUNK + 40)),
    st.tuples(st.just("swap"), st.integers(0, 10**7), st.integers(1, CHUNK + 40)),
)


def _mutate(blob: bytes, how: tuple[str, object, object]) -> bytes:
    kind, a, b = how
    n = len(blob)
    if kind == "flip":
        return tamper.flip(blob, int(a) % n, 1 << int(b))  # type: ignore[call-overload]
    if kind == "truncate":
        return tamper.truncate(blob, int(a) % n)  # type: ignore[call-overload]
    if kind == "extend":
        return tamper.append(blob, a)  # type: ignore[arg-type]
    start = int(a) % n  # type: ignore[call-overload]
    length = min(int(b), n - start)  # type: ignore[call-overload]
    if kind == "duplicate":
        return tamper.duplicate(blob, start, start + length)
    if kind == "delete":
        return tamper.delete(blob, start, start + length)
    other = (start + length + int(a) // 7) % n  # type: ignore[call-overload]
    span = min(length, abs(other - start))
    try:
        return tamper.swap(blob, (start, start + span), (other, other + span))
    except IndexError:  # ranges empty, overlapping or outside the data
        assume(False)
        raise


@pytest.mark.parametrize("armored", [False, True], ids=["binary", "armored"])
@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(size=sizes, seed=st.integers(0, 2**16), how=mutations)
def test_any_single_mutation_is_rejected(
    armored: bool, size: int, seed: int, how: tuple[str, object, object]
) -> None:
    pt, blob = _encrypt(size, seed, armored)
    mutated = _mutate(blob, how)
    assume(mutated != blob)
    released, error = _decrypt(mutated)
    if armored and error is None:
        # Only whitespace around the armor block may change without consequence.
        assert mutated.strip() == blob.strip() and released == pt
        return
    assert error is not None, f"mutation {how[0]} accepted"
    # Whatever was released before the error is authentic: a prefix of the plaintext.
    assert pt.startswith(released)
    assert len(released) % CHUNK == 0 or released == pt


@settings(max_examples=60, deadline=None)
@given(size=sizes, seed=st.integers(0, 2**32), cuts=st.lists(st.integers(0, 10**6), max_size=6))
def test_stream_feed_is_the_reference_without_copies(size: int, seed: int, cuts: list[int]) -> None:
    """feed() (sealing straight into new buffers, the only path) gives the same
    ciphertext as the reference, chunk at a time, whatever the pieces."""
    pt = _data(size, seed)
    key, nonce = _data(16, seed + 1), _data(16, seed + 2)
    fed = stream.StreamEncryptor(key, nonce)
    ct = b"".join(bytes(fed.feed(p)) for p in _split(pt, cuts)) + fed.finalize()
    whole = RefStreamEncryptor(key, nonce)
    assert ct == whole.update(pt) + whole.finalize()


def _run_decryptor(feed: Any, finalize: Any, pieces: list[bytes]) -> tuple[bytes, str | None]:
    out = bytearray()
    try:
        for piece in pieces:
            got = feed(piece)
            out += b"".join(got) if isinstance(got, list) else got
        got = finalize()
        out += b"".join(got) if isinstance(got, list) else got
    except age.PayloadError as exc:
        return bytes(out), exc.message
    return bytes(out), None


@settings(max_examples=80, deadline=None)
@given(
    size=sizes,
    seed=st.integers(0, 2**16),
    how=mutations,
    cuts=st.lists(st.integers(0, 10**6), max_size=6),
)
def test_stream_decryptor_is_the_reference_under_mutation(
    size: int, seed: int, how: tuple[str, object, object], cuts: list[int]
) -> None:
    """For a tampered, truncated or extended payload fed in any pieces, feed()
    releases exactly what the reference releases, and fails with the same error."""
    pt = _data(size, seed)
    key, nonce = _data(16, seed + 1), _data(16, seed + 2)
    enc = RefStreamEncryptor(key, nonce)
    ct = _mutate(enc.update(pt) + enc.finalize(), how)
    pieces = _split(ct, cuts)
    dec = stream.StreamDecryptor(key, nonce)
    ref = RefStreamDecryptor(key, nonce)
    got = _run_decryptor(dec.feed, dec.finalize, pieces)
    assert got == _run_decryptor(ref.update, ref.finalize, pieces)
    assert pt.startswith(got[0])
