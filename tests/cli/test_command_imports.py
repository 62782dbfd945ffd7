"""Each everyday command imports only what it uses (issue 14; docs/performance.md,
target 9): structural checks of ``sys.modules`` after a real run in a fresh
interpreter, never timings.

- ``receive`` does not import the send path;
- nothing imports a Markdown renderer (rich.markdown, markdown-it, pygments)
  unless it lays Markdown out on a terminal: ``read`` into a pipe writes the
  letter's Markdown as written, and imports no rich at all;
- the listings (``inbox``, ``sent``, ``contacts list``) import neither the
  reading, the receiving nor the sending path, nor rich into a pipe;
- ``send``/``receive``/``read`` do not import the OS key store for a
  passphrase-file home.

The same probe runs ``read`` as on a terminal (``FORCE_COLOR``): there the
renderer is loaded, so the checks above can fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, sys
from securemsg.cli.main import main
try:
    main()
except SystemExit as exc:
    code = exc.code
built = sorted(  # classes made by @dataclass in our modules: built at import (start-up time)
    f"{name}.{k}"
    for name, m in list(sys.modules.items())
    if name.startswith("securemsg") and m is not None
    for k, v in vars(m).items()
    if isinstance(v, type) and v.__module__ == name and "__dataclass_fields__" in v.__dict__
)
sys.stderr.write("\\nMODULES " + json.dumps([code, sorted(sys.modules), built]) + "\\n")
"""
SEND_PATH = (
    "securemsg.app.send",
    "securemsg.store.sending",
    "securemsg.core.letter.compose",
    "securemsg.cli.letters",
    "securemsg.cli.progress",
)
RECEIVE_PATH = ("securemsg.app.receive", "securemsg.store.receiving", "securemsg.cli.receiving")
READ_PATH = ("securemsg.app.read", "securemsg.core.letter.opening")
RENDERER = ("rich.markdown", "markdown_it", "pygments", "securemsg.cli.markdown")
RICH = ("rich",)
KEYRING = ("keyring",)  # the package (~80 ms); our light wrapper module may load


def _run(args: list[str], env: dict[str, str]) -> tuple[Any, set[str], str, str]:
    res = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    code, modules, built = json.loads(res.stderr.rsplit("MODULES ", 1)[1])
    # the dataclasses built appear among the modules as "dataclass:<module>.<class>"
    return code, set(modules) | {f"dataclass:{b}" for b in built}, res.stdout, res.stderr


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two homes that know each other and a 1 KiB letter from one to the other,
    received: what every command below needs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECUREMSG_", "FORCE_COLOR"))}
    env.update(
        PYTHONPATH=str(ROOT / "src"),
        SECUREMSG_KEYSTORE="file",
        SECUREMSG_PASSPHRASE="command imports",
        NO_COLOR="1",
    )
    root = tmp_path_factory.mktemp("imports")
    gp, card = root / "gp", root / "card"

    def ok(*args: str | Path) -> str:
        code, _modules, out, err = _run([str(a) for a in args], env)
        assert code in (0, None), err
        return out

    ok("--home", gp, "init", "--name", "Dr Ada Weiss", "--role", "gp")
    ok("--home", card, "init", "--name", "Dr Bruno Keller", "--role", "specialist")
    for me, other in ((gp, card), (card, gp)):
        ok("--home", other, "card", "export", "-o", root / f"{other.name}.card")
        ok("--home", me, "contacts", "add", root / f"{other.name}.card")
    letter = root / "letter.md"
    letter.write_text("---\nsubject: Results\n---\n" + "Dear colleague, **see** below.\n" * 33)
    out = root / "out"
    out.mkdir()
    sent = json.loads(
        ok(
            "--home",
            gp,
            "--json",
            "send",
            letter,
            "--to",
            "Bruno",
            "--kind",
            "tele-expertise",
            "--pseudonym",
            "case-1",
            "-o",
            out,
        )
    )
    return {
        "env": env,
        "gp": gp,
        "card": card,
        "root": root,
        "letter": letter,
        "envelope": Path(sent["outputs"][0]["file"]),
        "id": sent["message_id"],
    }


def _absent(modules: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in forbidden))


