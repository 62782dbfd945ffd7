"""A drop folder that someone hostile can write to, 1: links and FIFOs (issue 12,
items 2 and 3).

Whoever can write to the shared drop folder can put a link where a person's
folder belongs (to the victim's own ``mail/in``, or to the sender's
``mail/sent``), a link or a FIFO where a letter belongs. Each case runs the
installed executable as a child process and checks the exit status, the
specific error, that no home changed, and that every other letter is still
delivered (store/dirfd.py; docs/threat-model.md, "The drop folder").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import dropkit as kit
import pytest
from letterworld import PASSPHRASE, World

from clirun import Result, child_env, world_env


# -- 2. links instead of folders and files ------------------------------------------------
def test_my_folder_linked_to_my_inbox_is_refused_and_nothing_is_deleted(world: World) -> None:
    mid = kit.drop_letter(world)
    assert kit.receive_drop(world, "card").exit_code == 0
    folder = world.drop / world.fp("card")
    folder.rmdir()
    folder.symlink_to(world.home("card") / "mail" / "in")
    before = world.snap()
    res = kit.receive_drop(world, "card")
    kit.no_internal_error(res)
    assert res.exit_code == 1, (res.stdout, res.stderr)
    err = res.error_json()
    assert err["error"] == "drop_folder"
    assert str(folder) in err["message"] and "symbolic link" in err["message"]
    assert "remove" in err["hint"]
    assert world.snap() == before
    assert folder.is_symlink()
    assert world.ok("card", "read", mid)["message_id"] == mid  # the stored letter still reads


def test_a_receive_does_not_take_the_senders_doubles_through_a_link(world: World) -> None:
    sent = world.send()
    double = world.home("gp") / "mail" / "sent" / f"{sent['message_id']}.smsg"
    assert double.is_file()
    for label in ("gp", "card"):  # my own folder, or someone else's, linked to gp's doubles
        folder = world.drop / world.fp(label)
        if folder.exists():
            shutil.rmtree(folder)
        folder.symlink_to(world.home("gp") / "mail" / "sent")
        before = world.snap()
        res = kit.receive_drop(world, label)
        kit.no_internal_error(res)
        assert res.exit_code == 1, (label, res.stdout, res.stderr)
        assert res.error_json()["error"] == "drop_folder"
        assert world.snap() == before, label
        folder.unlink()
    assert double.is_file()


def test_a_send_does_not_write_through_a_linked_recipient_folder(world: World) -> None:
    first = world.send()
    double = world.home("gp") / "mail" / "sent" / f"{first['message_id']}.smsg"
    folder = world.drop / world.fp("card")
    shutil.rmtree(folder)
    folder.symlink_to(world.home("gp") / "mail" / "sent")
    before = world.snap()
    drop_before = kit.drop_files(world)
    res = kit.send_referral(world, "--to", "Claire")
    kit.no_internal_error(res)
    assert res.exit_code == 1, (res.stdout, res.stderr)
    err = res.error_json()
    assert err["error"] == "drop_folder" and str(folder) in err["message"]
    assert world.snap() == before  # the sender's doubles untouched, nothing recorded
    assert kit.drop_files(world) == drop_before
    assert double.is_file()


@pytest.mark.parametrize("target", ["stored", "outside"])
def test_a_linked_letter_is_refused_not_followed(world: World, target: str) -> None:
    stored = kit.drop_letter(world)
    assert kit.receive_drop(world, "card").exit_code == 0
    if target == "stored":  # a link to a letter of my own mailbox
        dest = world.home("card") / "mail" / "in" / f"{stored}.smsg"
        name = f"{stored}.smsg"
    else:  # a link to a valid letter elsewhere
        mid, data = kit.letter(world)
        dest = world.write("elsewhere.smsg", data)
        name = f"{mid}.smsg"
    link = kit.folder(world, "card") / name
    link.symlink_to(dest)
    other = kit.drop_letter(world)
    content = dest.read_bytes()
    before = world.snap("gp", "nurse", "pat", "out")
    res = kit.receive_drop(world, "card")
    kit.no_internal_error(res)
    assert res.exit_code == 3, (res.stdout, res.stderr)
    rows = kit.rows(res)
    assert rows[name]["status"] == "refused" and rows[name]["error"] == "not_a_file"
    assert "symbolic link" in rows[name]["detail"]
    assert rows[f"{other}.smsg"]["status"] == "accepted"
    assert dest.read_bytes() == content  # the target is neither moved nor deleted
    assert not link.exists() and (link.parent / f"{name}.refused").is_symlink()
    assert world.snap("gp", "nurse", "pat", "out") == before
    inbox = world.inbox_ids("card")
    assert other in inbox and stored in inbox
    if target == "outside":
        assert name.removesuffix(".smsg") not in inbox


# -- 3. a FIFO -------------------------------------------------------------------------------
_SWAP = """
import os, sys
try:
    from securemsg.store import drop_files as drop  # where the listing is now
except ImportError:
    from securemsg.store import drop  # before issue 12
collect = drop.collect
def swapped(*args, **kwargs):
    out = collect(*args, **kwargs)
    os.unlink(sys.argv[1])  # after the listing: the letter becomes a FIFO
    os.mkfifo(sys.argv[1])
    return out
drop.collect = swapped
from securemsg.cli.main import main
main(sys.argv[2:])
"""


def test_a_fifo_swapped_in_after_the_listing_does_not_hang_receive(world: World) -> None:
    victim = kit.drop_letter(world)
    other = kit.drop_letter(world)
    fifo = world.drop / world.fp("card") / f"{victim}.smsg"
    argv = ["--home", str(world.home("card")), "--json", "receive", "--drop", str(world.drop)]
    env = child_env(world_env(PASSPHRASE))
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _SWAP, str(fifo), *argv],
            capture_output=True,
            env=env,
            timeout=60,
            start_new_session=True,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("receive --drop hung on a FIFO")
    res = Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())
    kit.no_internal_error(res)
    assert res.exit_code == 3, (res.stdout, res.stderr)
    rows = kit.rows(res)
    assert rows[f"{victim}.smsg"]["error"] == "not_a_file"
    assert "FIFO" in rows[f"{victim}.smsg"]["detail"]
    assert rows[f"{other}.smsg"]["status"] == "accepted"
    assert world.inbox_ids("card") == [other]


def test_a_fifo_given_as_a_file_does_not_hang_receive(world: World) -> None:
    fifo = world.path("letter.smsg")
    os.mkfifo(fifo)
    mid, data = kit.letter(world)
    good = world.write("good.smsg", data)
    res = kit.run(world, "card", "receive", fifo, good, timeout=60)
    kit.no_internal_error(res)
    assert res.exit_code == 3, (res.stdout, res.stderr)
    rows = kit.rows(res)
    assert rows["letter.smsg"]["error"] == "not_a_file"
    assert rows["good.smsg"]["status"] == "accepted"
    assert world.inbox_ids("card") == [mid]
