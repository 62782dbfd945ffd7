"""The mail tests' world: three homes (a GP, a cardiologist, a patient) whose cards
carry their addresses on the test mail server, each with its mail account
(password given on stdin, the server's throw-away CA as --ca-file)."""

from __future__ import annotations

import imaplib
import itertools
import re
import smtplib
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mailserver

from clirun import Result, db_rows, light_key_file, world_env
from clirun import run_cli as _run_cli
from securemsg.core.testkeys import derive_test_identity, format_test_key

PASSPHRASE = "mail test passphrase"
# label -> (name, role, mail user, extra init options)
PEOPLE = {
    "gp": ("Dr Anne Mailgp", "gp", "anne", []),
    "card": ("Dr Bruno Mailcard", "specialist", "bruno", ["--specialty", "cardiology"]),
    "pat": ("Paule Mailpat", "patient", "paule", ["--birth-date", "1950-03-02"]),
    "spec": ("Dr Denis Mailspec", "specialist", "denis", ["--specialty", "pneumology"]),
}
LETTER = "---\nsubject: Chest pain referral Mq7\n---\nDear colleague, angina since 2024 Kw3.\n"


def run_cli(
    home: Path | None, *args: str | Path, extra_env: dict[str, str] | None = None, **kw: Any
) -> Result:
    return _run_cli(home, *args, env={**world_env(PASSPHRASE), **(extra_env or {})}, **kw)


_WORLDS = itertools.count(1)


@dataclass
class MailWorld:
    """Each world has mail accounts of its own on the shared server (``anne3``...)."""

    root: Path
    server: mailserver.MailServer
    suffix: str = ""

    def user(self, label: str) -> str:
        return PEOPLE[label][2] + self.suffix

    def home(self, label: str) -> Path:
        return self.root / label

    def run(self, label: str, *args: str | Path, **kw: Any) -> Result:
        return run_cli(self.home(label), *args, **kw)

    def ok(self, label: str, *args: str | Path, **kw: Any) -> Any:
        res = self.run(label, "--json", *args, **kw)
        assert res.exit_code == 0, (args, res.stdout, res.stderr)
        return res.json() if res.stdout.strip() else None

    def ok_home(self, home: Path, *args: str | Path, **kw: Any) -> Any:
        res = run_cli(home, "--json", *args, **kw)
        assert res.exit_code == 0, (args, res.stdout, res.stderr)
        return res.json() if res.stdout.strip() else None

    def address(self, label: str) -> str:
        return self.server.address(self.user(label))

    def account_args(self, label: str, ca: Path | None = None) -> list[str]:
        s = self.server
        return [
            "account", "add", self.address(label),
            "--imap-host", "localhost", "--imap-port", str(s.ports["imaps"]),
            "--smtp-host", "localhost", "--smtp-port", str(s.ports["submission"]),
            "--ca-file", str(ca or s.ca), "--password-stdin",
        ]  # fmt: skip

    def inject(self, label: str, raw: bytes, sender: str = "other") -> None:
        """Mail ``raw`` as is to ``label``'s address, from another account on the
        server (hostile or unrelated mail)."""
        self.inject_many(label, [raw], sender)

    def inject_many(self, label: str, mails: list[bytes], sender: str = "other") -> None:
        ctx = ssl.create_default_context(cafile=str(self.server.ca))
        with smtplib.SMTP("localhost", self.server.ports["submission"], timeout=30) as c:
            c.starttls(context=ctx)
            c.login(self.server.address(sender + self.suffix), mailserver.PASSWORD)
            for raw in mails:
                c.sendmail(self.server.address(sender + self.suffix), [self.address(label)], raw)

    def imap_flags(self, label: str, folder: str) -> dict[int, set[str]]:
        """UID -> flags of every mail in ``label``'s ``folder``."""
        ctx = ssl.create_default_context(cafile=str(self.server.ca))
        with imaplib.IMAP4_SSL("localhost", self.server.ports["imaps"], ssl_context=ctx) as m:
            m.login(self.address(label), mailserver.PASSWORD)
            m.select(f'"{folder}"', readonly=True)
            _t, data = m.uid("FETCH", "1:*", "(UID FLAGS)")
            out: dict[int, set[str]] = {}
            for line in data:
                if isinstance(line, bytes):
                    uid = re.search(rb"UID (\d+)", line)
                    flags = re.search(rb"FLAGS \(([^)]*)\)", line)
                    if uid and flags:
                        out[int(uid.group(1))] = set(flags.group(1).decode().split())
            return out

    def wait(self, label: str, n: int) -> None:
        self.server.wait_delivered(self.user(label), n)

    def in_box(self, label: str) -> int:
        return self.server.count(self.user(label))

    def send(self, *extra: str | Path, to: str = "Bruno") -> Any:
        return self.ok(
            "gp", "send", self.root / "letter.md", "--to", to, "--kind", "referral",
            "--patient", "Paule", "--consent", self.root / "consent.cose", "--mail", *extra,
        )  # fmt: skip


def build(root: Path, server: mailserver.MailServer) -> MailWorld:
    root.mkdir(parents=True)
    w = MailWorld(root, server, str(next(_WORLDS)))
    server.add_users([w.user(label) for label in PEOPLE] + ["other" + w.suffix])
    for label, (name, role, user, extra) in PEOPLE.items():
        key = root / f"{label}.testkey"
        key.write_text(format_test_key(derive_test_identity(f"mail-tests/{label}")))
        w.ok(label, "init", "--name", name, "--role", role, "--email", w.address(label),
             *extra, "--test-key", key)  # fmt: skip
        light_key_file(w.home(label), PASSPHRASE)  # every command unlocks these homes
        w.ok(label, "card", "export", "-o", root / f"{label}.card")
    for label in PEOPLE:
        for other in PEOPLE:
            if other != label:
                w.ok(label, "contacts", "add", root / f"{other}.card")
        w.ok(label, *w.account_args(label), input=mailserver.PASSWORD + "\n")
    w.ok("pat", "consent", "grant", "--yes", "--from", "Anne", "--to", "Bruno", "--to", "Denis",
         "--purpose",
         "referral", "-o", root / "consent.cose")  # fmt: skip
    (root / "letter.md").write_text(LETTER)
    return w


def snapshot(home: Path) -> Any:
    """The home's database rows and its files (not the database's own files)."""
    files = sorted(
        (p.relative_to(home).as_posix(), p.read_bytes() if p.is_file() else b"")
        for p in home.rglob("*")
        if not p.name.startswith("securemsg.db")
    )
    return files, db_rows(home / "securemsg.db")


def build_person(w: MailWorld, home: Path, name: str, role: str, user: str) -> str:
    """One more home (no contacts) with a mail account of its own; its address."""
    user += w.suffix
    w.server.add_users([user])
    address = w.server.address(user)
    key = home.with_suffix(".testkey")
    key.write_text(format_test_key(derive_test_identity(f"mail-tests/{user}")))
    w.ok_home(home, "init", "--name", name, "--role", role, "--email", address, "--test-key", key)
    args = w.account_args("gp")
    args[2] = address
    w.ok_home(home, *args, input=mailserver.PASSWORD + "\n")
    return address