@pytest.fixture(scope="module")
def received(world: dict[str, Any]) -> tuple[Any, set[str], str]:
    code, modules, out, err = _run(
        ["--home", str(world["card"]), "receive", str(world["envelope"])], world["env"]
    )
    assert code in (0, None), err
    return code, modules, out


def test_receive_imports_no_send_path_and_no_renderer(
    received: tuple[Any, set[str], str], world: dict[str, Any]
) -> None:
    _code, modules, out = received
    assert "accepted" in out and world["id"][:16] in out
    assert "securemsg.app.receive" in modules  # the probe saw the command run
    assert _absent(modules, SEND_PATH + RENDERER + RICH + KEYRING) == []


def test_read_into_a_pipe_writes_the_markdown_as_written_without_a_renderer(
    received: tuple[Any, set[str], str], world: dict[str, Any]
) -> None:
    code, modules, out, err = _run(
        ["--home", str(world["card"]), "read", world["id"]], world["env"]
    )
    assert code in (0, None), err
    assert "Signature: valid" in out and "Subject: Results" in out
    assert "Dear colleague, **see** below.\n" * 33 in out  # the source, every character
    assert "securemsg.app.read" in modules
    assert _absent(modules, SEND_PATH + RECEIVE_PATH + RENDERER + RICH + KEYRING) == []


def test_read_on_a_terminal_lays_the_markdown_out(
    received: tuple[Any, set[str], str], world: dict[str, Any]
) -> None:
    env = {**world["env"], "FORCE_COLOR": "1", "TERM": "xterm-256color"}
    code, modules, out, err = _run(["--home", str(world["card"]), "read", world["id"]], env)
    assert code in (0, None), err
    assert "**see**" not in out  # laid out: the emphasis is a style, not asterisks
    assert "securemsg.cli.markdown" in modules and "rich.markdown" in modules
    assert _absent(modules, SEND_PATH + RECEIVE_PATH) == []


@pytest.mark.parametrize(
    ("who", "args"),
    [("card", ["inbox"]), ("gp", ["sent"]), ("gp", ["contacts", "list"])],
    ids=["inbox", "sent", "contacts-list"],
)
def test_listings_import_no_letter_path_and_no_rich_into_a_pipe(
    received: tuple[Any, set[str], str], world: dict[str, Any], who: str, args: list[str]
) -> None:
    code, modules, out, err = _run(["--home", str(world[who]), *args], world["env"])
    assert code in (0, None), err
    assert ("Bruno" in out) if who == "gp" else ("Dr Ada Weiss" in out)
    forbidden = SEND_PATH + RECEIVE_PATH + READ_PATH + RENDERER + RICH + KEYRING
    assert _absent(modules, forbidden) == []


def test_send_imports_no_receive_path_and_no_renderer(world: dict[str, Any]) -> None:
    out_dir = world["root"] / "out-send"
    out_dir.mkdir()
    args = ["--home", str(world["gp"]), "send", str(world["letter"]), "--to", "Bruno"]
    args += ["--kind", "tele-expertise", "--pseudonym", "case-2", "-o", str(out_dir)]
    code, modules, out, err = _run(args, world["env"])
    assert code in (0, None), err
    assert "Double kept" in out and len(list(out_dir.iterdir())) == 1
    assert "securemsg.app.send" in modules
    assert _absent(modules, RECEIVE_PATH + READ_PATH + RENDERER + RICH + KEYRING) == []


# Issue 14, second round (docs/performance.md, target 9): what the listings no
# longer import, and the classes no everyday command builds at start-up.
LISTING_NEVER = (
    "securemsg.core.consent",  # the listings check no consent
    "securemsg.core.log",  # nor the log (`log verify`: app/logcheck.py)
    "securemsg.app.logcheck",
    "securemsg.cli.logcheck",
    "secrets",  # temporary names from os.urandom
    "socket",  # the agent's connection is a bare _socket.socket
    "selectors",
    "click.shell_completion",  # only when completing
)
# With the agent running, the storage keys come from it: no HKDF, and the socket's
# name is hashed by libsodium; OpenSSL's hashlib (~2 ms) is not loaded at all. Nor
# is pathlib (~2 ms with urllib): the key file's store uses it, the mailbox and the
# database are opened by str paths.
WITH_AGENT_NEVER = ("hashlib", "_hashlib", "hmac", "pathlib")


