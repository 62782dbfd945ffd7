"""The terminal-injection cases of test_terminal_injection.py in French (red team
of session 4): a letter's text made of escape sequences reaches the terminal
escaped through the translated messages and labels too, in ``receive``,
``inbox`` and ``read`` (a pipe, and rendered as on a terminal); a subject holding
one is refused at receive (and the refusal, in French, shows it escaped).
Checked and found sound: no fix was needed."""

from __future__ import annotations

import pytest
from hostile_text import HOSTILE_BODY, raw_controls
from letterworld import PASSPHRASE, M, N, World

from clirun import run_cli, world_env

pytestmark = pytest.mark.slow
FRENCH = {"LANG": "fr_FR.UTF-8", "LC_ALL": None, "LANGUAGE": None, "TZ": "Europe/Paris"}
TERMINAL = {"FORCE_COLOR": "1", "TERM": "xterm-256color", "NO_COLOR": None}


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
def test_in_french_untrusted_text_reaches_the_terminal_escaped(
    world: World, terminal: bool
) -> None:
    path = world.craft(
        "card",
        text=f"{HOSTILE_BODY}\n\n## Care {{nursing}}\n{HOSTILE_BODY}\n",
        attachments=(("scan.pdf", M, b"%PDF-1.4 x\n"),),
        to=(("card", frozenset({M, N})),),
    )
    env = {**world_env(PASSPHRASE), **FRENCH, **(TERMINAL if terminal else {})}
    home = world.home("card")
    res = run_cli(home, "receive", path, env=env, executable=True)
    assert res.exit_code == 0, res.stderr
    outputs = [res.stdout, res.stderr]
    for args in (("inbox",), ("read", "latest", "--no-pager")):
        res = run_cli(home, *args, env=env, executable=True)
        assert res.exit_code == 0, res.stderr
        outputs += [res.stdout, res.stderr]
    assert "Objet" in "".join(outputs) or "objet" in "".join(outputs)  # French it is
    for out in outputs:
        assert raw_controls(out, styled=terminal) == [], out
    assert "\\u{1b}]0;pwned-title\\u{7}" in "".join(outputs)


def test_in_french_a_refused_subject_is_shown_escaped(world: World) -> None:
    path = world.craft("card", fields={"subject": "Re: \x1b]0;pwned-title\x07 \u202eevil"})
    env = {**world_env(PASSPHRASE), **FRENCH, **TERMINAL}
    res = run_cli(world.home("card"), "receive", path, env=env, executable=True)
    assert res.exit_code == 3, res.stderr
    assert "refusée" in res.stderr and "U+001B" in res.stderr
    assert raw_controls(res.stdout, styled=True) == []
    assert raw_controls(res.stderr, styled=True) == []
