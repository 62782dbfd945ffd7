"""Mail accounts and what a receive by mail has finished with: owner of the
``mail_accounts`` and ``mail_seen`` tables (store/db.py, version 3).

An account is one row sealed with the home's storage key (core/storage.py),
its password inside: the password is never in a clear file, and opens only
once the identity is unlocked. ``mail_seen`` holds one row per mail of an IMAP
folder that a receive finished with, keyed by (account, folder, UIDVALIDITY,
UID): a UID is never taken for another mail while the folder's UIDVALIDITY
stays the same (RFC 3501 §2.3.1.1), so a receive killed at any point takes up
exactly the mails it had not finished.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from securemsg.core import cbor
from securemsg.errors import ConflictError, FormatError, NotFoundError, UsageError
from securemsg.i18n import N_, _
from securemsg.store.home import Home


class TLS(enum.Enum):
    IMPLICIT = "implicit"  # TLS from the first byte (IMAPS 993, SMTPS 465)
    STARTTLS = "starttls"  # a plain connection upgraded before the login (IMAP 143, 587)


class After(enum.Enum):
    FLAG = "flag"  # keyword $SecuremsgDone on the mail, left in its folder
    MOVE = "move"  # moved to the account's done folder


DONE_KEYWORD = "$SecuremsgDone"
# The largest mail a receive fetches by default: a larger one is refused by its
# size (RFC822.SIZE) before a byte of it is fetched, and left in the folder.
MAX_MAIL = 64 << 20


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    address: str
    imap_host: str
    imap_port: int
    imap_tls: TLS
    smtp_host: str
    smtp_port: int
    smtp_tls: TLS
    login: str
    password: str = field(repr=False)
    ca_file: str | None = None
    after: After = After.FLAG
    done_folder: str = "securemsg-done"
    max_mail: int = MAX_MAIL

    def __post_init__(self) -> None:
        if "@" not in self.address or any(c.isspace() or ord(c) < 32 for c in self.address):
            raise UsageError(_("{address!r} is not a mail address").format(address=self.address))
        for port in (self.imap_port, self.smtp_port):
            if not 0 < port < 65536:
                raise UsageError(_("{port} is not a port number").format(port=port))
        if self.max_mail < 4096:
            raise UsageError(_("--max-mail must be at least 4096 bytes"))
        if not self.password:
            raise UsageError(_("the account's password is empty"))

    def __repr__(self) -> str:
        return f"Account(name={self.name!r}, address={self.address!r}, password=<redacted>)"

    def to_cbor(self) -> bytes:
        return cbor.dumps(
            {
                "v": 1,
                "name": self.name,
                "address": self.address,
                "imap": [self.imap_host, self.imap_port, self.imap_tls.value],
                "smtp": [self.smtp_host, self.smtp_port, self.smtp_tls.value],
                "login": self.login,
                "password": self.password,
                "ca_file": self.ca_file,
                "after": self.after.value,
                "done_folder": self.done_folder,
                "max_mail": self.max_mail,
            }
        )

    @classmethod
    def from_cbor(cls, data: bytes) -> Account:
        d = cbor.loads(data, N_("mail account"))
        try:
            return cls(
                d["name"],
                d["address"],
                d["imap"][0],
                d["imap"][1],
                TLS(d["imap"][2]),
                d["smtp"][0],
                d["smtp"][1],
                TLS(d["smtp"][2]),
                d["login"],
                d["password"],
                d["ca_file"],
                After(d["after"]),
                d["done_folder"],
                d["max_mail"],
            )
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise FormatError(_("a mail account record of this home is malformed")) from exc


class Accounts:
    def __init__(self, home: Home) -> None:
        self.keys = home.storage_keys()
        self._conn = home.database()  # tables: store/db.py

    @staticmethod
    def _place(name: str) -> bytes:
        return b"mail_accounts:" + name.encode()

    def all(self) -> list[Account]:
        rows = self._conn.execute("SELECT name, blob FROM mail_accounts ORDER BY name").fetchall()
        return [Account.from_cbor(self.keys.open(self._place(n), b)) for n, b in rows]

    def add(self, account: Account, replace: bool = False) -> None:
        exists = self._conn.execute(
            "SELECT 1 FROM mail_accounts WHERE name = ?", (account.name,)
        ).fetchone()
        if exists and not replace:
            raise ConflictError(
                _("a mail account named {name} exists already").format(name=account.name),
                hint=_("remove it first (securemsg account remove), or give --name"),
            )
        blob = self.keys.seal(self._place(account.name), account.to_cbor())
        self._conn.execute(
            "INSERT INTO mail_accounts(name, blob) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET blob = excluded.blob",
            (account.name, blob),
        )

    def get(self, name: str | None) -> Account:
        """The named account; without a name, the only one."""
        accounts = self.all()
        if name is None:
            if len(accounts) == 1:
                return accounts[0]
            raise NotFoundError(
                _("no mail account") if not accounts else _("several mail accounts"),
                hint=_("add one with `securemsg account add`")
                if not accounts
                else _("name one with --account"),
            )
        for a in accounts:
            if name in (a.name, a.address):
                return a
        raise NotFoundError(
            _("no mail account named {name}").format(name=name),
            hint=_("see `securemsg account list`"),
        )

    def remove(self, name: str) -> Account:
        account = self.get(name)
        self._conn.execute("DELETE FROM mail_accounts WHERE name = ?", (account.name,))
        self._conn.execute("DELETE FROM mail_seen WHERE account = ?", (account.name,))
        return account

    # -- what a receive finished with -------------------------------------
    def seen(self, account: str, folder: str, uidvalidity: int) -> set[int]:
        rows = self._conn.execute(
            "SELECT uid FROM mail_seen WHERE account = ? AND folder = ? AND uidvalidity = ?",
            (account, folder, uidvalidity),
        )
        return {int(u) for (u,) in rows}

    def mark_seen(
        self, account: str, folder: str, uidvalidity: int, done: list[tuple[int, str]]
    ) -> None:
        """Record mails (uid, outcome) a receive finished with, in one transaction."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany(
                "INSERT OR IGNORE INTO mail_seen(account, folder, uidvalidity, uid, status) "
                "VALUES (?, ?, ?, ?, ?)",
                [(account, folder, uidvalidity, uid, status) for uid, status in done],
            )
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