def _dataclasses(modules: set[str]) -> list[str]:
    return sorted(m.removeprefix("dataclass:") for m in modules if m.startswith("dataclass:"))


@pytest.mark.parametrize(
    ("who", "args"),
    [("card", ["inbox"]), ("gp", ["sent"]), ("gp", ["contacts", "list"])],
    ids=["inbox", "sent", "contacts-list"],
)
def test_listings_import_no_consent_log_hashlib_socket_and_build_no_dataclass(
    received: tuple[Any, set[str], str], world: dict[str, Any], who: str, args: list[str]
) -> None:
    code, modules, out, err = _run(["--home", str(world[who]), *args], world["env"])
    assert code in (0, None), err
    assert ("Bruno" in out) if who == "gp" else ("Dr Ada Weiss" in out)
    assert _absent(modules, LISTING_NEVER) == []
    assert _dataclasses(modules) == []


def test_receive_and_read_build_no_dataclass(
    received: tuple[Any, set[str], str], world: dict[str, Any]
) -> None:
    _code, modules, _out = received
    assert "securemsg.app.receive" in modules and _dataclasses(modules) == []
    code, modules, out, err = _run(
        ["--home", str(world["card"]), "read", world["id"]], world["env"]
    )
    assert code in (0, None) and "Signature: valid" in out, err
    assert "securemsg.app.read" in modules and _dataclasses(modules) == []
    # tempfile (with shutil, lzma, bz2) only to save attachments; shlex only to word a refusal
    assert _absent(modules, ("tempfile", "shutil", "shlex")) == []


def test_send_builds_one_dataclass_its_request(world: dict[str, Any]) -> None:
    """``SendRequest`` stays a (mutable) dataclass: the CLI fills it in steps."""
    out_dir = world["root"] / "out-send-classes"
    out_dir.mkdir()
    args = ["--home", str(world["gp"]), "send", str(world["letter"]), "--to", "Bruno"]
    args += ["--kind", "tele-expertise", "--pseudonym", "case-3", "-o", str(out_dir)]
    code, modules, _out, err = _run(args, world["env"])
    assert code in (0, None), err
    assert "securemsg.app.send" in modules
    assert _dataclasses(modules) == ["securemsg.app.send.SendRequest"]


@pytest.fixture(scope="module")
def unlocked(
    world: dict[str, Any], received: tuple[Any, set[str], str]
) -> Iterator[dict[str, str]]:
    """Both homes unlocked (`securemsg unlock`); the environment without the passphrase."""
    runtime = Path(tempfile.mkdtemp(prefix="smci-"))  # short: a socket path is < 108 bytes
    env = {**world["env"], "XDG_RUNTIME_DIR": str(runtime)}
    pids = []
    try:
        for who in ("gp", "card"):
            code, _modules, out, err = _run(["--home", str(world[who]), "--json", "unlock"], env)
            assert code in (0, None), err
            pids.append(int(json.loads(out)["pid"]))
        yield {k: v for k, v in env.items() if k != "SECUREMSG_PASSPHRASE"}
    finally:
        for who in ("gp", "card"):
            _run(["--home", str(world[who]), "lock"], env)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(runtime, ignore_errors=True)


@pytest.mark.parametrize(
    ("who", "args"),
    [("card", ["inbox"]), ("gp", ["sent"]), ("gp", ["contacts", "list"])],
    ids=["inbox", "sent", "contacts-list"],
)
def test_listings_with_the_agent_load_no_hashlib(
    unlocked: dict[str, str], world: dict[str, Any], who: str, args: list[str]
) -> None:
    code, modules, out, err = _run(["--home", str(world[who]), *args], unlocked)
    assert code in (0, None), err  # no passphrase in the environment: the agent answered
    assert ("Bruno" in out) if who == "gp" else ("Dr Ada Weiss" in out)
    assert "securemsg.store.agent.client" in modules
    assert _absent(modules, LISTING_NEVER + WITH_AGENT_NEVER) == []
