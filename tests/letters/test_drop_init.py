"""``securemsg drop init`` on one account (no root needed: the caller owns the
folder and is a member of its own primary group), and the drop folder it makes
used by one account's mailboxes. The two-account exchange is
test_shared_drop.py's."""

from __future__ import annotations

import grp
import os
import stat
from pathlib import Path

from letterworld import World


def _mode(path: Path) -> tuple[int, str]:
    st = path.lstat()
    return st.st_gid, f"{stat.S_IMODE(st.st_mode):04o}"


def test_drop_init_converts_a_private_drop_folder_and_it_keeps_working(world: World) -> None:
    first = world.send()["message_id"]  # a private drop folder: 0700 folders, 0600 letters
    fcard = world.fp("card")
    letter = world.drop / fcard / f"{first}.smsg"
    assert _mode(world.drop / fcard)[1] == "0700" and _mode(letter)[1] == "0600"
    (world.drop / ("e" * 40)).symlink_to(world.path("outbox"))  # a link: left alone
    gid = os.getegid()
    group = grp.getgrgid(gid).gr_name
    doc = world.ok("gp", "drop", "init", world.drop, "--group", group)
    assert doc["schema"] == "securemsg.drop/1"
    assert (doc["drop"], doc["group"], doc["created"], doc["changed"]) == (
        str(world.drop),
        group,
        False,
        True,
    )
    assert doc["left"] == [
        {"path": str(world.drop / ("e" * 40)), "why": "not a folder (or a symbolic link)"}
    ]
    folders = [p for p in world.drop.iterdir() if not p.is_symlink()]
    assert doc["repaired"] == len(folders) + sum(len(list(f.iterdir())) for f in folders)
    assert _mode(world.drop) == (gid, "3770")
    assert _mode(world.drop / fcard) == (gid, "3730") and _mode(letter) == (gid, "0640")
    assert _mode(world.path("outbox"))[1] != "3730"  # the link was not followed
    again = world.ok("gp", "drop", "init", world.drop, "--group", group)
    assert (again["changed"], again["repaired"]) == (False, 0)
    # the shared drop folder, used by one account's mailboxes: letters 0640
    second = world.send()["message_id"]
    assert _mode(world.drop / fcard / f"{second}.smsg") == (gid, "0640")
    rc, doc = world.receive_drop("card")
    assert rc == 0 and sorted(r["message_id"] for r in doc["results"]) == sorted([first, second])
    receipt = world.drop / world.fp("gp") / f"{second}.{fcard}.receipt"
    assert _mode(receipt) == (gid, "0640")


def test_drop_init_makes_the_folder_and_says_what_is_wrong(world: World) -> None:
    group = grp.getgrgid(os.getegid()).gr_name
    new = world.path("new-drop")
    res = world.run("gp", "drop", "init", new, "--group", group, executable=True)
    assert res.exit_code == 0, res.stderr
    assert f"Drop folder: {new} (made and set up)" in res.stdout
    assert f"Each member of {group} runs `securemsg receive --drop {new}` once" in res.stdout
    assert _mode(new)[1] == "3770"
    for args, match in (
        (["drop", "init", world.path("x"), "--group", "no-such-group-smtest"], "no group"),
        (["drop", "init", world.path("no") / "such", "--group", group], "does not exist"),
        (["drop", "init", world.path("letter.md"), "--group", group], "is a file"),
    ):
        res = world.run("gp", "--json", *args, executable=True)
        err = res.error_json()
        assert (res.exit_code, err["error"]) == (2, "usage") and match in err["message"], err


def test_send_to_a_drop_folder_that_does_not_exist_is_a_usage_error(world: World) -> None:
    res = world.run("gp", "--json", "send", world.path("letter.md"), "--to", "Bob",
                    "--kind", "referral", "--patient", "Jeanne", "--consent",
                    world.path("consent.cose"), "--drop", world.path("nowhere"))  # fmt: skip
    err = res.error_json()
    assert (res.exit_code, err["error"]) == (2, "usage") and "does not exist" in err["message"]
