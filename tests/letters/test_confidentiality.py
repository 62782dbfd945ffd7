"""What each mailbox holds: the nurse never gets medical sections, not even
encrypted; no plaintext secret anywhere at rest; refusal notices reach the sender."""

from __future__ import annotations

import stat
from pathlib import Path

from letterworld import (
    MEDICAL_TEXT,
    NURSING_TEXT,
    PATIENT_NAME,
    PEOPLE,
    PREAMBLE,
    SECRETS,
    World,
    age_decrypt,
)

from securemsg.core.domains import Domain
from securemsg.core.letter.container import BINDING, CONSENT, MANIFEST, PATIENT_CARD, EnvelopeReader
from securemsg.core.letter.manifest import Manifest


def test_nurse_mailbox_never_holds_medical_sections(world: World) -> None:
    pdf = world.path("scan.pdf").read_bytes()
    mid = world.send("--attach", f"{world.path('scan.pdf')}:medical")["message_id"]
    assert world.receive_drop("nurse")[0] == 0
    files = [p for p in (world.home("nurse") / "mail").rglob("*") if p.is_file()]
    assert [p.name for p in files] == [f"{mid}.smsg"]
    gp = world.card("gp")
    for f in files:
        plain = age_decrypt(world.secret("nurse"), f.read_bytes())
        assert NURSING_TEXT.encode() in plain
        assert MEDICAL_TEXT.encode() not in plain and PREAMBLE.encode() not in plain
        assert pdf[1000:1064] not in plain and len(plain) < len(pdf)
        reader = EnvelopeReader(iter([plain]))
        manifest = Manifest.verify(reader.small(MANIFEST, "manifest"), gp)  # signature holds
        reader.small(BINDING, "binding")
        reader.optional(CONSENT, "consent")
        reader.optional(PATIENT_CARD, "patient card")
        domains = []
        while (head := reader.next_item()) is not None:
            domains.append(manifest.items[head.n].domain)
            b"".join(reader.body(head.size))
        assert domains == [Domain.NURSING]
        # the manifest still signs the medical items' digests (selective disclosure)
        assert {i.domain for i in manifest.items} == {Domain.MEDICAL, Domain.NURSING}
        assert manifest.entry_for(world.fp("nurse")).domains == frozenset({Domain.NURSING})
    doc = world.ok("nurse", "read", mid)
    assert doc["author"]["fingerprint"] == gp.fingerprint
    assert [i["domain"] for i in doc["items"]] == ["nursing"]


def _scan(root: Path, skip: set[Path]) -> list[tuple[str, str]]:
    hits = []
    for path in root.rglob("*"):
        if not path.is_file() or path in skip:
            continue
        data = path.read_bytes()
        for s in SECRETS:
            for enc in (s.encode("utf-8"), s.encode("utf-16-le")):
                if enc in data:
                    hits.append((str(path.relative_to(root)), s))
    return hits


def test_no_plaintext_at_rest_after_full_scenario(world: World) -> None:
    world.send("--attach", f"{world.path('scan.pdf')}:medical")
    for label in ("card", "nurse", "pat"):
        assert world.receive_drop(label)[0] == 0
    assert world.receive_drop("gp")[0] == 0
    world.run(
        "pat",
        "consent",
        "grant",
        "--yes",
        "--from",
        "Bob",
        "--to",
        "Alice",
        "--purpose",
        "reply",
        "-o",
        world.path("rc.cose"),
    )
    world.ok(
        "card",
        "send",
        world.path("letter.md"),
        "--to",
        "Alice",
        "--kind",
        "reply",
        "--patient",
        "Jeanne",
        "--consent",
        world.path("rc.cose"),
        "--drop",
        world.drop,
    )
    for label in ("gp", "pat", "card"):
        assert world.receive_drop(label)[0] == 0
    for label in PEOPLE:  # every listing and reading path, to leave caches if any
        world.ok(label, "inbox")
        world.ok(label, "sent")
        world.ok(label, "log", "verify")
    skip = {world.home("pat") / "card.txt"}  # the patient's own public card names her
    hits: list[tuple[str, str]] = []
    for label in PEOPLE:
        home = world.home(label)
        assert any(p.name.startswith("securemsg.db") for p in home.iterdir())
        hits += [(f"{label}/{p}", s) for p, s in _scan(home, skip)]
    hits += [(f"drop/{p}", s) for p, s in _scan(world.drop, set())]
    assert hits == []
    # and the homes stay private
    for label in PEOPLE:
        for d in [world.home(label), *(p for p in world.home(label).rglob("*") if p.is_dir())]:
            assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
    assert PATIENT_NAME.encode() in (world.home("pat") / "card.txt").read_bytes()


def test_wal_holds_no_plaintext_before_checkpoint(world: World) -> None:
    """Receive in-process and scan while the connection (and its WAL) is still open."""
    import os

    from securemsg.app.receive import receive
    from securemsg.store.home import Home
    from securemsg.store.mailbox import Mailbox

    sent = world.send("-o", world.path("outbox"))
    f = next(o["file"] for o in sent["outputs"] if o["role"] == "patient")
    saved = dict(os.environ)
    os.environ.update(
        {"SECUREMSG_PASSPHRASE": "letters test passphrase", "SECUREMSG_KEYSTORE": "file"}
    )
    try:
        box = Mailbox(Home(world.home("pat")))
        with open(f, "rb") as fh:
            receive(box, fh, int(__import__("time").time()))
        wal = world.home("pat") / "securemsg.db-wal"
        assert wal.exists() and wal.stat().st_size > 0
        hits = _scan(world.home("pat"), {world.home("pat") / "card.txt"})
        box.home.close()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert hits == []


def test_refusal_notice_goes_back_to_sender(world: World) -> None:
    mid = world.send()["message_id"]
    world.ok("pat", "consent", "revoke", world.path("consent.cose"), "-o", world.path("rev.cose"))
    world.ok("card", "consent", "import", world.path("rev.cose"))
    before = world.snap("card")
    rc, doc = world.receive_drop("card")
    assert rc == 3
    (row,) = doc["results"]
    assert row["status"] == "refused" and row["rule"] == "revoked" and row["notice"] is True
    assert world.snap("card") == before
    notice = world.drop / world.fp("gp") / f"{mid}.{world.fp('card')}.refusal"
    assert notice.is_file()
    raw = notice.read_bytes()
    for s in SECRETS:
        assert s.encode() not in raw
    assert (world.drop / world.fp("card") / f"{mid}.smsg.refused").is_file()
    # a second pass does not process the refused letter again
    assert world.receive_drop("card") == (0, {"schema": "securemsg.receive/1", "results": []})
    # the nurse, not concerned by the revocation import, accepts
    assert world.receive_drop("nurse")[0] == 0
    rc, doc = world.receive_drop("gp")
    assert rc == 0, doc
    statuses = sorted(r["status"] for r in doc["results"])
    assert statuses == ["notice: refused by recipient", "receipt: delivered"]
    (letter,) = world.ok("gp", "sent")["letters"]
    st = {d["fingerprint"]: d["status"] for d in letter["deliveries"]}
    assert st[world.fp("card")] == "refused"
    assert st[world.fp("nurse")] == "delivered"
    assert st[world.fp("pat")] == "sent"
    assert world.ok("gp", "log", "verify")["ok"] is True
