"""A drop folder shared by two real Unix accounts (issue 12, case 6).

``securemsg drop init DIR --group G`` (run by root, the administrator) sets the
folder up; then two accounts of the group, each with its own home, exchange
letters and receipts through it in both directions, every command run as that
account through the installed executable. An account outside the group, and a
folder that was never set up, get a clear ``drop_permission`` error, never an
internal error.

Needs root (to make the accounts) and useradd/groupadd: otherwise skipped, with
the reason; it fails instead when it must run (``CI=true`` or
``SECUREMSG_REQUIRE_ACCOUNTS=1``, as root: .ci/run). The accounts and group are
named ``smtest<pid><x>`` and removed at the end. The executable and the checkout
it imports must be reachable by other accounts: a folder on the way that others
cannot enter (the checkout under /root, say) is given search permission
(``o+x``, never read) for the duration of the module, then restored; nothing is
copied or changed inside the checkout.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from clirun import SRC, Result, cli_command, run_cli
from securemsg.core.testkeys import derive_test_identity, format_test_key

pytestmark = pytest.mark.slow

PASSPHRASE = "shared drop passphrase"
TOOLS = ("useradd", "userdel", "groupadd", "groupdel")
PEOPLE = {  # label -> (name, role, in the group)
    "a": ("Dr Anne Smtest", "gp", True),
    "b": ("Dr Bruno Smtest", "specialist", True),
    "c": ("Dr Carl Outsider", "gp", False),
}
LETTER = "---\nsubject: Second opinion Qx4\n---\nWhat do you make of this ECG? Kv8.\n"


def _required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("SECUREMSG_REQUIRE_ACCOUNTS") == "1"


def _unavailable() -> str | None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root, to make two Unix accounts (useradd)"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        why = f"{', '.join(missing)} not installed (Debian: apt-get install passwd)"
        if _required():
            pytest.fail(f"the two-account test must run here (CI, root) but {why}")
        return why
    return None


def _sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def _open_the_way(paths: list[Path]) -> dict[Path, int]:
    """Search permission for others on every folder above ``paths`` that lacks it;
    returns the modes to restore."""
    changed: dict[Path, int] = {}
    for path in paths:
        for d in [path, *path.parents]:
            mode = d.stat().st_mode
            if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH and d not in changed:
                changed[d] = stat.S_IMODE(mode)
                os.chmod(d, stat.S_IMODE(mode) | stat.S_IXOTH)
    return changed


@dataclass
class Accounts:
    base: Path  # everything of the test: homes, cards, the drop folder
    group: str
    users: dict[str, str]  # label -> account name

    @property
    def drop(self) -> Path:
        return self.base / "drop"

    def home(self, label: str) -> Path:
        return self.base / "homes" / label

    def env(self, label: str) -> dict[str, str | None]:
        home = str(self.home(label))
        return {
            "SECUREMSG_PASSPHRASE": PASSPHRASE,
            "SECUREMSG_KEYSTORE": "file",
            "SECUREMSG_HOME": None,
            "HOME": home,
            "XDG_DATA_HOME": None,
            "XDG_CONFIG_HOME": None,
            "TMPDIR": home,
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }

    def run(self, label: str, *args: str | Path, home: bool = True) -> Result:
        """``securemsg`` as ``label``'s account (root: ``label == "root"``)."""
        if label == "root":
            res = run_cli(None, *args, executable=True)
        else:
            res = run_cli(
                self.home(label) if home else None,
                *args,
                env=self.env(label),
                executable=True,
                as_user=self.users[label],
            )
        assert "internal error" not in res.stderr, res.stderr
        assert res.exit_code < 128, res  # never a death by signal
        return res

    def ok(self, label: str, *args: str | Path) -> Any:
        res = self.run(label, "--json", *args)
        assert res.exit_code == 0, (label, args, res.stdout, res.stderr)
        return res.json()

    def error(self, label: str, *args: str | Path) -> dict[str, Any]:
        res = self.run(label, "--json", *args)
        assert res.exit_code != 0, (label, args, res.stdout)
        doc: dict[str, Any] = res.error_json()
        assert doc["exit"] == res.exit_code
        return doc

    def fp(self, label: str) -> str:
        return str(self.ok(label, "whoami")["fingerprint"])

    def send(self, sender: str, to: str, *extra: str | Path) -> Any:
        name = PEOPLE[to][0]
        letter = self.base / "letter.md"
        where = [] if "--drop" in extra else ["--drop", self.drop]
        return self.ok(
            sender, "send", letter, "--to", name, "--kind", "second-opinion",
            "--pseudonym", "P-17", *where, *extra,
        )  # fmt: skip


