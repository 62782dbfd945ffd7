"""Letters by mail (issue 15), against a real local Postfix and Dovecot
(tests/mail/mailserver.py; needs root and the Debian packages):

- ``receive --mail`` of 1,000 small letters waiting in the IMAP inbox, in one
  process, receipts mailed back included: letters per second (target >= 100),
  and the ratio to ``receive FILE...`` of the same 1,000 envelopes on a copy
  of the same home (target <= 2);
- ``send --mail`` of a letter with a 20 MB attachment to 3 recipients (two
  specialists and the patient's copy): the peak RSS of the process (target
  < 128 MiB).

``python -m benchmarks.mail`` (run once; prints the figures and PASS/MISS).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests"), str(ROOT / "tests" / "mail")]

import mailserver  # noqa: E402
from mailworld import PASSPHRASE, MailWorld, build  # noqa: E402

from benchmarks.common import SECUREMSG, rss_of, run  # noqa: E402

N = 1000
BIG = 20 * 1000 * 1000
MiB = 1 << 20


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(SECUREMSG_PASSPHRASE=PASSPHRASE, SECUREMSG_KEYSTORE="file", NO_COLOR="1")
    env.pop("SECUREMSG_HOME", None)
    env["PYTHONPATH"] = str(ROOT / "src")
    return env


def _letters(w: MailWorld, out: Path) -> list[Path]:
    """N small letters from the GP to Bruno (pseudonymous tele-expertise, as in
    the drop-folder batch benchmark), written with -o, in one process."""
    from securemsg.app.send import SendRequest, send_letter
    from securemsg.core.domains import Purpose
    from securemsg.core.letter.source import parse_letter
    from securemsg.store.home import Home
    from securemsg.store.mailbox import Mailbox

    box = Mailbox(Home(w.home("gp"), env=_env()))
    for i in range(N):
        req = SendRequest(
            source=parse_letter(f"---\nsubject: Result {i}\n---\nNormal.\n".encode(), "r"),
            to=["Bruno"],
            kind=Purpose.parse("tele-expertise"),
            pseudonym=f"case-{i}",
            out_dir=out,
        )
        send_letter(box, req, int(time.time()))
    return sorted(out.glob("*.smsg"))


def _fingerprint(home: Path) -> str:
    import json

    return str(json.loads((home / "config.json").read_text())["fingerprint"])


def _mail_them(w: MailWorld, files: list[Path]) -> None:
    from securemsg.store import maillayout

    mails = []
    for f in files:
        data = f.read_bytes()
        m = maillayout.outgoing(
            "letter", w.address("gp"), w.address("card"), f.name, len(data), time.time()
        )
        mails.append(m.head + b"".join(maillayout.base64_lines(f.open("rb"))) + m.tail)
    w.inject_many("card", mails, sender="anne")


def main() -> int:
    why = mailserver.unavailable()
    if why:
        print(f"SKIPPED mail benchmarks: {why}")
        return 1
    server = mailserver.started([], size_limit=64 * MiB)
    tmp = Path(tempfile.mkdtemp(prefix="securemsg-bench-mail-"))
    try:
        w = build(tmp / "world", server)
        env = _env()
        # -- receive --mail of N small letters ------------------------------------
        out = tmp / "out"
        out.mkdir()
        files = _letters(w, out)
        _mail_them(w, files)
        w.wait("card", N)
        shutil.copytree(w.home("card"), tmp / "card-files")
        shutil.copytree(w.home("card"), tmp / "card-drop")
        fp = _fingerprint(w.home("card"))
        (tmp / "drop" / fp).mkdir(parents=True, mode=0o700)
        for f in files:
            shutil.copy(f, tmp / "drop" / fp / (f.name.split("-")[0] + ".smsg"))
        r = run([*SECUREMSG, "--home", str(w.home("card")), "--json", "receive", "--mail"],
                env=env)  # fmt: skip
        ok = r.stdout.count(b'"accepted"')
        assert ok == N, (ok, r.stderr[-2000:])
        f = run([*SECUREMSG, "--home", str(tmp / "card-files"), "--json", "receive",
                 *map(str, files)], env=env)  # fmt: skip
        assert f.stdout.count(b'"accepted"') == N
        d = run([*SECUREMSG, "--home", str(tmp / "card-drop"), "--json", "receive", "--drop",
                 str(tmp / "drop")], env=env)  # fmt: skip
        assert d.stdout.count(b'"accepted"') == N, d.stderr[-2000:]
        print(f"reference, same load: receive --drop of the same {N} letters: {d.seconds:.2f} s"
              f" = {N / d.seconds:.0f} letters/s (target 5 of docs/performance.md)")  # fmt: skip
        rate = N / r.seconds
        ratio = r.seconds / f.seconds
        verdict = "PASS" if rate >= 100 else "MISS"
        print(f"receive --mail of {N} letters (receipts mailed back): {r.seconds:.2f} s")
        print(f"  = {rate:.0f} letters/s: {verdict} (target >= 100)")
        verdict = "PASS" if ratio <= 2 else "MISS"
        print(f"receive of the same {N} files: {f.seconds:.2f} s = {N / f.seconds:.0f} letters/s")
        print(f"  mail/files = {ratio:.2f}: {verdict} (target <= 2)")
        # -- send --mail of a 20 MB letter to 3 recipients -------------------------
        big = tmp / "scan.bin"
        with big.open("wb") as fh:
            for _ in range(BIG // MiB + 1):
                fh.write(os.urandom(min(MiB, BIG - fh.tell())))
        cmd = [*SECUREMSG, "--home", str(w.home("gp")), "--json", "send",
               str(w.root / "letter.md"), "--to", "Bruno", "--to", "Denis", "--kind",
               "referral", "--patient", "Paule", "--consent", str(w.root / "consent.cose"),
               "--attach", str(big), "--mail"]  # fmt: skip
        rss_kib, seconds = rss_of(cmd, env)
        for label in ("card", "spec", "pat"):
            w.wait(label, {"card": N + 1}.get(label, 1))
        verdict = "PASS" if rss_kib < 128 * 1024 else "MISS"
        print(f"send --mail of a 20 MB letter to 3 recipients: {seconds:.2f} s")
        print(f"  peak RSS {rss_kib / 1024:.1f} MiB: {verdict} (target < 128 MiB)")
        return 0
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
