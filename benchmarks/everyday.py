"""Target 9 (issue 14, "fast everyday commands"): the commands of a working day
as whole processes, measured side by side in one run, interleaved.

* `send` of a 1 KiB letter, `receive` of it and `read` of it: each against
  `python -c 'import click, nacl.signing'` (goal 1.5x), with `gpg -se` and
  `gpg -d` doing the same (unprotected keys, `--compress-algo none`) beside;
* `inbox`, `sent`, `contacts list` (goal 1.2x the same reference);
* `send` and `receive --drop` of one letter with 20,000 letters in the mailbox
  against the same with an empty mailbox (goal 1.1x);
* peak RSS of `read` and `inbox` (goal under 40 MiB).

The targets are meant with the unlock agent running. If the build has a
`securemsg unlock` command, the agent is started for both homes and stopped at
the end; otherwise the homes use the passphrase-file key store
(`SECUREMSG_PASSPHRASE`, an Argon2id unlock in every command that needs a key),
the fastest mode without an agent, and the report says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.common import SECUREMSG, Report, Stats, peer, rss_of, run
from benchmarks.world import World, in_process_env, now

REFERENCE = "python -c 'import click, nacl.signing'"
LETTER_1K = b"---\nsubject: Everyday\n---\n" + (b"Dear colleague, results below.\n" * 33)[:1000]


def has_agent(w: World) -> bool:
    """Does this build have `securemsg unlock` (the agent, issue 14)?"""
    return run([*SECUREMSG, "unlock", "--help"], env=w.env, check=False).rc == 0


def start_agent(w: World, homes: list[Path]) -> list[Path]:
    started = []
    for home in homes:
        r = run([*SECUREMSG, "--home", str(home), "unlock"], env=w.env, check=False)
        if r.rc != 0:
            raise RuntimeError(f"securemsg unlock failed: {r.stderr.decode()[-500:]}")
        started.append(home)
    return started


def stop_agent(w: World, homes: list[Path]) -> None:
    for home in homes:
        run([*SECUREMSG, "--home", str(home), "lock"], env=w.env, check=False)


def _gpg_setup(root: Path) -> tuple[str, dict[str, str]] | None:
    gpg = peer("gpg")
    if gpg is None:
        return None
    home = root / "gnupg-everyday"
    home.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    base = [gpg, "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
    for who in ("alice", "bob"):
        subprocess.run(
            [*base, "--quick-gen-key", f"{who} <{who}@bench.invalid>", "ed25519", "sign", "never"],
            env=env,
            check=True,
            capture_output=True,
        )
        out = subprocess.run(
            [gpg, "--batch", "--with-colons", "--list-secret-keys", f"{who}@bench.invalid"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        fpr = next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))
        subprocess.run(
            [*base, "--quick-add-key", fpr, "cv25519", "encr", "never"],
            env=env,
            check=True,
            capture_output=True,
        )
    return gpg, env


def _gpg_stop(env: dict[str, str]) -> None:
    if gpgconf := peer("gpgconf"):
        subprocess.run([gpgconf, "--kill", "all"], env=env, check=False, capture_output=True)


def _message_id(stdout: bytes) -> str:
    for line in stdout.decode().splitlines():
        if line.startswith("Message id:"):
            return line.split(":", 1)[1].strip()
    raise RuntimeError(f"no message id in {stdout[:300]!r}")


def measure(report: Report, w: World, runs: int, big: int) -> None:
    agent = has_agent(w)
    mode = (
        "the unlock agent (securemsg unlock) running for both homes"
        if agent
        else "NO AGENT in this build: passphrase-file key store (SECUREMSG_PASSPHRASE),"
        " one Argon2id unlock per command that needs a key (the fastest mode without an agent)"
    )
    report.say(f"## Everyday commands ({runs} interleaved runs, ms); keys: {mode}")
    letter = w.root / "everyday.md"
    letter.write_bytes(LETTER_1K)
    out = w.root / "everyday-out"
    out.mkdir()
    homes = start_agent(w, [w.alice, w.bob]) if agent else []
    gpg = _gpg_setup(w.root)
    try:
        _small(report, w, runs, letter, out, gpg)
        _scale(report, w, runs, big, letter, agent)
    finally:
        if homes:
            stop_agent(w, homes)
        if gpg is not None:
            _gpg_stop(gpg[1])


def _send_cmd(w: World, home: Path, letter: Path, where: list[str]) -> list[str]:
    return [
        *SECUREMSG,
        "--home",
        str(home),
        "send",
        str(letter),
        "--to",
        "Bruno",
        "--kind",
        "tele-expertise",
        "--pseudonym",
        "case-17",
        *where,
    ]


def _small(
    report: Report,
    w: World,
    runs: int,
    letter: Path,
    out: Path,
    gpg: tuple[str, dict[str, str]] | None,
) -> None:
    ref = [sys.executable, "-c", "import click, nacl.signing"]
    times: dict[str, list[float]] = {
        k: []
        for k in (
            REFERENCE,
            "send",
            "receive",
            "read",
            "inbox",
            "sent",
            "contacts list",
            "gpg -se",
            "gpg -d",
        )
    }
    if gpg is None:
        del times["gpg -se"], times["gpg -d"]
    cpu: dict[str, list[float]] = {k: [] for k in times}
    enc, dec = w.root / "everyday.gpg", w.root / "everyday.dec"
    gbase = (
        [gpg[0], "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", ""]
        if gpg
        else []
    )
    gpg_se = [
        *gbase,
        "--trust-model",
        "always",
        "--compress-algo",
        "none",
        "-u",
        "alice@bench.invalid",
        "-r",
        "bob@bench.invalid",
        "-se",
        "-o",
        str(enc),
        str(letter),
    ]
    gpg_d = [*gbase, "-d", "-o", str(dec), str(enc)]
    bob, alice = str(w.bob), str(w.alice)
    listing = {
        "inbox": [*SECUREMSG, "--home", bob, "inbox"],
        "sent": [*SECUREMSG, "--home", alice, "sent"],
        "contacts list": [*SECUREMSG, "--home", alice, "contacts", "list"],
    }
    last_id = ""
    for i in range(runs + 1):  # the first round warms the caches and is not counted
        keep = i > 0

        def timed(
            name: str, cmd: list[str], env: dict[str, str] | None = None, keep: bool = keep
        ) -> bytes:
            r = run(cmd, env=env or w.env)
            if keep:
                times[name].append(r.seconds * 1000)
                cpu[name].append(r.cpu * 1000)
            return r.stdout

        timed(REFERENCE, ref)
        sent_out = timed("send", _send_cmd(w, w.alice, letter, ["-o", str(out)]))
        last_id = _message_id(sent_out)
        (envelope,) = list(out.glob("*.smsg"))
        timed("receive", [*SECUREMSG, "--home", bob, "receive", str(envelope)])
        timed("read", [*SECUREMSG, "--home", bob, "read", last_id])
        for name, cmd in listing.items():
            timed(name, cmd)
        if gpg is not None:
            timed("gpg -se", gpg_se, gpg[1])
            timed("gpg -d", gpg_d, gpg[1])
        for f in out.iterdir():
            f.unlink()
    stats = {k: Stats(v) for k, v in times.items()}
    cpus = {k: Stats(v) for k, v in cpu.items()}
    for k, v in stats.items():
        report.say(f"  {k:<42} {v.fmt(' ms', 1)}; CPU {cpus[k].median:.1f} ms")
    base = stats[REFERENCE].median
    cbase = cpus[REFERENCE].median
    for name, peer_name in (("send", "gpg -se"), ("receive", "gpg -d"), ("read", "gpg -d")):
        m = stats[name].median
        beside = (
            f"; {m / stats[peer_name].median:.1f}x `{peer_name}` ({stats[peer_name].median:.1f} ms)"
            if peer_name in stats
            else "; gpg MISSING"
        )
        report.check(
            9,
            f"{name} of a 1 KiB letter vs {REFERENCE}",
            f"{m:.1f} ms vs {base:.1f} ms{beside}; CPU time {cpus[name].median / cbase:.2f}x",
            m / base,
            "<= 1.5",
        )
    for name in listing:
        m = stats[name].median
        report.check(
            9,
            f"{name} vs {REFERENCE}",
            f"{m:.1f} ms vs {base:.1f} ms; CPU time {cpus[name].median / cbase:.2f}x",
            m / base,
            "<= 1.2",
        )
    for name, cmd in (
        ("read", [*SECUREMSG, "--home", bob, "read", last_id]),
        ("inbox", listing["inbox"]),
    ):
        rss = [rss_of(cmd, env=w.env)[0] / 1024 for _ in range(3)]
        s = Stats(rss)
        report.say(f"  peak RSS of {name}: {s.fmt(' MiB', 1)}")
        report.check(
            9, f"peak RSS of {name} (< 40 MiB)", f"{s.median:.1f} MiB", s.median / 40, "<= 1.0"
        )


def _populate(home: Path, w: World, count: int) -> None:
    """``count`` small letters, half received and half sent, each with a row
    (store API, sealed summary) and a small envelope file: what a mailbox that
    has been used for years looks like to a command that lists its folders."""
    from securemsg.store.home import Home
    from securemsg.store.mailbox import LetterRow, Mailbox

    in_process_env(w)
    box = Mailbox(Home(home, env=w.env))
    t = now() - count
    for start in range(0, count, 1000):
        with box.transaction():
            for i in range(start, min(count, start + 1000)):
                mid = os.urandom(16).hex()
                folder = "in" if i % 2 else "sent"
                path = f"mail/{folder}/{mid}.smsg"
                (home / path).write_bytes(b"x" * 200)
                box.insert_letter(
                    LetterRow(
                        id=mid,
                        folder=folder,
                        stored_at=t + i,
                        date=t + i,
                        author=os.urandom(20).hex(),
                        kind="referral",
                        in_reply_to=None,
                        envelope_digest=os.urandom(32),
                        path=path,
                        summary={
                            "subject": f"Letter {i}",
                            "author_name": "Dr Somebody",
                            "patient": {"name": "Someone"},
                            "patient_fp": os.urandom(20).hex(),
                            "pseudonym": "",
                            "basis": "consent",
                            "domains": ["medical"],
                            "recipients": [box.card.fingerprint],
                        },
                        receipt=os.urandom(200),
                    ),
                    os.urandom(20).hex(),
                )
    box.home.close()


def _scale(report: Report, w: World, runs: int, count: int, letter: Path, agent: bool) -> None:
    """send and receive --drop of one letter, empty mailbox vs ``count`` letters
    (each copied home with its own agent when the build has one)."""
    homes = {}
    for who, src in (("alice", w.alice), ("bob", w.bob)):
        for size in ("empty", "big"):
            dst = w.root / f"{who}-{size}"
            shutil.copytree(src, dst)
            homes[who, size] = dst
    for who in ("alice", "bob"):
        _populate(homes[who, "big"], w, count)
    agents = start_agent(w, list(homes.values())) if agent else []
    try:
        _scale_runs(report, w, runs, count, letter, homes)
    finally:
        stop_agent(w, agents)
        for d in homes.values():
            shutil.rmtree(d, ignore_errors=True)


def _scale_runs(
    report: Report,
    w: World,
    runs: int,
    count: int,
    letter: Path,
    homes: dict[tuple[str, str], Path],
) -> None:
    drops = {size: w.root / f"drop-{size}" for size in ("empty", "big")}
    for d in drops.values():
        d.mkdir(mode=0o700)
    label = {"empty": "empty mailbox", "big": f"{count} letters"}
    times: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for i in range(runs + 1):
        for size in ("empty", "big"):
            r1 = run(
                _send_cmd(w, homes["alice", size], letter, ["--drop", str(drops[size])]), env=w.env
            )
            r2 = run(
                [
                    *SECUREMSG,
                    "--home",
                    str(homes["bob", size]),
                    "receive",
                    "--drop",
                    str(drops[size]),
                ],
                env=w.env,
            )
            if b"accepted" not in r2.stdout:
                raise RuntimeError(f"receive --drop accepted nothing: {r2.stdout[:500]!r}")
            if i > 0:
                for what, r in (
                    (f"send, {label[size]}", r1),
                    (f"receive --drop, {label[size]}", r2),
                ):
                    times.setdefault(what, []).append(r.seconds * 1000)
                    cpu.setdefault(what, []).append(r.cpu * 1000)
    report.say(f"## Everyday commands with {count} letters in the mailbox ({runs} runs, ms)")
    stats = {k: Stats(v) for k, v in times.items()}
    cpus = {k: Stats(v) for k, v in cpu.items()}
    for k, v in stats.items():
        report.say(f"  {k:<42} {v.fmt(' ms', 1)}; CPU {cpus[k].median:.1f} ms")
    for what in ("send", "receive --drop"):
        big_k, empty_k = f"{what}, {label['big']}", f"{what}, empty mailbox"
        full, empty = stats[big_k].median, stats[empty_k].median
        cpu_ratio = cpus[big_k].median / cpus[empty_k].median
        report.check(
            9,
            f"{what} with {count} letters vs an empty mailbox",
            f"{full:.1f} ms vs {empty:.1f} ms; CPU time {cpu_ratio:.2f}x",
            full / empty,
            "<= 1.1",
        )
