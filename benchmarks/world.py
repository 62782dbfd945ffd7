"""Two practitioners' homes (a GP and a cardiologist), set up with the real CLI,
and letters between them. A pseudonymous tele-expertise letter has no patient,
so a one-recipient send writes exactly two envelopes: the recipient's and the
sender's double (R7)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import SECUREMSG, child_env, run

LETTER = b"---\nsubject: Benchmark\n---\nDear colleague,\n\nPlease see the attached scan.\n"


@dataclass
class World:
    root: Path
    env: dict[str, str]
    alice: Path  # sender home
    bob: Path  # recipient home
    letter: Path

    def cli(self, *args: str, check: bool = True) -> bytes:
        return run([*SECUREMSG, *args], env=self.env, check=check).stdout

    def send_cmd(self, attachment: Path, out_dir: Path) -> list[str]:
        return [
            *SECUREMSG,
            "--home",
            str(self.alice),
            "send",
            str(self.letter),
            "--to",
            "Bruno",
            "--kind",
            "tele-expertise",
            "--pseudonym",
            "case-17",
            "--attach",
            f"{attachment}:medical",
            "-o",
            str(out_dir),
        ]

    def receive_cmd(self, envelope: Path) -> list[str]:
        return [*SECUREMSG, "--home", str(self.bob), "receive", str(envelope)]

    # -- in-process --------------------------------------------------------
    def mailbox(self, home: Path) -> object:
        from securemsg.store.home import Home
        from securemsg.store.mailbox import Mailbox

        return Mailbox(Home(home, env=self.env))

    def send_request(self, attachment: Path, out_dir: Path) -> object:
        from securemsg.app.send import AttachmentFile, SendRequest
        from securemsg.core.domains import Domain, Purpose
        from securemsg.core.letter.source import parse_letter

        return SendRequest(
            source=parse_letter(LETTER, default_subject="letter"),
            to=["Bruno"],
            kind=Purpose.TELE_EXPERTISE,
            pseudonym="case-17",
            attachments=[AttachmentFile(attachment, Domain.MEDICAL)],
            out_dir=out_dir,
        )

    def clear_doubles(self) -> None:
        """Doubles pile up in the sender's mailbox; remove their files (not needed)."""
        for f in (self.alice / "mail" / "sent").glob("*.smsg"):
            f.unlink()

    def clear_inbox(self) -> None:
        for f in (self.bob / "mail" / "in").glob("*.smsg"):
            f.unlink()


def make_world(root: Path) -> World:
    env = child_env(root)
    w = World(root, env, root / "alice", root / "bob", root / "letter.md")
    w.letter.write_bytes(LETTER)
    w.cli("--home", str(w.alice), "init", "--name", "Dr Alice Martin", "--role", "gp")
    w.cli(
        "--home",
        str(w.bob),
        "init",
        "--name",
        "Dr Bruno Keller",
        "--role",
        "specialist",
        "--specialty",
        "cardiology",
    )
    for me, other in ((w.alice, w.bob), (w.bob, w.alice)):
        card = root / f"{other.name}.card"
        w.cli("--home", str(other), "card", "export", "-o", str(card))
        w.cli("--home", str(me), "contacts", "add", str(card))
    return w


def now() -> int:
    return int(time.time())


def in_process_env(w: World) -> None:
    """Make this process unlock the benchmark homes like the children do."""
    os.environ.update(SECUREMSG_PASSPHRASE=w.env["SECUREMSG_PASSPHRASE"], SECUREMSG_KEYSTORE="file")
