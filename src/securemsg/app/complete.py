"""What shell completion may offer from a home: contact names and message ids.

Never a prompt: the home is read only when its keys are at hand without one
(the agent runs, the keys are in the OS key store, or SECUREMSG_PASSPHRASE is
set); otherwise nothing is offered. Any failure offers nothing: completion
never prints an error into the user's shell.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping

from securemsg.app.home import open_home
from securemsg.store.home import Home
from securemsg.store.keystore import ENV_PASSPHRASE

LIMIT = 200  # candidates offered at most


def _home_without_prompt(option: str | None, env: Mapping[str, str]) -> Home | None:
    home = open_home(option, env)
    if not home.exists():
        return None
    from securemsg.store.agent.client import find_agent

    if find_agent(home.dir, home.env) is not None:
        return home
    kind = home.config().get("keystore", {}).get("kind")
    if kind == "keyring" or (kind == "file" and env.get(ENV_PASSPHRASE)):
        return home
    return None


def _quietly(
    read: Callable[[Home], list[str]], option: str | None, env: Mapping[str, str]
) -> list[str]:
    with contextlib.suppress(Exception):
        home = _home_without_prompt(option, env)
        if home is not None:
            try:
                return read(home)[:LIMIT]
            finally:
                home.close()
    return []


def _matches(text: str, incomplete: str) -> bool:
    low = incomplete.casefold()
    return text.casefold().startswith(low) or any(
        word.casefold().startswith(low) for word in text.split()
    )


def contact_names(option: str | None, env: Mapping[str, str], incomplete: str) -> list[str]:
    """The names of my active contacts that start with ``incomplete`` (or a word of it)."""

    def read(home: Home) -> list[str]:
        from securemsg.store.contacts import Contacts

        names = {c.card.profile.name for c in Contacts(home).all()}
        return sorted(n for n in names if _matches(n, incomplete))

    return _quietly(read, option, env)


def message_ids(option: str | None, env: Mapping[str, str], incomplete: str) -> list[str]:
    """The ids of my received letters and doubles that start with ``incomplete``, newest first."""

    def read(home: Home) -> list[str]:
        from securemsg.store.mailbox import Mailbox

        box = Mailbox(home)
        ids: list[str] = []
        for folder in ("in", "sent"):
            ids += [r.id for r in box.listing(folder, limit=LIMIT, offset=0, patient_fp=None)]
        low = incomplete.casefold()
        return [i for i in dict.fromkeys(ids) if i.casefold().startswith(low)]

    return _quietly(read, option, env)
