"""The agent protocol's bytes and bounds (docs/format-agent.md, §2, §3 and the
vectors of §5)."""

from __future__ import annotations

import pytest

from securemsg.core import agentproto as proto


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def test_vectors_of_the_spec() -> None:
    assert proto.request(proto.OP_STATUS) == h("00000002 01 01")
    assert proto.request(proto.OP_LOCK) == h("00000002 01 05")
    share = bytes([9]) + bytes(31)
    assert proto.request(proto.OP_OPEN_SHARE, share + bytes(32)) == (
        h("00000042 01 03 09") + bytes(31) + bytes(32)
    )
    assert proto.response(proto.OK) == h("00000002 01 00")
    assert proto.response(proto.BAD_REQUEST) == h("00000002 01 02")
    assert proto.response(proto.NOT_MINE) == h("00000002 01 01")
    status = proto.AgentStatus(b"\x11" * 32, b"\x22" * 32, 1767225600, 4242)
    assert proto.response(proto.OK, status.encode()) == (
        h("0000004e 01 00") + b"\x11" * 32 + b"\x22" * 32 + h("000000006955b900 00001092")
    )


def test_round_trips() -> None:
    status = proto.AgentStatus(b"\x01" * 32, b"\x02" * 32, 5, 7)
    body = proto.response(proto.OK, status.encode())[4:]
    code, payload = proto.parse_response(body, proto.OP_STATUS)
    back = proto.AgentStatus.decode(payload)
    assert (code, back.sign_public, back.enc_public, back.expires, back.pid) == (
        proto.OK, status.sign_public, status.enc_public, 5, 7,
    )  # fmt: skip
    assert proto.parse_request(proto.request(proto.OP_SIGN, b"m")[4:]) == (proto.OP_SIGN, b"m")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x01",
        bytes([2, proto.OP_STATUS]),  # another version
        bytes([1, 0x00]),
        bytes([1, 0x06]),  # unknown ops
        bytes([1, proto.OP_STATUS, 0]),
        bytes([1, proto.OP_STORAGE_KEYS, 0]),
        bytes([1, proto.OP_LOCK, 0]),  # a payload where none is taken
        bytes([1, proto.OP_SIGN]),  # nothing to sign
        bytes([1, proto.OP_SIGN]) + bytes(proto.MAX_SIGN_MESSAGE + 1),
        bytes([1, proto.OP_OPEN_SHARE]) + bytes(63),
        bytes([1, proto.OP_OPEN_SHARE]) + bytes(65),
    ],
)
def test_bad_requests(body: bytes) -> None:
    with pytest.raises(proto.ProtocolError):
        proto.parse_request(body)


@pytest.mark.parametrize("n", [0, 1, proto.MAX_BODY + 1, 2**32 - 1])
def test_lengths_out_of_bounds(n: int) -> None:
    with pytest.raises(proto.ProtocolError):
        proto.body_length(n.to_bytes(4, "big"))
    assert proto.body_length((2).to_bytes(4, "big")) == 2


@pytest.mark.parametrize(
    ("op", "payload"),
    [
        (proto.OP_SIGN, bytes(63)),
        (proto.OP_OPEN_SHARE, bytes(17)),
        (proto.OP_STORAGE_KEYS, bytes(63)),
        (proto.OP_LOCK, b"x"),
        (proto.OP_STATUS, bytes(75)),
    ],
)
def test_responses_of_the_wrong_size_are_refused(op: int, payload: bytes) -> None:
    with pytest.raises(proto.ProtocolError):
        proto.parse_response(bytes([1, proto.OK]) + payload, op)
    with pytest.raises(proto.ProtocolError):  # an error status with a payload
        proto.parse_response(bytes([1, proto.REFUSED, 0]), op)
