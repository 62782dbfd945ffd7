"""Fixtures for the letters tests: five homes built once, copied per test.

The homes use PUBLIC TEST KEYS (``init --test-key``) derived from fixed labels,
so tests can craft envelopes with ``core`` using the very keys the homes hold
(a forged signature, a letter outside the consent, a tampered section...) and
prove that the recipient's mailbox refuses what the sender's tool would not
have sent. Commands run in-process through ``securemsg.cli.main.main`` (the
real entry point: error reporting and exit codes included).

World (built once per session, then ``shutil.copytree`` per test):

- gp: Dr Alice Martin (gp), the referring doctor;
- card: Dr Bob Durand (specialist, cardiology);
- nurse: Claire Petit (nurse);
- pat: Jeanne Dupont (patient, birth date 1950-03-02), who signed ``consent.cose``
  (from Alice, to Bob and the nurse, purpose referral);
- out: Dr Oscar Outsider (specialist), known to gp and card, knows gp and card;
- pat2 (card only, no home): Marc Autre, another patient the gp knows.
"""

from __future__ import annotations

import gc
import hashlib
import io
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import reference
from clirun import Result, db_rows, light_key_file, world_env
from clirun import run_cli as _run_cli
from securemsg.core import age, frozen
from securemsg.core.card import Card
from securemsg.core.digests import object_digest
from securemsg.core.domains import Domain, Purpose
from securemsg.core.identity import Profile, Role, SecretIdentity
from securemsg.core.letter import compose
from securemsg.core.letter.container import OutItem
from securemsg.core.letter.manifest import PhoneCall
from securemsg.core.letter.source import LetterSource, parse_letter
from securemsg.core.testkeys import derive_test_identity, format_test_key

PASSPHRASE = "letters test passphrase"

SUBJECT = "Chest pain referral Zq7"
PATIENT_NAME = "Jeanne Dupont"
BIRTH_DATE = "1950-03-02"
INS = "285027512312317"
PREAMBLE = "Dear colleague, I refer Mrs D. Xylophone-preamble."
MEDICAL_TEXT = "Angina since 2024 with exertional dyspnoea Kw3."
NURSING_TEXT = "Change the dressing daily Nq5."
LETTER = (
    f"---\nsubject: {SUBJECT}\n---\n{PREAMBLE}\n\n"
    f"## History\n{MEDICAL_TEXT}\n\n"
    f"## Dressing care {{nursing}}\n{NURSING_TEXT}\n"
)
SECRETS = (SUBJECT, PATIENT_NAME, BIRTH_DATE, INS, PREAMBLE, MEDICAL_TEXT, NURSING_TEXT)

# label -> (name, role, extra init options)
PEOPLE: dict[str, tuple[str, str, list[str]]] = {
    "gp": ("Dr Alice Martin", "gp", []),
    "card": ("Dr Bob Durand", "specialist", ["--specialty", "cardiology"]),
    "nurse": ("Claire Petit", "nurse", []),
    "pat": (PATIENT_NAME, "patient", ["--birth-date", BIRTH_DATE, "--ins", INS]),
    "out": ("Dr Oscar Outsider", "specialist", ["--specialty", "dermatology"]),
}
KNOWS: dict[str, list[str]] = {
    "gp": ["card", "nurse", "pat", "out", "pat2"],
    "card": ["gp", "nurse", "pat", "out"],
    "nurse": ["gp", "card", "pat"],
    "pat": ["gp", "card", "nurse"],
    "out": ["gp", "card"],
}
M, N = Domain.MEDICAL, Domain.NURSING


def secret_of(label: str) -> SecretIdentity:
    return derive_test_identity(f"letters-tests/{label}")


def run_cli(home: Path | None, *args: str | Path, executable: bool = False) -> Result:
    """``securemsg`` on ``home`` (clirun.run_cli): in-process, or the installed
    executable as a child process."""
    return _run_cli(home, *args, env=world_env(PASSPHRASE), executable=executable)


# -- snapshots -------------------------------------------------------------------------
def snapshot(home: Path) -> dict[str, Any]:
    """Every row of every table, and (path, sha256) of every other file in the home.

    SQLite's own files (securemsg.db, -wal, -shm) are compared through their rows:
    a checkpoint may rewrite pages without changing any data.
    """
    gc.collect()
    files = []
    for path in sorted(home.rglob("*")):
        rel = path.relative_to(home).as_posix()
        if path.is_dir():
            files.append((rel + "/", ""))
        elif not rel.startswith("securemsg.db"):
            files.append((rel, hashlib.sha256(path.read_bytes()).hexdigest()))
    return {"files": files, "db": db_rows(home / "securemsg.db")}


# -- the world ---------------------------------------------------------------------------
def _pat2_card(root: Path) -> Card:
    secret = secret_of("pat2")
    card = Card.sign(
        secret,
        Profile(name="Marc Autre", role=Role.PATIENT, birth_date="1960-01-01"),
        int(time.time()) - 60,
        test_key=True,
    )
    (root / "pat2.card").write_text(card.to_text())
    return card


