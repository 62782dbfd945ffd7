"""Target 7: what unlocking the passphrase key file costs (Argon2id), and that it
stays the only slow step of a single small send."""

from __future__ import annotations

from benchmarks.common import Report, Stats, run, timed
from benchmarks.world import World, in_process_env, now


def measure(report: Report, w: World, runs: int) -> None:
    from securemsg.app.send import send_letter as send
    from securemsg.core import keyfile
    from securemsg.store.home import Home

    in_process_env(w)
    p = keyfile.DEFAULT_PARAMS
    unlock: Stats = timed(lambda: Home(w.alice, env=w.env).unlock(), runs)
    box = w.mailbox(w.alice)
    out = w.root / "small-out"
    out.mkdir()
    small = w.root / "small.txt"
    small.write_bytes(b"a short note\n")

    def one_send() -> None:
        send(box, w.send_request(small, out), now())  # type: ignore[arg-type]

    rest: Stats = timed(one_send, runs)
    whole = Stats([run(w.send_cmd(small, out), env=w.env).seconds for _ in range(runs)])
    for f in out.iterdir():
        f.unlink()
    w.clear_doubles()
    report.say(f"## Key unlock and a small send ({runs} runs)")
    report.say(
        f"  passphrase file: Argon2id v1.3, {p.memlimit // (1024 * 1024)} MiB, {p.opslimit} passes,"
        " 1 lane (libsodium crypto_pwhash), then XChaCha20-Poly1305"
    )
    ms = Stats([v * 1000 for v in unlock.values])
    report.say(f"  unlock (read the key file, Argon2id, open):   {ms.fmt(' ms', 1)}")
    ms_rest = Stats([v * 1000 for v in rest.values])
    report.say(f"  the rest of a small send, in-process:         {ms_rest.fmt(' ms', 1)}")
    ms_whole = Stats([v * 1000 for v in whole.values])
    report.say(f"  a small send, whole process (incl. unlock):   {ms_whole.fmt(' ms', 1)}")
    report.check(
        7,
        "unlock is the only slow step of a small send",
        f"rest of the send {ms_rest.median:.1f} ms vs unlock {ms.median:.1f} ms",
        ms_rest.median / ms.median,
        "<= 1.0",
    )
