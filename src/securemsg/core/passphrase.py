"""How strong a new passphrase is: zxcvbn's estimate, and the floor (pure).

zxcvbn (Dropbox's estimator, the Python port on PyPI, MIT licence) scores a
passphrase 0..4 from the guesses an attacker would need, knowing dictionaries,
names, keyboard patterns, dates and common substitutions. A new passphrase
must score at least :data:`MIN_SCORE` (3: "safely unguessable", about 10^10
guesses; with Argon2id at ~70 ms a guess on the user's machine). Only new
passphrases are scored (``init``, ``passphrase change``): an existing key file
opens with whatever passphrase it was made with.

zxcvbn is imported when a passphrase is scored, not at import (~60 ms of word
lists); its run time grows with the length, so at most :data:`SCORED_CHARS`
characters are scored (a longer passphrase is at least as strong as its start).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from securemsg.i18n import N_, _

MIN_SCORE: Final = 3
SCORED_CHARS: Final = 100
ADVICE: Final = N_(
    "choose four or five random words (a sentence of your own is easy to guess); "
    "avoid names, dates and common phrases"
)


class Weakness:
    """Why a passphrase was refused: zxcvbn's score, warning and suggestions."""

    __slots__ = ("score", "suggestions", "warning")

    def __init__(self, score: int, warning: str, suggestions: Sequence[str]) -> None:
        self.score = score
        self.warning = warning
        self.suggestions = tuple(suggestions)

    def __repr__(self) -> str:  # never the passphrase
        return f"Weakness(score={self.score})"

    @property
    def message(self) -> str:
        if self.warning:
            return _(
                "this passphrase is too easy to guess (strength {score} of 4, "
                "at least {needed} needed): {warning}"
            ).format(score=self.score, needed=MIN_SCORE, warning=self.warning.rstrip("."))
        return _(
            "this passphrase is too easy to guess (strength {score} of 4, at least {needed} needed)"
        ).format(score=self.score, needed=MIN_SCORE)

    @property
    def hint(self) -> str:
        tips = " ".join(s.rstrip(".") + "." for s in self.suggestions)
        advice = _(ADVICE)
        if tips:
            return _("{tips} Or: {advice}").format(tips=tips, advice=advice)
        return advice[0].upper() + advice[1:]


def weakness(passphrase: str, user_inputs: Sequence[str] = ()) -> Weakness | None:
    """None if ``passphrase`` reaches the floor, else why not. ``user_inputs``:
    words an attacker would try first (the user's name, "securemsg")."""
    from zxcvbn import zxcvbn  # type: ignore[import-untyped]  # no stubs; only here

    words = [w for w in ("securemsg", *user_inputs) if w]
    result = zxcvbn(passphrase[:SCORED_CHARS], user_inputs=words)
    score = int(result["score"])
    if score >= MIN_SCORE:
        return None
    feedback = result.get("feedback") or {}
    return Weakness(
        score, str(feedback.get("warning") or ""), list(feedback.get("suggestions") or [])
    )
