"""Issue 11, item 11: an age header that mixes an scrypt stanza with others is
a header failure (C2SP age: "an scrypt stanza, if present, MUST be the only
stanza in the header"), in a letter too, through the installed executable.

A hostile sender (the GP, with her real key) builds the envelope with core: the
X25519 stanza for the recipient and an scrypt stanza, under a correct header MAC
and a binding she signs over that header. Everything else verifies, so the
letter used to be accepted; now ``receive`` refuses it with exit 3, error
``age_header``, and no home changes. A well-formed envelope sent next is still
accepted.
"""

from __future__ import annotations

from letterworld import M, N, RefusedCheck, World

import reference
from securemsg.core.age.hazmat.header import Stanza, b64encode_raw

SCRYPT = Stanza("scrypt", (b64encode_raw(bytes(16)), "10"), bytes(32))


def _letter(world: World, extra: tuple[Stanza, ...]) -> bytes:
    planned = world.plan(to=(("card", frozenset({M, N})),))
    consent = world.path("consent.cose").read_bytes()
    return b"".join(
        reference.envelope(
            planned,
            world.secret("gp"),
            world.card("card"),
            frozenset({M, N}),
            consent,
            world.card("pat").encoded,
            extra_stanzas=extra,
        )
    )


def test_scrypt_stanza_beside_x25519_refused(
    world: World, refused_at_receive: RefusedCheck
) -> None:
    f = world.write("scrypt.smsg", _letter(world, (SCRYPT,)))
    row = refused_at_receive("card", f, error="age_header", executable=True)
    assert "an scrypt stanza must be the only stanza in the header" in row["detail"], row

    ok = world.write("ok.smsg", _letter(world, ()))
    res = world.run("card", "--json", "receive", ok, executable=True)
    assert res.exit_code == 0, res.stderr
    assert [r["status"] for r in res.json()["results"]] == ["accepted"]


def test_unknown_stanza_beside_x25519_still_accepted(world: World) -> None:
    """Only the scrypt type is special: other unknown stanzas are "not for us"."""
    grease = Stanza("Scrypt", (b64encode_raw(bytes(16)), "10"), bytes(32))
    f = world.write("grease.smsg", _letter(world, (grease,)))
    res = world.run("card", "--json", "receive", f, executable=True)
    assert res.exit_code == 0, res.stderr
    assert [r["status"] for r in res.json()["results"]] == ["accepted"]
