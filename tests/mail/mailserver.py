"""A real mail server for the tests: Postfix (SMTP submission, TLS + SASL) and
Dovecot (IMAP, LMTP, the SASL authentication Postfix asks), started from
Debian's packages on 127.0.0.1 only, in a temp dir, with a throw-away CA.

Layout of the temp dir ``root``::

    ca.pem ca.key server.pem server.key  the CA and mail.test's certificate (openssl)
    other-ca.pem                         a CA that signed nothing here (bad-certificate test)
    dovecot/dovecot.conf users mail/     passwd-file users, maildirs
    postfix/main.cf master.cf queue/     an instance of its own (postfix -c)

Ports (all on 127.0.0.1, chosen free at start): submission with STARTTLS,
submissions with implicit TLS, IMAP with STARTTLS, IMAPS, LMTP (Postfix to
Dovecot) and the Dovecot auth service (Postfix's SASL). Domain ``mail.test``;
the certificate names ``localhost`` and 127.0.0.1.

Needs root (Postfix runs its daemons as the ``postfix`` user) and the packages
postfix, dovecot-imapd, dovecot-lmtpd, openssl: :func:`unavailable` says why not.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DOMAIN = "mail.test"
PASSWORD = "mail password 0f"
TOOLS = ("postfix", "dovecot", "openssl", "doveadm")
SIZE_LIMIT = 8 * 1024 * 1024  # Postfix message_size_limit (the SIZE of EHLO)


def required() -> bool:
    return os.environ.get("SECUREMSG_REQUIRE_MAIL") == "1"


def unavailable() -> str | None:
    missing = [t for t in TOOLS if shutil.which(t) is None and not Path(f"/usr/sbin/{t}").exists()]
    if missing:
        return (
            f"{', '.join(missing)} not installed (Debian: apt-get install postfix "
            "dovecot-imapd dovecot-lmtpd openssl)"
        )
    if os.geteuid() != 0:
        return "needs root (Postfix runs its daemons as the postfix user)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(*cmd: str) -> None:
    """A command's output goes to a file, not a pipe: a daemon it starts keeps
    its descriptors, and a pipe would never reach end of file."""
    with tempfile.TemporaryFile() as out:
        r = subprocess.run(cmd, stdout=out, stderr=out, stdin=subprocess.DEVNULL, check=False)
        if r.returncode != 0:
            out.seek(0)
            raise RuntimeError(f"{' '.join(cmd)} failed: {out.read().decode(errors='replace')}")


def _openssl_ca(root: Path, name: str) -> None:
    _run(
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-days", "2", "-subj", f"/CN=securemsg test CA {name}",
        "-keyout", str(root / f"{name}.key"), "-out", str(root / f"{name}.pem"),
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip


def make_certificates(root: Path) -> None:
    _openssl_ca(root, "ca")
    _openssl_ca(root, "other-ca")
    _run(
        "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-subj", "/CN=localhost", "-keyout", str(root / "server.key"),
        "-out", str(root / "server.csr"),
    )  # fmt: skip
    ext = root / "server.ext"
    ext.write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n"
    )
    _run(
        "openssl", "x509", "-req", "-in", str(root / "server.csr"), "-CA", str(root / "ca.pem"),
        "-CAkey", str(root / "ca.key"), "-CAcreateserial", "-days", "2",
        "-extfile", str(ext), "-out", str(root / "server.pem"),
    )  # fmt: skip


DOVECOT_CONF = """\
base_dir = {root}/dovecot/run
state_dir = {root}/dovecot/state
log_path = {root}/dovecot/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = required
ssl_cert = <{root}/server.pem
ssl_key = <{root}/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:{root}/dovecot/mail/%d/%n
mail_uid = {uid}
mail_gid = {gid}
default_login_user = {login_user}
default_internal_user = {internal_user}
lmtp_save_to_detail_mailbox = no
imap_max_line_length = 1M
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/dovecot/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/dovecot/home/%d/%n allow_all_users=yes
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp}
  }}
}}
service auth {{
  inet_listener {{
    address = 127.0.0.1
    port = {auth}
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
protocol lmtp {{
  auth_username_format = %u
}}
"""

POSTFIX_MAIN = """\
compatibility_level = 3.6
queue_directory = {root}/postfix/queue
data_directory = {root}/postfix/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = localhost
mydomain = {domain}
mydestination =
mynetworks = 127.0.0.0/8
relayhost =
virtual_mailbox_domains = {domain}
virtual_transport = lmtp:inet:127.0.0.1:{lmtp}
message_size_limit = {size}
mailbox_size_limit = 0
maillog_file = {root}/postfix/maillog
maillog_file_prefixes = {root}
smtpd_tls_cert_file = {root}/server.pem
smtpd_tls_key_file = {root}/server.key
smtpd_tls_security_level = may
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:{auth}
smtpd_sasl_auth_enable = no
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
alias_maps =
alias_database =
local_recipient_maps =
biff = no
shlib_directory = /usr/lib/postfix
daemon_directory = /usr/lib/postfix/sbin
meta_directory = {root}/postfix
command_directory = /usr/sbin
manpage_directory = /usr/share/man
"""

POSTFIX_MASTER = """\
127.0.0.1:{submission} inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
127.0.0.1:{submissions} inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


@dataclass
class MailServer:
    root: Path
    users: list[str]
    size_limit: int = SIZE_LIMIT
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def ca(self) -> Path:
        return self.root / "ca.pem"

    @property
    def other_ca(self) -> Path:
        return self.root / "other-ca.pem"

    def add_users(self, users: list[str]) -> None:
        """More accounts, at any time (Dovecot reads its passwd-file again when
        it changes; the userdb takes any user of the domain)."""
        with (self.root / "dovecot" / "users").open("a") as fh:
            fh.write("".join(f"{self.address(u)}:{{PLAIN}}{PASSWORD}\n" for u in users))
        self.users += users

    def address(self, user: str) -> str:
        return f"{user}@{DOMAIN}"

    def start(self) -> None:
        self.root.chmod(0o755)  # the postfix user enters its queue below
        make_certificates(self.root)
        for k in ("submission", "submissions", "imap", "imaps", "lmtp", "auth"):
            self.ports[k] = _free_port()
        self._start_dovecot()
        self._start_postfix()
        for k in ("submission", "submissions", "imap", "imaps"):
            _wait_port(self.ports[k])

    def _start_dovecot(self) -> None:
        d = self.root / "dovecot"
        for sub in ("run", "state", "mail", "home"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        # Dovecot refuses to deliver as root: as root, the mail belongs to nobody
        uid, gid = (os.getuid(), os.getgid()) if os.getuid() != 0 else (65534, 65534)
        for sub in ("mail", "home"):
            os.chown(d / sub, uid, gid)
        (d / "users").write_text(
            "".join(f"{self.address(u)}:{{PLAIN}}{PASSWORD}\n" for u in self.users)
        )
        (d / "dovecot.conf").write_text(
            DOVECOT_CONF.format(
                root=self.root,
                uid=uid,
                gid=gid,
                login_user="dovenull",
                internal_user="dovecot",
                **self.ports,
            )
        )
        _run("dovecot", "-c", str(d / "dovecot.conf"))

    def _start_postfix(self) -> None:
        p = self.root / "postfix"
        (p / "queue").mkdir(parents=True, exist_ok=True)
        (p / "data").mkdir(parents=True, exist_ok=True)
        shutil.chown(p / "data", "postfix", "postfix")
        for name in ("postfix-files", "dynamicmaps.cf"):
            src = Path("/etc/postfix") / name
            if src.exists():
                shutil.copy(src, p / name)
        (p / "main.cf").write_text(
            POSTFIX_MAIN.format(root=self.root, domain=DOMAIN, size=self.size_limit, **self.ports)
        )
        (p / "master.cf").write_text(POSTFIX_MASTER.format(**self.ports))
        _run("postfix", "-c", str(p), "check")
        _run("postfix", "-c", str(p), "start")

    def stop(self) -> None:
        subprocess.run(
            ["postfix", "-c", str(self.root / "postfix"), "stop"], capture_output=True, check=False
        )
        subprocess.run(
            ["doveadm", "-c", str(self.root / "dovecot" / "dovecot.conf"), "stop"],
            capture_output=True,
            check=False,
        )
        time.sleep(0.3)

    def logs(self) -> str:
        out = []
        for f in (self.root / "postfix" / "maillog", self.root / "dovecot" / "dovecot.log"):
            if f.exists():
                out.append(f.read_text(errors="replace")[-4000:])
        return "\n".join(out)

    def wait_delivered(self, user: str, n: int, timeout: float = 30.0) -> None:
        """Until ``user``'s INBOX holds at least ``n`` mails (Postfix delivers
        asynchronously)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count(user) >= n:
                return
            time.sleep(0.1)
        raise AssertionError(f"{user} has {self.count(user)} mails, not {n}:\n{self.logs()}")

    def count(self, user: str) -> int:
        box = self.root / "dovecot" / "mail" / DOMAIN / user
        return sum(
            len(list((box / sub).iterdir())) for sub in ("new", "cur") if (box / sub).exists()
        )


def _wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def started(users: list[str], size_limit: int = SIZE_LIMIT) -> MailServer:
    root = Path(tempfile.mkdtemp(prefix="securemsg-mail-"))
    server = MailServer(root, users, size_limit)
    try:
        server.start()
    except Exception as exc:
        logs = server.logs()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"the mail server did not start: {exc}\n{logs}") from None
    return server
