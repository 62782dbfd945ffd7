"""Happy paths from the command line: send, receive, read, receipts, replies, threads."""

from __future__ import annotations

from pathlib import Path

from letterworld import (
    BIRTH_DATE,
    MEDICAL_TEXT,
    NURSING_TEXT,
    PATIENT_NAME,
    PREAMBLE,
    SUBJECT,
    World,
)


def _texts(doc: dict) -> str:
    return "\n".join(i.get("text", "") for i in doc["items"])


def test_referral_via_drop_everyone_receives_own_part(world: World) -> None:
    sent = world.send("--attach", f"{world.path('scan.pdf')}:medical")
    mid = sent["message_id"]
    assert sent["schema"] == "securemsg.send/1"
    by_role = {o["role"]: o for o in sent["outputs"]}
    assert by_role["nurse"]["domains"] == ["nursing"]
    assert by_role["specialist"]["domains"] == ["medical", "nursing"]
    assert by_role["patient"]["patient_copy"] is True
    assert {"recipient": "Claire Petit", "domains": ["medical"]} in sent["withheld"]

    for label in ("card", "nurse", "pat"):
        rc, doc = world.receive_drop(label)
        assert rc == 0, doc
        (row,) = doc["results"]
        assert row["status"] == "accepted" and row["message_id"] == mid
    # the nurse: only the nursing section
    nurse = world.ok("nurse", "read", mid)
    assert nurse["my_domains"] == ["nursing"]
    assert [i["domain"] for i in nurse["items"]] == ["nursing"]
    assert NURSING_TEXT in _texts(nurse)
    assert MEDICAL_TEXT not in _texts(nurse) and PREAMBLE not in _texts(nurse)
    assert nurse["withheld_items"] == 3
    # the cardiologist: everything, attachment identical
    att = world.path("att")
    card = world.ok("card", "read", mid, "--save-attachments", att)
    assert {MEDICAL_TEXT, NURSING_TEXT, PREAMBLE} <= set(_texts(card).split("\n")) | {
        t for t in (MEDICAL_TEXT, NURSING_TEXT, PREAMBLE) if t in _texts(card)
    }
    for t in (MEDICAL_TEXT, NURSING_TEXT, PREAMBLE):
        assert t in _texts(card)
    assert card["subject"] == SUBJECT and card["withheld_items"] == 0
    saved = [i for i in card["items"] if i["kind"] == "attachment"]
    assert len(saved) == 1
    assert (att / "scan.pdf").read_bytes() == world.path("scan.pdf").read_bytes()
    # the patient's copy: everything, with who got what and under which consent (R4)
    pat = world.ok("pat", "read", mid)
    for t in (MEDICAL_TEXT, NURSING_TEXT, PREAMBLE):
        assert t in _texts(pat)
    assert pat["patient"]["name"] == PATIENT_NAME and pat["patient"]["birth_date"] == BIRTH_DATE
    assert pat["basis"] == "consent" and pat["consent"]["purpose"] == "referral"
    recips = {r["role"]: r for r in pat["recipients"]}
    assert recips["nurse"]["domains"] == ["nursing"] and recips["nurse"]["name"] == "Claire Petit"
    assert recips["specialist"]["domains"] == ["medical", "nursing"]
    assert recips["patient"]["fingerprint"] == world.fp("pat")
    assert pat["author"]["fingerprint"] == world.fp("gp")
    # ... and in plain words, for the patient only
    about = pat["about_you"]
    assert about[0].startswith("Dr Alice Martin (gp) wrote this referral about you on")
    assert "Claire Petit (nurse) received only the nursing part(s)." in about
    assert "You received the whole letter." in about
    assert any(s.startswith("It was sent under the consent you signed") for s in about)
    assert card["about_you"] is None and nurse["about_you"] is None
    # inbox: the patient sees who else received each letter
    (row,) = world.ok("pat", "inbox")["letters"]
    assert row["message_id"] == mid
    assert {r["fingerprint"] for r in row["recipients"]} == {
        world.fp("card"),
        world.fp("nurse"),
        world.fp("pat"),
    }

    # receipts come back through the drop folder
    sent_before = world.ok("gp", "sent")
    rc, doc = world.receive_drop("gp")
    assert rc == 0, doc
    assert sorted(r["status"] for r in doc["results"]) == ["receipt: delivered"] * 3
    sent_after = world.ok("gp", "sent")
    assert sent_before != sent_after
    (letter,) = sent_after["letters"]
    statuses = {d["fingerprint"]: d["status"] for d in letter["deliveries"]}
    assert statuses == {world.fp(x): "delivered" for x in ("card", "nurse", "pat")}
    # the double is readable by its author
    double = world.ok("gp", "read", mid)
    for t in (MEDICAL_TEXT, NURSING_TEXT, PREAMBLE):
        assert t in _texts(double)
    for label in ("gp", "card", "nurse", "pat"):
        log = world.ok(label, "log", "verify")
        assert log["ok"] is True and log["entries"] > 0
    assert not any(p.is_file() for p in world.drop.rglob("*"))


