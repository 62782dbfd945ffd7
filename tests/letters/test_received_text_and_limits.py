"""Issue 12, cases 7 and 9: a received letter is held to the sender's own rules.

Its manifest's text fields (subject, pseudonym, patient identifiers) must be
what a sender's cleaning gives back unchanged, its item names what a sender
accepts, its sections within a sender's sizes; otherwise ``receive`` refuses it
(exit 3, a specific error) before anything is stored, and the other letters
of the same run are still delivered. Letters are built with the project's own
library past an honest send's checks (letterworld.World.plan), and received
through the installed executable. The same rules refuse them at ``send``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hostile_text import source
from letterworld import BIRTH_DATE, INS, PASSPHRASE, PATIENT_NAME, M, N, World

from clirun import child_env, cli_command, world_env
from securemsg.core.domains import Purpose
from securemsg.core.letter.limits import MAX_NAME, MAX_SECTIONS, MAX_SOURCE

# Whole runs of the executable: in `make test` (CI), not in the inner loop.
pytestmark = pytest.mark.slow

MiB = 1024 * 1024
IDS = (("name", PATIENT_NAME), ("ins", INS), ("birth_date", BIRTH_DATE))
PSEUDONYMOUS: dict[str, Any] = {
    "kind": Purpose.TELE_EXPERTISE,
    "basis": "pseudonymous",
    "patient": None,
    "pseudonym": "case-17",
}


def _ids(**changed: str) -> tuple[tuple[str, str], ...]:
    return tuple((k, changed.get(k, v)) for k, v in IDS)


# case -> (plan() keywords, expected error)
CASES: dict[str, tuple[dict[str, Any], str]] = {
    "subject: window title (OSC 0)": (
        {"fields": {"subject": "Referral \x1b]0;pwned\x07"}},
        "bad_text",
    ),
    "subject: a line feed drawing a panel line": (
        {"fields": {"subject": "Referral\nAuthor's key: verified by you"}},
        "bad_text",
    ),
    "subject: right-to-left override": ({"fields": {"subject": "Scan \u202efdp.exe"}}, "bad_text"),
    "subject: C1 CSI": ({"fields": {"subject": "Referral \x9b2J"}}, "bad_text"),
    "subject: empty": ({"fields": {"subject": ""}}, "bad_text"),
    "subject: spaces around (not a sender's form)": (
        {"fields": {"subject": " Referral "}},
        "bad_text",
    ),
    "patient name: clears the screen": (
        {"fields": {"patient_ids": _ids(name="Jeanne \x1b[2J\x1b[HDupont")}},
        "bad_text",
    ),
    "patient name: Hangul filler": (
        {"fields": {"patient_ids": _ids(name="Jeanne\u3164Dupont")}},
        "bad_text",
    ),
    "patient INS: bidi": ({"fields": {"patient_ids": _ids(ins="\u202e" + INS)}}, "bad_text"),
    "patient birth date: not a date": (
        {"fields": {"patient_ids": _ids(birth_date="1950-03-02\x1b[8m")}},
        "bad_text",
    ),
    "pseudonym: clipboard (OSC 52)": (
        {**PSEUDONYMOUS, "pseudonym": "case\x1b]52;c;ZXZpbA==\x07"},
        "bad_text",
    ),
    "pseudonym: zero width space": ({**PSEUDONYMOUS, "pseudonym": "case\u200b17"}, "bad_text"),
    "section heading: clears the screen": (
        {"source": source(("Hist\x1b[2Jory", M, "Angina."))},
        "bad_text",
    ),
    "section heading: hidden link (OSC 8)": (
        {"source": source(("\x1b]8;;https://evil.example/\x07History\x1b]8;;\x07", M, "x"))},
        "bad_text",
    ),
    "attachment name: window title": (
        {"attachments": [("scan\x1b]0;pwned\x07.pdf", M, b"%PDF")]},
        "bad_text",
    ),
    "attachment name: bidi (exe looks like pdf)": (
        {"attachments": [("scan\u202efdp.exe", M, b"MZ")]},
        "bad_text",
    ),
    "attachment name: NUL": ({"attachments": [("scan\x00.pdf", M, b"%PDF")]}, "bad_text"),
    "section heading: 256 bytes": (
        {"source": source(("é" * 128, M, "Angina."))},
        "over_limit",
    ),
    "attachment name: 256 bytes": (
        {"attachments": [("a" * (MAX_NAME - 3) + ".pdf", M, b"%PDF")]},
        "over_limit",
    ),
    f"{MAX_SECTIONS + 1} sections": (
        {"source": source(*((f"S{i}", M, "x") for i in range(MAX_SECTIONS + 1)))},
        "over_limit",
    ),
    "a section of 4 MiB + 1": (
        {"source": source(("", M, "a" * MAX_SOURCE))},  # and its final line feed
        "over_limit",
    ),
    "two sections of 2 MiB + 1": (
        {"source": source(("", M, "a" * (2 * MiB)), ("More", N, "b" * (2 * MiB - 8)))},
        "over_limit",
    ),
}


# One case per field and limit, through the executable (all of them in-process below).
BATCH = (
    "subject: window title (OSC 0)",
    "patient name: clears the screen",
    "pseudonym: clipboard (OSC 52)",
    "section heading: hidden link (OSC 8)",
    "attachment name: bidi (exe looks like pdf)",
    "attachment name: 256 bytes",
    f"{MAX_SECTIONS + 1} sections",
    "a section of 4 MiB + 1",
)


@pytest.mark.parametrize("case", BATCH)
def test_refused_at_receive_other_letters_still_delivered(world: World, case: str) -> None:
    kw, error = CASES[case]
    bad = world.craft("card", name="bad.smsg", **kw)
    good = world.craft("card", name="good.smsg")
    before = world.snap("card")["card"]["files"]
    res = world.run("card", "--json", "receive", bad, good, executable=True)
    assert res.exit_code == 3, (res.stdout, res.stderr)
    rows = {Path(r["file"]).name: r for r in res.json()["results"]}
    assert rows["bad.smsg"]["status"] == "refused" and rows["bad.smsg"]["error"] == error, rows
    assert rows["good.smsg"]["status"] == "accepted", rows
    # the refused letter left nothing: the mailbox holds the good one only
    assert world.inbox_ids("card") == [rows["good.smsg"]["message_id"]]
    added = set(world.snap("card")["card"]["files"]) - set(before)
    assert [name for name, _ in added] == [f"mail/in/{rows['good.smsg']['message_id']}.smsg"]


@pytest.mark.parametrize("case", list(CASES))
def test_refused_letter_changes_nothing(world: World, refused_at_receive: Any, case: str) -> None:
    kw, error = CASES[case]
    refused_at_receive("card", world.craft("card", **kw), error=error)


def test_largest_section_text_accepted(world: World) -> None:
    """Exactly the limit: 4 MiB of section text in all."""
    path = world.craft("card", source=source(("", M, "a" * (MAX_SOURCE - 1))))  # + "\n"
    res = world.run("card", "--json", "receive", path, executable=True)
    assert res.exit_code == 0, res.stderr
    assert res.json()["results"][0]["status"] == "accepted"


def test_case9_read_of_the_largest_letter_is_bounded(world: World) -> None:
    """The largest letter a mailbox accepts: 4 MiB of section text, made of what
    costs rich the most: 32 KiB of short lines first (all that is laid out as
    Markdown), then one section of tables, nested lists and links (issue 12
    case 9 had one huge section: `read` took minutes and 1 GB). Its `read` and
    `read --json` run in bounded memory: the peak RSS of the child process
    (wait4's rusage), under address-space and CPU limits that keep a runaway
    from taking the machine. No timing asserts (benchmarks/ measures time)."""
    unit = "| a | b |\n|---|---|\n" + "| x | y |\n" * 20 + "- item\n  - nested [l](http://x)\n"
    first = "a\n" * (16 * 1024 - 1)
    rest = MAX_SOURCE - len(first) - 1 - len("## Tables\n") - 1
    letter = source(("", M, first), ("Tables", M, (unit * (rest // len(unit) + 1))[:rest]))
    assert sum(len(s.data) for s in letter.sections) == MAX_SOURCE
    path = world.craft("card", source=letter)
    res = world.run("card", "--json", "receive", path, executable=True)
    assert res.exit_code == 0 and res.json()["results"][0]["status"] == "accepted"
    mid = res.json()["results"][0]["message_id"]
    for args in (("read", mid), ("--json", "read", mid)):
        code, peak, out = _peak_rss(world, "card", *args)
        assert code == 0, out[-2000:]
        assert peak < 256 * MiB, (args, peak // MiB)
        assert len(out) > MAX_SOURCE  # every section was shown


# Run in a fresh interpreter: a child forked from pytest would inherit pytest's RSS
# (about 1 GB in a full run) into its ru_maxrss before its exec. This small process
# forks the command instead, so wait4 reports the command's own peak.
_MEASURE = """
import os, resource, subprocess, sys

def limit():  # 2 GiB of address space, 300 s of CPU at most
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    resource.setrlimit(resource.RLIMIT_CPU, (300, 300))
with open(sys.argv[1], "wb") as fh:
    proc = subprocess.Popen(sys.argv[2:], stdout=fh, stderr=subprocess.STDOUT, preexec_fn=limit)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss * 1024)
