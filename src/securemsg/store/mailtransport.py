"""SMTP and IMAP for letters by mail: the one module that talks to a mail server.

TLS always, with the certificate and the host name verified
(``ssl.create_default_context``: the system's authorities, or only the
account's CA file): implicit TLS from the first byte, or STARTTLS before the
login; a server that offers no STARTTLS is refused, never logged in to in
clear. A certificate that does not verify is :class:`MailTLSError`, any other
failure of the server or the network :class:`MailError`.

Sending streams the attachment's base64 from its file into the DATA command
(store/maillayout.py): at most about 1 MiB of a letter is in memory at a
time, whatever its size. Receiving fetches by UID, in batches, with
``BODY.PEEK`` (the \\Seen flag is never changed by a fetch).
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import smtplib
import socket
import ssl
from collections.abc import Iterator, Sequence
from pathlib import Path

from securemsg.errors import MailError, MailTLSError
from securemsg.i18n import _
from securemsg.store import maillayout
from securemsg.store.mailaccounts import DONE_KEYWORD, TLS, Account

TIMEOUT = 60.0


def tls_context(account: Account) -> ssl.SSLContext:
    try:
        ctx = ssl.create_default_context(cafile=account.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise MailError(
            _("cannot read the CA file {ca_file}").format(ca_file=account.ca_file),
            hint=_("check the account's --ca-file"),
        ) from exc
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


@contextlib.contextmanager
def _errors(what: str, host: str, port: int) -> Iterator[None]:
    try:
        yield
    except ssl.SSLCertVerificationError as exc:
        raise MailTLSError(
            _("{what} {host}:{port}: its TLS certificate does not verify ({value})").format(
                what=_(what), host=host, port=port, value=exc.verify_message or exc.reason
            ),
            hint=_(
                "check the host name; for a private authority, give the account its "
                "certificate with --ca-file"
            ),
        ) from exc
    except ssl.SSLError as exc:
        raise MailTLSError(
            _("{what} {host}:{port}: TLS failed ({reason})").format(
                what=_(what), host=host, port=port, reason=exc.reason
            ),
            hint=_("check the port and the TLS mode (--imap-tls/--smtp-tls implicit or starttls)"),
        ) from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(
            _("{what} {host}:{port} refused the login").format(what=_(what), host=host, port=port),
            hint=_("check the login and password"),
        ) from exc
    except imaplib.IMAP4.error as exc:
        raise MailError(f"{what} {host}:{port}: {_short(exc)}") from exc
    except (smtplib.SMTPException, OSError, EOFError) as exc:
        raise MailError(
            f"{what} {host}:{port}: {_short(exc)}",
            hint=_("check the host, the port and the network"),
        ) from exc


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:200]


# -- SMTP -----------------------------------------------------------------------------
class Smtp:
    """One logged-in SMTP session."""

    def __init__(self, account: Account) -> None:
        self.account = account
        host, port = account.smtp_host, account.smtp_port
        ctx = tls_context(account)
        with _errors(_("the SMTP server"), host, port):
            if account.smtp_tls is TLS.IMPLICIT:
                self.conn: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=ctx)
                self.conn.ehlo()
            else:
                self.conn = smtplib.SMTP(host, port, timeout=TIMEOUT)
                self.conn.ehlo()
                if not self.conn.has_extn("starttls"):
                    self.conn.close()
                    raise MailTLSError(
                        _(
                            "the SMTP server {host}:{port} offers no STARTTLS: "
                            "the password is never sent in clear"
                        ).format(host=host, port=port),
                        hint=_("use the server's TLS port, or --smtp-tls implicit"),
                    )
                self.conn.starttls(context=ctx)
                self.conn.ehlo()
            self.conn.login(account.login, account.password)

    def size_limit(self) -> int | None:
        """The largest mail the server accepts (EHLO SIZE), if it says."""
        value = self.conn.esmtp_features.get("size", "")
        return int(value) if value.isdigit() and int(value) > 0 else None

    def send(self, to: str, mail: maillayout.Outgoing, body: Path) -> None:
        """One mail to ``to``: its attachment streamed from ``body``."""
        a = self.account
        with _errors(_("the SMTP server"), a.smtp_host, a.smtp_port):
            opts = [f"SIZE={mail.size}"] if self.conn.has_extn("size") else []
            code, resp = self.conn.mail(a.address, opts)
            if code != 250:
                raise MailError(
                    _("the SMTP server refused the sender: {code} {resp}").format(
                        code=code, resp=_text(resp)
                    )
                )
            code, resp = self.conn.rcpt(to)
            if code not in (250, 251):
                self.conn.rset()
                raise MailError(
                    _("the SMTP server refused the recipient {to}: {code} {resp}").format(
                        to=to, code=code, resp=_text(resp)
                    )
                )
            self.conn.putcmd("data")
            code, resp = self.conn.getreply()
            if code != 354:
                raise MailError(
                    _("the SMTP server refused the mail: {code} {resp}").format(
                        code=code, resp=_text(resp)
                    )
                )
            sock = self.conn.sock
            if sock is None:
                raise MailError(_("the SMTP connection closed"))
            sock.sendall(mail.head)
            with body.open("rb") as fh:
                for piece in maillayout.base64_lines(fh):
                    sock.sendall(piece)
            sock.sendall(mail.tail + b".\r\n")
            code, resp = self.conn.getreply()
            if code != 250:
                raise MailError(
                    _("the SMTP server did not take the mail: {code} {resp}").format(
                        code=code, resp=_text(resp)
                    )
                )

    def send_bytes(self, to: str, raw: bytes) -> None:
        """One small mail (receipts, notices), whole."""
        a = self.account
        with _errors(_("the SMTP server"), a.smtp_host, a.smtp_port):
            refused = self.conn.sendmail(a.address, [to], raw)
            if refused:
                raise MailError(_("the SMTP server refused the recipient {to}").format(to=to))

    def close(self) -> None:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            self.conn.quit()

    def __enter__(self) -> Smtp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _text(resp: bytes) -> str:
    return resp.decode("utf-8", "replace")[:200]


# -- IMAP -----------------------------------------------------------------------------
_SIZE = re.compile(rb"UID (\d+)|RFC822\.SIZE (\d+)")


class Imap:
    """One logged-in IMAP session, one folder selected."""

    def __init__(self, account: Account) -> None:
        self.account = account
        host, port = account.imap_host, account.imap_port
        ctx = tls_context(account)
        with _errors(_("the IMAP server"), host, port):
            if account.imap_tls is TLS.IMPLICIT:
                self.conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    host, port, ssl_context=ctx, timeout=TIMEOUT
                )
            else:
                self.conn = imaplib.IMAP4(host, port, timeout=TIMEOUT)
                if "STARTTLS" not in self.conn.capabilities:
                    self.conn.shutdown()
                    raise MailTLSError(
                        _(
                            "the IMAP server {host}:{port} offers no STARTTLS: "
                            "the password is never sent in clear"
                        ).format(host=host, port=port),
                        hint=_("use the server's TLS port, or --imap-tls implicit"),
                    )
                self.conn.starttls(ssl_context=ctx)
            self.conn.login(account.login, account.password)
            # what the server offers once logged in (MOVE, UIDPLUS come after the login)
            _typ, caps = self.conn.capability()
            first = caps[0] if caps and isinstance(caps[0], bytes) else b""
            self.caps = set(first.decode("ascii", "replace").upper().split())

    def _check(self, typ: str, data: Sequence[object], what: str) -> Sequence[object]:
        if typ != "OK":
            raise MailError(
                _("the IMAP server refused {what}: {data!r:.200}").format(what=_(what), data=data)
            )
        return data

    def select(self, folder: str) -> int:
        """Select ``folder`` (read-write); its UIDVALIDITY."""
        a = self.account
        with _errors(_("the IMAP server"), a.imap_host, a.imap_port):
            typ, data = self.conn.select(_quote(folder))
            self._check(typ, data, _("the folder {folder}").format(folder=folder))
            _typ, v = self.conn.response("UIDVALIDITY")
            if not v or v[0] is None:
                raise MailError(_("the IMAP server gave no UIDVALIDITY"))
            return int(v[0])

    def securemsg_uids(self, unflagged_only: bool, keyword: str = DONE_KEYWORD) -> list[int]:
        """The securemsg mails of the folder; ``unflagged_only``: those without
        ``keyword`` (each device of an identity has its own: app/doubles.py)."""
        a = self.account
        crit = ["HEADER", maillayout.HEADER, '""']
        if unflagged_only:
            crit += ["UNKEYWORD", keyword]
        with _errors(_("the IMAP server"), a.imap_host, a.imap_port):
            typ, data = self.conn.uid("SEARCH", *crit)
            self._check(typ, list(data), _("the search"))
            first = data[0] if data else b""
            return sorted(int(u) for u in (first or b"").split())

    def sizes(self, uids: list[int]) -> dict[int, int]:
        a = self.account
        out: dict[int, int] = {}
        with _errors(_("the IMAP server"), a.imap_host, a.imap_port):
            typ, data = self.conn.uid("FETCH", _set(uids), "(UID RFC822.SIZE)")
            self._check(typ, list(data), _("the fetch"))
            for item in data:
                line = item[0] if isinstance(item, tuple) else item
                if not isinstance(line, bytes):
                    continue
                uid = size = None
                for m in _SIZE.finditer(line):
                    if m.group(1):
                        uid = int(m.group(1))
                    if m.group(2):
                        size = int(m.group(2))
                if uid is not None and size is not None:
                    out[uid] = size
        return out

    def fetch(self, uids: list[int]) -> dict[int, bytes]:
        """The whole mails (BODY.PEEK[]: no flag changes)."""
        a = self.account
        out: dict[int, bytes] = {}
        with _errors(_("the IMAP server"), a.imap_host, a.imap_port):
            typ, data = self.conn.uid("FETCH", _set(uids), "(UID BODY.PEEK[])")
            self._check(typ, list(data), _("the fetch"))
            for item in data:
                if isinstance(item, tuple) and len(item) == 2:
                    m = re.search(rb"UID (\d+)", item[0])
                    if m:
                        out[int(m.group(1))] = item[1]
        return out

    def done(self, uids: list[int], folder: str | None, keyword: str = DONE_KEYWORD) -> None:
        """Mark mails finished: the keyword, and moved to ``folder`` if given."""
        a = self.account
        uid = _set(uids)
        with _errors(_("the IMAP server"), a.imap_host, a.imap_port):
            typ, data = self.conn.uid("STORE", uid, "+FLAGS.SILENT", f"({keyword})")
            self._check(typ, list(data), _("the flag"))
            if folder is None:
                return
            self.conn.create(_quote(folder))  # exists already: a NO, ignored
            if "MOVE" in self.caps:
                typ, data = self.conn.uid("MOVE", uid, _quote(folder))
                self._check(typ, list(data), _("the move"))
                return
            typ, data = self.conn.uid("COPY", uid, _quote(folder))
            self._check(typ, list(data), _("the copy"))
            if "UIDPLUS" in self.caps:  # never expunge another mail
                self.conn.uid("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)")
                self.conn.uid("EXPUNGE", uid)

    def close(self) -> None:
        with contextlib.suppress(imaplib.IMAP4.error, OSError, socket.timeout):
            self.conn.logout()

    def __enter__(self) -> Imap:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _set(uids: list[int]) -> str:
    return ",".join(str(u) for u in uids)


def _quote(folder: str) -> str:
    if any(c in folder for c in '"\\\r\n') or not folder:
        raise MailError(
            _("{folder!r} is not a folder name this program sends").format(folder=folder)
        )
    return f'"{folder}"'
