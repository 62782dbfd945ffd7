"""``device sync``: the mailboxes of one identity's devices kept in step by a
file, where they do not share a mail account (a drop folder, no network):
docs/format-backup.md §8.

``device sync -o FILE`` writes, encrypted to the identity's own key, what this
device has stored since its last sync file (or everything with ``--all``): the
letters it received (the envelopes as received), its doubles each with a
freshly signed double record (docs/format.md §18.2), and the receipts and
notices it recorded. ``device sync FILE`` on the other device verifies each
exactly as it would have received it: a letter as ``receive FILE`` does (its
author a contact, the binding to me, the consent; its receipt is signed and
kept, not sent: the author has the first device's), a double by its record
signed by my own key, a receipt against the delivery it settles. What is there
already is reported as such: importing twice, or a file that comes back, adds
nothing.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from securemsg.app import doubles
from securemsg.app import receive as receiving
from securemsg.app.proofs import MAX_PROOF
from securemsg.app.receive import NoticeCap, Outcome, ProofReceived, Received
from securemsg.core.frozen import replace
from securemsg.errors import DeviceSyncInvalid, NotFoundError, SecureMsgError, UnreadableError
from securemsg.i18n import _
from securemsg.store.checked import Unsafe, open_path
from securemsg.store.devicesync import SyncManifest, extract_sync, write_sync
from securemsg.store.fs import check_new_file
from securemsg.store.home import Home
from securemsg.store.mailbox import Mailbox


@dataclass(frozen=True, slots=True)
class SyncWritten:
    path: str
    since: int  # 0: everything
    letters: int
    doubles: int
    proofs: int


def export_sync(home: Home, out: Path, now: int, everything: bool = False) -> SyncWritten:
    check_new_file(out)
    box = Mailbox(home)
    since = 0 if everything else box.synced_at()
    entries: list[tuple[str, Path | bytes]] = []
    letters = box.stored_since("in", since)
    entries += [(f"in/{mid}.smsg", box.letter_path("in", mid)) for mid in letters]
    sent = box.stored_since("sent", since)
    for mid in sent:
        rec = doubles.record(box, mid, now)
        entries.append((f"sent/{mid}.double", rec.encoded))
        entries.append((f"sent/{mid}.smsg", box.letter_path("sent", mid)))
    proofs = box.proofs_since(since)
    for mid, fp, status, proof in proofs:
        kind = "receipt" if status == "delivered" else "refusal"
        entries.append((f"proofs/{mid}.{fp}.{kind}", proof))
    manifest = SyncManifest(now, box.card.fingerprint, since, len(entries))
    write_sync(out, box.card.enc_public, manifest, entries, now)
    box.set_synced_at(now)
    return SyncWritten(str(out), since, len(letters), len(sent), len(proofs))


def import_sync(home: Home, src: Path, now: int) -> list[Received]:
    """Verify and import every entry of the sync file ``src`` (module docstring)."""
    box = Mailbox(home)
    box.cleanup_in_flight()  # mail/tmp only: never the whole mailbox
    try:
        fh = open(src, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        raise NotFoundError(_("no device sync file {src}").format(src=src)) from None
    except OSError as exc:
        raise UnreadableError(
            _("cannot read {src}: {value}").format(src=src, value=exc.strerror or exc)
        ) from None
    staging = Path(tempfile.mkdtemp(prefix=".sync-", dir=box.temp_dir("in")))
    try:
        with fh:
            manifest, names = extract_sync(fh, [box.secret.share_opener()], staging)
        if manifest.fingerprint not in {c.fingerprint for c in box.cards}:
            raise DeviceSyncInvalid(
                _("this device sync file was made for another identity ({fingerprint}...)").format(
                    fingerprint=manifest.fingerprint[:16]
                ),
                hint=_("nothing was imported"),
            )
        return _import(box, staging, set(names), now)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _import(box: Mailbox, staging: Path, names: set[str], now: int) -> list[Received]:
    rows: list[Received] = []
    cap = NoticeCap()
    for name in sorted(n for n in names if n.startswith("in/")):
        try:
            with open_path(staging / name, receiving.LETTER_CAP) as opened:
                row, _proof, _author = receiving._accept(box, opened, now, cap)
        except Unsafe as exc:
            rows.append(_bad(name, "letter", exc))
            continue
        rows.append(replace(row, file=Path(name)))  # its receipt is kept, not sent
    for name in sorted(n for n in names if n.startswith("sent/")):
        mid, _dot, suffix = name[len("sent/") :].partition(".")
        partner = f"sent/{mid}.{'smsg' if suffix == 'double' else 'double'}"
        if partner not in names:
            error = DeviceSyncInvalid(
                _("a double without its record, or a record without its double")
            )
            rows.append(ProofReceived(Path(name), Outcome.REFUSED, kind="double", error=error))
            continue
        if suffix == "double":
            continue  # taken with its double
        try:
            record = (staging / partner).read_bytes()
            got, outcome = doubles.file_double_at(box, record, staging / name, now)
        except SecureMsgError as exc:
            rows.append(ProofReceived(Path(name), Outcome.REFUSED, kind="double", error=exc))
            continue
        rows.append(ProofReceived(Path(name), outcome, "double", got, box.card.name))
    for name in sorted(n for n in names if n.startswith("proofs/")):
        try:
            with open_path(staging / name, MAX_PROOF + 1) as opened:
                got_proof = receiving.import_file(box, opened, now)
        except Unsafe as exc:
            rows.append(_bad(name, "receipt", exc))
            continue
        rows.append(doubles.elsewhere(box.home, box, replace(got_proof, file=Path(name))))
    return rows


def _bad(name: str, kind: str, exc: Unsafe) -> ProofReceived:
    error = DeviceSyncInvalid(
        _("the entry {name} could not be read ({problem})").format(
            name=name, problem=exc.problem.value
        )
    )
    return ProofReceived(Path(name), Outcome.REFUSED, kind=kind, error=error)