"""


def _peak_rss(world: World, label: str, *args: str) -> tuple[int, int, bytes]:
    """Exit status, peak RSS (bytes) and stdout of one run of the executable."""
    out = world.path("read.out")
    measured = subprocess.run(
        [
            sys.executable,
            "-c",
            _MEASURE,
            str(out),
            *cli_command(),
            "--home",
            str(world.home(label)),
            *args,
        ],
        capture_output=True,
        text=True,
        env=child_env(world_env(PASSPHRASE)),
        start_new_session=True,
        check=True,
    )
    code, peak = (int(v) for v in measured.stdout.split())
    return code, peak, out.read_bytes()


# -- the same rules at send (exit 2), so that an honest letter is never refused ------------
def _letter(world: World, text: str) -> Path:
    path = world.path("hostile.md")
    path.write_bytes(text.encode())
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Intro.\n## Hist\x1b[2Jory\nAngina.\n", "a section heading holds an invisible"),
        ("Intro.\n## \u202eyrotsiH\nAngina.\n", "a section heading holds an invisible"),
        (f"Intro.\n## {'é' * 128}\nAngina.\n", f"longer than {MAX_NAME} bytes"),
        ("---\nsubject: Referral \x1b]0;x\x07\n---\nIntro.\n", "subject holds an invisible"),
    ],
)
def test_send_refuses_what_receive_refuses(world: World, text: str, message: str) -> None:
    before = world.snap("gp")
    res = world.run("gp", "--json", "send", _letter(world, text), "--to", "Bob",
                    "--kind", "referral", "--patient", "Jeanne", "--consent",
                    world.path("consent.cose"), "--drop", world.drop)  # fmt: skip
    assert res.exit_code == 2, (res.stdout, res.stderr)
    assert message in res.error_json()["message"]
    assert world.snap("gp") == before


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (("--attach", "scan\x1b]0;x\x07.pdf"), "an attachment's name holds an invisible"),
        (("--attach", "scan\u202efdp.exe"), "an attachment's name holds an invisible"),
        (("--pseudonym", "case\x1b]52;c;eA==\x07"), "pseudonym holds an invisible"),
        (("--pseudonym", "case\u200b17"), "pseudonym holds an invisible"),
    ],
)
def test_send_refuses_names_and_pseudonyms(
    world: World, option: tuple[str, str], message: str
) -> None:
    args: list[str | Path] = ["--json", "send", world.path("letter.md"), "--to", "Bob"]
    if option[0] == "--attach":
        (world.root / option[1]).write_bytes(b"%PDF")
        args += ["--attach", world.root / option[1], "--kind", "referral", "--patient"]
        args += ["Jeanne", "--consent", world.path("consent.cose")]
    else:
        args += [*option, "--kind", "tele-expertise"]
    before = world.snap("gp")
    res = world.run("gp", *args, "-o", world.path("outbox"), executable=True)
    assert res.exit_code == 2, (res.stdout, res.stderr)
    assert message in res.error_json()["message"]
    assert world.snap("gp") == before
    assert not any(world.path("outbox").iterdir())


def test_send_cleans_a_pseudonym_like_a_subject(world: World) -> None:
    sent = world.ok(
        "gp", "send", world.path("letter.md"), "--to", "Bob", "--kind", "tele-expertise",
        "--pseudonym", "  case-18 ", "-o", world.path("outbox"),
    )  # fmt: skip
    (out,) = sent["outputs"]
    assert world.ok("card", "receive", out["file"])["results"][0]["status"] == "accepted"
    assert world.ok("card", "read", sent["message_id"])["pseudonym"] == "case-18"
