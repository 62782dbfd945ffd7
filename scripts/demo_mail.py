"""`make demo-mail`: the referral story by mail, through a real local mail server.

Starts Postfix and Dovecot on 127.0.0.1 in a temp dir (tests/mail/mailserver.py;
needs root and `apt-get install postfix dovecot-imapd dovecot-lmtpd openssl`),
makes the homes of a GP, a cardiologist, a second specialist and a patient with
their mail accounts (tests/mail/mailworld.py, PUBLIC TEST KEYS), then runs the
real `securemsg` executable: the GP sends by mail, the cardiologist receives by
IMAP, his receipt comes back by mail, `sent` shows it delivered; the patient
revokes her consent and mails the revocation; a second letter is refused for it
and the refusal notice comes back by mail. Everything is removed at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests"), str(ROOT / "tests" / "mail")]

import mailserver  # noqa: E402
from mailworld import PASSPHRASE, build  # noqa: E402

EXE = shutil.which("securemsg", path=str(Path(sys.executable).parent)) or "securemsg"


def step(w: object, label: str, *args: str | Path, ok: tuple[int, ...] = (0,)) -> None:
    home = w.home(label)  # type: ignore[attr-defined]
    shown = " ".join(str(a).replace(str(w.root), "$DEMO") for a in args)  # type: ignore[attr-defined]
    print(f"\n[{label}] $ securemsg {shown}", flush=True)
    env = {**os.environ, "SECUREMSG_PASSPHRASE": PASSPHRASE, "SECUREMSG_KEYSTORE": "file"}
    env.pop("SECUREMSG_HOME", None)
    r = subprocess.run([EXE, "--home", str(home), *map(str, args)], env=env, check=False)
    if r.returncode not in ok:
        raise SystemExit(f"demo-mail: step failed with exit {r.returncode}")


def main() -> int:
    why = mailserver.unavailable()
    if why:
        print(f"demo-mail: no local mail server: {why}")
        return 1
    server = mailserver.started([])
    tmp = Path(tempfile.mkdtemp(prefix="securemsg-demo-mail-"))
    try:
        print("Postfix and Dovecot started on 127.0.0.1; making the homes...")
        w = build(tmp / "world", server)
        consent = w.root / "consent.cose"
        letter = w.root / "letter.md"
        step(w, "gp", "account", "list")
        step(w, "gp", "account", "test")
        step(w, "gp", "send", letter, "--to", "Bruno", "--kind", "referral", "--patient",
             "Paule", "--consent", consent)  # fmt: skip
        w.wait("card", 1)
        step(w, "card", "receive", "--mail")
        step(w, "pat", "receive", "--mail")
        w.wait("gp", 1)
        step(w, "gp", "receive", "--mail")
        step(w, "gp", "sent")
        step(w, "pat", "consent", "revoke", consent, "-o", w.root / "rev.cose")
        step(w, "pat", "consent", "send", w.root / "rev.cose", "--to", "Denis")
        step(w, "gp", "send", letter, "--to", "Denis", "--kind", "referral", "--patient",
             "Paule", "--consent", consent, "--no-patient-copy")  # fmt: skip
        w.wait("spec", 2)
        step(w, "spec", "receive", "--mail", ok=(3,))
        w.wait("gp", 2)
        step(w, "gp", "receive", "--mail")
        step(w, "gp", "sent")
        step(w, "gp", "log", "verify")
        print("\ndemo-mail: the referral story went both ways by mail; receipts and the")
        print("refusal notice came back with no manual step.")
        return 0
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
