"""Item 4 of issue 5 (the CI half): property tests on every parser.

The parsers are those of fuzz/harness.py (also driven by the atheris targets of
``make fuzz``). Hypothesis feeds each arbitrary bytes, mutated valid objects and,
for the ``signed_*`` targets, arbitrary CBOR values signed with the right key:
only a SecureMsgError may escape.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hostile_kit import FIGURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fuzz"))
import harness

EXAMPLES = 150
COUNTS: dict[str, int] = {}

cbor_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.text(max_size=20)
    | st.binary(max_size=40)
    | st.sampled_from(["v", "id", "fp", "card", "items", "seq", "prev", "time", "event"]),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "v",
                    "id",
                    "kind",
                    "date",
                    "author",
                    "recipients",
                    "items",
                    "basis",
                    "seq",
                    "prev",
                    "time",
                    "event",
                    "peer",
                    "digest",
                    "manifest",
                    "envelope",
                    "recipient",
                    "log_seq",
                    "log_head",
                    "rule",
                    "reason",
                    "profile",
                    "sign_key",
                    "enc_key",
                    "created",
                    "expires",
                    "patient",
                    "from",
                    "to",
                    "purpose",
                    "domains",
                ]
            )
            | st.text(max_size=5),
            inner,
            max_size=8,
        )
    ),
    max_leaves=30,
)


def mutated(seed: bytes) -> st.SearchStrategy[bytes]:
    def apply(ops: list[tuple[int, int, int]]) -> bytes:
        d = bytearray(seed)
        for kind, pos, val in ops:
            if kind == 0 and d:
                d[pos % len(d)] ^= val or 1
            elif kind == 1:
                d.insert(pos % (len(d) + 1), val)
            elif d:
                del d[pos % len(d)]
        return bytes(d)

    ops = st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 1 << 16), st.integers(0, 255)), max_size=6
    )
    return ops.map(apply)


def inputs(name: str) -> st.SearchStrategy[bytes]:
    strategies: list[st.SearchStrategy[bytes]] = [st.binary(max_size=400)]
    strategies += [mutated(s) for s in harness.seeds(name) if s]
    if name.startswith("signed_") or name in ("cbor", "manifest_payload"):
        strategies.append(cbor_values.map(_canonical))
    return st.one_of(*strategies)


def _canonical(value: Any) -> bytes:
    try:
        return bytes(cbor2.dumps(value, canonical=True))
    except Exception:
        return b""


@pytest.mark.parametrize("name", sorted(harness.TARGETS))
def test_parser_raises_only_securemsg_errors(name: str) -> None:
    COUNTS[name] = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(inputs(name))
    def prop(data: bytes) -> None:
        COUNTS[name] += 1
        harness.run(name, data)

    prop()
    FIGURES["hypothesis: parsers x examples"] = (
        f"{len(COUNTS)} targets, {sum(COUNTS.values())} examples"
    )