def _make_accounts(base: Path) -> tuple[str, dict[str, str]]:
    tag = f"smtest{os.getpid() % 1_000_000}"
    group = f"{tag}g"
    users = {label: f"{tag}{label}" for label in PEOPLE}
    _sh("groupadd", "--system", group)
    for label, user in users.items():
        in_group = ["--groups", group] if PEOPLE[label][2] else []
        home = base / "homes" / label
        _sh(
            "useradd", "--system", "--no-create-home", "--user-group", "--home-dir", str(home),
            "--shell", "/usr/sbin/nologin", *in_group, user,
        )  # fmt: skip
    return group, users


def _remove_accounts(group: str, users: dict[str, str]) -> None:
    for user in users.values():
        subprocess.run(["userdel", user], capture_output=True, check=False)
        subprocess.run(["groupdel", user], capture_output=True, check=False)  # if left
    subprocess.run(["groupdel", group], capture_output=True, check=False)


@pytest.fixture(scope="module")
def accounts() -> Iterator[Accounts]:
    why = _unavailable()
    if why is not None:
        pytest.skip(f"two-account drop folder test skipped: {why}")
    base = Path(tempfile.mkdtemp(prefix="securemsg-accounts-"))
    os.chmod(base, 0o755)
    python = Path(os.path.realpath(sys.executable))  # the venv's interpreter (pyenv...)
    way = [base, Path(sys.prefix), Path(sys.base_prefix), python.parent, SRC]
    restore = _open_the_way([*way, Path(cli_command()[0]).parent])
    group, users = "", {}
    try:
        group, users = _make_accounts(base)
        acc = Accounts(base, group, users)
        (base / "homes").mkdir(mode=0o755)
        (base / "cards").mkdir(mode=0o755)
        (base / "letter.md").write_text(LETTER)
        os.chmod(base / "letter.md", 0o644)
        for label, (name, role, _in_group) in PEOPLE.items():
            home = acc.home(label)
            home.mkdir(mode=0o700)
            shutil.chown(home, users[label], users[label])
            key = base / "cards" / f"{label}.testkey"  # a PUBLIC TEST KEY: no secret
            key.write_text(format_test_key(derive_test_identity(f"shared-drop/{label}")))
            os.chmod(key, 0o644)
            probe = acc.run(label, "--version", home=False)
            assert probe.exit_code == 0, f"{users[label]} cannot run {cli_command()}: {probe}"
            acc.ok(label, "init", "--name", name, "--role", role, "--test-key", key)
            card = base / "cards" / f"{label}.card"
            card.write_bytes((home / "card.txt").read_bytes())
            os.chmod(card, 0o644)
        for me, other in (("a", "b"), ("b", "a"), ("c", "a"), ("c", "b"), ("a", "c")):
            acc.ok(me, "contacts", "add", base / "cards" / f"{other}.card")
        yield acc
    finally:
        _remove_accounts(group, users)
        shutil.rmtree(base, ignore_errors=True)
        for d, mode in restore.items():
            os.chmod(d, mode)


def _mode(path: Path) -> tuple[str, str, str]:
    import grp
    import pwd

    st = path.lstat()
    owner = pwd.getpwuid(st.st_uid).pw_name
    return owner, grp.getgrgid(st.st_gid).gr_name, f"{stat.S_IMODE(st.st_mode):04o}"


