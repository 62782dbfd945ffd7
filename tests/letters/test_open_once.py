"""Work a listing does once, not once per table owner (issue 14, target 9): the
storage keys are asked of the key holder once per process (with the agent, each
ask was a request over its socket), and `inbox`/`sent` read and verify the
contacts once (the names, the pinned patient keys and the revoked keys all come
from that one read)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from securemsg.app import mailbox
from securemsg.core.storage import StorageKeys
from securemsg.store.contacts import Contacts
from securemsg.store.home import Home


@pytest.fixture
def home(make_home: Callable[..., Path]) -> Home:
    return Home(make_home("Dr Ada Weiss", "gp"), env=dict(os.environ))


def test_storage_keys_are_derived_once_per_home(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    derive = StorageKeys.derive.__func__  # type: ignore[attr-defined]

    def counted(cls: type[StorageKeys], secret: Any) -> StorageKeys:
        calls.append(secret)
        return derive(cls, secret)  # type: ignore[no-any-return]

    monkeypatch.setattr(StorageKeys, "derive", classmethod(counted))
    first = home.storage_keys()
    assert home.storage_keys() is first and Contacts(home).keys is first
    assert len(calls) == 1
    other = Home(home.dir, env=home.env)  # another process's Home: its own keys
    assert other.storage_keys() == first and len(calls) == 2


def test_a_listing_reads_the_contacts_once(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[bool] = []
    read_all = Contacts.all

    def counted(self: Contacts, include_replaced: bool = False) -> Any:
        reads.append(include_replaced)
        return read_all(self, include_replaced)

    monkeypatch.setattr(Contacts, "all", counted)
    for folder in ("in", "sent"):
        reads.clear()
        listing = mailbox.listing(home, folder, 50, 1)
        assert reads == [True]
        assert listing.names[listing.me or ""] == "Dr Ada Weiss"
        assert listing.unverified_patients == frozenset() and listing.revoked == {}
