"""A drop folder that someone hostile can write to, 2: what is not a letter file
(issue 12, items 4 and 5).

A sparse file of a terabyte, a folder or a socket where a letter belongs, a file
nobody can read, a file where a person's folder belongs: each is reported on its
own and skipped, never read, never an internal error, and every other letter is
still delivered. Run through the installed executable as a child process.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import dropkit as kit
import pytest
from letterworld import PASSPHRASE, M, World

from clirun import Result, child_env, cli_command, run_cli, world_env
from securemsg.core.domains import Purpose


# -- 4. sparse and huge files ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("size", "error"),
    [(8 * kit.GiB, "sparse_file"), (kit.TiB + 1, "too_large"), (4 * kit.TiB, "too_large")],
)
def test_a_huge_or_sparse_letter_is_refused_without_reading_it(
    world: World, size: int, error: str
) -> None:
    """A valid letter from a contact (longer than one STREAM chunk, so its author is
    known), extended with a hole: before, its refusal notice hashed all of it (83 s
    for 8 kit.GiB)."""
    mid, data = kit.letter(world, attachments=[("scan.pdf", M, os.urandom(200_000))])
    path = kit.folder(world, "card") / f"{mid}.smsg"
    path.write_bytes(data)
    try:
        os.truncate(path, size)
    except OSError as exc:  # a file system without such large files
        pytest.skip(f"cannot make a {size}-byte sparse file here: {exc}")
    other = kit.drop_letter(world)
    before = world.snap()
    start = time.monotonic()
    res = kit.receive_drop(world, "card", timeout=60)
    assert time.monotonic() - start < 15  # before: 31 s here for 8 kit.GiB, a timeout beyond
    kit.no_internal_error(res)
    assert res.exit_code == 3, (res.stdout, res.stderr)
    rows = kit.rows(res)
    row = rows[f"{mid}.smsg"]
    assert row["status"] == "refused" and row["error"] == error, row
    assert row["notice"] is False  # nothing was read: no author known, no notice
    assert rows[f"{other}.smsg"]["status"] == "accepted"
    after = world.snap()
    assert after["gp"] == before["gp"] and world.inbox_ids("card") == [other]
    assert not path.exists() and (path.parent / f"{mid}.smsg.refused").stat().st_size == size


def test_a_receipt_larger_than_any_receipt_is_refused_by_its_size(world: World) -> None:
    mid = "ab" * 16
    big = kit.folder(world, "gp") / f"{mid}.{world.fp('card')}.receipt"
    big.write_bytes(os.urandom(65 * 1024))
    before = world.snap()
    res = kit.receive_drop(world, "gp")
    kit.no_internal_error(res)
    assert res.exit_code == 3
    (row,) = kit.rows(res).values()
    assert row["status"] == "refused" and row["error"] == "too_large"
    assert world.snap() == before


# -- 5. what cannot be read, and a file where a folder belongs -------------------------------
@contextlib.contextmanager
def _sock(path: Path) -> Iterator[None]:
    """A listening socket at ``path`` (bound from its folder: paths of sockets are short)."""
    s = socket.socket(socket.AF_UNIX)
    cwd = os.getcwd()
    try:
        os.chdir(path.parent)
        s.bind(path.name)
        os.chdir(cwd)
        yield
    finally:
        os.chdir(cwd)
        s.close()


def test_a_folder_and_a_socket_in_place_of_letters_are_reported_and_skipped(
    world: World,
) -> None:
    folder = kit.folder(world, "card")
    d = folder / f"{'1' * 32}.smsg"
    d.mkdir()
    (d / "inside").write_bytes(b"x")
    sock = folder / f"{'2' * 32}.smsg"
    other = kit.drop_letter(world)
    with _sock(sock):
        before = world.snap("gp", "nurse", "pat", "out")
        res = kit.receive_drop(world, "card")
    kit.no_internal_error(res)
    assert res.exit_code == 3, (res.stdout, res.stderr)
    rows = kit.rows(res)
    assert rows[d.name]["error"] == "not_a_file" and "folder" in rows[d.name]["detail"]
    assert rows[sock.name]["error"] == "not_a_file" and "socket" in rows[sock.name]["detail"]
    assert rows[f"{other}.smsg"]["status"] == "accepted"
    assert (folder / f"{d.name}.refused" / "inside").read_bytes() == b"x"
    assert world.snap("gp", "nurse", "pat", "out") == before
    assert world.inbox_ids("card") == [other]


def _without_dac_override() -> list[str] | None:
    """A command prefix under which this process cannot read a mode-000 file."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]


