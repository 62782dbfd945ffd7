"""The home's folder as a string (whoami avoids pathlib at start-up): the string
forms must be exactly what pathlib gives, and the key store must be described
exactly as ``open_keystore(...).describe()`` does."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st
from keystore_testlib import FAST

from securemsg.errors import KeyStoreError
from securemsg.store.home import Home, home_dir, path_str
from securemsg.store.keystore.describe import check_relpath, describe_keystore
from securemsg.store.keystore.file import PassphraseFileStore
from securemsg.store.keystore.selection import open_keystore

posix_only = pytest.mark.skipif(os.name != "posix", reason="the string forms are POSIX's")
paths = st.text(alphabet="/.~ab-", max_size=12)
SAMPLES = ["", ".", "./", "/", "//", "///", "//a", "///a/", "a//b/./c/", "../a", "a/..", "~"]
SAMPLES += ["~/", "~/a/./b", "~root/x", "~nobody-such-user/x", "/~/a", "./~/a", "a~/b"]


def old_check_relpath(relpath: str) -> str:
    """The check as it was written with PurePosixPath."""
    p = PurePosixPath(relpath)
    if not relpath or p.is_absolute() or any(part in ("..", ".") for part in p.parts):
        raise KeyStoreError("bad")
    return p.as_posix()


def same_result(f, g, arg: str) -> None:  # type: ignore[no-untyped-def]
    try:
        expected = f(arg)
    except (KeyStoreError, RuntimeError) as exc:
        with pytest.raises(type(exc)):
            g(arg)
        return
    assert g(arg) == expected, arg


@posix_only
@pytest.mark.parametrize("home", ["/home/u", "/", "//", ""])
@given(path=paths)
def test_path_str_is_pathlibs(home: str, path: str) -> None:
    old = os.environ.get("HOME")
    os.environ["HOME"] = home
    try:
        for p in (path, *SAMPLES):
            assert path_str(p) == str(Path(p)), p
            same_result(lambda x: str(Path(x).expanduser()), lambda x: path_str(x, True), p)
    finally:
        if old is None:
            del os.environ["HOME"]
        else:
            os.environ["HOME"] = old


@given(relpath=paths)
def test_check_relpath_is_the_pathlib_check(relpath: str) -> None:
    for p in (relpath, *SAMPLES):
        same_result(old_check_relpath, check_relpath, p)


@posix_only
@pytest.mark.parametrize("home", ["/tmp/h", "rel/h", ".", "/", "//", "a/../h"])
@pytest.mark.parametrize("relpath", ["keys/identity.key", "./keys//identity.key", ".", "k"])
def test_describe_keystore_is_open_keystore_describe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: str, relpath: str
) -> None:
    monkeypatch.chdir(tmp_path)
    descriptor = {"kind": "file", "path": relpath}
    expected = open_keystore(descriptor, Path(home)).describe()
    assert describe_keystore(descriptor, path_str(home)) == expected


def test_describe_keystore_reads_the_header(tmp_path: Path) -> None:
    store = PassphraseFileStore(tmp_path, passphrase_source=lambda _: "pw", params=FAST)
    store.save(b"secret")
    text = describe_keystore(store.descriptor(), str(tmp_path))
    assert text == store.describe() == f"passphrase file: {store.path} ({FAST})"


@pytest.mark.parametrize(
    "descriptor",
    [
        {"kind": "file", "path": "../x"},
        {"kind": "file", "path": "/abs"},
        {"kind": "file"},
        {"kind": "nope"},
        {"kind": "keyring", "backend": "b"},
    ],
)
def test_describe_keystore_refuses_as_open_keystore(
    tmp_path: Path, descriptor: dict[str, str]
) -> None:
    with pytest.raises(KeyStoreError) as expected:
        open_keystore(descriptor, tmp_path)
    with pytest.raises(KeyStoreError) as got:
        describe_keystore(descriptor, str(tmp_path))
    assert got.value.message == expected.value.message


def test_describe_keystore_keyring(tmp_path: Path) -> None:
    descriptor = {"kind": "keyring", "backend": "m.B", "service": "s", "account": "a"}
    expected = open_keystore(descriptor, tmp_path).describe()
    assert describe_keystore(descriptor, str(tmp_path)) == expected


@posix_only
def test_home_dir_and_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/u")
    assert home_dir("~/x//y/", {}) == "/home/u/x/y"
    assert home_dir(None, {"SECUREMSG_HOME": "~/s/./t"}) == "/home/u/s/t"
    home = Home(home_dir("a//b/", {}), env={})
    assert home.dir == "a/b" and home.path == Path("a/b")
    assert Home(Path("/x/y"), env={}).dir == "/x/y"
    assert repr(home) == f"Home(path={Path('a/b')!r})"
