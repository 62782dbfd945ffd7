"""Mail accounts: the password never on the command line nor in clear in the
home; TLS always verified (a certificate from another authority stops the
connection with ``mail_tls``); a server without STARTTLS is never logged in
to; a letter larger than the server's SIZE is refused before anything is
written or sent. Hostile cases through the installed executable."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import mailserver
import pytest
from mailworld import MailWorld, snapshot

pytestmark = pytest.mark.slow


def test_account_list_show_test_and_the_password_is_sealed(mail_world: MailWorld) -> None:
    w = mail_world
    listed = w.ok("card", "account", "list")["accounts"]
    assert [a["address"] for a in listed] == [w.address("card")]
    assert "password" not in str(listed)
    shown = w.ok("card", "account", "show")["accounts"][0]
    assert shown["imap"]["tls"] == "implicit" and shown["smtp"]["tls"] == "starttls"
    check = w.ok("card", "account", "test")
    assert check["ok"] is True and check["smtp_size_limit"] == mailserver.SIZE_LIMIT
    secret = mailserver.PASSWORD.encode()
    for path in w.home("card").rglob("*"):
        if path.is_file():
            assert secret not in path.read_bytes(), path
    # never on the command line: there is no option for it
    res = w.run("card", "account", "add", "x@mail.test", "--imap-host", "h", "--smtp-host",
                "h", "--password", "pw", executable=True)  # fmt: skip
    assert res.exit_code == 2
    # no terminal and no --password-stdin: refused, nothing added
    res = w.run("card", "--json", "account", "add", "y@mail.test", "--imap-host", "h",
                "--smtp-host", "h", executable=True)  # fmt: skip
    assert res.exit_code == 2 and res.error_json()["error"] == "usage"
    assert len(w.ok("card", "account", "list")["accounts"]) == 1
    removed = w.ok("card", "account", "remove", w.address("card"))["accounts"][0]
    assert removed["address"] == w.address("card")
    assert w.ok("card", "account", "list")["accounts"] == []


def test_a_certificate_that_does_not_verify_stops_the_connection(mail_world: MailWorld) -> None:
    w = mail_world
    w.ok("card", "account", "remove", w.address("card"))
    w.ok("card", *w.account_args("card", ca=w.server.other_ca), input="pw\n")
    before = snapshot(w.home("card"))
    for cmd in (["account", "test"], ["receive", "--mail"]):
        res = w.run("card", "--json", *cmd, executable=True)
        assert res.exit_code == 1, res.stderr
        err = res.error_json()
        assert err["error"] == "mail_tls" and "certificate does not verify" in err["message"]
        assert "--ca-file" in err["hint"]
    assert snapshot(w.home("card")) == before
    # the system's authorities do not know the test CA either
    w.ok("card", "account", "remove", w.address("card"))
    args = [a for a in w.account_args("card") if a not in ("--ca-file", str(w.server.ca))]
    w.ok("card", *args, input="pw\n")
    res = w.run("card", "--json", "account", "test", executable=True)
    assert res.exit_code == 1 and res.error_json()["error"] == "mail_tls"


def test_implicit_tls_against_a_plain_port_is_a_tls_error(mail_world: MailWorld) -> None:
    w = mail_world
    w.ok("card", "account", "remove", w.address("card"))
    args = w.account_args("card")
    args[args.index("--imap-port") + 1] = str(w.server.ports["imap"])  # the STARTTLS port
    w.ok("card", *args, input="pw\n")
    res = w.run("card", "--json", "receive", "--mail", executable=True)
    assert res.exit_code == 1 and res.error_json()["error"] == "mail_tls", res.stderr
    # STARTTLS on that port works
    w.ok("card", "account", "remove", w.address("card"))
    w.ok("card", *args, "--imap-tls", "starttls", input=mailserver.PASSWORD + "\n")
    assert w.ok("card", "account", "test")["ok"] is True


@pytest.fixture
def no_starttls_imap() -> Iterator[tuple[int, list[bytes]]]:
    """A listener that greets like an IMAP server offering no STARTTLS, and
    records every line a client sends (to prove no LOGIN ever comes)."""
    lines: list[bytes] = []
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(10)

    def serve() -> None:
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        with conn:
            conn.sendall(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n")
            f = conn.makefile("rb")
            for line in f:
                lines.append(line)
                tag = line.split(b" ", 1)[0]
                if b"CAPABILITY" in line.upper():
                    conn.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
                else:
                    conn.sendall(tag + b" OK done\r\n")

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1], lines
    srv.close()
    t.join(5)


def test_a_server_without_starttls_gets_no_password(
    mail_world: MailWorld, no_starttls_imap: tuple[int, list[bytes]]
) -> None:
    port, lines = no_starttls_imap
    w = mail_world
    w.ok("card", "account", "remove", w.address("card"))
    args = w.account_args("card")
    args[args.index("--imap-port") + 1] = str(port)
    w.ok("card", *args, "--imap-tls", "starttls", input=mailserver.PASSWORD + "\n")
    res = w.run("card", "--json", "receive", "--mail", executable=True)
    assert res.exit_code == 1 and res.error_json()["error"] == "mail_tls", res.stderr
    assert "STARTTLS" in res.error_json()["message"]
    assert not any(b"LOGIN" in x.upper() or b"AUTHENTICATE" in x.upper() for x in lines), lines


def test_a_letter_over_the_servers_size_is_refused_before_anything(
    mail_world: MailWorld, tmp_path: Path
) -> None:
    w = mail_world
    big = tmp_path / "scan.pdf"
    with big.open("wb") as fh:  # sparse: only its size is read before the refusal
        fh.truncate(mailserver.SIZE_LIMIT * 3 // 4 + 1)
    before = snapshot(w.home("gp"))
    res = w.run("gp", "--json", "send", w.root / "letter.md", "--to", "Bruno", "--kind",
                "referral", "--patient", "Paule", "--consent", w.root / "consent.cose",
                "--attach", big, "--mail", executable=True)  # fmt: skip
    assert res.exit_code == 1, res.stderr
    err = res.error_json()
    assert err["error"] == "mail_too_large" and "nothing was sent" in err["message"]
    assert "--drop" in err["hint"]
    assert snapshot(w.home("gp")) == before
    assert w.in_box("card") == 0 and w.in_box("pat") == 0


def test_send_by_default_goes_by_mail_and_a_card_without_address_is_refused_first(
    mail_world: MailWorld,
) -> None:
    w = mail_world
    # no -o, no --drop, no --mail: the home's mail account is the default
    res = w.ok("gp", "send", w.root / "letter.md", "--to", "Bruno", "--kind", "referral",
               "--patient", "Paule", "--consent", w.root / "consent.cose")  # fmt: skip
    assert res["schema"] == "securemsg.send-mail/1" and len(res["mails"]) == 2
    w.wait("card", 1)
