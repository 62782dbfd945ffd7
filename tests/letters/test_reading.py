"""Reading, issue 13: one message-id form; `read latest` and `read FILE`; `verify
ID`; one's own key; "In reply to" with the original's subject and date; `thread`
as a tree; plain and Markdown exports; narrow tables; read/unread state and
receipt times; JSON without display strings. Through the installed executable."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from letterworld import PASSPHRASE, SUBJECT, World

from clirun import Result, child_env, cli_command, world_env
from clirun import run_cli as raw_run

pytestmark = pytest.mark.slow  # executable-driven: several seconds (CONTRIBUTING.md)

ID = re.compile(r"\b[0-9a-f]{32}\b")
BOX = set("─│╭╮╰╯┌┐└┘├┤┬┴┼━┃")


def _sent_and_received(world: World) -> str:
    mid: str = world.send()["message_id"]
    assert world.receive_drop("card")[0] == 0
    return mid


def _run(world: World, label: str, *args: str | Path, **env: str) -> Result:
    return raw_run(world.home(label), *args, env={**world_env(PASSPHRASE), **env}, executable=True)


def test_one_message_id_form_in_every_command(world: World) -> None:
    mid = world.send()["message_id"]
    res = world.run("card", "receive", "--drop", world.drop, executable=True)
    assert res.exit_code == 0 and mid in res.stdout, res.stdout
    for label, cmd in (("card", "inbox"), ("gp", "sent")):
        res = world.run(label, cmd, executable=True)
        assert ID.findall(res.stdout) == [mid], res.stdout
    res = world.run("gp", "log", "verify", "--show", executable=True)
    assert mid in res.stdout
    doc = world.ok("card", "read", mid[:6])  # any unique prefix of 6 or more
    assert doc["message_id"] == mid
    res = world.run("card", "read", mid[:5], executable=True)
    assert res.exit_code == 2
    assert "give its 32 hex digits, or at least the first 6, or `latest`" in res.stderr


def test_an_ambiguous_prefix_lists_the_candidates(world: World) -> None:
    ids = ["abcdef01" + "0" * 24, "abcdef02" + "0" * 24]
    for n, mid in enumerate(ids):
        f = world.craft("card", name=f"a{n}.smsg", fields={"message_id": bytes.fromhex(mid)})
        assert world.run("card", "receive", f).exit_code == 0
    res = world.run("card", "--json", "read", "abcdef", executable=True)
    assert res.exit_code == 2
    err = res.error_json()
    assert err["error"] == "ambiguous_id"
    assert all(mid in err["message"] for mid in ids) and SUBJECT in err["message"]
    assert err["hint"] == "give more of its digits"


def test_read_latest_and_a_letter_file_that_is_not_stored(world: World) -> None:
    mid = _sent_and_received(world)
    assert world.ok("card", "read", "latest")["message_id"] == mid
    # a letter file, opened read-only: every check, nothing stored, no receipt
    sent = world.send("--to", "Bob", "-o", world.path("outbox"))
    f = Path(sent["outputs"][0]["file"])
    before = world.snap("card")
    res = world.run("card", "--json", "read", f, executable=True)
    assert res.exit_code == 0, res.stderr
    doc = res.json()
    assert doc["message_id"] == sent["message_id"] and doc["status"] == "verified"
    assert doc["folder"] is None and any(i.get("text") for i in doc["items"])
    assert world.snap("card") == before
    assert not f.with_suffix(".receipt").exists()


def test_verify_by_id_names_people_as_read_does(world: World) -> None:
    mid = _sent_and_received(world)
    res = world.run("card", "--json", "verify", mid[:10], executable=True)
    assert res.exit_code == 0, res.stderr
    doc = res.json()
    assert doc["status"] == "verified" and "text" not in doc["items"][0]
    read = world.ok("card", "read", mid)
    assert doc["recipients"] == read["recipients"]
    names = {r["name"] for r in doc["recipients"]}
    assert {"Dr Bob Durand", "Claire Petit", "Jeanne Dupont"} <= names
    res = world.run("card", "verify", mid, executable=True)
    assert "Claire Petit" in res.stdout and "Dr Bob Durand (you)" in res.stdout


def test_reading_my_own_sent_copy_does_not_call_my_key_unverified(world: World) -> None:
    mid = world.send()["message_id"]
    res = world.run("gp", "read", mid, executable=True)
    assert res.exit_code == 0, res.stderr
    assert "Author's key: your own key" in res.stdout
    assert "NOT verified" not in res.stdout
    doc = world.ok("gp", "read", mid)
    assert doc["author"]["is_self"] is True and doc["author"]["verified"] is True
    assert doc["author"]["name"] == "Dr Alice Martin"  # no "(you)" in JSON


def test_in_reply_to_shows_the_originals_subject_and_date_and_thread_is_a_tree(
    world: World,
) -> None:
    first = _sent_and_received(world)
    (world.root / "follow.md").write_text("---\nsubject: Follow-up Yy2\n---\nNews.\n")
    second = world.send("--to", "Bob", "--reply-to", first, letter=world.path("follow.md"))[
        "message_id"
    ]
    assert world.receive_drop("card")[0] == 0
    res = world.run("card", "read", second, executable=True)
    assert re.search(
        rf'In reply to: "{SUBJECT}" of \d{{4}}-\d\d-\d\d \d\d:\d\d UTC \({first}\)', res.stdout
    ), res.stdout
    doc = world.ok("card", "read", second)
    assert doc["in_reply_to"] == first
    assert doc["in_reply_to_letter"]["subject"] == SUBJECT
    assert doc["in_reply_to_letter"]["date"].endswith("Z")

    res = world.run("card", "thread", second, executable=True)
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == f"Thread: {SUBJECT} (2 letter(s))" and "Inbox" not in res.stdout
    (reply,) = [ln for ln in lines if "Follow-up Yy2" in ln]
    assert reply.startswith("  └─ ")
    doc = world.ok("card", "thread", first)
    assert doc["schema"] == "securemsg.thread/3"
    assert [(d["message_id"], d["depth"]) for d in doc["letters"]] == [(first, 0), (second, 1)]


def test_read_exports_plain_and_markdown_without_decoration(world: World) -> None:
    mid = _sent_and_received(world)
    piped = world.run("card", "read", mid, executable=True)  # not a terminal: plain
    plain = _run(world, "card", "read", "--plain", mid, FORCE_COLOR="1", NO_COLOR="")
    for out in (piped.stdout, plain.stdout):
        assert not BOX & set(out), out
        assert all(ln == ln.rstrip() for ln in out.splitlines())
        assert "Subject: Chest pain referral Zq7" in out and "Kw3." in out
        assert "\x1b[" not in out
    md = world.run("card", "read", "--markdown", mid, executable=True).stdout
    assert md.startswith(f"# {SUBJECT}\n\n- **Signature:** valid")
    assert "\n## Who received what\n\n- Dr Bob Durand (you) (specialist)" in md
    assert "## History\nAngina since 2024" in md
    assert not BOX & set(md) and all(ln == ln.rstrip() for ln in md.splitlines())


def test_tables_never_break_a_word_at_60_columns(world: World) -> None:
    world.send()
    assert world.receive_drop("card")[0] == 0
    assert world.receive_drop("pat")[0] == 0
    for label, cmd in (("card", "inbox"), ("gp", "sent"), ("pat", "inbox")):
        res = _run(world, label, cmd, COLUMNS="60", FORCE_COLOR="1", TERM="xterm")
        assert res.exit_code == 0, res.stderr
        text = re.sub(r"\x1b\[[0-9;]*m", "", res.stdout)
        assert max(len(ln) for ln in text.splitlines()) <= 60, text
        words = {w.strip(",:;") for w in text.split()}
        names = {"card": ("Alice", "Martin"), "gp": ("Bob", "Durand"), "pat": ("Durand", "Alice")}
        for word in ("Chest", "pain", "referral", "Zq7", *names[label]):
            assert word in words, (word, text)
        assert ID.search(text), text


def test_read_state_and_receipt_times(world: World) -> None:
    mid = _sent_and_received(world)
    (row,) = world.ok("card", "inbox")["letters"]
    assert row["read"] is False and row["read_at"] is None
    assert row["received_at"].endswith("Z")
    assert "NEW" in world.run("card", "inbox", executable=True).stdout
    first = world.ok("card", "read", mid)
    assert first["first_read_at"] is None and first["received_at"].endswith("Z")
    (row,) = world.ok("card", "inbox")["letters"]
    assert row["read"] is True and row["read_at"].endswith("Z")
    assert world.ok("card", "read", mid)["first_read_at"] == row["read_at"]
    assert world.receive_drop("gp")[0] == 0  # the receipts come back
    (sent,) = world.ok("gp", "sent")["letters"]
    bob = next(d for d in sent["deliveries"] if d["recipient"] == "Dr Bob Durand")
    assert bob["status"] == "delivered" and bob["at"].endswith("Z")
    res = world.run("gp", "sent", executable=True)
    assert re.search(r"Dr Bob Durand: delivered \d{4}-\d\d-\d\d \d\d:\d\d UTC", res.stdout)


def test_json_names_people_without_display_strings(world: World) -> None:
    mid = world.send()["message_id"]
    assert world.receive_drop("pat")[0] == 0
    doc: dict[str, Any] = world.ok("pat", "read", mid)
    me = next(r for r in doc["recipients"] if r["is_self"])
    assert me["name"] == "Jeanne Dupont"
    assert not any("(you)" in (r["name"] or "") for r in doc["recipients"])
    (row,) = world.ok("pat", "inbox")["letters"]
    assert [r["name"] for r in row["recipients"] if r["is_self"]] == ["Jeanne Dupont"]
    (sent,) = world.ok("gp", "sent")["letters"]
    assert sent["author_is_self"] is True


def test_a_long_letter_goes_through_the_pager_on_a_terminal(world: World) -> None:
    long = "---\nsubject: Long one\n---\n" + "".join(
        f"Line {i} of the letter.\n\n" for i in range(80)
    )
    (world.root / "long.md").write_text(long)
    mid = world.send("--to", "Bob", letter=world.path("long.md"))["message_id"]
    assert world.receive_drop("card")[0] == 0
    paged = world.path("paged.txt")
    pager = world.path("pager.sh")
    pager.write_text(f"#!/bin/sh\ncat > {paged}\n")
    pager.chmod(0o755)
    env = child_env({**world_env(PASSPHRASE), "PAGER": str(pager), "LINES": "24", "COLUMNS": "80"})
    leader, follower = os.openpty()
    try:
        proc = subprocess.run(
            [*cli_command(), "--home", str(world.home("card")), "read", mid],
            stdin=follower,
            stdout=follower,
            stderr=subprocess.PIPE,
            env=env,
            timeout=120,
            check=False,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert proc.returncode == 0, proc.stderr
    text = paged.read_text()
    assert "Line 79 of the letter." in text and "Long one" in text
    res = world.run("card", "read", "--no-pager", mid, executable=True)
    assert "Line 79 of the letter." in res.stdout
