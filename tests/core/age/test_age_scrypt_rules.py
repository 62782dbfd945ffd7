"""The scrypt stanza rules that need no passphrase (hazmat/scrypt.py), without
the CCTV vectors directory: an scrypt stanza is alone in its header and well
formed, else the header is refused (``HeaderError``, "header failure") before
any identity is tried and before the MAC; a lone, well-formed scrypt stanza is
"no match"; an unknown type ("Scrypt") beside X25519 still decrypts.
"""

from __future__ import annotations

import io

import pytest

from securemsg.core import age
from securemsg.core.age.hazmat import x25519
from securemsg.core.age.hazmat.file import new_file_key, read_header, unwrap_file_key
from securemsg.core.age.hazmat.header import (
    Header,
    Stanza,
    b64encode_raw,
    compute_mac,
    encode_without_mac,
)
from securemsg.core.age.hazmat.stream import StreamEncryptor

ME = age.X25519Identity(bytes(range(32)))
SALT = b64encode_raw(bytes(16))


def scrypt_stanza(*args: str, body: bytes = bytes(32)) -> Stanza:
    return Stanza("scrypt", args if args else (SALT, "10"), body)


def age_file(extra: tuple[Stanza, ...], plaintext: bytes = b"hello") -> bytes:
    """An age file to ME with ``extra`` stanzas after the X25519 one, MAC correct."""
    file_key = new_file_key()
    stanzas = (x25519.wrap(file_key, ME.recipient), *extra)
    head = Header(stanzas, compute_mac(file_key, encode_without_mac(stanzas))).encode()
    nonce = bytes(16)
    enc = StreamEncryptor(file_key, nonce)
    return head + nonce + enc.feed(plaintext) + enc.finalize()


def decrypt(data: bytes, identities: list[age.X25519Identity]) -> bytes:
    out = io.BytesIO()
    age.decrypt(identities, io.BytesIO(data), out)
    return out.getvalue()


def test_scrypt_beside_x25519_is_a_header_failure_even_for_a_matching_identity() -> None:
    data = age_file((scrypt_stanza(),))
    with pytest.raises(age.HeaderError, match="must be the only stanza"):
        decrypt(data, [ME])
    with pytest.raises(age.HeaderError, match="must be the only stanza"):
        read_header(io.BytesIO(data))


def test_the_rule_holds_for_a_header_built_by_hand_too() -> None:
    """Never parsed: unwrap_file_key checks it itself, before any identity."""
    header = Header((Stanza("X25519", ("x",), b""), scrypt_stanza()), bytes(32))
    with pytest.raises(age.HeaderError, match="must be the only stanza"):
        unwrap_file_key(header, header.encode(), [ME])


def test_two_scrypt_stanzas_are_a_header_failure() -> None:
    data = age_file((scrypt_stanza(), scrypt_stanza()))
    with pytest.raises(age.HeaderError, match="must be the only stanza"):
        decrypt(data, [ME])


def test_unknown_types_are_still_ignored() -> None:
    for other in ("Scrypt", "SCRYPT", "scrypt2", "X25519-grease"):
        assert decrypt(age_file((Stanza(other, (SALT, "10"), bytes(32)),)), [ME]) == b"hello"


@pytest.mark.parametrize(
    ("stanza", "why"),
    [
        (scrypt_stanza(SALT), "a salt and a work factor"),
        (scrypt_stanza(SALT, "10", "10"), "a salt and a work factor"),
        (scrypt_stanza(b64encode_raw(bytes(15)), "10"), "salt"),
        (scrypt_stanza(b64encode_raw(bytes(17)), "10"), "salt"),
        (scrypt_stanza("!!!!", "10"), "salt"),
        (scrypt_stanza(SALT, "010"), "decimal"),
        (scrypt_stanza(SALT, "0"), "decimal"),
        (scrypt_stanza(SALT, "+10"), "decimal"),
        (scrypt_stanza(SALT, "-1"), "decimal"),
        (scrypt_stanza(SALT, "0x0a"), "decimal"),
        (scrypt_stanza(SALT, "23"), "above"),
        (scrypt_stanza(SALT, "9" * 5000), "above"),
        (scrypt_stanza(body=bytes(33)), "wrong size"),
        (scrypt_stanza(body=bytes(31)), "wrong size"),
    ],
)
def test_malformed_scrypt_stanza_alone_is_a_header_failure(stanza: Stanza, why: str) -> None:
    with pytest.raises(age.HeaderError, match=why):
        decrypt(alone(stanza), [ME])


def test_well_formed_scrypt_stanza_alone_is_no_match() -> None:
    with pytest.raises(age.NoIdentityMatchError):
        decrypt(alone(scrypt_stanza(SALT, "22")), [ME])  # 22: the highest work factor taken


def alone(stanza: Stanza) -> bytes:
    """A file whose header holds ``stanza`` only (MAC under some file key)."""
    stanzas = (stanza,)
    head = Header(stanzas, compute_mac(new_file_key(), encode_without_mac(stanzas))).encode()
    return head + bytes(16) + bytes(40)
