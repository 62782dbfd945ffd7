"""Issue 13, "Writing and sending": reply, the defaults of send, --dry-run, who
gets which attachment, the warning before an unverified key, and the consent a
reply needs, named with people's names and the patient's exact command. Each
through the installed executable."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from clirun import Result

pytestmark = pytest.mark.slow  # about 40 s of executable runs

World = Any  # letterworld.World

REPLY = (
    "# Re: chest pain\n\n{shared}\nDear Alice,\n\n## Findings\nIschaemia Rq8.\n\n"
    "## Dressing {nursing}\nWrist dressing Dq2.\n\n{shared}\nBest wishes,\nDr Bob Durand\n"
)


def run(world: World, label: str, *args: str | Path) -> Result:
    return world.run(label, *args, executable=True)


def ok(world: World, label: str, *args: str | Path) -> Any:
    res = run(world, label, "--json", *args)
    assert res.exit_code == 0, (args, res.stdout, res.stderr)
    return res.json()


def referral(world: World) -> str:
    """The standard referral, received by Bob: its id."""
    sent = world.send("--yes")
    assert world.receive_drop("card")[0] == 0
    return str(sent["message_id"])


def test_reply_without_consent_names_people_and_the_patients_command(world: World) -> None:
    mid = referral(world)
    world.path("reply.md").write_text(REPLY)
    before = world.snap("card")
    res = run(
        world, "card", "--json", "reply", mid[:8], world.path("reply.md"), "--drop", world.drop
    )
    assert res.exit_code == 3
    err = res.error_json()
    assert err["rule"] == "no_consent"
    assert err["message"] == (
        "this reply about Jeanne Dupont needs Jeanne Dupont's consent: a grant letting you "
        "(Dr Bob Durand) send a reply to Dr Alice Martin"
    )
    command = (
        "securemsg consent grant --from 'Dr Bob Durand' --to 'Dr Alice Martin' "
        "--purpose reply -o consent-reply.cose"
    )
    assert command in err["hint"]
    assert world.fp("gp")[:12] not in err["message"] + err["hint"]
    assert world.snap("card") == before
    # the patient runs exactly that command (--yes: no terminal here to confirm the
    # summary it shows), and the reply goes out with it
    argv = shlex.split(command)[1:]
    argv[-1] = str(world.path("consent-reply.cose"))
    assert run(world, "pat", *argv, "--yes").exit_code == 0
    sent = ok(
        world, "card", "reply", mid[:8], world.path("reply.md"), "--consent",
        world.path("consent-reply.cose"), "--drop", world.drop, "--yes",
    )  # fmt: skip
    assert [o["recipient"] for o in sent["outputs"]] == ["Dr Alice Martin", "Jeanne Dupont"]
    assert sent["outputs"][1]["patient_copy"] is True
    assert world.receive_drop("gp")[0] == 0
    letter = ok(world, "gp", "read", sent["message_id"][:12])
    assert letter["kind"] == "reply"
    assert letter["in_reply_to"] == mid
    assert letter["subject"] == "Re: chest pain"
    assert letter["patient"]["name"] == "Jeanne Dupont"


def test_reply_all_to_latest(world: World) -> None:
    referral(world)
    world.path("reply.md").write_text(REPLY)
    res = run(
        world, "pat", "consent", "grant", "--from", "Bob", "--to", "Alice", "--to", "Claire",
        "--purpose", "reply", "--yes", "-o", world.path("r.cose"),
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    preview = ok(
        world, "card", "reply", "latest", world.path("reply.md"), "--all", "--consent",
        world.path("r.cose"), "--dry-run",
    )  # fmt: skip
    names = [c["recipient"] for c in preview["copies"]]
    assert names == ["Dr Alice Martin", "Claire Petit", "Jeanne Dupont"]


def test_reply_to_an_unknown_id(world: World) -> None:
    world.path("reply.md").write_text(REPLY)
    res = run(world, "card", "reply", "abcdef12", world.path("reply.md"), "--dry-run")
    assert res.exit_code == 1
    assert "no letter abcdef12 in this mailbox" in res.stderr
    res = run(world, "card", "reply", "latest", world.path("reply.md"), "--dry-run")
    assert "there is no received letter to reply to" in res.stderr


def test_send_defaults_kind_referral_and_the_consents_patient(world: World) -> None:
    sent = ok(
        world, "gp", "send", world.path("letter.md"), "--to", "Bob", "--consent",
        world.path("consent.cose"), "--drop", world.drop, "--yes",
    )  # fmt: skip
    assert [o["recipient"] for o in sent["outputs"]] == ["Dr Bob Durand", "Jeanne Dupont"]
    assert sent["outputs"][1]["patient_copy"] is True
    assert ok(world, "gp", "sent")["letters"][0]["kind"] == "referral"


def test_send_with_a_patient_and_no_consent_says_which_consent(world: World) -> None:
    res = run(
        world, "gp", "send", world.path("letter.md"), "--to", "Bob", "--to", "Claire",
        "--patient", "Jeanne", "--drop", world.drop,
    )  # fmt: skip
    assert res.exit_code == 3
    text = " ".join(res.stderr.split())
    assert "needs Jeanne Dupont's consent" in text
    assert (
        "securemsg consent grant --from 'Dr Alice Martin' --to 'Dr Bob Durand' "
        "--to 'Claire Petit' --purpose referral -o consent-referral.cose"
    ) in text


def test_consent_refusal_names_people_not_keys(world: World) -> None:
    """Bob sends under Alice's consent: the refusal says who, by name."""
    res = run(
        world, "card", "--json", "send", world.path("letter.md"), "--to", "Claire",
        "--consent", world.path("consent.cose"), "--drop", world.drop,
    )  # fmt: skip
    assert res.exit_code == 3
    err = res.error_json()
    assert err["rule"] == "sender_not_allowed"
    assert err["message"] == ("the consent lets only Dr Alice Martin send; this letter is from you")
    assert "securemsg consent grant --from 'Dr Bob Durand' --to 'Claire Petit'" in err["hint"]


