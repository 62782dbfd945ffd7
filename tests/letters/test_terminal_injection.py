"""Issue 12, cases 7, 8 and 12: what a letter's author writes reaches the reader's
terminal (and JSON) only as visible text, and nothing written is hidden (R4).

Every letter here is built with the project's own library as a hostile sender
would (letterworld.World.plan, past the checks of an honest send), received and
read through the installed executable (a child process, stdout a pipe; and with
FORCE_COLOR, rendered as on a terminal). What reached stdout is searched for raw
control, bidi and format characters; their visible escapes must be there.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from hostile_text import HOSTILE_BODY, SEQUENCES, SGR, raw_controls, source
from letterworld import PASSPHRASE, M, N, World

from clirun import Result, run_cli, world_env

# rich renders as on a colour terminal: styles are written (SGR sequences).
TERMINAL = {"FORCE_COLOR": "1", "TERM": "xterm-256color", "NO_COLOR": None}


def _read(world: World, label: str, mid: str, *args: str, terminal: bool = False) -> Result:
    env = {**world_env(PASSPHRASE), **(TERMINAL if terminal else {})}
    res = run_cli(world.home(label), *args, "read", mid, env=env, executable=True)
    assert res.exit_code == 0, res.stderr
    return res


def _receive(world: World, label: str, *files: Path) -> dict[str, str]:
    """``receive FILE...`` through the executable: every row accepted."""
    res = world.run(label, "--json", "receive", *files, executable=True)
    assert res.exit_code == 0, (res.stdout, res.stderr)
    rows = res.json()["results"]
    assert [r["status"] for r in rows] == ["accepted"] * len(files), rows
    return {r["file"]: r["message_id"] for r in rows}


@pytest.fixture
def hostile(world: World) -> tuple[World, str]:
    """A letter from Alice to Bob whose sections are made of escape sequences
    (an honest send accepts such text: only headings and names are refused)."""
    path = world.craft("card", text=f"{HOSTILE_BODY}\n\n## Care {{nursing}}\n{HOSTILE_BODY}\n")
    (mid,) = _receive(world, "card", path).values()
    return world, mid


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
def test_case7_section_text_reaches_the_terminal_escaped(
    hostile: tuple[World, str], terminal: bool
) -> None:
    world, mid = hostile
    out = _read(world, "card", mid, terminal=terminal).stdout
    assert raw_controls(out, styled=terminal) == []
    text = SGR.sub("", out)
    for what, (_raw, shown) in SEQUENCES.items():
        assert text.count(shown) == 2, (what, shown)  # both sections
    if terminal:
        assert len(re.findall("Overwrite *\n *the line", text)) == 2  # CR: a Markdown line ending
    else:  # not a terminal: the text as written (issue 13), the CR escaped
        assert text.count("Overwrite\\u{d}the line") == 2
    # the panel is drawn once, and says what this mailbox knows
    assert text.count("Author's key: NOT verified") == 1
    assert "\x1b]" not in out  # no OSC at all: no title, clipboard or hyperlink


def test_case7_section_text_in_json_round_trips(hostile: tuple[World, str]) -> None:
    world, mid = hostile
    res = _read(world, "card", mid, "--json")
    assert raw_controls(res.stdout) == []
    texts = [i["text"] for i in res.json()["items"]]
    assert texts[0] == HOSTILE_BODY + "\n" and texts[1] == f"## Care\n{HOSTILE_BODY}\n"


def test_case12_json_escapes_c1_del_and_bidi(world: World) -> None:
    body = "Dose: 5 mg\x7f \x85 \x9b1m \u202eevil\u202c \u2066x\u2069 \u200e \u2028 \U000e0041."
    path = world.craft("card", text=body + "\n", name="json.smsg")
    (mid,) = _receive(world, "card", path).values()
    res = _read(world, "card", mid, "--json")
    for raw in ("\x7f", "\x85", "\x9b", "\u202e", "\u2066", "\u200e", "\u2028", "\U000e0041"):
        assert raw not in res.stdout, f"U+{ord(raw):04X} raw in the JSON"
    for escape in ("\\u007f", "\\u0085", "\\u009b", "\\u202e", "\\u2066", "\\u200e", "\\u2028"):
        assert escape in res.stdout
    assert "\\udb40\\udc41" in res.stdout  # above U+FFFF: a surrogate pair, as JSON says
    (item,) = res.json()["items"]
    assert item["text"] == body + "\n"  # the same text, decoded


def test_case8_html_comments_and_link_addresses_are_shown(world: World) -> None:
    body = (
        "Dear colleague,\n\n"
        "<!-- for the doctors only: do not tell the patient about the scan -->\n\n"
        "<div>a raw HTML block the patient must see</div>\n\n"
        "Inline <span>html</span> and a [harmless link](https://evil.example/steal?id=1 "
        '"a title").\n'
        "An autolink <https://auto.example/x>, an image ![scan](https://img.example/s.png).\n"
        "[note]: https://ref.example/hidden-definition\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 | cell beyond the header |\n\n"
        "Take ~~no~~ aspirin.\n\n"
        "```sh hidden words in the info string\ncode\n```\n"
    )
    path = world.craft("card", text=body, name="html.smsg")
    (mid,) = _receive(world, "card", path).values()
    for terminal in (False, True):
        out = _read(world, "card", mid, terminal=terminal).stdout
        assert raw_controls(out, styled=terminal) == []
        flat = " ".join(SGR.sub("", out).split())  # lines folded at the terminal's width
        for shown in (
            "<!-- for the doctors only: do not tell the patient about the scan -->",
            "<div>a raw HTML block the patient must see</div>",
            "Inline <span>html</span>",
            # on a terminal laid out; not on a terminal, the text as written (issue 13)
            'harmless link <https://evil.example/steal?id=1> "a title"'
            if terminal
            else '[harmless link](https://evil.example/steal?id=1 "a title")',
            "<https://auto.example/x>",
            "[image: scan] <https://img.example/s.png>"
            if terminal
            else "![scan](https://img.example/s.png)",
            "[note]: https://ref.example/hidden-definition",
            "| 1 | 2 | cell beyond the header |",
            "~~no~~",
            "```sh hidden words in the info string",
        ):
            assert shown in flat, (terminal, shown, out)
        assert "\x1b]8" not in out  # never a hyperlink


def test_case7_refusal_notice_reason_is_escaped(world: World) -> None:
    """A refusal notice's reason is the other party's text, shown by `receive`."""
    from securemsg.core.letter.proofs import Refusal
    from securemsg.store.receiving import file_digest

    sent = world.send("--to", "Bob")
    out = Path(next(o["file"] for o in sent["outputs"] if o["role"] == "specialist"))
    reason = "refused \x1b]0;pwned\x07 \u202eevil"
    with out.open("rb") as fh:
        digest = file_digest(fh)
    notice = Refusal.sign(
        world.secret("card"),
        bytes.fromhex(sent["message_id"]),
        digest,
        world.fp("card"),
        int(time.time()),
        "rule",
        reason,
    )
    path = world.write("x.refusal", notice.encoded)
    before = world.snap("gp")
    res = world.run("gp", "receive", path, executable=True)
    assert res.exit_code == 0, res.stderr
    assert raw_controls(res.stdout) == [], res.stdout
    assert "refused \\u{1b}]0;pwned\\u{7} \\u{202e}evil" in res.stdout
    assert world.snap("gp") != before  # the notice was recorded
    res = world.run("gp", "--json", "receive", path, executable=True)  # once more: unchanged
    assert res.exit_code == 0 and raw_controls(res.stdout) == [], res.stdout
    (row,) = res.json()["results"]
    assert row["detail"] == reason


def test_domains_sections_and_attachments_still_shown(world: World) -> None:
    """The sanitiser changes nothing in an ordinary letter (accents, French
    spacing, emoji with a variation selector), section markers included."""
    body = "Tension artérielle\u202f: 12/8 \u2764\ufe0f, «\u00a0bien\u00a0»."
    path = world.craft(
        "card",
        source=source(("", M, body), ("Soins", N, "Pansement.")),
        attachments=[("compte-rendu été.pdf", M, b"%PDF")],
        name="plain.smsg",
    )
    (mid,) = _receive(world, "card", path).values()
    out = _read(world, "card", mid).stdout
    assert body in out and "[nursing]" in out and "Pansement." in out
    assert "Attachment: compte-rendu été.pdf (4 bytes, medical)" in out
    assert "\\u{" not in out
    doc = json.loads(_read(world, "card", mid, "--json").stdout)
    assert doc["items"][0]["text"] == body + "\n"
