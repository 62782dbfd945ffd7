"""Shell completion of option values and arguments (docs/cli.md, "Shell completion").

click completes command and option names by itself; these callbacks complete
the values: roles, letter kinds and purposes, care domains (from core's enums),
contact names and message ids (read from the home without ever prompting:
app/complete.py). Each returns the candidates that start with what was typed;
a name from someone else's card is escaped before it reaches the shell.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

import click

from securemsg.core.text import for_terminal

if TYPE_CHECKING:  # click.shell_completion is loaded by click when it completes
    from click.shell_completion import CompletionItem


def _item(value: str) -> CompletionItem:
    # here, not at import: every command module imports this one for its
    # callbacks, and only a completion run needs the class (start-up time)
    from click.shell_completion import CompletionItem

    return CompletionItem(value)


def _items(values: Iterable[str], incomplete: str) -> list[CompletionItem]:
    low = incomplete.casefold()
    return [_item(v) for v in values if v.casefold().startswith(low)]


def _home_option(ctx: click.Context) -> str | None:
    home = ctx.find_root().params.get("home")
    return home if isinstance(home, str) else None


def roles(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from securemsg.core.identity import Role

    return _items((r.value for r in Role), incomplete)


def kinds(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Letter kinds and consent purposes: the same list (core.domains.Purpose)."""
    from securemsg.core.domains import Purpose

    return _items((p.value for p in Purpose), incomplete)


def domains(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from securemsg.core.domains import Domain

    return _items((d.value for d in Domain), incomplete)


def contacts(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from securemsg.app.complete import contact_names

    names = contact_names(_home_option(ctx), os.environ, incomplete)
    return [_item(for_terminal(n)) for n in names]


def contacts_or_roles(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    return roles(ctx, param, incomplete) + contacts(ctx, param, incomplete)


def message_ids(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    from securemsg.app.complete import message_ids as ids

    return [_item(i) for i in ids(_home_option(ctx), os.environ, incomplete)]
