"""No file of the user is ever written over (issue 12, case 11).

Receipts and refusal notices written beside a letter, ``--receipt-out``, and
attachments saved by ``read --save-attachments`` take a name of their own
(``report (2).pdf``) or are refused before anything is received; a dangling
symbolic link is a taken name; an attachment's name chosen by its author
(a path, a leading dot, a dash) is cleaned into a safe file name inside the
folder asked for; a name no sender's tool writes (NUL, 300 bytes, controls,
bidi, empty) is refused with the letter at receive (core/letter/limits.py),
and cleaned the same way were it met. Every case runs the installed
executable: no "internal error", ever.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from letterworld import M, World


def _letter_to_card(world: World) -> Path:
    sent = world.send("--to", "Bob", "--no-patient-copy", "-o", world.path("outbox"))
    (out,) = [o for o in sent["outputs"] if o["recipient"] == "Dr Bob Durand"]
    return Path(out["file"])


def _receive(world: World, *args: str | Path) -> tuple[int, Any, str]:
    res = world.run("card", "--json", "receive", *args, executable=True)
    assert "internal error" not in res.stderr, res.stderr
    return res.exit_code, (res.json() if res.exit_code == 0 else res.error_json()), res.stderr


def test_receipt_beside_the_letter_never_replaces_a_file(world: World) -> None:
    letter = _letter_to_card(world)
    mine = letter.with_suffix(".receipt")
    mine.write_bytes(b"my own notes, not a receipt")
    rc, doc, _ = _receive(world, letter)
    assert rc == 0, doc
    (row,) = doc["results"]
    assert row["status"] == "accepted"
    second = letter.with_name(f"{letter.stem} (2).receipt")
    assert row["proof_file"] == str(second)
    assert mine.read_bytes() == b"my own notes, not a receipt"
    imported = world.ok("gp", "receipts", "import", second)
    assert imported["results"][0]["status"] == "receipt: delivered"
    # the same letter again: the same receipt, found where it was written; no third file
    rc, doc, _ = _receive(world, letter)
    assert rc == 0 and doc["results"][0]["status"] == "duplicate", doc
    assert doc["results"][0]["proof_file"] == str(second)
    receipts = sorted(p.name for p in letter.parent.glob("*.receipt"))
    assert receipts == sorted([mine.name, second.name])


def test_receipt_beside_the_letter_never_replaces_a_dangling_link(world: World) -> None:
    letter = _letter_to_card(world)
    link = letter.with_suffix(".receipt")
    target = world.path("nowhere.txt")
    link.symlink_to(target)
    rc, doc, _ = _receive(world, letter)
    assert rc == 0, doc
    assert doc["results"][0]["proof_file"] == str(letter.with_name(f"{letter.stem} (2).receipt"))
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert not target.exists()


def test_receipt_out_over_a_file_or_link_is_refused_before_receiving(world: World) -> None:
    letter = _letter_to_card(world)
    existing = world.write("existing.bin", b"keep me")
    dangling = world.path("dangling.bin")
    dangling.symlink_to(world.path("not-there.bin"))
    before = world.snap()
    for target in (existing, dangling):
        rc, err, _ = _receive(world, letter, "--receipt-out", target)
        assert (rc, err["error"]) == (2, "usage"), err
        assert "refusing to overwrite" in err["message"], err
    assert existing.read_bytes() == b"keep me"
    assert dangling.is_symlink() and not world.path("not-there.bin").exists()
    assert world.snap() == before  # nothing was received
    # and a free name works as before
    rc, doc, _ = _receive(world, letter, "--receipt-out", world.path("fresh.receipt"))
    assert rc == 0 and doc["results"][0]["proof_file"] == str(world.path("fresh.receipt"))


def _read_saving(world: World, letter: Path, into: Path) -> list[dict[str, Any]]:
    rc, doc, _ = _receive(world, letter)
    assert rc == 0 and doc["results"][0]["status"] == "accepted", doc
    mid = doc["results"][0]["message_id"]
    res = world.run("card", "--json", "read", mid, "--save-attachments", into, executable=True)
    assert res.exit_code == 0 and "internal error" not in res.stderr, res.stderr
    return [i for i in res.json()["items"] if i["kind"] == "attachment"]


def test_saved_attachments_of_one_name_all_kept_nothing_replaced(world: World) -> None:
    into = world.path("saved")
    into.mkdir()
    (into / "report.pdf").write_bytes(b"the user's own report")
    (into / "scan.pdf").symlink_to(world.path("missing-target"))
    letter = world.craft(
        attachments=[
            ("report.pdf", M, b"first report"),
            ("report.pdf", M, b"second report"),
            ("scan.pdf", M, b"a scan"),
        ]
    )
    items = _read_saving(world, letter, into)
    assert [Path(i["saved_to"]).name for i in items] == [
        "report (2).pdf",
        "report (3).pdf",
        "scan (2).pdf",
    ]
    assert (into / "report.pdf").read_bytes() == b"the user's own report"
    assert (into / "report (2).pdf").read_bytes() == b"first report"
    assert (into / "report (3).pdf").read_bytes() == b"second report"
    assert (into / "scan (2).pdf").read_bytes() == b"a scan"
    assert (into / "scan.pdf").is_symlink() and not world.path("missing-target").exists()
    assert not [p for p in into.iterdir() if p.name.startswith(".")]  # no temp file left


HOSTILE_NAMES = {
    "a\x00b.pdf": "a_b.pdf",
    "x" * 300 + ".pdf": "x" * 196 + ".pdf",
    "../../escape.txt": "escape.txt",
    "..\\..\\win.txt": "win.txt",
    ".bashrc": "bashrc",
    "-rf": "rf",
    "invoice\u202efdp.exe": "invoice_fdp.exe",
    "\x1b]0;title\x07red.txt": "_]0;title_red.txt",
    "": "attachment",
    "..": "attachment (2)",
}


# Names no sender's tool writes: a mailbox refuses the letter (core/letter/limits.py,
# issue 12 cases 7 and 9), so `read` never meets them; safe_file_name cleans them all
# the same (test_safe_file_name_rules).
REFUSED_NAMES = {
    "a\x00b.pdf": "bad_text",
    "x" * 300 + ".pdf": "over_limit",
    "invoice\u202efdp.exe": "bad_text",
    "\x1b]0;title\x07red.txt": "bad_text",
    "": "bad_text",
}
SAVED_NAMES = {k: v for k, v in HOSTILE_NAMES.items() if k not in REFUSED_NAMES} | {
    "..": "attachment"  # no longer second to ""
}


def test_hostile_attachment_names_saved_under_safe_names(world: World) -> None:
    into = world.path("saved")
    letter = world.craft(
        attachments=[(name, M, f"content {k}".encode()) for k, name in enumerate(SAVED_NAMES)]
    )
    items = _read_saving(world, letter, into)
    assert [i["name"] for i in items] == list(SAVED_NAMES)  # the letter says what it says
    saved = [Path(i["saved_to"]) for i in items]
    assert [p.name for p in saved] == list(SAVED_NAMES.values())
    for k, path in enumerate(saved):
        assert path.parent == into and path.read_bytes() == f"content {k}".encode()
    assert sorted(p.name for p in into.iterdir()) == sorted(SAVED_NAMES.values())
    assert not world.path("escape.txt").exists() and not (world.root.parent / "escape.txt").exists()


def test_attachment_names_no_sender_writes_are_refused_at_receive(world: World) -> None:
    for name, error in REFUSED_NAMES.items():
        letter = world.craft(attachments=[(name, M, b"content")])
        res = world.run("card", "--json", "receive", letter, executable=True)
        assert res.exit_code == 3 and "internal error" not in res.stderr, res.stderr
        assert res.json()["results"][0]["error"] == error, (name, res.stdout)


def test_safe_file_name_rules() -> None:
    from securemsg.store.fs import safe_file_name, unique_names  # (not on START's code)

    assert safe_file_name("ECG 2026-11-29.pdf") == "ECG 2026-11-29.pdf"
    assert safe_file_name("Compte rendu é.pdf") == "Compte rendu é.pdf"
    assert safe_file_name("e\u0301.txt") == "\u00e9.txt"  # NFC
    assert safe_file_name("a\u200bb\u2028c\x7fd\x85e") == "a_b_c_d_e"
    assert safe_file_name(" . . ") == "attachment"
    long = "é" * 150 + ".pdf"  # 300 bytes: cut on a character, extension kept
    assert safe_file_name(long) == "é" * 98 + ".pdf"
    assert len(safe_file_name("y" * 300 + "." + "z" * 40).encode()) == 200  # no such extension
    assert list(zip(range(3), unique_names("a.tar.gz"), strict=False)) == [
        (0, "a.tar.gz"),
        (1, "a.tar (2).gz"),
        (2, "a.tar (3).gz"),
    ]