def _statuses(world: World, mid: str) -> dict[str, str]:
    for letter in world.ok("gp", "sent")["letters"]:
        if letter["message_id"] == mid:
            return {d["fingerprint"]: d["status"] for d in letter["deliveries"]}
    raise AssertionError(f"no double {mid}")


def test_referral_via_files_and_receipts_import(world: World) -> None:
    out = world.path("outbox")
    sent = world.send("-o", out, "--attach", f"{world.path('scan.pdf')}:medical")
    mid = sent["message_id"]
    files = {o["role"]: o["file"] for o in sent["outputs"]}
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{mid}-{world.fp(x)[:12]}.smsg" for x in ("card", "nurse", "pat")
    )
    doc = world.ok("card", "receive", files["specialist"])
    (row,) = doc["results"]
    assert row["status"] == "accepted" and row["domains"] == ["medical", "nursing"]
    proof = row["proof_file"]
    assert proof.endswith(".receipt")
    # the receipt file goes back to the sender by hand
    imported = world.ok("gp", "receipts", "import", proof)
    assert imported["results"][0]["status"] == "receipt: delivered"
    st = _statuses(world, mid)
    assert st[world.fp("card")] == "delivered" and st[world.fp("nurse")] == "sent"
    # --receipt-out puts it where the user says
    target = world.path("nurse-receipt.bin")
    doc = world.ok("nurse", "receive", files["nurse"], "--receipt-out", target)
    assert doc["results"][0]["proof_file"] == str(target)
    world.ok("gp", "receipts", "import", target)
    assert _statuses(world, mid)[world.fp("nurse")] == "delivered"
    # importing the same receipt again changes nothing
    before = world.snap("gp")
    again = world.ok("gp", "receipts", "import", target)
    assert again["results"][0]["status"].endswith("already recorded")
    assert world.snap("gp") == before
    # the cardiologist's receipt is not the nurse's: refused
    before = world.snap("gp")
    good = world.path("nurse-receipt.bin").read_bytes()
    # flip a bit of the signature (setting the byte to 0 was a no-op 1 time in 256)
    bad = world.write("swapped.receipt", good[:-1] + bytes([good[-1] ^ 0x01]))
    res = world.run("gp", "--json", "receipts", "import", bad)
    assert res.exit_code == 3
    assert world.snap("gp") == before


def test_duplicate_receive_stores_once_same_receipt(world: World) -> None:
    out = world.path("outbox")
    sent = world.send("-o", out)
    f = next(o["file"] for o in sent["outputs"] if o["role"] == "specialist")
    copy = world.write("copy.smsg", Path(f).read_bytes())
    first = world.ok("card", "receive", f, "--receipt-out", world.path("r1"))
    snap = world.snap("card")
    second = world.ok("card", "receive", copy, "--receipt-out", world.path("r2"))
    assert first["results"][0]["status"] == "accepted"
    assert second["results"][0]["status"] == "duplicate"
    assert world.path("r1").read_bytes() == world.path("r2").read_bytes()
    assert world.snap("card") == snap
    assert world.inbox_ids("card") == [sent["message_id"]]


