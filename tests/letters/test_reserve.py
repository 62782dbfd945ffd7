"""store/space.py: a send makes its envelopes' temp files before hashing the
attachments and reserves their space meanwhile. The envelopes still come out
exactly as long as what was written (receivers accept them), and a folder that
cannot hold them refuses the send before anything is encrypted, with nothing
left behind. (The speed it buys is measured by benchmarks/.)"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest
from letterworld import World

from securemsg.errors import NoSpaceError
from securemsg.store import space
from securemsg.store.space import Reserved


def _folder(tmp_path: Path) -> Path:
    d = tmp_path / "envelopes"
    d.mkdir()
    return d


def _fail_with(code: int) -> Any:
    def fallocate(fd: int, offset: int, length: int) -> None:
        raise OSError(code, os.strerror(code))

    return fallocate


def test_reserved_files_hold_their_space_and_close_removes_the_rest(tmp_path: Path) -> None:
    d = _folder(tmp_path)
    big = space.RESERVE_FROM
    r = Reserved([(d, big), None, (d, 10)])
    r.wait()
    taken = r.take(0)
    assert taken is not None
    assert os.fstat(taken[1]).st_size == big  # reserved
    assert r.take(1) is None
    small = [p for p in d.iterdir() if p != taken[0]]
    assert len(small) == 1 and small[0].stat().st_size == 0  # too small to reserve
    r.close()
    assert list(d.iterdir()) == [taken[0]]  # the untaken file is removed
    os.close(taken[1])


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_folder_is_reported_by_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    monkeypatch.setattr(os, "posix_fallocate", _fail_with(code))
    d = _folder(tmp_path)
    r = Reserved([(d, space.RESERVE_FROM)])
    with pytest.raises(NoSpaceError, match="not enough space in"):
        r.wait()
    r.close()
    assert list(d.iterdir()) == []


def test_no_fallocate_on_this_file_system_is_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "posix_fallocate", _fail_with(errno.EOPNOTSUPP))
    d = _folder(tmp_path)
    r = Reserved([(d, space.RESERVE_FROM)])
    r.wait()
    r.close()
    assert list(d.iterdir()) == []


def _send_args(world: World) -> list[str | Path]:
    return [
        "--json",
        "send",
        world.path("letter.md"),
        "--kind",
        "referral",
        "--patient",
        "Jeanne",
        "--consent",
        world.path("consent.cose"),
        "--to",
        "Bob",
        "--attach",
        f"{world.path('scan.pdf')}:medical",
        "-o",
    ]


def test_reserved_envelopes_are_cut_to_size_and_received(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(space, "RESERVE_FROM", 0)  # reserve for every envelope
    out = tmp_path / "out"
    out.mkdir()
    sent = world.ok("gp", *_send_args(world), out)
    assert list(out.glob(".send-*")) == []
    who = {"specialist": "card", "patient": "pat"}
    assert sorted(o["role"] for o in sent["outputs"]) == ["patient", "specialist"]
    for o in sent["outputs"]:
        path = Path(o["file"])
        assert not path.read_bytes().endswith(bytes(64))  # no reserved zeros left
        doc = world.ok(who[o["role"]], "receive", path)
        assert doc["results"][0]["status"] == "accepted"
    double = Path(sent["double"])
    assert not double.read_bytes().endswith(bytes(64))
    assert world.ok("gp", "read", sent["message_id"])["message_id"] == sent["message_id"]


def test_a_send_to_a_full_folder_is_refused_and_leaves_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(space, "RESERVE_FROM", 0)
    monkeypatch.setattr(os, "posix_fallocate", _fail_with(errno.ENOSPC))
    out = tmp_path / "out"
    out.mkdir()
    before = world.snap("gp")
    res = world.run("gp", *_send_args(world), out)
    assert res.exit_code == 1
    doc = res.error_json()
    assert doc["error"] == "no_space" and doc["exit"] == 1
    assert "free some space" in doc["hint"]
    assert list(out.iterdir()) == []
    assert world.snap("gp") == before


def test_a_receive_on_a_full_disk_says_so_and_leaves_the_letter_in_the_drop(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.send("--to", "Bob")
    letters = sorted((world.drop / world.fp("card")).glob("*.smsg"))
    assert len(letters) == 1
    before = world.snap("card")

    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)
    res = world.run("card", "--json", "receive", "--drop", world.drop)
    assert res.exit_code == 1
    assert res.error_json()["error"] == "no_space"
    # not the letter's fault: no refusal, no notice, the letter stays to be received later
    assert sorted((world.drop / world.fp("card")).glob("*")) == letters
    assert world.snap("card") == before
    monkeypatch.undo()
    assert world.receive_drop("card")[1]["results"][0]["status"] == "accepted"
