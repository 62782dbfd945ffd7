"""Which home a command works in, and how a full disk or a refused file is reported.

On whoami's path (cli/main.py): no pathlib, no dataclasses at import
(start-up time, docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from securemsg.i18n import _
from securemsg.store.home import Home, home_dir

if TYPE_CHECKING:
    from securemsg.errors import SecureMsgError

__all__ = ["Home", "disk_full", "open_home", "permission_denied", "settings", "start_settings"]


def open_home(option: str | None, env: Mapping[str, str]) -> Home:
    """``--home``, else ``SECUREMSG_HOME``, else the platform's data folder."""
    return Home(home_dir(option, env))


def disk_full(exc: OSError) -> SecureMsgError | None:
    """The error to report when ``exc`` says a disk or quota is full, else None."""
    from securemsg.store.space import is_full, no_space

    return no_space(None, exc) if is_full(exc) else None


def permission_denied(exc: OSError) -> SecureMsgError | None:
    """The error to report when the system refused this account a file or folder
    that no command expected to be refused (a drop folder's refusals are said
    more precisely, store/drop.py), else None."""
    if not isinstance(exc, PermissionError):
        return None
    import os

    from securemsg.errors import PermissionDenied

    where = os.fsdecode(exc.filename) if exc.filename is not None else _("a file or folder")
    return PermissionDenied(
        _("permission denied: {where} ({value})").format(
            where=where, value=exc.strerror or _("refused by the system")
        ),
        hint=_("check who owns it and its permissions (`ls -ld`), or choose another place"),
    )


def start_settings(option: str | None, env: Mapping[str, str]) -> dict[str, str]:
    """The display settings of the home a command will use, read at start-up
    before the home is opened ({} when there is none)."""
    from securemsg.store.home import read_settings

    return read_settings(home_dir(option, env))


def settings(home: Home, changes: Mapping[str, str | None]) -> dict[str, str]:
    """This home's display settings, after ``changes`` (a value sets, None removes)."""
    from securemsg.store.home import read_settings

    if changes:
        return home.save_settings(changes)
    home.require()
    return read_settings(home.dir)