def test_an_unreadable_letter_is_skipped_and_the_others_delivered(world: World) -> None:
    prefix = _without_dac_override()
    if prefix is None:
        pytest.skip("running as root without setpriv: a mode-000 file is readable")
    locked = kit.drop_letter(world)
    path = world.drop / world.fp("card") / f"{locked}.smsg"
    path.chmod(0)
    other = kit.drop_letter(world)
    before = world.snap("gp", "nurse", "pat", "out")
    argv = ["--home", str(world.home("card")), "--json", "receive", "--drop", str(world.drop)]
    proc = subprocess.run(
        [*prefix, *cli_command(), *argv],
        capture_output=True,
        env=child_env(world_env(PASSPHRASE)),
        timeout=60,
        start_new_session=True,
        check=False,
    )
    res = Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())
    kit.no_internal_error(res)
    assert res.exit_code == 1, (res.stdout, res.stderr)
    rows = kit.rows(res)
    row = rows[f"{locked}.smsg"]
    assert row["status"] == "skipped" and row["error"] == "unreadable", row
    assert "permission" in row["detail"].lower() and row["hint"]
    assert rows[f"{other}.smsg"]["status"] == "accepted"
    assert path.exists()  # left in place: readable again, it is delivered
    assert world.snap("gp", "nurse", "pat", "out") == before
    assert world.inbox_ids("card") == [other]
    path.chmod(0o600)
    res = kit.receive_drop(world, "card")
    assert res.exit_code == 0, (res.stdout, res.stderr)
    assert sorted(world.inbox_ids("card")) == sorted([locked, other])


def test_a_file_in_place_of_my_folder_is_a_clear_error(world: World) -> None:
    folder = world.drop / world.fp("card")
    folder.write_bytes(b"not a folder")
    before = world.snap()
    res = kit.receive_drop(world, "card")
    kit.no_internal_error(res)
    assert res.exit_code == 1, (res.stdout, res.stderr)
    err = res.error_json()
    assert err["error"] == "drop_folder"
    assert str(folder) in err["message"] and "not a folder" in err["message"]
    assert err["hint"]
    assert world.snap() == before and folder.read_bytes() == b"not a folder"


def test_a_send_to_a_recipient_whose_folder_is_a_file_fails_clearly(world: World) -> None:
    folder = world.drop / world.fp("nurse")
    folder.write_bytes(b"not a folder")
    before = world.snap()
    drop_before = kit.drop_files(world)
    res = kit.send_referral(world, "--to", "Claire")
    kit.no_internal_error(res)
    assert res.exit_code == 1, (res.stdout, res.stderr)
    err = res.error_json()
    assert err["error"] == "drop_folder" and str(folder) in err["message"]
    assert world.snap() == before
    assert kit.drop_files(world) == drop_before


def test_a_file_in_place_of_the_authors_folder_keeps_the_letter_for_its_receipt(
    world: World,
) -> None:
    """The letter is accepted, its receipt cannot go back: the letter stays in the
    drop folder (the next receive sends the same receipt again); a letter from
    another author is received and its receipt delivered."""
    gp_folder = world.drop / world.fp("gp")
    gp_folder.write_bytes(b"not a folder")
    mid = kit.drop_letter(world)
    other, data = kit.letter(
        world,
        author="out",
        kind=Purpose.SECOND_OPINION,
        basis="pseudonymous",
        patient=None,
        pseudonym="Patient 7",
    )
    (kit.folder(world, "card") / f"{other}.smsg").write_bytes(data)
    res = kit.receive_drop(world, "card")
    kit.no_internal_error(res)
    assert res.exit_code == 1, (res.stdout, res.stderr)
    rows = kit.rows(res)
    row = rows[f"{mid}.smsg"]
    assert row["status"] == "accepted"
    assert row["problem"]["error"] == "drop_folder"
    assert str(gp_folder) in row["problem"]["detail"] and row["problem"]["hint"]
    assert "problem" not in rows[f"{other}.smsg"]
    assert (world.drop / world.fp("out") / f"{other}.{world.fp('card')}.receipt").is_file()
    assert (world.drop / world.fp("card") / f"{mid}.smsg").exists()
    assert not (world.drop / world.fp("card") / f"{other}.smsg").exists()
    assert sorted(world.inbox_ids("card")) == sorted([mid, other])
    assert gp_folder.read_bytes() == b"not a folder"
    gp_folder.unlink()
    res = kit.receive_drop(world, "card")
    assert res.exit_code == 0, (res.stdout, res.stderr)
    assert kit.rows(res)[f"{mid}.smsg"]["status"] == "duplicate"
    assert (gp_folder / f"{mid}.{world.fp('card')}.receipt").is_file()
    assert not (world.drop / world.fp("card") / f"{mid}.smsg").exists()