def test_two_accounts_exchange_letters_and_receipts_both_ways(accounts: Accounts) -> None:
    acc = accounts
    a, b = acc.users["a"], acc.users["b"]
    setup = acc.ok("root", "drop", "init", acc.drop, "--group", acc.group)
    assert setup["schema"] == "securemsg.drop/1"
    assert (setup["created"], setup["modes"]) == (
        True,
        {"drop": "3770", "folders": "3730", "files": "0640"},
    )
    assert _mode(acc.drop) == ("root", acc.group, "3770")
    fa, fb = acc.fp("a"), acc.fp("b")

    # Anne joins (her receive makes her folder); Bruno has not yet: a letter to
    # him is refused before anything is written, and says what to do
    assert acc.ok("a", "receive", "--drop", acc.drop)["results"] == []
    assert _mode(acc.drop / fa) == (a, acc.group, "3730")
    args = ["send", acc.base / "letter.md", "--to", PEOPLE["b"][0], "--kind",
            "second-opinion", "--pseudonym", "P-17", "--drop", acc.drop]  # fmt: skip
    kept = acc.ok("a", "sent")["letters"]
    err = acc.error("a", *args)
    assert err["error"] == "not_found" and "receive --drop" in err["hint"], err
    assert PEOPLE["b"][0] in err["message"], err
    assert not (acc.drop / fb).exists()
    assert acc.ok("a", "sent")["letters"] == kept  # nothing kept of the send
    assert acc.ok("b", "receive", "--drop", acc.drop)["results"] == []
    assert _mode(acc.drop / fb) == (b, acc.group, "3730")

    # Anne -> Bruno: the letter is Anne's, group-readable, in Bruno's folder
    sent = acc.send("a", "b")
    mid = sent["message_id"]
    letter = acc.drop / fb / f"{mid}.smsg"
    assert _mode(letter) == (a, acc.group, "0640")
    got = acc.ok("b", "receive", "--drop", acc.drop)["results"]
    assert [(r["status"], r["message_id"]) for r in got] == [("accepted", mid)]
    assert not letter.exists()
    receipt = acc.drop / fa / f"{mid}.{fb}.receipt"
    assert _mode(receipt) == (b, acc.group, "0640")
    assert "Kv8" in acc.ok("b", "read", mid)["items"][0]["text"]
    back = acc.ok("a", "receive", "--drop", acc.drop)["results"]
    assert [(r["status"], r["message_id"]) for r in back] == [("receipt: delivered", mid)]
    assert not receipt.exists()
    (row,) = [r for r in acc.ok("a", "sent")["letters"] if r["message_id"] == mid]
    assert [d["status"] for d in row["deliveries"]] == ["delivered"]

    # Bruno -> Anne, a reply
    reply = acc.send("b", "a", "--reply-to", mid)["message_id"]
    assert _mode(acc.drop / fa / f"{reply}.smsg") == (b, acc.group, "0640")
    got = acc.ok("a", "receive", "--drop", acc.drop)["results"]
    assert [(r["status"], r["message_id"]) for r in got] == [("accepted", reply)]
    back = acc.ok("b", "receive", "--drop", acc.drop)["results"]
    assert [(r["status"], r["message_id"]) for r in back] == [("receipt: delivered", reply)]
    assert reply in [m["message_id"] for m in acc.ok("a", "inbox")["letters"]]
    assert mid in [m["message_id"] for m in acc.ok("b", "inbox")["letters"]]
    # nothing left in the drop folder but the two (empty) mailbox folders
    assert sorted(p.name for p in acc.drop.rglob("*")) == sorted([fa, fb])


def test_an_account_outside_the_group_gets_a_clear_error(accounts: Accounts) -> None:
    acc = accounts
    drop = acc.base / "drop-outsider"
    acc.ok("root", "drop", "init", drop, "--group", acc.group)
    acc.ok("a", "receive", "--drop", drop)
    kept = acc.ok("c", "sent")["letters"]
    for args in (
        ["receive", "--drop", drop],
        ["send", acc.base / "letter.md", "--to", PEOPLE["a"][0], "--kind", "second-opinion",
         "--pseudonym", "P-17", "--drop", drop],
    ):  # fmt: skip
        err = acc.error("c", *args)
        assert (err["error"], err["exit"]) == ("drop_permission", 1), err
        assert f"not a member of the group {acc.group}" in err["message"], err
        assert f"usermod -aG {acc.group} {acc.users['c']}" in err["hint"], err
    assert acc.ok("c", "sent")["letters"] == kept  # nothing was kept of the send
    assert sorted(p.name for p in drop.iterdir()) == [acc.fp("a")]


def test_a_drop_folder_not_set_up_says_to_run_drop_init(accounts: Accounts) -> None:
    """The issue's case: a folder every account may write (1777), never set up.
    Anne's send makes Bruno's folder, Anne's (0700): Bruno's receive used to end
    in "internal error: PermissionError"."""
    acc = accounts
    drop = acc.base / "drop-plain"
    drop.mkdir()
    os.chmod(drop, 0o1777)
    fb = acc.fp("b")
    mid = acc.send("a", "b", "--drop", drop)["message_id"]  # a private drop: as before
    assert _mode(drop / fb) == (acc.users["a"], acc.users["a"], "0700")
    err = acc.error("b", "receive", "--drop", drop)
    assert (err["error"], err["exit"]) == ("drop_permission", 1), err
    assert "not set up for several Unix accounts" in err["message"], err
    assert f"securemsg drop init {drop} --group GROUP" in err["hint"], err
    # an account may not share a folder it does not own; root may
    err = acc.error("a", "drop", "init", drop, "--group", acc.group)
    assert err["error"] == "drop_permission" and "or root" in err["message"], err
    acc.ok("root", "drop", "init", drop, "--group", acc.group)
    # Bruno's folder is Anne's still: said, with what to do
    err = acc.error("b", "receive", "--drop", drop)
    assert (err["error"], err["exit"]) == ("drop_permission", 1), err
    assert f"was made by {acc.users['a']}, not by you" in err["message"], err
    os.rename(drop / fb, drop / f"{fb}.old")  # the administrator moves it aside
    assert acc.ok("b", "receive", "--drop", drop)["results"] == []
    got = acc.ok("b", "receive", drop / f"{fb}.old" / f"{mid}.smsg")["results"]
    assert [(r["status"], r["message_id"]) for r in got] == [("accepted", mid)]