def test_dry_run_shows_each_copy_and_writes_nothing(world: World) -> None:
    before = world.snap()
    args = [
        "send", world.path("letter.md"), "--to", "Bob", "--to", "Claire", "--consent",
        world.path("consent.cose"), "--attach", f"{world.path('scan.pdf')}:medical", "--dry-run",
    ]  # fmt: skip
    res = run(world, "gp", *args)
    assert res.exit_code == 0, res.stderr
    out = res.stdout
    assert "Dry run: nothing was written, signed or sent." in out
    nurse = out[out.index("Claire Petit") :].split("\n\n")[0]
    assert "sections:     Dressing care [nursing]" in nurse
    assert "attachments:  -" in nurse
    assert "withheld:     (untitled text) [medical]; History [medical]; scan.pdf [medical]" in nurse
    doc = ok(world, "gp", *args)
    assert doc["schema"] == "securemsg.send-preview/1"
    bob = doc["copies"][0]
    assert bob["recipient"] == "Dr Bob Durand"
    assert bob["attachments"] == [{"name": "scan.pdf", "domain": "medical"}]
    claire = doc["copies"][1]
    assert claire["attachments"] == []
    assert claire["withheld_attachments"] == [{"name": "scan.pdf", "domain": "medical"}]
    assert world.snap() == before
    assert list(world.drop.iterdir()) == []


