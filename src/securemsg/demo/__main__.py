"""`make demo`: the whole referral story in throw-away homes, with the real CLI.

A GP, a cardiologist, a nurse and a patient (PUBLIC TEST KEYS from keys/ when
run from the repository). The patient consents; the GP sends a referral with a
nursing section and a PDF; the cardiologist and the nurse receive (the nurse
sees only the nursing part); the cardiologist replies in writing after a phone
call; the patient reads both letters; receipts come back to the doubles; a
letter forwarded by a third party and a tampered one are refused; every log
verifies. Run: python -m securemsg.demo [--keep]
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.rule import Rule
from rich.text import Text

from securemsg import i18n
from securemsg.i18n import _

console = Console(highlight=False, no_color=bool(os.environ.get("NO_COLOR")))
REPO_KEYS = Path(__file__).resolve().parents[3] / "keys"

PEOPLE: dict[str, list[str]] = {
    "gp": ["--name", "Dr Alice Martin", "--role", "gp", "--rpps", "10001234565"],
    "cardiologist": [
        "--name",
        "Dr Bruno Keller",
        "--role",
        "specialist",
        "--rpps",
        "10007654329",
        "--specialty",
        "cardiology",
    ],
    "nurse": ["--name", "Claire Petit", "--role", "nurse"],
    "patient": [
        "--name",
        "Jeanne Dupont",
        "--role",
        "patient",
        "--ins",
        "255037512345606",
        "--birth-date",
        "1955-03-02",
    ],
    "outsider": ["--name", "Dr Eve Morel", "--role", "gp"],
}


class Demo:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.drop = root / "drop"
        self.drop.mkdir()
        self.env = {
            **os.environ,
            "SECUREMSG_PASSPHRASE": "demo passphrase",
            "SECUREMSG_KEYSTORE": "file",
            "COLUMNS": str(max(100, shutil.get_terminal_size().columns)),
        }
        if sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
            self.env["FORCE_COLOR"] = "1"  # the commands' output goes to this terminal
        self.env.pop("SECUREMSG_HOME", None)

    def home(self, who: str) -> Path:
        return self.root / who

    def run(
        self, who: str, *args: str, expect: int = 0, show: bool = True, as_json: bool = False
    ) -> Any:
        argv = [sys.executable, "-m", "securemsg", "--home", str(self.home(who))]
        argv += ["--json"] if as_json else []
        argv += list(args)
        shown = " ".join(shlex.quote(a) for a in args).replace(str(self.root) + "/", "")
        if show:
            console.print(Text(f"[{who}] $ securemsg {shown}", style="bold cyan"))
        proc = subprocess.run(argv, env=self.env, capture_output=True, text=True, check=False)
        if show and not as_json:
            console.file.flush()
            for stream, text in ((sys.stdout, proc.stdout), (sys.stderr, proc.stderr)):
                if text.strip():
                    stream.write(text.replace(str(self.root) + "/", ""))
                    stream.flush()
        if proc.returncode != expect:
            console.print(Text(proc.stdout + proc.stderr, style="red"))
            raise SystemExit(f"demo step failed: exit {proc.returncode}, expected {expect}")
        if show and expect:
            console.print(
                Text(
                    "  -> " + _("exit {code}: refused, as it must be").format(code=proc.returncode),
                    style="bold green",
                )
            )
        return json.loads(proc.stdout) if as_json and proc.stdout.strip() else proc


def step(title: str) -> None:
    console.print()
    console.print(Rule(Text(title, style="bold")))


def tiny_pdf() -> bytes:
    body = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"  # noqa: E501
    return body + b"% ECG tracing (demo data) " + bytes(range(256)) * 400


def main() -> None:
    keep = "--keep" in sys.argv
    i18n.select(i18n.wanted(os.environ))  # the story's titles in the commands' language
    root = Path(tempfile.mkdtemp(prefix="securemsg-demo-"))
    try:
        story(Demo(root))
    finally:
        if keep:
            console.print(_("Homes kept in {root}").format(root=root))
        else:
            shutil.rmtree(root, ignore_errors=True)


def story(d: Demo) -> None:
    files = d.root / "files"
    files.mkdir()
    for name in ("referral.md", "reply.md"):
        (files / name).write_bytes(resources.files("securemsg.demo").joinpath(name).read_bytes())
    (files / "ecg.pdf").write_bytes(tiny_pdf())

    step(_("1. Everyone creates an identity (keys, profile, signed card)"))
    for who, args in PEOPLE.items():
        extra = ["--test-key", str(REPO_KEYS / f"{who}.testkey")] if REPO_KEYS.is_dir() else []
        revocation = ["--revocation-file", str(files / f"{who}.revocation.cose")]
        d.run(who, "init", *args, *extra, *revocation, show=who != "outsider")
        d.run(who, "card", "export", "-o", str(files / f"{who}.card"), show=False)

    step(_("2. They exchange cards and compare safety numbers by phone"))
    pairs = [
        ("gp", ["cardiologist", "nurse", "patient"]),
        ("cardiologist", ["gp", "nurse", "patient"]),
        ("nurse", ["gp", "cardiologist", "patient"]),
        ("patient", ["gp", "cardiologist", "nurse"]),
        ("outsider", ["gp", "cardiologist", "nurse", "patient"]),
    ]
    d.run("gp", "contacts", "add", str(files / "outsider.card"), show=False)
    for who, others in pairs:
        for other in others:
            d.run(
                who,
                "contacts",
                "add",
                str(files / f"{other}.card"),
                show=(who, other) == ("gp", "cardiologist"),
            )
    shown = d.run("gp", "contacts", "show", "Bruno Keller", as_json=True, show=False)
    d.run("gp", "contacts", "verify", "Bruno Keller", shown["safety_number"])
    shown = d.run("cardiologist", "contacts", "show", "Alice Martin", as_json=True, show=False)
    d.run("cardiologist", "contacts", "verify", "Alice Martin", shown["fingerprint"], show=False)
    d.run("gp", "contacts", "list")

    step(_("3. The patient consents: referral to the cardiologist and any nurse, reply to her GP"))
    d.run(
        "patient",
        "consent",
        "grant",
        "--yes",
        "--from",
        "Alice Martin",
        "--to",
        "Bruno Keller",
        "--to",
        "nurse",
        "--purpose",
        "referral",
        "--exclude",
        "insurance",
        "--valid-for",
        "90d",
        "-o",
        str(files / "consent-referral.cose"),
    )
    d.run(
        "patient",
        "consent",
        "grant",
        "--yes",
        "--from",
        "Bruno Keller",
        "--to",
        "Alice Martin",
        "--to",
        "nurse",
        "--purpose",
        "reply",
        "-o",
        str(files / "consent-reply.cose"),
        show=False,
    )
    d.run("gp", "consent", "show", str(files / "consent-referral.cose"))

    step(_("4. The GP sends the referral (a nursing section, a PDF) through the drop folder"))
    # the referral to Jeanne Dupont under her consent, into the drop folder
    referral_to = [
        *("send", str(files / "referral.md"), "--kind", "referral"),
        *("--consent", str(files / "consent-referral.cose"), "--drop", str(d.drop), "--yes"),
    ]
    d.run(
        "gp",
        *referral_to,
        *("--to", "Bruno Keller", "--to", "Claire Petit"),
        *("--attach", f"{files / 'ecg.pdf'}:medical", "--dry-run"),
    )
    sent = d.run(
        "gp",
        *referral_to,
        *("--to", "Bruno Keller", "--to", "Claire Petit"),
        *("--attach", f"{files / 'ecg.pdf'}:medical"),
        as_json=True,
    )
    referral = sent["message_id"]
    for out in sent["outputs"]:
        said = _("{recipient} receives {domains}").format(
            recipient=f"{out['recipient']:<18}", domains=", ".join(out["domains"])
        )
        console.print("  " + said)
    for w in sent["withheld"]:
        said = _("withheld from {recipient}: {domains}").format(
            recipient=w["recipient"], domains=", ".join(w["domains"])
        )
        console.print("  " + said)

    step(_("5. The cardiologist and the nurse receive: verified before anything is accepted"))
    d.run("cardiologist", "receive", "--drop", str(d.drop))
    d.run("nurse", "receive", "--drop", str(d.drop))
    d.run("nurse", "read", referral[:12])

    step(_("6. After a phone call, the cardiologist replies in writing (R5, R6)"))
    call = (dt.datetime.now().astimezone() - dt.timedelta(hours=1)).replace(microsecond=0)
    answer = [
        *("reply", referral[:12], str(files / "reply.md"), "--all"),
        *("--phone-call", call.isoformat(), "--drop", str(d.drop)),
    ]
    for line in _(
        "Without the patient's consent to the reply, nothing is sent, and he is told\n"
        "what she signs:"
    ).split("\n"):
        console.print("  " + line)
    d.run("cardiologist", *answer, expect=3)
    reply = d.run(
        "cardiologist",
        *answer,
        *("--consent", str(files / "consent-reply.cose"), "--yes"),
        as_json=True,
    )
    d.run("gp", "receive", "--drop", str(d.drop))
    d.run("gp", "thread", referral[:12])

    step(_("7. The patient reads every letter about her, and sees who received what (R4)"))
    d.run("patient", "receive", "--drop", str(d.drop), show=False)
    d.run("patient", "inbox")
    d.run("patient", "read", reply["message_id"][:12])

    step(_("8. Receipts come back to the doubles (R7)"))
    d.run("cardiologist", "receive", "--drop", str(d.drop), show=False)
    d.run("nurse", "receive", "--drop", str(d.drop), show=False)
    d.run("gp", "receive", "--drop", str(d.drop), show=False)
    d.run("gp", "sent")

    step(_("9. A curious recipient forwards her copy to a third party: refused"))
    forward_copy(d, referral)
    d.run("outsider", "receive", "--drop", str(d.drop), expect=3)
    for line in _(
        "Dr Morel's mailbox sends the author a signed refusal notice; the GP learns\n"
        "that a copy of her letter reached someone she never sent it to. Dr Morel\n"
        "was not a recipient, so it is shown as his unverified report (exit 1):"
    ).split("\n"):
        console.print("  " + line)
    d.run("gp", "receive", "--drop", str(d.drop), expect=1)

    step(_("10. A letter altered in the drop folder: refused, mailbox unchanged"))
    again = d.run("gp", *referral_to, "--to", "Bruno Keller", "--no-patient-copy", as_json=True)
    target = Path(again["outputs"][0]["file"])
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    console.print("  " + _("(one bit flipped in {name})").format(name=target.name))
    d.run("cardiologist", "receive", "--drop", str(d.drop), expect=3)
    d.run("cardiologist", "inbox")

    step(_("11. Every mailbox's log verifies"))
    for who in ("gp", "cardiologist", "nurse", "patient"):
        d.run(who, "log", "verify", show=who == "gp")
    console.print(Text(_("All steps passed."), style="bold green"))


def forward_copy(d: Demo, message_id: str) -> None:
    """What a malicious recipient could do with her own copy: decrypt it and
    re-encrypt the very same bytes to someone else."""
    import io

    from securemsg.core import age
    from securemsg.core.card import Card
    from securemsg.store.home import Home

    nurse = Home(d.home("nurse"), env=d.env)
    secret = nurse.unlock_local()
    stored = d.home("nurse") / "mail" / "in" / f"{message_id}.smsg"
    plain = io.BytesIO()
    with stored.open("rb") as fh:
        age.decrypt([age.X25519Identity.from_bytes(secret.enc_secret)], fh, plain)
    eve = Card.parse((d.root / "files" / "outsider.card").read_bytes())
    out = d.drop / eve.fingerprint
    out.mkdir(exist_ok=True)
    with (out / f"{message_id}.smsg").open("wb") as fh:
        age.encrypt([age.X25519Recipient.from_bytes(eve.enc_public)], plain.getvalue(), fh)
    console.print("  " + _("the nurse re-encrypts her copy of the referral to Dr Eve Morel"))


if __name__ == "__main__":
    main()
