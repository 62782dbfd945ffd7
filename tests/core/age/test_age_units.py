"""Unit tests of the age pieces: keys, bech32, header limits, stanza rules, armor
bounds, and the composed API's contracts."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from reference import armor_decode, armor_encode, decrypt_stream
from securemsg.core import age
from securemsg.core.age.hazmat import armor, bech32, header, stream, x25519
from securemsg.core.age.hazmat.file import build_header, new_file_key, read_header, unwrap_file_key
from securemsg.errors import FormatError

# The CCTV vectors' public test identity, kept with the other public test keys.
CCTV_IDENTITY = next(
    line
    for line in (Path(__file__).parents[3] / "keys" / "age-cctv.agekey").read_text().splitlines()
    if line.startswith("AGE-SECRET-KEY-1")
)
CCTV_RECIPIENT = "age1xmwwc06ly3ee5rytxm9mflaz2u56jjj36s0mypdrwsvlul66mv4q47ryef"  # age-keygen -y


def counter_rng(seed: int = 0):  # type: ignore[no-untyped-def]
    state = {"n": seed}

    def rng(n: int) -> bytes:
        out = bytes((state["n"] + i) % 256 for i in range(n))
        state["n"] += n
        return out

    return rng


# -- keys and bech32 ------------------------------------------------------------


def test_identity_round_trip_and_recipient() -> None:
    ident = age.X25519Identity.parse(CCTV_IDENTITY)
    assert str(ident) == CCTV_IDENTITY
    assert str(ident.recipient) == CCTV_RECIPIENT
    assert age.X25519Recipient.parse(CCTV_RECIPIENT) == ident.recipient
    assert age.X25519Identity.from_bytes(bytes(ident)) == ident
    rec = ident.recipient
    assert age.X25519Recipient.from_bytes(bytes(rec)) == rec


def test_identity_never_shows_its_secret() -> None:
    ident = age.X25519Identity.parse(CCTV_IDENTITY)
    for text in (repr(ident), repr([ident]), f"{ident!r}"):
        assert "REDACTED" in text
        assert CCTV_IDENTITY[20:40] not in text and bytes(ident).hex() not in text


def test_generate_uses_rng() -> None:
    ident = age.X25519Identity.generate(lambda n: b"\x07" * n)
    assert bytes(ident) == b"\x07" * 32


@pytest.mark.parametrize(
    "text",
    [
        CCTV_IDENTITY.lower(),  # identities are upper case
        CCTV_IDENTITY[:-1] + "1",  # bad checksum
        CCTV_IDENTITY[:30] + CCTV_IDENTITY[30:].lower(),  # mixed case
        CCTV_RECIPIENT,  # wrong kind
        "",
    ],
)
def test_identity_parse_rejects(text: str) -> None:
    with pytest.raises(age.KeyFormatError) as info:
        age.X25519Identity.parse(text)
    assert info.value.hint
    assert CCTV_IDENTITY[20:40] not in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        CCTV_RECIPIENT.upper(),  # recipients are lower case
        CCTV_RECIPIENT[:10] + CCTV_RECIPIENT[10:].upper(),  # mixed case
        CCTV_RECIPIENT[:-1] + "q",
        CCTV_IDENTITY,
        bech32.encode("age", bytes(31)),
        bech32.encode("age", bytes(32)),  # the identity point (small order)
    ],
)
def test_recipient_parse_rejects(text: str) -> None:
    with pytest.raises(age.KeyFormatError):
        age.X25519Recipient.parse(text)


def test_bech32_no_length_limit_and_bip173_vector() -> None:
    long = bech32.encode("x", bytes(range(256)))
    assert len(long) > 90
    assert bech32.decode(long) == ("x", bytes(range(256)))
    # BIP-173 valid test vector (not bech32m).
    assert bech32.decode("A12UEL5L") == ("A", b"")
    with pytest.raises(bech32.Bech32Error):
        bech32.decode("a12uel5L")


def test_errors_are_format_errors_with_hints() -> None:
    for cls in (
        age.HeaderError,
        age.NoIdentityMatchError,
        age.HMACError,
        age.PayloadError,
        age.ArmorError,
    ):
        err = cls("x")
        assert isinstance(err, FormatError) and isinstance(err, age.AgeError)
        assert err.hint and err.exit_code == 3


# -- header ---------------------------------------------------------------------


def _header_with(stanzas: list[bytes]) -> bytes:
    return header.VERSION_LINE + b"".join(stanzas) + b"--- " + b"A" * 43 + b"\n"


def test_header_limits_stanza_count() -> None:
    one = b"-> a\n\n"
    ok = _header_with([one] * header.MAX_STANZAS)
    parsed, raw = header.parse(io.BytesIO(ok))
    assert len(parsed.stanzas) == header.MAX_STANZAS and raw == ok
    with pytest.raises(age.HeaderError, match="too many stanzas"):
        header.parse(io.BytesIO(_header_with([one] * (header.MAX_STANZAS + 1))))


def test_header_limits_size_and_line_length() -> None:
    long_arg = b"-> " + b"a" * (header.MAX_LINE_SIZE + 10) + b"\n\n"
    with pytest.raises(age.HeaderError, match="too large"):
        header.parse(io.BytesIO(_header_with([long_arg])))
    # Many legal stanzas whose total passes 1 MiB.
    body = b"A" * 64 + b"\n"
    big = b"-> a\n" + body * 2000 + b"\n"
    with pytest.raises(age.HeaderError, match="too large"):
        header.parse(io.BytesIO(_header_with([big] * 10)))


def test_header_huge_garbage_fails_fast() -> None:
    garbage = io.BytesIO(header.VERSION_LINE + b"x" * (64 << 20))
    start = time.perf_counter()
    with pytest.raises(age.HeaderError):
        header.parse(garbage)
    assert garbage.tell() <= len(header.VERSION_LINE) + header.MAX_HEADER_SIZE + 1
    assert time.perf_counter() - start < 2


def test_header_parser_stops_at_the_mac_line(alice: age.X25519Identity) -> None:
    key = new_file_key()
    hb = build_header(key, [alice.recipient])
    src = io.BytesIO(hb + b"PAYLOAD")
    _parsed, raw = read_header(src)
    assert raw == hb and src.read() == b"PAYLOAD"
    assert header.header_mac_input(hb) == hb[: hb.rindex(b"---") + 3]


def test_stanza_constructor_refuses_invalid_args() -> None:
    with pytest.raises(age.HeaderError):
        header.Stanza("a b", (), b"")
    with pytest.raises(age.HeaderError):
        header.Stanza("a", ("",), b"")
    with pytest.raises(age.HeaderError):
        header.Stanza("é", (), b"")


# -- X25519 stanza and the composed unwrap ----------------------------------------


def test_unwrap_ignores_foreign_stanzas_and_finds_ours(
    alice: age.X25519Identity, bob: age.X25519Identity
) -> None:
    key = new_file_key()
    stanza = x25519.wrap(key, alice.recipient)
    assert x25519.unwrap(stanza, alice) == key
    assert x25519.unwrap(stanza, bob) is None
    assert x25519.unwrap(header.Stanza("other", ("x",), b"y"), alice) is None


def test_unwrap_file_key_errors(alice: age.X25519Identity, bob: age.X25519Identity) -> None:
    key = new_file_key()
    hb = build_header(key, [alice.recipient])
    parsed, raw = read_header(io.BytesIO(hb))
    assert unwrap_file_key(parsed, raw, [bob, alice]) == key
    with pytest.raises(age.NoIdentityMatchError):
        unwrap_file_key(parsed, raw, [bob])
    with pytest.raises(age.NoIdentityMatchError):
        unwrap_file_key(parsed, raw, [])
    # Header bytes that are not the header given: refused, not silently trusted.
    other = build_header(key, [alice.recipient])
    with pytest.raises(age.HeaderError):
        unwrap_file_key(parsed, other, [alice])
    # Same stanzas, wrong MAC.
    forged = header.Header(parsed.stanzas, bytes(32))
    with pytest.raises(age.HMACError):
        unwrap_file_key(forged, forged.encode(), [alice])


def test_build_header_requires_recipients() -> None:
    with pytest.raises(ValueError):
        build_header(new_file_key(), [])


def test_error_messages_do_not_say_which_stanza(
    alice: age.X25519Identity, bob: age.X25519Identity
) -> None:
    key = new_file_key()
    hb = build_header(key, [alice.recipient, alice.recipient, alice.recipient])
    parsed, raw = read_header(io.BytesIO(hb))
    with pytest.raises(age.NoIdentityMatchError) as info:
        unwrap_file_key(parsed, raw, [bob])
    assert not any(ch.isdigit() for ch in str(info.value))


# -- stream -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "size",
    [0, 1, stream.CHUNK_SIZE - 1, stream.CHUNK_SIZE, stream.CHUNK_SIZE + 1, 3 * stream.CHUNK_SIZE],
)
def test_stream_chunking_matches_spec(size: int) -> None:
    key, nonce = bytes(16), bytes(16)
    enc = stream.StreamEncryptor(key, nonce)
    ct = enc.feed(b"\x01" * size) + enc.finalize()
    full, rest = divmod(size, stream.CHUNK_SIZE)
    chunks = full + (1 if rest or size == 0 else 0)
    assert len(ct) == size + stream.TAG_SIZE * chunks
    dec = stream.StreamDecryptor(key, nonce)
    assert dec.feed(ct) + dec.finalize() == b"\x01" * size


def test_stream_error_is_sticky_and_released_chunks_survive() -> None:
    key, nonce = bytes(16), bytes(16)
    enc = stream.StreamEncryptor(key, nonce)
    pt = bytes(range(256)) * 1024  # 4 chunks
    ct = bytearray(enc.feed(pt) + enc.finalize())
    ct[stream.ENC_CHUNK_SIZE + 5] ^= 1  # corrupt the second chunk
    dec = stream.StreamDecryptor(key, nonce)
    released = dec.feed(bytes(ct))
    assert released == pt[: stream.CHUNK_SIZE]
    with pytest.raises(age.PayloadError):
        dec.finalize()
    with pytest.raises(age.PayloadError):
        dec.feed(b"x")


def test_nonce_truncation_is_a_header_failure() -> None:
    with pytest.raises(age.HeaderError):
        list(decrypt_stream(bytes(16), io.BytesIO(bytes(15))))


# -- armor ------------------------------------------------------------------------


def test_armor_huge_line_fails_fast() -> None:
    src = io.BytesIO(armor.BEGIN + b"\n" + b"A" * (64 << 20))
    start = time.perf_counter()
    with pytest.raises(age.ArmorError, match="too long"):
        armor.ArmorReader(src).read()
    assert time.perf_counter() - start < 2
    assert src.tell() < 1 << 20


def test_armor_huge_leading_whitespace_is_refused() -> None:
    with pytest.raises(age.ArmorError):
        armor_decode(b"\n" * 5000 + armor_encode(b"x"))
    with pytest.raises(age.ArmorError):
        armor_decode(armor_encode(b"x") + b" " * 5000)
    assert armor_decode(b"\n \t\r\n" + armor_encode(b"x") + b"\r\n\n") == b"x"


def test_armor_line_layout() -> None:
    text = armor_encode(bytes(48 * 2 + 1))
    lines = text.split(b"\n")
    assert lines[0] == armor.BEGIN and lines[-2] == armor.END and lines[-1] == b""
    assert [len(x) for x in lines[1:-2]] == [64, 64, 4]
    assert armor_encode(b"") == armor.BEGIN + b"\n" + armor.END + b"\n"


def test_armor_autodetect(alice: age.X25519Identity) -> None:
    for armored in (False, True):
        out = io.BytesIO()
        age.encrypt([alice.recipient], b"hi", out, armor=armored)
        data = out.getvalue()
        assert data.startswith(armor.BEGIN) == armored
        plain = io.BytesIO()
        age.decrypt([alice], io.BytesIO(b"\n  " + data if armored else data), plain)
        assert plain.getvalue() == b"hi"


@pytest.mark.parametrize("eol", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_armor_large_block_decodes_in_bounded_pieces(eol: bytes) -> None:
    data = bytes(range(256)) * 4000 + b"tail"  # about 1 MB, many 1024-line blocks
    text = armor_encode(data).replace(b"\n", eol)
    reader = armor.ArmorReader(io.BytesIO(text))
    pieces = list(iter(lambda: reader.read(stream.ENC_CHUNK_SIZE), b""))
    assert b"".join(pieces) == data
    assert max(len(p) for p in pieces) <= stream.ENC_CHUNK_SIZE
    # A bad character deep inside a run of full lines is still found.
    bad = bytearray(text)
    bad[len(text) // 2] = ord("*")
    with pytest.raises(age.ArmorError):
        armor_decode(bytes(bad))