def test_send_summary_says_which_attachment_goes_to_whom(world: World) -> None:
    res = run(
        world, "gp", "send", world.path("letter.md"), "--to", "Bob", "--to", "Claire",
        "--consent", world.path("consent.cose"), "--attach", f"{world.path('scan.pdf')}:medical",
        "-o", world.path("outbox"), "--yes",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    assert any(
        ln.split()[:5] == ["Recipient", "Role", "Receives", "Attachments", "File"] for ln in lines
    )
    bob = next(ln for ln in lines if ln.startswith("Dr Bob Durand [key NOT verified]"))
    claire = next(ln for ln in lines if ln.startswith("Claire Petit [key NOT verified]"))
    assert "scan.pdf [medical]" in bob
    assert "scan.pdf" not in claire


def test_unverified_key_warning_off_a_terminal(world: World) -> None:
    args = [
        "send", world.path("letter.md"), "--to", "Bob", "--consent", world.path("consent.cose"),
        "-o", world.path("outbox"),
    ]  # fmt: skip
    res = run(world, "gp", *args)
    assert res.exit_code == 0, res.stderr  # not a terminal: warned, and sent
    assert "warning: the key of Dr Bob Durand, Jeanne Dupont is not verified" in " ".join(
        res.stderr.split()
    )
    bob = ok(world, "gp", "contacts", "show", "Bob")
    assert run(world, "gp", "contacts", "verify", "Bob", bob["fingerprint"]).exit_code == 0
    res = run(world, "gp", *args, "--yes")
    assert res.exit_code == 0 and "not verified" not in res.stderr


def test_unverified_key_question_on_a_terminal(world: World) -> None:
    """On a terminal, send asks; "n" sends nothing (cancelled, exit 1)."""
    pty = pytest.importorskip("pty")
    import os
    import subprocess

    from letterworld import PASSPHRASE

    from clirun import child_env, cli_command

    before = world.snap("gp")
    argv = [
        *cli_command(), "--home", str(world.home("gp")), "send", str(world.path("letter.md")),
        "--to", "Bob", "--consent", str(world.path("consent.cose")),
        "-o", str(world.path("outbox")),
    ]  # fmt: skip
    parent, child = pty.openpty()
    env = child_env({"SECUREMSG_PASSPHRASE": PASSPHRASE, "SECUREMSG_KEYSTORE": "file"})
    proc = subprocess.Popen(argv, stdin=child, stdout=child, stderr=child, env=env)
    os.close(child)
    out = b""
    while b"Send anyway?" not in out:
        chunk = os.read(parent, 4096)
        assert chunk, out
        out += chunk
    os.write(parent, b"n\n")
    try:
        while chunk := os.read(parent, 4096):
            out += chunk
    except OSError:
        pass  # the child closed the terminal
    assert proc.wait(timeout=30) == 1
    os.close(parent)
    assert b"nothing was sent" in out
    assert world.snap("gp") == before
    assert list(world.path("outbox").iterdir()) == []


@pytest.mark.parametrize(
    ("label", "args", "words"),
    [
        (
            "gp",
            ["send", "@letter", "--to", "Bob", "--kind", "referal"],
            "unknown purpose 'referal': did you mean referral?",
        ),
        (
            "pat",
            [
                "consent",
                "grant",
                "--from",
                "Alice",
                "--to",
                "Bob",
                "--purpose",
                "refferal",
                "-o",
                "@x.cose",
            ],
            "did you mean referral?",
        ),
        (
            "pat",
            [
                "consent",
                "grant",
                "--from",
                "Alice",
                "--to",
                "Bob",
                "--purpose",
                "referral",
                "--domain",
                "nursng",
                "-o",
                "@x.cose",
            ],
            "unknown care domain 'nursng': did you mean nursing?",
        ),
        (
            None,
            ["init", "--name", "Dr X", "--role", "specalist"],
            "unknown role 'specalist': did you mean specialist?",
        ),
        (
            "gp",
            ["send", "@letter", "--to", "Bob", "--attach", "@scan.pdf:nursng"],
            "unknown care domain 'nursng' in --attach",
        ),
        (
            "gp",
            ["send", "@letter", "--to", "Bob", "--attach", "@scan.pdf:cardio"],
            "unknown care domain 'cardio' in --attach",
        ),
        (
            "gp",
            [
                "send",
                "@letter",
                "--to",
                "Bob",
                "--consent",
                "@consent.cose",
                "-o",
                "@no-such-folder/",
            ],
            "the folder",
        ),
    ],
)
def test_errors_that_guide(
    world: World, tmp_path: Path, label: str | None, args: list[str], words: str
) -> None:
    argv = [
        str(world.path("letter.md")) if a == "@letter" else
        str(world.path(a[1:])) if a.startswith("@") else a
        for a in args
    ]  # fmt: skip
    home = world.home(label) if label else tmp_path / "new"
    before = world.snap()
    res = world.run(label, *argv, executable=True) if label else _run_in(home, argv)
    assert res.exit_code == 2, res.stderr
    assert words in " ".join(res.stderr.split())
    assert "not a readable file" not in res.stderr and "is not a folder" not in res.stderr
    if "the folder" in words:
        assert "does not exist" in res.stderr and "mkdir" in res.stderr
    assert world.snap() == before


def _run_in(home: Path, argv: list[str]) -> Result:
    from clirun import run_cli

    return run_cli(home, *argv, executable=True)


def test_rpps_check_digit(world: World, tmp_path: Path) -> None:
    from clirun import run_cli

    init = ["init", "--name", "Dr X", "--role", "gp", "--rpps"]
    res = run_cli(tmp_path / "a", *init, "10001234567", executable=True)
    assert res.exit_code == 2
    assert (
        "the RPPS number 10001234567 is not valid: its check digit (Luhn) does not match"
        in res.stderr
    )
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())
    res = run_cli(tmp_path / "b", *init, "10001234565", executable=True)
    assert res.exit_code == 0, res.stderr
    # a card read with a bad digit (signed before the check): added, with a warning
    repo_card = Path(__file__).resolve().parents[2] / "keys" / "cardiologist.card"
    res = run(world, "nurse", "contacts", "add", repo_card)
    assert res.exit_code == 0, res.stderr
    assert "fails its check digit (Luhn)" in " ".join(res.stderr.split())


def test_a_short_but_right_fingerprint_prefix(world: World) -> None:
    fp = world.fp("card")
    res = run(world, "gp", "contacts", "verify", "Bob", fp[:16])
    assert res.exit_code == 2
    assert "too short to verify a key: give at least 32 characters" in " ".join(res.stderr.split())
    assert "does not match" not in res.stderr
    res = run(world, "gp", "--json", "contacts", "verify", "Bob", fp[:32])
    assert res.exit_code == 0 and res.json()["verified"] is True


