"""Seeded random fuzzing of the real ``securemsg`` executable (issue 12, item 1).

    .venv/bin/python fuzz/subprocess_fuzz.py --seconds 600 [--seed 1] [--out DIR] [--json FILE]

The atheris targets (``fuzz/fuzz_*.py``) run each parser in-process, where a
crash of the process itself (a SIGSEGV in C code: libsodium through cffi, cbor2's
C decoder) cannot be told from the fuzzer's own death, and the rest of the command
is not reached. This runner needs no atheris: it mutates real artefacts
(``fuzz/mutators.py``: bytes as a drop-folder writer can, plaintext re-encrypted as
anyone with the recipient's card can, payloads signed again as a correspondent
can) and feeds them to the installed executable as a user would receive them
(``fuzz/process_kit.py``): letters and receipts a batch at a time in a drop folder,
one ``receive --drop`` per batch; consents and cards one ``consent import`` /
``contacts add`` each. Until ``--seconds`` are up it goes round the targets.

Alone, it first builds its own world through the executable: four homes with
PUBLIC TEST KEYS (derived from fixed labels), a consent, a referral with a 200 kB
attachment, its receipt. The hostile suite runs it for a few seconds on its own
world (``tests/hostile/test_subprocess_fuzz.py``).

It prints the counts per target and the total; exit status 1 if any input
crashed the executable (a signal, or "internal error"), was accepted where it
must be refused, went unreported, or changed a home it did not enter. Crashing
inputs are written to ``--out`` (a new temp folder if not given).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from mutators import LetterKit, mutate_bytes, resign
from process_kit import Counts, Victim, drop_batch, executable, one_file, warm_up

from securemsg.core.card import Card
from securemsg.core.fingerprint import fingerprint
from securemsg.core.identity import SecretIdentity
from securemsg.core.testkeys import derive_test_identity, format_test_key
from securemsg.errors import SecureMsgError

Make = Callable[[random.Random], bytes]


@dataclass(frozen=True)
class Target:
    """One stream of mutants: ``make`` draws one; ``name_pattern`` (drop-folder
    inputs) or ``args`` (a command taking one FILE) says how it is delivered."""

    name: str
    victim: Victim
    make: Make
    name_pattern: str | None = None
    args: tuple[str, ...] = ()
    may_accept: bool = False
    batch: int = 100
    same: Callable[[bytes], bool] | None = None  # a mutant that is still the original


def same_card(original: bytes) -> Callable[[bytes], bool]:
    """Text around a card's armour is ignored by design (a card pasted in a mail sits
    among other text): a mutant that still parses to the very same card is no forgery."""
    encoded = Card.parse(original).encoded

    def same(data: bytes) -> bool:
        try:
            return Card.parse(data).encoded == encoded
        except SecureMsgError:
            return False

    return same


@dataclass(frozen=True)
class Seeds:
    """What the targets mutate, and who is fed what."""

    letters: list[tuple[Victim, LetterKit]]  # the recipient's home and one of its letters
    receipt: tuple[Victim, bytes, str, SecretIdentity]  # sender's home, receipt, by whom
    consent: tuple[Victim, bytes, SecretIdentity]  # a practitioner's home, grant, patient
    card: tuple[Victim, bytes, bytes, SecretIdentity]  # a stranger's home, text, binary


def targets(seeds: Seeds, batch: int = 100) -> list[Target]:
    out: list[Target] = []
    for victim, kit in seeds.letters:
        plain = kit.plaintext()
        size = f"{len(kit.envelope) // 1000} kB"
        small = max(10, batch // (1 + len(kit.envelope) // 50_000))  # about 5 MB a batch
        for family, make, ok in (
            ("bytes", lambda r, k=kit: mutate_bytes(r, k.envelope), False),
            ("sealed", lambda r, k=kit, p=plain: k.sealed(r, p), False),
            ("signed", lambda r, k=kit, p=plain: k.signed(r, p), True),
        ):
            name = f"letter {size}, {family}"
            out.append(Target(name, victim, make, "{i:032x}.smsg", (), ok, small))
    sender, receipt, by, signer = seeds.receipt
    pattern = f"{{i:032x}}.{by}.receipt"
    out.append(Target("receipt, bytes", sender, lambda r: mutate_bytes(r, receipt), pattern))
    out.append(
        Target("receipt, signed", sender, lambda r: resign(r, receipt, signer), pattern, (), True)
    )
    holder, grant, patient = seeds.consent
    cmd = ("consent", "import")
    out.append(Target("consent, bytes", holder, lambda r: mutate_bytes(r, grant), None, cmd))
    out.append(
        Target("consent, signed", holder, lambda r: resign(r, grant, patient), None, cmd, True)
    )
    stranger, text, binary, owner = seeds.card
    cmd = ("contacts", "add")
    out.append(
        Target(
            "card text, bytes",
            stranger,
            lambda r: mutate_bytes(r, text),
            None,
            cmd,
            same=same_card(text),
        )
    )
    out.append(
        Target(
            "card, bytes",
            stranger,
            lambda r: mutate_bytes(r, binary),
            None,
            cmd,
            same=same_card(binary),
        )
    )
    out.append(
        Target("card, signed", stranger, lambda r: resign(r, binary, owner), None, cmd, True)
    )
    return out


def fuzz(
    found: list[Target], seconds: float, seed: int, work: Path, out: Path | None = None
) -> dict[str, Counts]:
    """Round the targets until ``seconds`` are up; a drop target takes a batch a turn,
    a file target five inputs. Crashing inputs are written to ``out``."""
    rng = random.Random(seed)  # noqa: S311 (repeatable mutations, not secrets)
    counts = {t.name: Counts(t.name) for t in found}
    deadline = time.monotonic() + seconds
    work.mkdir(parents=True, exist_ok=True)
    for t in found:
        if t.name_pattern is not None:
            warm_up(t.victim)
    first_round = True  # every target has its turn once, however slow the machine
    while first_round or time.monotonic() < deadline:
        for t in found:
            if not first_round and time.monotonic() >= deadline:
                break
            c = counts[t.name]
            crashed = len(c.crashed)
            n = t.batch if t.name_pattern is not None else 5
            items = [(f"{t.name} #{c.tried + k} (seed {seed})", t.make(rng)) for k in range(n)]
            if t.name_pattern is not None:
                drop_batch(t.victim, c, items, t.name_pattern, t.may_accept)
            else:
                for desc, data in items:
                    valid = t.may_accept or (t.same is not None and t.same(data))
                    one_file(t.victim, c, t.args, desc, data, work / "input", valid)
            if len(c.crashed) > crashed:
                out = out or Path(tempfile.mkdtemp(prefix="securemsg-fuzz-crashes-"))
                save(out, dict(items), c.crashed[crashed:])
        first_round = False
    return counts


def save(out: Path, items: dict[str, bytes], crashes: list[str]) -> None:
    for line in crashes:
        desc = next((d for d in items if line.startswith(d + ":")), None)
        if desc is not None:
            name = desc.replace(" ", "_").replace(",", "").replace("#", "").replace("(", "")
            (out / f"crash-{name.replace(')', '')}.bin").write_bytes(items[desc])
        print(f"CRASH {line} (inputs in {out})", file=sys.stderr)


# -- a world of its own, built through the executable ---------------------------------
PEOPLE = {
    "gp": ("Dr Alice Martin", "gp", []),
    "card": ("Dr Bob Durand", "specialist", ["--specialty", "cardiology"]),
    "pat": ("Jeanne Dupont", "patient", ["--birth-date", "1950-03-02"]),
    "out": ("Dr Oscar Outsider", "specialist", ["--specialty", "dermatology"]),
}
KNOWS = {"gp": ["card", "pat"], "card": ["gp", "pat"], "pat": ["gp", "card"], "out": []}
LETTER = "---\nsubject: Referral\n---\nDear colleague,\n\n## History\nAngina.\n"


def build(root: Path) -> Seeds:
    """Four homes, a consent, a referral (gp to card and the patient's copy, 200 kB
    attached), card's receipt: everything through the executable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECUREMSG_")}
    env.update(SECUREMSG_KEYSTORE="file", NO_COLOR="1")
    env["SECUREMSG_PASSPHRASE"] = "subprocess fuzz"  # noqa: S105 (homes of PUBLIC TEST KEYS)
    secret = {label: derive_test_identity(f"subprocess-fuzz/{label}") for label in PEOPLE}
    fp = {label: fingerprint(s.sign_public).hex() for label, s in secret.items()}
    drop = root / "drop"
    drop.mkdir(parents=True)

    def run(label: str, *args: str | Path) -> None:
        cmd = [*executable(), "--home", str(root / label), *map(str, args)]
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise RuntimeError(f"{args[0]} failed for {label}: {res.stderr}")

    for label, (name, role, extra) in PEOPLE.items():
        (root / f"{label}.testkey").write_text(format_test_key(secret[label]))
        key = root / f"{label}.testkey"
        run(label, "init", "--name", name, "--role", role, *extra, "--test-key", key)
        run(label, "card", "export", "-o", root / f"{label}.card")
    for label, known in KNOWS.items():
        for other in known:
            run(label, "contacts", "add", root / f"{other}.card")
    grant = ["--from", "Alice", "--to", "Bob", "--purpose", "referral"]
    run("pat", "consent", "grant", *grant, "--yes", "-o", root / "consent.cose")
    (root / "letter.md").write_text(LETTER)
    (root / "scan.bin").write_bytes(random.Random(1).randbytes(200_000))  # noqa: S311
    letter_args = ["--to", "Bob", "--kind", "referral", "--patient", "Jeanne"]
    attach = f"{root / 'scan.bin'}:medical"
    run(
        "gp",
        "send",
        root / "letter.md",
        *letter_args,
        "--consent",
        root / "consent.cose",
        "--attach",
        attach,
        "--drop",
        drop,
    )
    (letter,) = (drop / fp["pat"]).glob("*.smsg")
    envelope = letter.read_bytes()
    run("card", "receive", "--drop", drop)
    (receipt,) = (drop / fp["gp"]).glob("*.receipt")
    card_text = (root / "card.card").read_bytes()
    seeds = Seeds(
        letters=[
            (
                Victim(root / "pat", env, drop, fp["pat"]),
                LetterKit(envelope, secret["pat"], fp["pat"], secret["gp"]),
            )
        ],
        receipt=(
            Victim(root / "gp", env, drop, fp["gp"]),
            receipt.read_bytes(),
            fp["card"],
            secret["card"],
        ),
        consent=(Victim(root / "card", env), (root / "consent.cose").read_bytes(), secret["pat"]),
        card=(Victim(root / "out", env), card_text, Card.parse(card_text).encoded, secret["card"]),
    )
    for p in [*drop.rglob("*.smsg"), *drop.rglob("*.receipt")]:
        p.unlink()
    return seeds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=100, help="letters per receive --drop")
    ap.add_argument("--out", type=Path, help="where crashing inputs go")
    ap.add_argument("--json", type=Path, help="write the counts there")
    ap.add_argument("--work", type=Path, help="build the world there and keep it")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="securemsg-subprocess-fuzz-") as tmp:
        work = args.work or Path(tmp)
        seeds = build(work / "world")
        found = targets(seeds, args.batch)
        counts = fuzz(found, args.seconds, args.seed, work / "inputs", args.out)
    return report(counts, args.json)


def report(counts: dict[str, Counts], json_out: Path | None = None) -> int:
    total = Counts("total")
    for c in counts.values():
        print(c.line())
        total.add(c)
    print(total.line())
    if json_out is not None:
        doc = {"targets": {k: c.as_json() for k, c in counts.items()}, "total": total.as_json()}
        json_out.write_text(json.dumps(doc, indent=2))
    return 0 if total.ok else 1


if __name__ == "__main__":
    sys.exit(main())