def test_drop_init_repairs_a_folder_made_without_group_access(accounts: Accounts) -> None:
    """A mailbox folder made private (0700, 0600: as securemsg did before) inside a
    shared drop folder: the sender is told why, and `drop init` by root repairs it."""
    acc = accounts
    drop = acc.base / "drop-old"
    acc.ok("root", "drop", "init", drop, "--group", acc.group)
    fb = acc.fp("b")
    old = drop / fb
    old.mkdir(mode=0o700)
    os.chmod(old, 0o700)
    shutil.chown(old, acc.users["b"], acc.users["b"])
    stale = old / ("0" * 32 + ".smsg.refused")
    stale.write_bytes(b"old")
    os.chmod(stale, 0o600)
    shutil.chown(stale, acc.users["b"], acc.users["b"])
    acc.ok("a", "receive", "--drop", drop)
    args = ["send", acc.base / "letter.md", "--to", PEOPLE["b"][0], "--kind",
            "second-opinion", "--pseudonym", "P-17", "--drop", drop]  # fmt: skip
    err = acc.error("a", *args)
    assert (err["error"], err["exit"]) == ("drop_permission", 1), err
    assert "without access for the group" in err["message"], err
    assert f"drop init {drop} --group {acc.group}" in err["hint"], err
    repaired = acc.ok("root", "drop", "init", drop, "--group", acc.group)
    assert (repaired["created"], repaired["changed"], repaired["repaired"]) == (False, False, 2)
    assert _mode(old) == (acc.users["b"], acc.group, "3730")
    assert _mode(stale) == (acc.users["b"], acc.group, "0640")
    mid = acc.ok("a", *args)["message_id"]
    got = acc.ok("b", "receive", "--drop", drop)["results"]
    assert [(r["status"], r["message_id"]) for r in got] == [("accepted", mid)]


def test_a_receipt_name_taken_by_another_account_heals_at_the_next_receive(
    accounts: Accounts,
) -> None:
    """Sticky folders: no account replaces a file another wrote, so a file put
    first under the name of Bruno's receipt (by a correspondent of the same
    letter, say) keeps it from him: a clear error, the letter stays, and once
    Anne's mailbox has set the intruder aside the receipt goes through."""
    acc = accounts
    drop = acc.base / "drop-squat"
    acc.ok("root", "drop", "init", drop, "--group", acc.group)
    acc.ok("a", "receive", "--drop", drop)
    acc.ok("b", "receive", "--drop", drop)
    fa, fb = acc.fp("a"), acc.fp("b")
    mid = acc.send("a", "b", "--drop", drop)["message_id"]
    planted = drop / fa / f"{mid}.{fb}.receipt"
    planted.write_bytes(b"not a receipt")
    os.chmod(planted, 0o640)
    shutil.chown(planted, acc.users["c"], acc.group)
    # the letter is received; its receipt cannot go back: a problem of its row
    # (each file on its own, store/drop_files.py), exit 1
    res = acc.run("b", "--json", "receive", "--drop", drop)
    assert res.exit_code == 1, res
    (row,) = res.json()["results"]
    assert (row["status"], row["message_id"]) == ("accepted", mid), row
    assert row["problem"]["error"] == "conflict", row["problem"]
    assert f"written by {acc.users['c']}" in row["problem"]["detail"], row
    assert planted.read_bytes() == b"not a receipt"
    assert mid in [m["message_id"] for m in acc.ok("b", "inbox")["letters"]]  # accepted
    assert (drop / fb / f"{mid}.smsg").exists()  # kept for the next receive
    res = acc.run("a", "--json", "receive", "--drop", drop)
    assert res.exit_code == 3 and res.json()["results"][0]["status"] == "refused", res
    assert planted.with_name(planted.name + ".refused").exists()
    again = acc.ok("b", "receive", "--drop", drop)["results"]
    assert [(r["status"], r["message_id"]) for r in again] == [("duplicate", mid)]
    back = acc.ok("a", "receive", "--drop", drop)["results"]
    assert [(r["status"], r["message_id"]) for r in back] == [("receipt: delivered", mid)]


def test_any_other_permission_refusal_is_a_clear_error(accounts: Accounts) -> None:
    """Outside a drop folder too: a folder this account may not write (root's)."""
    acc = accounts
    target = acc.base / "cards" / "again.card"
    err = acc.error("a", "card", "export", "-o", target)
    assert (err["error"], err["exit"]) == ("permission_denied", 1), err
    assert str(acc.base / "cards") in err["message"] and "ls -ld" in err["hint"], err
    assert not target.exists()