@pytest.mark.parametrize(
    ("label", "args", "file", "words", "command"),
    [
        (
            "gp",
            ["receive"],
            "consent.cose",
            "is a consent grant, not a letter, receipt or refusal notice",
            "securemsg consent show",
        ),
        (
            "gp",
            ["contacts", "add"],
            "letter.md",
            "is a letter's Markdown source, not a contact card",
            "securemsg send",
        ),
        (
            "gp",
            ["contacts", "add"],
            "consent.cose",
            "is a consent grant, not a contact card",
            "securemsg consent show",
        ),
        (
            "gp",
            ["consent", "show"],
            "card.card",
            "is a contact card, not a consent",
            "securemsg contacts add",
        ),
        ("gp", ["receive"], "card.card", "is a contact card", "securemsg contacts add"),
        (
            "gp",
            ["send", "--to", "Bob", "--consent", "@consent.cose"],
            "card.card",
            "is a contact card, not a letter's Markdown source",
            "securemsg contacts add",
        ),
    ],
)
def test_a_file_given_to_the_wrong_command(
    world: World, label: str, args: list[str], file: str, words: str, command: str
) -> None:
    argv = [str(world.path(a[1:])) if a.startswith("@") else a for a in args]
    before = world.snap()
    res = run(world, label, "--json", *argv, world.path(file))
    assert res.exit_code == 2, res.stderr
    err = res.error_json()
    assert err["error"] == "wrong_command"
    assert words in err["message"]
    assert command in err["hint"]
    assert world.snap() == before


def test_an_envelope_given_to_contacts_add(world: World) -> None:
    sent = world.send("--yes")
    envelope = next(Path(o["file"]) for o in sent["outputs"] if o["recipient"] == "Dr Bob Durand")
    res = run(world, "card", "--json", "contacts", "add", envelope)
    assert res.exit_code == 2
    assert "securemsg receive" in json.loads(res.stderr)["hint"]


def test_the_nurse_gets_greeting_and_sign_off_on_two_lines(world: World) -> None:
    letter = world.path("shared.md")
    letter.write_text(
        "---\nsubject: Shared text\n---\n{shared}\nDear colleagues, Gq1.\n\n"
        "## History\nMedical Mz4.\n\n## Dressing {nursing}\nDressing Nz5.\n\n"
        "## More history\nMedical Mz6.\n\n{shared}\nKind regards,\nDr Alice Martin\n"
    )
    sent = world.send("--yes", letter=letter)
    assert world.receive_drop("nurse")[0] == 0
    res = run(world, "nurse", "read", sent["message_id"][:12])
    assert res.exit_code == 0, res.stderr
    lines = [ln.strip() for ln in res.stdout.splitlines()]
    assert "Dear colleagues, Gq1." in lines and "Dressing Nz5." in lines
    i = lines.index("Kind regards,")
    assert lines[i + 1] == "Dr Alice Martin"  # the sign-off stays on two lines
    assert "Mz4" not in res.stdout and "Mz6" not in res.stdout


def test_front_matter_through_send(world: World) -> None:
    """A quoted subject keeps no quotes; a YAML mistake is refused with its line."""
    letter = world.path("quoted.md")
    letter.write_text('---\nsubject: "Referral: chest pain"\n---\n{shared}\nHello\n')
    args = ["send", letter, "--to", "Bob", "--consent", world.path("consent.cose"), "--dry-run"]
    assert ok(world, "gp", *args)["subject"] == "Referral: chest pain"
    letter.write_text("---\nsubject: Referral: chest pain\n---\nHello\n")
    res = run(world, "gp", "--json", *args)
    assert res.exit_code == 2
    assert res.error_json()["message"].startswith("the front matter is not valid YAML at line 2: ")
    letter.write_text("---\nsubject: x\nurgent: yes\n---\nHello\n")
    res = run(world, "gp", "--json", *args)
    assert res.error_json()["message"] == "unknown key 'urgent' in the front matter at line 3"


def test_another_patients_consent_is_named(world: World) -> None:
    """--patient names one patient, the consent is another's: both by name."""
    res = run(
        world, "gp", "--json", "send", world.path("letter.md"), "--to", "Bob", "--patient",
        "Marc", "--consent", world.path("consent.cose"), "--dry-run",
    )  # fmt: skip
    assert res.exit_code == 3
    message = res.error_json()["message"]
    assert message == "consent grant: signed by Jeanne Dupont, not by the patient Marc Autre"
    from securemsg.core.consent.explain import short_fp

    for label in ("pat", "pat2"):  # people known here are named, not shown as keys
        assert short_fp(world.fp(label)) not in message


def test_a_mistyped_recipient_gets_a_suggestion(world: World) -> None:
    res = run(
        world, "gp", "send", world.path("letter.md"), "--to", "Dr Bob Durant",
        "--consent", world.path("consent.cose"), "--dry-run",
    )  # fmt: skip
    assert res.exit_code == 1
    assert "no contact matches 'Dr Bob Durant': did you mean Dr Bob Durand?" in res.stderr