def _build(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for label, (name, role, extra) in PEOPLE.items():
        keyfile = root / f"{label}.testkey"
        keyfile.write_text(format_test_key(secret_of(label)))
        res = run_cli(
            root / label, "init", "--name", name, "--role", role, *extra, "--test-key", keyfile
        )
        assert res.exit_code == 0, res.stderr
        light_key_file(root / label, PASSPHRASE)  # every test unlocks these homes
        res = run_cli(root / label, "card", "export", "-o", root / f"{label}.card")
        assert res.exit_code == 0, res.stderr
    _pat2_card(root)
    for label, known in KNOWS.items():
        for other in known:
            res = run_cli(root / label, "contacts", "add", root / f"{other}.card")
            assert res.exit_code == 0, res.stderr
    res = run_cli(
        root / "pat",
        "consent",
        "grant",
        "--yes",
        "--from",
        "Alice",
        "--to",
        "Bob",
        "--to",
        "Claire",
        "--purpose",
        "referral",
        "-o",
        root / "consent.cose",
    )
    assert res.exit_code == 0, res.stderr
    for label in PEOPLE:
        # create the consent and mail tables now, so snapshots compare like with like
        for cmd in (["consent", "list"], ["inbox"]):
            res = run_cli(root / label, *cmd)
            assert res.exit_code == 0, res.stderr
    (root / "letter.md").write_text(LETTER)
    (root / "scan.pdf").write_bytes(os.urandom(300_000))
    (root / "drop").mkdir()
    (root / "outbox").mkdir()


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("letters-world")
    _build(root)
    return root


@dataclass
class World:
    root: Path

    def home(self, label: str) -> Path:
        return self.root / label

    def path(self, name: str) -> Path:
        return self.root / name

    @property
    def drop(self) -> Path:
        return self.root / "drop"

    def run(self, label: str, *args: str | Path, executable: bool = False) -> Result:
        return run_cli(self.home(label), *args, executable=executable)

    def ok(self, label: str, *args: str | Path) -> Any:
        """Run with --json, assert exit 0, return the parsed stdout."""
        res = self.run(label, "--json", *args)
        assert res.exit_code == 0, (args, res.stdout, res.stderr)
        return res.json()

    def secret(self, label: str) -> SecretIdentity:
        return secret_of(label)

    def card(self, label: str) -> Card:
        if label == "pat2":
            return Card.parse(self.path("pat2.card").read_bytes())
        return Card.parse((self.home(label) / "card.txt").read_bytes())

    def fp(self, label: str) -> str:
        return self.card(label).fingerprint

    def snap(self, *labels: str) -> dict[str, Any]:
        return {label: snapshot(self.home(label)) for label in labels or tuple(PEOPLE)}

    # -- sending through the CLI ----------------------------------------------------------
    def send(self, *extra: str | Path, letter: Path | None = None, sender: str = "gp") -> Any:
        """The standard referral (card + nurse + patient's copy) into the drop folder."""
        args: list[str | Path] = [
            "send",
            letter or self.path("letter.md"),
            "--kind",
            "referral",
            "--patient",
            "Jeanne",
            "--consent",
            self.path("consent.cose"),
        ]
        if not any(a == "--to" for a in extra):
            args += ["--to", "Bob", "--to", "Claire"]
        if not any(a in ("-o", "--drop") for a in extra):
            args += ["--drop", self.drop]
        return self.ok(sender, *args, *extra)

    def receive_drop(self, label: str) -> tuple[int, dict[str, Any]]:
        res = self.run(label, "--json", "receive", "--drop", self.drop)
        doc = res.json()
        assert doc["schema"] == "securemsg.receive/1"
        return res.exit_code, doc

    def inbox_ids(self, label: str) -> list[str]:
        return [r["message_id"] for r in self.ok(label, "inbox")["letters"]]

    # -- crafting with core -----------------------------------------------------------------
    def plan(
        self,
        *,
        author: str = "gp",
        to: Sequence[tuple[str, frozenset[Domain]]] = (("card", frozenset({M, N})),),
        text: str = LETTER,
        kind: Purpose = Purpose.REFERRAL,
        basis: str = "consent",
        patient: str | None = "pat",
        consent: bytes | None = None,
        attachments: Sequence[tuple[str, Domain, bytes]] = (),
        pseudonym: str | None = None,
        in_reply_to: bytes | None = None,
        phone_call: PhoneCall | None = None,
        now: int | None = None,
        source: LetterSource | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> compose.Planned:
        """``source``: the letter as parsed (else ``text``, through parse_letter),
        for sections a sender's tool would refuse; ``fields``: manifest fields
        replaced (and the manifest signed again), for text it would refuse."""
        if basis == "consent" and consent is None:
            consent = self.path("consent.cose").read_bytes()
        planned = compose.plan(
            source=source or parse_letter(text.encode(), "letter"),
            attachments=[
                compose.Attachment(name, dom, len(data), lambda data=data: (data,))  # type: ignore[misc]
                for name, dom, data in attachments
            ],
            kind=kind,
            author=self.secret(author),
            author_card=self.card(author),
            recipients=[(self.card(label), doms) for label, doms in to],
            basis=basis,
            now=int(time.time()) if now is None else now,
            patient=self.card(patient) if patient else None,
            pseudonym=pseudonym,
            consent=consent,
            consent_digest=object_digest(consent) if consent else None,
            in_reply_to=in_reply_to,
            phone_call=phone_call,
        )
        if fields:
            draft = frozen.replace(planned.manifest, encoded=b"", **fields)
            planned = frozen.replace(planned, manifest=draft.sign(self.secret(author)))
        return planned

    def envelope(
        self,
        planned: compose.Planned,
        recipient: str,
        domains: frozenset[Domain] | None = None,
        *,
        author: str = "gp",
        consent: bytes | str | None = "auto",
        patient: str | None = "auto",
        padding: Callable[[int], bytes] | None = None,
    ) -> bytes:
        m = planned.manifest
        if domains is None:
            entry = m.entry_for(self.fp(recipient))
            domains = entry.domains if entry else frozenset({M, N})
        if consent == "auto":
            consent = self.path("consent.cose").read_bytes() if m.basis == "consent" else None
        pcard: bytes | None = None
        if patient == "auto":
            pcard = self.card("pat").encoded if m.patient_fp else None
        elif patient is not None:
            pcard = self.card(patient).encoded
        assert not isinstance(consent, str)
        return b"".join(
            reference.envelope(
                planned,
                self.secret(author),
                self.card(recipient),
                domains,
                consent,
                pcard,
                padding=padding,
            )
        )

    def craft(self, recipient: str = "card", name: str | None = None, **kw: Any) -> Path:
        """Plan a letter to ``recipient`` (plan() keywords) and write its envelope."""
        kw.setdefault("to", ((recipient, frozenset({M, N})),))
        planned = self.plan(**kw)
        consent = kw.get("consent")
        data = self.envelope(
            planned,
            recipient,
            author=kw.get("author", "gp"),
            consent=consent if consent is not None else "auto",
        )
        path = self.path(name or f"crafted-{planned.manifest.id_hex}.smsg")
        path.write_bytes(data)
        return path

    def write(self, name: str, data: bytes) -> Path:
        path = self.path(name)
        path.write_bytes(data)
        return path


@pytest.fixture
def world(world_template: Path, tmp_path: Path) -> World:
    root = tmp_path / "world"
    shutil.copytree(world_template, root)
    return World(root)


def replace_items(planned: compose.Planned, n: int, content: bytes) -> compose.Planned:
    """The same signed manifest, with item ``n``'s content swapped (digest mismatch)."""
    items = []
    for item, out in planned.items:
        if item.n == n:
            out = OutItem(out.n, out.salt, out.name, len(content), lambda: (content,))
        items.append((item, out))
    return frozen.replace(planned, items=tuple(items))


def resign(planned: compose.Planned, author: SecretIdentity, **changes: Any) -> compose.Planned:
    """The same items under a manifest changed as a dishonest author would change
    it (``Manifest`` fields), signed again with the author's own key."""
    m = frozen.replace(planned.manifest, **changes, encoded=b"").sign(author)
    return frozen.replace(planned, manifest=m)


def age_decrypt(secret: SecretIdentity, data: bytes) -> bytes:
    out = io.BytesIO()
    age.decrypt([age.X25519Identity.from_bytes(secret.enc_secret)], io.BytesIO(data), out)
    return out.getvalue()


def age_encrypt(card: Card, plaintext: bytes) -> bytes:
    out = io.BytesIO()
    age.encrypt([age.X25519Recipient.from_bytes(card.enc_public)], plaintext, out)
    return out.getvalue()


RefusedCheck = Callable[..., dict[str, Any]]


@pytest.fixture
def refused_at_receive(world: World) -> RefusedCheck:
    """``refused_at_receive(label, file, error=..., rule=..., match=..., executable=False)``:
    ``receive FILE`` exits 3, the report row says refused with that error/rule, and no
    home changed (the refusal notice, if any, is written next to the file, outside the
    homes). ``executable``: through the installed executable, in a child process."""

    def _check(
        label: str,
        file: Path,
        *,
        error: str | None = None,
        rule: str | None = None,
        match: str | None = None,
        executable: bool = False,
    ) -> dict[str, Any]:
        before = world.snap()
        res = world.run(label, "--json", "receive", file, executable=executable)
        assert res.exit_code == 3, (res.stdout, res.stderr)
        doc = res.json()
        assert doc["schema"] == "securemsg.receive/1"
        (row,) = doc["results"]
        assert row["status"] == "refused", row
        if error is not None:
            assert row["error"] == error, row
        if rule is not None:
            assert row["rule"] == rule, row
        if match is not None:
            assert match in row["detail"], row
        assert "refused" in res.stderr
        after = world.snap()
        if row.get("kept_aside"):  # an unknown author's letter: kept in HOME/quarantine only
            home = after[label]
            home["files"] = [f for f in home["files"] if not f[0].startswith("quarantine/")]
        assert after == before
        return dict(row)

    return _check
