"""store/dirfd.py: a folder others can write to, used through a checked descriptor.

The races (a FIFO or a link swapped in between the look and the open, a file
replaced between the read and the unlink, a file that grows after its check) are
made deterministic here by doing the swap from inside the operation.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from securemsg.store import checked, dirfd
from securemsg.store.checked import Problem, Unsafe, open_path
from securemsg.store.dirfd import Dir


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "drop"
    d.mkdir()
    return d


def _problem(exc: pytest.ExceptionInfo[Unsafe]) -> Problem:
    return exc.value.problem


# -- folders ---------------------------------------------------------------------------
def test_a_sub_folder_is_opened_without_following_a_link(folder: Path, tmp_path: Path) -> None:
    target = tmp_path / "private"
    target.mkdir()
    (folder / "fp").symlink_to(target)
    with Dir.open(folder) as root, pytest.raises(Unsafe) as exc:
        root.sub("fp", create=0o700)
    assert _problem(exc) is Problem.LINK
    assert (folder / "fp").is_symlink()  # neither followed nor replaced


def test_a_file_where_a_folder_belongs(folder: Path) -> None:
    (folder / "fp").write_bytes(b"x")
    with Dir.open(folder) as root, pytest.raises(Unsafe) as exc:
        root.sub("fp", create=0o700)
    assert _problem(exc) is Problem.NOT_DIR
    assert exc.value.st is not None and stat.S_ISREG(exc.value.st.st_mode)


def test_a_missing_folder_is_made_or_reported(folder: Path) -> None:
    with Dir.open(folder) as root:
        with pytest.raises(Unsafe) as exc:
            root.sub("fp")
        assert _problem(exc) is Problem.MISSING
        with root.sub("fp", create=0o700) as d:
            assert stat.S_ISDIR(d.st.st_mode)
    assert stat.S_IMODE((folder / "fp").stat().st_mode) & 0o077 == 0


def test_a_folder_the_caller_does_not_accept(folder: Path) -> None:
    (folder / "fp").mkdir()
    with Dir.open(folder) as root, pytest.raises(Unsafe) as exc:
        root.sub("fp", accept=lambda st: False)
    assert _problem(exc) is Problem.NOT_OURS


# -- files -----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["link", "fifo", "dir"])
def test_what_is_not_a_regular_file_is_never_opened(folder: Path, kind: str) -> None:
    path = folder / "f.smsg"
    if kind == "link":
        (folder / "target").write_bytes(b"secret")
        path.symlink_to(folder / "target")
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    with Dir.open(folder) as d, pytest.raises(Unsafe) as exc:
        d.open_file("f.smsg", 1 << 20)
    assert _problem(exc) is (Problem.LINK if kind == "link" else Problem.NOT_FILE)


@pytest.mark.parametrize("swap", ["fifo", "link"])
def test_a_fifo_or_link_swapped_in_after_the_look_neither_blocks_nor_is_followed(
    folder: Path, monkeypatch: pytest.MonkeyPatch, swap: str
) -> None:
    """The name was a regular file when it was looked at (lstat), and is a FIFO or
    a link when it is opened: O_NONBLOCK|O_NOFOLLOW, then fstat, refuse it."""
    path = folder / "f.smsg"
    path.write_bytes(b"letter")
    (folder / "target").write_bytes(b"secret")
    real_open = os.open

    def swapping_open(name: str, flags: int, *args: object, **kw: object) -> int:
        if name == "f.smsg":
            path.unlink()
            if swap == "fifo":
                os.mkfifo(path)
            else:
                path.symlink_to(folder / "target")
        return real_open(name, flags, *args, **kw)  # type: ignore[arg-type]

    with Dir.open(folder) as d:
        monkeypatch.setattr(dirfd.os, "open", swapping_open)
        with pytest.raises(Unsafe) as exc:
            d.open_file("f.smsg", 1 << 20)
    assert _problem(exc) is (Problem.NOT_FILE if swap == "fifo" else Problem.LINK)


def test_a_fifo_named_by_the_user_does_not_block(folder: Path) -> None:
    fifo = folder / "f.smsg"
    os.mkfifo(fifo)
    with pytest.raises(Unsafe) as exc:
        open_path(fifo, 1 << 20)
    assert _problem(exc) is Problem.NOT_FILE


def test_size_cap_and_holes_are_checked_before_reading(folder: Path) -> None:
    (folder / "big").write_bytes(b"x" * 101)
    with open(folder / "sparse", "wb") as fh:
        fh.write(b"x")
        fh.truncate(64 << 20)
    (folder / "dense").write_bytes(os.urandom(1 << 20))
    with Dir.open(folder) as d:
        with pytest.raises(Unsafe) as exc:
            d.open_file("big", 100)
        assert _problem(exc) is Problem.TOO_LARGE and exc.value.cap == 100
        with pytest.raises(Unsafe) as exc:
            d.open_file("sparse", 1 << 30)
        assert _problem(exc) is Problem.SPARSE
        with d.open_file("dense", 1 << 20) as f:
            assert f.size == 1 << 20


def test_what_is_read_stops_at_the_size_that_was_checked(folder: Path) -> None:
    path = folder / "f"
    path.write_bytes(b"abc")
    with Dir.open(folder) as d, d.open_file("f", 100) as f:
        with open(path, "ab") as fh:  # grows after the check
            fh.write(b"d" * 50)
        one, two = f.reader(), f.reader()
        assert one.read(2) == b"ab"
        assert two.read() == b"abc"  # each reader from the start, to the checked size
        assert one.read() == b"c"


def test_a_read_error_is_raised_as_the_callers_error(folder: Path) -> None:
    (folder / "f").write_bytes(b"abc")

    class Boom(Exception):
        pass

    with Dir.open(folder) as d:
        f = d.open_file("f", 100)
        os.close(f.fd)  # reading now fails (EBADF)
        with pytest.raises(Boom):
            f.reader(lambda exc: Boom(str(exc))).read()
        f.fd = -1


# -- changing ---------------------------------------------------------------------------
def test_remove_and_rename_only_the_file_that_was_checked(folder: Path) -> None:
    (folder / "f").write_bytes(b"checked")
    with Dir.open(folder) as d:
        with d.open_file("f", 100) as f:
            which = f.ident
        (folder / "f").rename(folder / "kept")  # (kept: its inode is not reused)
        (folder / "f").write_bytes(b"another")  # replaced since
        (folder / "g").symlink_to(folder / "f")
        assert not d.remove("f", which)
        assert not d.rename("f", "f.refused", which)
        assert (folder / "f").read_bytes() == b"another"
        g = d.lstat("g")
        assert g is not None
        assert d.rename("g", "g.refused", checked.ident(g))  # the link itself is renamed
        assert (folder / "g.refused").is_symlink() and (folder / "f").exists()
        assert not d.remove("gone", which)


def test_files_are_created_new_never_through_a_link(folder: Path, tmp_path: Path) -> None:
    with Dir.open(folder) as d:
        name, fd = d.create(".x-", ".tmp", 0o600)
        os.close(fd)
        assert (folder / name).is_file() and name.startswith(".x-")
        d.replace(name, "final")
        assert (folder / "final").is_file()
        d.unlink("missing")  # nothing to remove: fine


def test_a_folder_that_refuses_a_new_file(folder: Path) -> None:
    ro = folder / "ro"
    ro.mkdir()
    with Dir.open(folder) as root, root.sub("ro") as d:
        os.close(d.fd)
        d.fd = os.open(folder / "missing-dir-fd", os.O_RDONLY | os.O_CREAT, 0o600)  # not a dir
        with pytest.raises(Unsafe) as exc:
            d.create(".x-", ".tmp")
    assert _problem(exc) is Problem.UNWRITABLE
