"""The patient's consent, issue 13: the summary before signing and a confirmation;
the insurance domain only when named (R3); grant ids in `consent list`; revoke by
id, naming whom to give the revocation to. Through the installed executable."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from clirun import Result, child_env, cli_command, db_rows, world_env
from clirun import run_cli as raw_run

pytestmark = pytest.mark.slow  # executable-driven: several seconds (CONTRIBUTING.md)

World = Any  # tests/cli/conftest.py: World
GRANT = ["consent", "grant", "--from", "Dr Alice Martin", "--to", "nurse", "--purpose", "referral"]


def _passphrase(world: World) -> str:
    """The consent world's passphrase (tests/cli/conftest.py), from the globals of the
    fixture's own class: `import conftest` finds whichever conftest came first."""
    return str(type(world).run.__globals__["PASSPHRASE"])


def db_dump(home: Path) -> list[Any]:
    return list(db_rows(home / "securemsg.db"))


def _run(world: World, label: str, *args: str | Path) -> Result:
    return raw_run(world.home(label), *args, env=world_env(_passphrase(world)), executable=True)


def test_grant_without_a_terminal_shows_the_summary_and_signs_nothing(world: World) -> None:
    out = world.path("g.cose")
    before = db_dump(world.home("patient"))
    res = _run(world, "patient", *GRANT, "-o", out)
    assert res.exit_code == 2, res.stderr
    assert "You are about to sign this consent:" in res.stderr
    assert "Dr Alice Martin" in res.stderr and "nurse" in res.stderr
    assert "nothing was signed" in res.stderr and "--yes" in res.stderr
    assert not out.exists()
    assert db_dump(world.home("patient")) == before


def _on_a_terminal(world: World, answer: bytes, out: Path) -> tuple[int, str]:
    """`consent grant` with stdin and stderr on a pseudo-terminal, ``answer`` typed."""
    leader, follower = os.openpty()
    os.write(leader, answer)
    try:
        proc = subprocess.run(
            [*cli_command(), "--home", str(world.home("patient")), *GRANT, "-o", str(out)],
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=follower,
            env=child_env(world_env(_passphrase(world))),
            timeout=120,
            check=False,
        )
        os.set_blocking(leader, False)
        try:
            shown = os.read(leader, 1 << 16).decode(errors="replace")
        except BlockingIOError:
            shown = ""
    finally:
        os.close(follower)
        os.close(leader)
    return proc.returncode, shown


def test_grant_on_a_terminal_asks_before_signing(world: World) -> None:
    no = world.path("no.cose")
    code, shown = _on_a_terminal(world, b"n\n", no)
    assert code == 2 and not no.exists()
    assert shown.index("You are about to sign") < shown.index("Sign it?")
    yes = world.path("yes.cose")
    code, shown = _on_a_terminal(world, b"y\n", yes)
    assert code == 0, shown
    assert yes.is_file() and "Signed grant written to" in shown


def test_insurance_only_when_the_patient_names_it(world: World) -> None:
    res = _run(world, "patient", "--json", *GRANT, "--yes", "-o", world.path("a.cose"))
    assert res.exit_code == 0, res.stderr
    assert "insurance" not in res.json()["domains"]
    assert "You are about to sign this consent:" in res.stderr  # --yes still shows it
    named = [*GRANT, "--yes", "--domain", "insurance", "--domain", "nursing"]
    res = _run(world, "patient", "--json", *named, "-o", world.path("b.cose"))
    assert res.exit_code == 0, res.stderr
    assert res.json()["domains"] == ["nursing", "insurance"]


def test_consent_list_shows_grant_ids_and_revoke_takes_one(world: World) -> None:
    res = _run(world, "patient", "--json", *GRANT, "--yes", "-o", world.path("g.cose"))
    gid = res.json()["id"]
    res = _run(world, "patient", "consent", "list")
    assert gid in res.stdout, res.stdout
    rev = world.path("r.cose")
    res = _run(world, "patient", "consent", "revoke", gid[:8], "-o", rev)
    assert res.exit_code == 0, res.stderr
    assert rev.is_file()
    flat = " ".join(res.stderr.split())
    assert "give it to each of: Dr Alice Martin; any nurse (every practitioner" in flat, flat
    doc = _run(world, "patient", "--json", "consent", "list").json()
    (g,) = [c for c in doc["consents"] if c["kind"] == "grant"]
    assert g["id"] == gid and g["status"] == "revoked"


def test_revoke_by_an_unknown_or_short_id_is_explained(world: World) -> None:
    res = _run(world, "patient", "--json", "consent", "revoke", "abcdef12", "-o", world.path("r"))
    assert res.exit_code == 1 and res.error_json()["error"] == "not_found"
    assert "consent list" in res.error_json()["hint"]
    res = _run(world, "patient", "--json", "consent", "revoke", "abc", "-o", world.path("r"))
    assert res.exit_code == 2 and "neither a grant file nor a grant id" in res.stderr
    assert not world.path("r").exists()


def test_an_objection_by_name_and_rpps_is_matched_by_the_rpps_on_the_card(world: World) -> None:
    rpps = world.card("gp").profile.rpps
    obj = world.path("object.cose")
    res = _run(
        world,
        "patient",
        "consent",
        "object",
        "--name",
        "Dr A. Martin",  # the patient's words: only the RPPS number is compared
        "--rpps",
        rpps,
        "-o",
        obj,
    )
    assert res.exit_code == 0, res.stderr
    shown = _run(world, "patient", "--json", "consent", "show", obj).json()
    assert shown["to"] == {"rpps": rpps, "name": "Dr A. Martin"}
    assert f"give it to each of: Dr A. Martin (RPPS {rpps})" in " ".join(res.stderr.split())
    g = world.path("g.cose")
    res = _run(
        world,
        "patient",
        "consent",
        "grant",
        "--yes",
        "--from",
        "Nina Petit",
        "--to",
        "Dr Alice Martin",
        "--purpose",
        "referral",
        "-o",
        g,
    )
    assert res.exit_code == 0, res.stderr
    show = ["consent", "show", g, "--sender", "Nina Petit", "--recipient", "Dr Alice Martin"]
    res = _run(world, "patient", "--json", *show)
    assert res.exit_code == 3, res.stdout
    err = res.error_json()
    assert err["rule"] == "recipient_objected"
    assert f"Dr A. Martin (RPPS {rpps})" in err["message"]
    # the nurse's mailbox, which holds the GP's card, applies it once imported
    res = _run(world, "nurse", "consent", "import", obj, "--card", world.path("patient.card"))
    assert res.exit_code == 0, res.stderr


def test_an_objection_needs_a_whole_name_and_rpps(world: World) -> None:
    for args in (["--name", "Dr X"], ["--rpps", "10000000001"], []):
        res = _run(world, "patient", "consent", "object", *args, "-o", world.path("o.cose"))
        assert res.exit_code == 2 and "--name NAME --rpps NUMBER" in res.stderr, res.stderr
    res = _run(
        world,
        "patient",
        "consent",
        "object",
        "--name",
        "Dr X",
        "--rpps",
        "123",
        "-o",
        world.path("o"),
    )
    assert res.exit_code != 0 and "internal error" not in res.stderr and "RPPS" in res.stderr
    assert not world.path("o").exists()
