"""A prepared draft is not signed, and age does not authenticate who encrypted a
file: anyone holding the author's public card can write a "draft" naming the
author, encrypted to the author's key (red team of session 4). The patient who
reviews a draft can so hand back, with a grant she signed for it, a draft of
her own writing; the author's ``send --draft`` must send only a draft this home
prepared, byte for byte, never one that merely decrypts and names it.
Through the installed executable."""

from __future__ import annotations

import io

import pytest
from letterworld import MEDICAL_TEXT, World

from securemsg.core import age, frozen
from securemsg.core.letter.draft import open_sealed

pytestmark = pytest.mark.slow
ALTERED = "The patient is fit to drive heavy goods vehicles X7q."


def test_a_draft_rewritten_by_the_patient_is_never_sent(world: World) -> None:
    draft = world.path("referral.draft")
    world.ok(
        "gp", "send", world.path("letter.md"), "--to", "Bob", "--to", "Claire",
        "--kind", "referral", "--patient", "Jeanne", "--prepare", draft,
    )  # fmt: skip
    # the patient opens it with her key, rewrites the letter, encrypts it again
    # to herself and to the GP (the GP's public key is on the GP's card)
    real = open_sealed(draft.read_bytes(), world.secret("pat").share_opener())
    assert MEDICAL_TEXT.encode() in real.source
    mine = frozen.replace(real, source=real.source.replace(MEDICAL_TEXT.encode(),
                                                                ALTERED.encode()))  # fmt: skip
    out = io.BytesIO()
    age.encrypt(
        [age.X25519Recipient.from_bytes(c.enc_public) for c in (real.patient, real.author)],
        mine.to_bytes(),
        out,
    )
    forged = world.path("referral-back.draft")
    forged.write_bytes(out.getvalue())
    res = world.run("pat", "consent", "grant", "--draft", forged, "--yes", "-o",
                    world.path("grant.cose"), executable=True)  # fmt: skip
    assert res.exit_code == 0, res.stderr  # her tool cannot tell: it is her own letter
    before = world.snap("gp")
    res = world.run("gp", "--json", "send", "--draft", forged, "--consent",
                    world.path("grant.cose"), "--drop", world.drop, executable=True)  # fmt: skip
    # before: sent, signed by the GP, with the patient's text in it
    assert res.exit_code == 3, res.stdout
    assert res.error_json()["error"] == "draft_not_prepared_here"
    assert "internal error" not in res.stderr
    assert world.snap("gp") == before
    _code, doc = world.receive_drop("card")
    assert doc.get("results", []) == [], doc
    # the GP's own draft, under a grant for it, is sent as before
    res = world.run("pat", "consent", "grant", "--draft", draft, "--yes", "-o",
                    world.path("grant2.cose"), executable=True)  # fmt: skip
    assert res.exit_code == 0, res.stderr
    world.ok("gp", "send", "--draft", draft, "--consent", world.path("grant2.cose"),
             "--drop", world.drop)  # fmt: skip