def test_reply_after_phone_call_threads_with_referral(world: World) -> None:
    sent = world.send()
    mid = sent["message_id"]
    assert world.receive_drop("card")[0] == 0
    # the cardiologist answers in writing after a phone call (R5, R6)
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
        world.path("reply-consent.cose"),
    )
    reply = world.path("reply.md")
    reply.write_text("---\nsubject: Re referral\n---\nAs said on the phone: stress test normal.\n")
    res = world.run(
        "card",
        "--json",
        "send",
        reply,
        "--to",
        "Alice",
        "--kind",
        "reply",
        "--patient",
        "Jeanne",
        "--consent",
        world.path("reply-consent.cose"),
        "--reply-to",
        mid[:10],
        "--phone-call",
        "2026-01-15T10:30+01:00",
        "--drop",
        world.drop,
    )
    assert res.exit_code == 0, res.stderr
    rid = res.json()["message_id"]
    assert {o["role"] for o in res.json()["outputs"]} == {"gp", "patient"}
    assert world.receive_drop("gp")[0] == 0
    got = world.ok("gp", "read", rid)
    assert got["in_reply_to"] == mid
    assert got["phone_call"]["time"] == "2026-01-15T09:30:00Z"
    assert got["phone_call"]["caller"] == world.fp("gp")
    thread = world.ok("gp", "thread", mid)
    assert {(t["message_id"], t["folder"]) for t in thread["letters"]} == {
        (mid, "sent"),
        (rid, "in"),
    }
    thread = world.ok("card", "thread", rid)
    assert {t["message_id"] for t in thread["letters"]} == {mid, rid}
    # the patient gets the phone follow-up too (R6)
    assert world.receive_drop("pat")[0] == 0
    assert set(world.inbox_ids("pat")) == {mid, rid}


def test_phone_followup_without_patient_copy_is_refused(world: World) -> None:
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
    before = world.snap()
    res = world.run(
        "card",
        "--json",
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
        "--phone-call",
        "2026-01-15T10:30",
        "--no-patient-copy",
        "--drop",
        world.drop,
    )
    assert res.exit_code == 2 and res.error_json()["error"] == "usage"
    assert "mandatory" in res.error_json()["message"]
    assert world.snap() == before and not any(world.drop.rglob("*.smsg"))


def test_emergency_report_patient_copy_mandatory(world: World) -> None:
    args = [
        "send",
        world.path("letter.md"),
        "--to",
        "Bob",
        "--kind",
        "emergency-report",
        "--patient",
        "Jeanne",
        "--emergency",
        "--drop",
        world.drop,
    ]
    before = world.snap()
    res = world.run("gp", "--json", *args, "--no-patient-copy")
    assert res.exit_code == 2, res.stderr
    assert "mandatory" in res.error_json()["message"]
    assert world.snap() == before and not any(world.drop.rglob("*.smsg"))
    sent = world.ok("gp", *args)
    assert sent["basis"] == "emergency"
    assert any(o["patient_copy"] for o in sent["outputs"])
    for label in ("card", "pat"):
        assert world.receive_drop(label)[0] == 0
    doc = world.ok("card", "read", sent["message_id"])
    assert doc["basis"] == "emergency" and doc["consent"] is None
    assert doc["kind"] == "emergency-report"


def test_emergency_refused_to_objected_recipient(world: World) -> None:
    world.ok("pat", "consent", "object", "--to", "Bob", "-o", world.path("obj.cose"))
    world.ok("gp", "consent", "import", world.path("obj.cose"))
    before = world.snap()
    res = world.run(
        "gp",
        "--json",
        "send",
        world.path("letter.md"),
        "--to",
        "Bob",
        "--kind",
        "emergency-report",
        "--patient",
        "Jeanne",
        "--emergency",
        "--drop",
        world.drop,
    )
    assert res.exit_code == 3 and res.error_json()["rule"] == "recipient_objected"
    assert world.snap() == before


def test_pseudonymous_tele_expertise_carries_no_identity(world: World) -> None:
    sent = world.ok(
        "gp",
        "send",
        world.path("letter.md"),
        "--to",
        "Bob",
        "--kind",
        "tele-expertise",
        "--pseudonym",
        "case-17",
        "-o",
        world.path("outbox"),
    )
    assert sent["basis"] == "pseudonymous"
    (out,) = sent["outputs"]
    data = Path(out["file"]).read_bytes()
    from letterworld import age_decrypt

    plain = age_decrypt(world.secret("card"), data)
    for secret in (PATIENT_NAME, BIRTH_DATE, "285027512312317"):
        assert secret.encode() not in plain
    assert bytes.fromhex(world.fp("pat")) not in plain
    assert world.card("pat").encoded not in plain
    assert world.ok("card", "receive", out["file"])["results"][0]["status"] == "accepted"
    doc = world.ok("card", "read", sent["message_id"])
    assert doc["patient"] is None and doc["pseudonym"] == "case-17"
    assert doc["basis"] == "pseudonymous"
    (row,) = world.ok("card", "inbox")["letters"]
    assert row["patient"] is None and row["pseudonym"] == "case-17"


