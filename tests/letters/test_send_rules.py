"""The send rules (core/letter/policy.py) as the command line words them: each
refusal is a usage error (exit 2) in the words of send's options, with no
consent rule attached, and nothing is written anywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

World = Any  # letterworld.World

BASIS = ("--patient", "Jeanne", "--consent", "@consent")
CASES = [
    (  # with --patient and no basis, the consent it needs is named (test_writing_and_sending)
        ["--to", "Bob", "--kind", "referral"],
        "give exactly one of --consent FILE, --emergency or --pseudonym LABEL",
    ),
    (
        ["--to", "Bob", "--kind", "referral", *BASIS, "--emergency"],
        "give exactly one of --consent FILE, --emergency or --pseudonym LABEL",
    ),
    (
        ["--to", "Bob", "--kind", "tele-expertise", "--pseudonym", "case 7", "--patient", "Jeanne"],
        "a pseudonymous letter names no patient: drop --patient",
    ),
    (
        ["--to", "Bob", "--kind", "referral", "--pseudonym", "case 7"],
        "only tele-expertise and second-opinion letters may be pseudonymous",
    ),
    (  # with --consent and no --patient, the patient is the consent's
        ["--to", "Bob", "--kind", "emergency-report", "--emergency"],
        "name the patient with --patient CONTACT",
    ),
    (
        ["--to", "Claire", "--kind", "referral", "--patient", "Bob", "--consent", "@consent"],
        "Dr Bob Durand is a specialist, not a patient",
    ),
    (
        ["--to", "Bob", "--kind", "referral", "--patient", "Jeanne", "--emergency"],
        "--emergency is for --kind emergency-report only",
    ),
    (
        ["--to", "Bob", "--kind", "emergency-report", "--patient", "Jeanne", "--emergency",
         "--no-patient-copy"],
        "the patient's copy is mandatory for emergency reports and phone follow-ups (R6, R8)",
    ),
    (
        ["--to", "Bob", "--to", "Jeanne", "--kind", "referral", *BASIS],
        "the patient gets their copy automatically; do not name them with --to",
    ),
    (
        ["--to", "Bob", "--to", "Bob", "--kind", "referral", *BASIS],
        "Dr Bob Durand is named twice with --to",
    ),
    (
        ["--to", "Claire", "--kind", "referral", *BASIS, "@insurance-only"],
        "nothing in this letter may go to Claire Petit (nurse): it may receive "
        "administrative, nursing",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), CASES, ids=[m[:40] for _a, m in CASES])
def test_send_rule_in_the_words_of_the_options(world: World, args: list[str], message: str) -> None:
    letter = world.path("letter.md")
    insurance_only = world.path("insurance-only.md")
    insurance_only.write_text("---\nsubject: Cover\n---\n## Cover {insurance}\nForm 12.\n")
    given: list[str | Path] = []
    for a in args:
        if a == "@consent":
            given.append(world.path("consent.cose"))
        elif a == "@insurance-only":
            letter = insurance_only
        else:
            given.append(a)
    before = world.snap()
    res = world.run("gp", "--json", "send", letter, *given, "-o", world.path("outbox"))
    assert res.exit_code == 2, res.stderr
    err = res.error_json()
    assert err["error"] == "usage" and err["exit"] == 2
    assert err["message"] == message
    assert "rule" not in err and "party" not in err
    if "nothing in this letter" in message:
        assert (
            err["hint"]
            == "tag the sections for their care domain, e.g. '## Dressing care {nursing}'"
        )
    assert world.snap() == before
    assert not any(world.path("outbox").iterdir())
    text = world.run("gp", "send", letter, *given, "-o", world.path("outbox"))
    assert text.exit_code == 2 and text.stderr.startswith(f"securemsg: error: {message}\n")