def test_a_folder_of_someone_outside_my_groups_is_refused(world: World) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a folder to another user takes root")
    mid = kit.drop_letter(world)
    folder = world.drop / world.fp("card")
    os.chown(folder, 54321, 54321)  # no such user or group here, surely none of mine
    before = world.snap()
    res = kit.receive_drop(world, "card")
    kit.no_internal_error(res)
    assert res.exit_code == 1, (res.stdout, res.stderr)
    err = res.error_json()  # what the drop folder's set-up says (store/drop.py, denied)
    assert err["error"] == "drop_permission" and str(folder) in err["message"], err
    assert "drop init" in err["hint"], err
    assert world.snap() == before and (folder / f"{mid}.smsg").is_file()


# -- the same care elsewhere ----------------------------------------------------------------
def test_verify_does_not_hang_on_a_fifo(world: World) -> None:
    fifo = world.path("letter.smsg")
    os.mkfifo(fifo)
    res = kit.run(world, "card", "verify", fifo, timeout=60)
    kit.no_internal_error(res)
    assert res.exit_code == 3, (res.stdout, res.stderr)
    assert res.error_json()["error"] == "not_a_file"


def test_a_send_larger_than_any_recipient_accepts_is_refused_before_reading(
    world: World,
) -> None:
    big = world.path("huge.bin")
    with open(big, "wb") as fh:
        fh.truncate(kit.TiB)
    before = world.snap()
    drop_before = kit.drop_files(world)
    argv = ["--home", str(world.home("gp")), "--json", "send", world.path("letter.md")]
    argv += ["--kind", "referral", "--patient", "Jeanne", "--consent", world.path("consent.cose")]
    argv += ["--to", "Bob", "--attach", f"{big}:medical", "--drop", world.drop]
    start = time.monotonic()
    # The code before this check reserved the 1 TiB (posix_fallocate) and so filled
    # the disk for a moment: the child may write no file over 1 GiB (SIGXFSZ).
    proc = subprocess.run(
        [*cli_command(), *map(str, argv)],
        capture_output=True,
        env=child_env(world_env(PASSPHRASE)),
        timeout=60,
        start_new_session=True,
        check=False,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (kit.GiB, kit.GiB)),
    )
    res = Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())
    assert time.monotonic() - start < 15
    kit.no_internal_error(res)
    assert res.exit_code == 2, (res.stdout, res.stderr)
    err = res.error_json()
    assert "more than a recipient accepts" in err["message"], err
    assert world.snap() == before
    assert kit.drop_files(world) == drop_before


def test_the_text_report_says_what_was_skipped_and_why(world: World) -> None:
    folder = kit.folder(world, "card")
    os.mkfifo(folder / f"{'3' * 32}.smsg")
    other = kit.drop_letter(world)
    res = run_cli(
        world.home("card"),
        "receive",
        "--drop",
        world.drop,
        env=world_env(PASSPHRASE),
        executable=True,
    )
    kit.no_internal_error(res)
    assert res.exit_code == 3
    assert f"refused {folder / ('3' * 32 + '.smsg')}: " in res.stderr
    assert "FIFO" in res.stderr and "hint:" in res.stderr
    assert other[:16] in res.stdout
