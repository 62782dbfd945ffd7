"""Unlock once (issue 14): ``securemsg unlock``, ``lock``, ``agent status``, through
the installed executable. Start, stop, timeout, a killed agent, two homes, a
stale socket, a socket or folder that is not private, another user's
connection; the agent's refusals on the wire (docs/format-agent.md).

Two run in ``make test-fast`` (start/use/stop, the wire refusals); the others,
each a few seconds of processes started and waited for, are marked slow.

Every agent started here is stopped at teardown (``agents`` fixture)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import struct
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clirun import Result, child_env, run_cli
from securemsg.core import agentproto as proto
from securemsg.core.testkeys import derive_test_identity, format_test_key

PASSPHRASE = "agent test passphrase, long enough"
NOBODY = 65534


class Agents:
    """Homes in a temp folder, a private runtime folder, and the agents started."""

    def __init__(self, base: Path, runtime: Path) -> None:
        self.base = base
        self.runtime = runtime
        self.pids: set[int] = set()

    def env(self, passphrase: bool) -> dict[str, str | None]:
        return {
            "SECUREMSG_PASSPHRASE": PASSPHRASE if passphrase else None,
            "SECUREMSG_KEYSTORE": "file",
            "SECUREMSG_HOME": None,
            "XDG_RUNTIME_DIR": str(self.runtime),
            "NO_COLOR": "1",
        }

    def home(self, label: str) -> Path:
        return self.base / label

    def run(self, label: str, *args: str | Path, passphrase: bool = False) -> Result:
        return run_cli(self.home(label), *args, env=self.env(passphrase), executable=True)

    def init(self, label: str) -> None:
        key = self.base / f"{label}.testkey"
        key.write_text(format_test_key(derive_test_identity(f"agent-tests/{label}")))
        res = self.run(
            label, "init", "--name", f"Dr {label.title()} Agent", "--role", "gp",
            "--test-key", key, passphrase=True,
        )  # fmt: skip
        assert res.exit_code == 0, res.stderr

    def unlock(self, label: str, *extra: str) -> dict[str, object]:
        res = self.run(label, "--json", "unlock", *extra, passphrase=True)
        assert res.exit_code == 0, res.stderr
        doc = res.json()
        assert isinstance(doc["pid"], int)
        self.pids.add(doc["pid"])
        return dict(doc)

    def status(self, label: str) -> dict[str, object]:
        res = self.run(label, "--json", "agent", "status")
        assert res.exit_code == 0, res.stderr
        return dict(res.json())


def need_root(what: str) -> None:
    """Skip without root, with the reason; fail where the two-account tests must
    run (SECUREMSG_REQUIRE_ACCOUNTS=1, set by .ci/run, as for the shared drop)."""
    if os.geteuid() == 0:
        return
    why = f"needs root, to {what}"
    if os.environ.get("SECUREMSG_REQUIRE_ACCOUNTS") == "1":
        pytest.fail(f"SECUREMSG_REQUIRE_ACCOUNTS=1 but this test {why}")
    pytest.skip(why)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purposes
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def wait_gone(pid: int, path: Path, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (alive(pid) or path.exists()):
        time.sleep(0.05)
    assert not alive(pid), f"agent {pid} still runs"
    assert not path.exists(), f"{path} left behind"


@pytest.fixture
def agents() -> Iterator[Agents]:
    base = Path(tempfile.mkdtemp(prefix="smag-"))  # short: a socket path is < 108 bytes
    runtime = base / "run"
    runtime.mkdir(mode=0o700)
    world = Agents(base, runtime)
    try:
        yield world
    finally:
        for pid in world.pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def gp(agents: Agents) -> Agents:
    agents.init("gp")
    return agents


def test_unlock_then_no_passphrase_then_lock_forgets(gp: Agents) -> None:
    locked = gp.run("gp", "contacts", "list")
    assert locked.exit_code == 4 and "locked" in locked.stderr  # no terminal, no passphrase
    doc = gp.unlock("gp", "--for", "1h")
    assert doc["started"] is True and doc["running"] is True
    sock = Path(str(doc["socket"]))
    assert sock.parent == gp.runtime / "securemsg"
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
    for args in (["contacts", "list"], ["inbox"], ["log", "verify"], ["consent", "list"]):
        res = gp.run("gp", *args)
        assert res.exit_code == 0, (args, res.stderr)
    again = gp.unlock("gp")  # reused, not a second agent
    assert again["started"] is False and again["pid"] == doc["pid"]
    assert gp.status("gp")["running"] is True
    res = gp.run("gp", "--json", "lock")
    assert res.exit_code == 0 and res.json()["running"] is False
    wait_gone(int(str(doc["pid"])), sock)
    assert gp.status("gp")["running"] is False
    after = gp.run("gp", "contacts", "list")
    assert after.exit_code == 4 and "locked" in after.stderr
    idle = gp.run("gp", "lock")  # nothing to stop: says so, succeeds
    assert idle.exit_code == 0 and "No agent" in idle.stdout


@pytest.mark.slow
def test_the_agent_stops_at_its_time(gp: Agents) -> None:
    doc = gp.unlock("gp", "--for", "5s")
    reply = _ask(str(doc["socket"]), bytes([1, proto.OP_STATUS]))  # in-process: quick
    assert reply[4:6] == bytes([1, proto.OK])
    wait_gone(int(str(doc["pid"])), Path(str(doc["socket"])))
    res = gp.run("gp", "contacts", "list")
    assert res.exit_code == 4 and "locked" in res.stderr


@pytest.mark.slow
def test_a_killed_agent_leaves_a_stale_socket_that_the_next_command_removes(gp: Agents) -> None:
    doc = gp.unlock("gp")
    pid, sock = int(str(doc["pid"])), Path(str(doc["socket"]))
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sock.exists()  # SIGKILL: the agent could not clean up
    res = gp.run("gp", "contacts", "list")  # no agent, no passphrase: locked, as before
    assert res.exit_code == 4 and "locked" in res.stderr
    assert not sock.exists()  # the stale socket is gone
    assert gp.run("gp", "contacts", "list", passphrase=True).exit_code == 0
    doc2 = gp.unlock("gp")  # and a new agent starts
    assert doc2["started"] is True and doc2["pid"] != pid


@pytest.mark.slow
def test_a_stale_socket_file_is_removed_and_the_command_unlocks_as_usual(gp: Agents) -> None:
    doc = gp.unlock("gp")
    sock = Path(str(doc["socket"]))
    assert gp.run("gp", "lock").exit_code == 0
    wait_gone(int(str(doc["pid"])), sock)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(sock))  # bound, never listening: connection refused
    stale.close()
    os.chmod(sock, 0o600)
    assert gp.run("gp", "contacts", "list", passphrase=True).exit_code == 0
    assert not sock.exists()


@pytest.mark.slow
def test_two_homes_two_agents(agents: Agents) -> None:
    agents.init("gp")
    agents.init("nurse")
    a, b = agents.unlock("gp"), agents.unlock("nurse")
    assert a["pid"] != b["pid"] and a["socket"] != b["socket"]
    who = {
        label: agents.run(label, "--json", "whoami").json()["fingerprint"]
        for label in ("gp", "nurse")
    }
    assert who["gp"] != who["nurse"]
    assert agents.run("gp", "--json", "lock").exit_code == 0
    wait_gone(int(str(a["pid"])), Path(str(a["socket"])))
    assert agents.run("nurse", "contacts", "list").exit_code == 0  # still unlocked
    assert agents.run("gp", "contacts", "list").exit_code == 4


def _refused(res: Result, words: str) -> None:
    assert res.exit_code == 4, res.stderr
    err = res.error_json()
    assert err["error"] == "agent" and words in err["message"], err
    assert err["hint"]


@pytest.mark.slow
def test_a_socket_others_can_reach_is_refused(gp: Agents) -> None:
    doc = gp.unlock("gp")
    sock = Path(str(doc["socket"]))
    os.chmod(sock, 0o666)
    _refused(gp.run("gp", "--json", "contacts", "list"), "lets others in")
    _refused(gp.run("gp", "--json", "contacts", "list", passphrase=True), "lets others in")
    os.chmod(sock, 0o600)
    os.chmod(sock.parent, 0o755)
    _refused(gp.run("gp", "--json", "inbox"), "folder")
    os.chmod(sock.parent, 0o700)
    assert gp.run("gp", "inbox").exit_code == 0


@pytest.mark.slow
def test_a_file_in_place_of_the_socket_is_refused(gp: Agents) -> None:
    doc = gp.unlock("gp")
    sock = Path(str(doc["socket"]))
    assert gp.run("gp", "lock").exit_code == 0
    wait_gone(int(str(doc["pid"])), sock)
    sock.write_bytes(b"")
    os.chmod(sock, 0o600)
    _refused(gp.run("gp", "--json", "contacts", "list", passphrase=True), "not a socket")
    assert sock.exists()  # never removed: it is not a socket we made


@pytest.mark.slow
def test_a_socket_or_folder_owned_by_someone_else_is_refused(gp: Agents) -> None:
    need_root("chown a socket to another user")
    doc = gp.unlock("gp")
    sock = Path(str(doc["socket"]))
    os.chown(sock, NOBODY, NOBODY)
    _refused(gp.run("gp", "--json", "contacts", "list"), "another user")
    assert sock.exists()  # someone else's: left alone
    os.chown(sock, 0, 0)
    os.chown(sock.parent, NOBODY, NOBODY)
    _refused(gp.run("gp", "--json", "unlock"), "another user")
    os.chown(sock.parent, 0, 0)
    assert gp.run("gp", "contacts", "list").exit_code == 0


@pytest.mark.slow
def test_the_agent_answers_no_other_user(gp: Agents) -> None:
    need_root("connect as another uid")
    doc = gp.unlock("gp")
    sock = Path(str(doc["socket"]))
    opened = [gp.base, gp.runtime, sock.parent]
    for folder in opened:  # let the other user reach the socket itself...
        os.chmod(folder, 0o755)
    os.chmod(sock, 0o666)
    pid = os.fork()
    if pid == 0:  # the child: become nobody, ask for the status, exit with what came back
        code = 3
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(10)
                conn.connect(str(sock))  # reachable: the files let this user in
                code = 4
                try:
                    conn.sendall(proto.request(proto.OP_STATUS))
                    code = 0 if conn.recv(100) == b"" else 1
                except (BrokenPipeError, ConnectionResetError):  # closed before or after
                    code = 0  # our request: unanswered either way
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0  # connected, then closed without a word
    os.chmod(sock, 0o600)
    for folder in opened:
        os.chmod(folder, 0o700)
    assert gp.status("gp")["running"] is True


def _ask(path: str, body: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(10)
        conn.connect(path)
        conn.sendall(struct.pack(">I", len(body)) + body)
        data = b""
        while chunk := conn.recv(4096):
            data += chunk
    return data


def test_the_agent_refuses_bad_requests_and_signs_only_securemsg_objects(gp: Agents) -> None:
    path = str(gp.unlock("gp")["socket"])
    bad = proto.response(proto.BAD_REQUEST)
    assert _ask(path, bytes([2, proto.OP_STATUS])) == bad  # unknown version
    assert _ask(path, bytes([1, 0x7F])) == bad  # unknown op
    assert _ask(path, bytes([1, proto.OP_LOCK, 0])) == bad  # payload where none is taken
    assert _ask(path, bytes([1, proto.OP_OPEN_SHARE]) + bytes(63)) == bad  # wrong size
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:  # a length over the bound
        conn.connect(path)
        conn.sendall(struct.pack(">I", proto.MAX_BODY + 1))
        assert conn.recv(100) == bad
    refused = proto.response(proto.REFUSED)
    assert _ask(path, bytes([1, proto.OP_SIGN]) + b"any bytes at all") == refused
    assert _ask(path, bytes([1, proto.OP_SIGN]) + proto.SIG_STRUCTURE_PREFIX) == refused
    small = bytes(32)  # the zero point: small order
    assert _ask(path, bytes([1, proto.OP_OPEN_SHARE]) + small + bytes(32)) == proto.response(
        proto.SMALL_ORDER
    )
    share = bytes([9]) + bytes(31)  # a valid point, a body that does not open
    assert _ask(path, bytes([1, proto.OP_OPEN_SHARE]) + share + bytes(32)) == proto.response(
        proto.NOT_MINE
    )
    assert gp.status("gp")["running"] is True  # none of it stopped the agent


@pytest.mark.slow
def test_durations(gp: Agents) -> None:
    for bad in ("0s", "8 hours", "8d", "", "h"):
        res = gp.run("gp", "--json", "unlock", "--for", bad, passphrase=True)
        assert res.exit_code == 2 and res.error_json()["error"] == "usage", bad
    assert gp.status("gp")["running"] is False


@pytest.mark.slow
def test_the_agent_process_is_not_dumpable(gp: Agents) -> None:
    pid = int(str(gp.unlock("gp")["pid"]))
    with open(f"/proc/{pid}/status") as fh:
        fields = dict(line.split(":", 1) for line in fh if ":" in line)
    with open(f"/proc/{pid}/limits") as fh:
        core = next(line for line in fh if line.startswith("Max core file size"))
    assert core.split()[4:6] == ["0", "0"], core
    # PR_SET_DUMPABLE 0 makes /proc/PID root's; mlock shows as locked memory
    assert os.stat(f"/proc/{pid}").st_uid == 0
    assert int(fields["VmLck"].split()[0]) > 0, fields["VmLck"]


@pytest.mark.slow
def test_no_agent_no_runtime_folder_made(agents: Agents) -> None:
    agents.init("gp")
    assert agents.run("gp", "contacts", "list", passphrase=True).exit_code == 0
    assert not (agents.runtime / "securemsg").exists()  # only `unlock` makes it
    env = child_env(agents.env(True))
    assert env["XDG_RUNTIME_DIR"] == str(agents.runtime)
