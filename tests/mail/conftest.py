"""Fixtures for letters by mail: a real mail server (tests/mail/mailserver.py:
Postfix and Dovecot on 127.0.0.1, started once per session) and the homes of
tests/mail/mailworld.py.

Where the server software is absent (or the tests do not run as root), every
test here is skipped with the reason, counted in pytest's summary; with
``SECUREMSG_REQUIRE_MAIL=1`` (.ci/run) they fail instead.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import mailserver
import pytest
from mailworld import MailWorld, build


@pytest.fixture(scope="session")
def mail_server() -> Iterator[mailserver.MailServer]:
    why = mailserver.unavailable()
    if why is not None:
        if mailserver.required():
            pytest.fail(f"SECUREMSG_REQUIRE_MAIL=1 but the mail tests cannot run: {why}")
        pytest.skip(f"mail server tests: {why}")
    server = mailserver.started([])  # each world adds its own users
    yield server
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def mail_world(mail_server: mailserver.MailServer, tmp_path: Path) -> MailWorld:
    return build(tmp_path / "world", mail_server)