def test_pseudonym_with_patient_refused(world: World) -> None:
    before = world.snap()
    res = world.run(
        "gp",
        "--json",
        "send",
        world.path("letter.md"),
        "--to",
        "Bob",
        "--kind",
        "tele-expertise",
        "--pseudonym",
        "x",
        "--patient",
        "Jeanne",
        "--drop",
        world.drop,
    )
    assert res.exit_code == 2
    assert world.snap() == before


def _log_rows(home) -> list[tuple[int, bytes, bytes]]:
    import sqlite3

    conn = sqlite3.connect(home / "securemsg.db")
    try:
        return conn.execute("SELECT seq, entry, hash FROM log ORDER BY seq").fetchall()
    finally:
        conn.close()


def _sql(home, *stmts: tuple) -> None:
    import sqlite3

    conn = sqlite3.connect(home / "securemsg.db", isolation_level=None)
    try:
        for stmt in stmts:
            conn.execute(*stmt)
    finally:
        conn.close()


def _full_scenario(world: World) -> None:
    world.send("--attach", f"{world.path('scan.pdf')}:medical")
    world.send()
    for label in ("card", "nurse", "pat"):
        assert world.receive_drop(label)[0] == 0
    assert world.receive_drop("gp")[0] == 0


import pytest  # noqa: E402


@pytest.mark.parametrize("how", ["edit", "delete_middle", "swap", "delete_last"])
def test_log_verify_detects_edits(world: World, how: str) -> None:
    _full_scenario(world)
    home = world.home("gp")
    assert world.ok("gp", "log", "verify")["ok"] is True
    rows = _log_rows(home)
    assert len(rows) >= 6  # 2 letters x 3 sends + 6 receipts
    if how == "edit":
        seq, entry, _ = rows[2]
        _sql(
            home,
            ("UPDATE log SET entry = ? WHERE seq = ?", (entry[:-1] + bytes([entry[-1] ^ 1]), seq)),
        )
    elif how == "delete_middle":
        _sql(home, ("DELETE FROM log WHERE seq = ?", (rows[3][0],)))
    elif how == "swap":
        (a, ea, ha), (b, eb, hb) = rows[1], rows[2]
        _sql(
            home,
            ("UPDATE log SET entry = ?, hash = ? WHERE seq = ?", (eb, hb, a)),
            ("UPDATE log SET entry = ?, hash = ? WHERE seq = ?", (ea, ha, b)),
        )
    else:
        _sql(home, ("DELETE FROM log WHERE seq = ?", (rows[-1][0],)))
    res = world.run("gp", "--json", "log", "verify")
    assert res.exit_code == 3, (res.stdout, res.stderr)
    assert res.json()["ok"] is False
    err = res.error_json()
    assert err["exit"] == 3 and "inconsistent" in err["message"]
    problem = res.json()["problem"]
    expected = {
        "edit": "entry 2",
        "delete_middle": "entry 4",
        "swap": "entry 1",
        "delete_last": "head does not match",
    }[how]
    assert expected in problem, problem


def test_verify_checks_without_storing(world: World) -> None:
    sent = world.send("-o", world.path("outbox"))
    f = next(o["file"] for o in sent["outputs"] if o["role"] == "specialist")
    before = world.snap()
    doc = world.ok("card", "verify", f)
    assert doc["status"] == "verified" and doc["message_id"] == sent["message_id"]
    assert all("text" not in i for i in doc["items"])
    assert world.snap() == before
    data = Path(f).read_bytes()
    bad = world.write("bad.smsg", data[:-30] + bytes([data[-30] ^ 1]) + data[-29:])
    res = world.run("card", "--json", "verify", bad)
    assert res.exit_code == 3 and res.error_json()["error"] == "age_payload"
    assert world.snap() == before
