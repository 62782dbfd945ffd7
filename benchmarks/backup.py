"""Target 8: `securemsg backup` of a home with 10,000 letters and 1 GiB of
letter files: peak RSS (goal under 100 MiB) and throughput.

    python -m benchmarks.backup [--quick]

The home is built as fast as possible: one identity made with `init`, then
10,000 real rows inserted with the store API (`Mailbox.insert_letter`, sealed
summaries, 1,000 per transaction), each with an envelope file in mail/in/: 9,996
small files of 4 KiB and 4 large ones (the attachments) that bring the total to
1 GiB. The files are random bytes, not real envelopes: backup copies files
without opening them, so only their number and size matter. Two runs are
measured, each as a whole process under GNU time (peak RSS):

- the command itself with a passphrase of the user's, `securemsg backup -o FILE`
  (scrypt 2^18: 256 MiB by itself, a deliberate MISS of the memory goal);
- the command with a recovery code, `securemsg backup -o FILE --recovery-code`
  (scrypt 2^15: 32 MiB), run on a pseudo-terminal since the code is shown
  only on the controlling terminal;
- the same writer (`store.backup.write_backup`) at scrypt 2^10, which shows
  what the streaming needs apart from the key derivation.

Everything lives in a private folder under /dev/shm, removed at the end.
"""

from __future__ import annotations

import os
import pty
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import (
    SECUREMSG,
    TIME,
    GiB,
    MiB,
    Report,
    bench_root,
    child_env,
    rss_of,
    workdir,
)

KiB = 1 << 10

N_LETTERS = 10_000
SMALL = 4 * KiB
BIG_FILES = 4
PASS = "benchmark backup passphrase"  # noqa: S105 (a throw-away test home)


def build_home(home: Path, env: dict[str, str], total: int, letters: int) -> int:
    """The home with ``letters`` rows and files summing to ``total`` bytes; returns
    the bytes of the mail folder."""
    from benchmarks.common import run

    run([*SECUREMSG, "--home", str(home), "init", "--name", "Dr Alice Martin", "--role", "gp"],
        env=env)  # fmt: skip
    os.environ.update(SECUREMSG_PASSPHRASE=env["SECUREMSG_PASSPHRASE"], SECUREMSG_KEYSTORE="file")
    from securemsg.store.home import Home
    from securemsg.store.mailbox import LetterRow, Mailbox

    box = Mailbox(Home(home))
    small_block = os.urandom(SMALL)
    big_size = (total - (letters - BIG_FILES) * SMALL) // BIG_FILES
    big_block = os.urandom(16 * MiB)
    written = 0
    for start in range(0, letters, 1000):
        with box.transaction():
            for i in range(start, min(letters, start + 1000)):
                mid = os.urandom(16).hex()
                rel = f"mail/in/{mid}.smsg"
                with open(home / rel, "wb") as fh:
                    if i < BIG_FILES:
                        left = big_size
                        while left:
                            n = min(left, len(big_block))
                            fh.write(big_block[:n])
                            left -= n
                        written += big_size
                    else:
                        fh.write(small_block)
                        written += SMALL
                box.insert_letter(
                    LetterRow(mid, "in", i, i, os.urandom(20).hex(), "referral", None,
                              os.urandom(32), rel, {"subject": f"Letter {i}"}, None),
                    None,
                )  # fmt: skip
    box.home.close()
    return written


def rss_on_terminal(cmd: Sequence[str], env: dict[str, str]) -> tuple[int, float, str]:
    """Like ``rss_of`` (peak RSS in KiB from GNU time, wall seconds), with the
    child on a new pseudo-terminal; also what it wrote there."""
    if TIME is None:
        raise RuntimeError("GNU time is needed for this measure (apt-get install time)")
    with tempfile.NamedTemporaryFile(dir=bench_root(), prefix="rss-", mode="r") as out:
        t0 = time.perf_counter()
        pid, master = pty.fork()
        if pid == 0:
            try:
                os.execvpe(TIME, [TIME, "-o", out.name, "-f", "%M", *cmd], env)  # noqa: S606
            finally:
                os._exit(127)
        seen = b""
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            seen += data
        _, status = os.waitpid(pid, 0)
        seconds = time.perf_counter() - t0
        os.close(master)
        text = seen.decode(errors="replace")
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{' '.join(cmd[:6])}... failed: {text[-2000:]}")
        return int(out.read().strip().splitlines()[-1]), seconds, text


def main() -> int:
    quick = "--quick" in sys.argv
    total = 64 * MiB if quick else GiB
    report = Report()
    with workdir() as work:
        env = child_env(work)
        env["SECUREMSG_BACKUP_PASSPHRASE"] = PASS
        home = work / "home"
        mail = build_home(home, env, total, N_LETTERS)
        report.say(f"home: {N_LETTERS} letters, {mail / MiB:.0f} MiB of letter files")
        out = work / "backup.age"
        rss, seconds = rss_of([*SECUREMSG, "--home", str(home), "backup", "-o", str(out)], env)
        size = out.stat().st_size
        out.unlink()
        rate = mail / seconds / 1e6
        report.say(f"backup: {seconds:.2f} s, {rate:.0f} MB/s, peak RSS {rss / 1024:.1f} MiB, "
                   f"file {size / MiB:.0f} MiB")  # fmt: skip
        report.check(8, "backup peak RSS, own passphrase, scrypt 2^18 (< 100 MiB)",
                     f"{rss / 1024:.1f} MiB", rss / 1024 / 100, "<= 1.0")  # fmt: skip
        code_env = {k: v for k, v in env.items() if k != "SECUREMSG_BACKUP_PASSPHRASE"}
        cmd = [*SECUREMSG, "--home", str(home), "backup", "-o", str(out), "--recovery-code"]
        rss3, seconds3, tty = rss_on_terminal(cmd, code_env)
        if not re.search(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){7}", tty):
            raise RuntimeError("backup --recovery-code showed no code")
        out.unlink()
        report.say(f"backup --recovery-code: {seconds3:.2f} s, {mail / seconds3 / 1e6:.0f} MB/s, "
                   f"peak RSS {rss3 / 1024:.1f} MiB")  # fmt: skip
        report.check(8, "backup peak RSS, recovery code, scrypt 2^15 (< 100 MiB)",
                     f"{rss3 / 1024:.1f} MiB", rss3 / 1024 / 100, "<= 1.0")  # fmt: skip
        script = (
            "import sys; from pathlib import Path; from securemsg.store.backup import *;"
            "h = Path(sys.argv[1]); f = home_files(h);"
            "m = Manifest(0, 'bench', len(f), 0, 'key file');"
            "write_backup(Path(sys.argv[2]), h, m, f, b'x' * 16, 0, work_factor=10)"
        )
        rss2, seconds2 = rss_of([sys.executable, "-c", script, str(home), str(out)], env)
        out.unlink()
        report.say(f"streaming alone (scrypt 2^10): {seconds2:.2f} s, "
                   f"{mail / seconds2 / 1e6:.0f} MB/s, peak RSS {rss2 / 1024:.1f} MiB")  # fmt: skip
        report.check(8, "backup streaming peak RSS without the 256 MiB of scrypt (< 100 MiB)",
                     f"{rss2 / 1024:.1f} MiB", rss2 / 1024 / 100, "<= 1.0")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
