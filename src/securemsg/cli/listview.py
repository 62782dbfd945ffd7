"""How a folder (inbox, sent) or a thread is shown: one line per letter, with its
read/unread state and when it was received (or, for a double, each recipient's
receipt and when it came); a thread as the tree of who answered whom."""

from __future__ import annotations

from typing import Any

from securemsg.app.mailbox import LetterRow, Listing
from securemsg.cli.keyview import author_mark
from securemsg.cli.output import Printer
from securemsg.core.times import iso_time, rfc3339
from securemsg.i18n import N_, _

# a double's delivery status (codes in JSON), shown in the language
STATUSES = {"sent": N_("sent"), "delivered": N_("delivered"), "refused": N_("refused")}


def shown_name(names: dict[str, str], fp: str, me: str | None) -> str:
    """A person as the text output names them: their card's name (mine marked
    "(you)", by fingerprint, whatever the name says), else a short fingerprint."""
    name = names.get(fp) or _("key {fingerprint}").format(fingerprint=fp[:16])
    return _("{name} (you)").format(name=name) if fp == me else name


def kind_shown(code: str) -> str:
    """A letter's kind in the language: the code in English."""
    from securemsg import i18n

    if i18n.language() == "en":
        return code
    from securemsg.cli.names import kind

    return kind(code)


def thread_depths(rows: list[LetterRow]) -> dict[str, int]:
    """Each letter's depth in its conversation: 0 for one that answers no letter held
    here, else one more than the letter it answers."""
    parents = {r.id: r.in_reply_to for r in rows}
    depths: dict[str, int] = {}
    for r in rows:
        d, seen, cur = 0, {r.id}, parents.get(r.id)
        while cur is not None and cur in parents and cur not in seen:
            seen.add(cur)
            d += 1
            cur = parents.get(cur)
        depths[r.id] = d
    return depths


class ListView:
    """A folder or a thread as shown (a plain class, not a dataclass: inbox and sent
    build it at start-up; ``thread`` sets its ``schema``)."""

    __slots__ = (  # noqa: RUF023 (field order)
        "rows",
        "folder",
        "deliveries",
        "names",
        "patient_view",
        "schema",
        "me",
        "unverified_patients",
        "reads",
        "revoked",
    )

    def __init__(
        self,
        rows: list[LetterRow],
        folder: str,
        deliveries: dict[str, list[tuple[str, str, int | None]]],
        names: dict[str, str],
        patient_view: bool = False,
        schema: str = "securemsg.letters/3",
        me: str | None = None,  # the reader's fingerprint: "you", whatever the names say
        unverified_patients: frozenset[str] = frozenset(),  # pinned patient keys
        reads: dict[tuple[str, str], int] | None = None,
        revoked: dict[str, int] | None = None,  # authors' keys revoked since (issue 16)
    ) -> None:
        self.rows = rows
        self.folder = folder
        self.deliveries = deliveries
        self.names = names
        self.patient_view = patient_view
        self.schema = schema
        self.me = me
        self.unverified_patients = unverified_patients
        self.reads: dict[tuple[str, str], int] = {} if reads is None else reads
        self.revoked = revoked

    def __repr__(self) -> str:
        return f"ListView(folder={self.folder!r}, rows={len(self.rows)})"

    @classmethod
    def of(cls, listing: Listing) -> ListView:
        return cls(
            listing.rows,
            listing.folder,
            listing.deliveries,
            listing.names,
            listing.patient_view,
            me=listing.me,
            unverified_patients=listing.unverified_patients,
            reads=listing.reads,
            revoked=listing.revoked,
        )

    def revoked_mark(self, r: LetterRow) -> str | None:
        """Issue 16: a letter signed by a key revoked since: kept from before T, or
        accepted after T (it may be forged)."""
        t = (self.revoked or {}).get(r.author)
        if t is None:
            return None
        return "accepted_before" if r.stored_at < t else "accepted_after"

    def _person(self, fp: str) -> dict[str, Any]:
        return {"fingerprint": fp, "name": self.names.get(fp), "is_self": fp == self.me}

    def to_json(self) -> dict[str, Any]:
        out = []
        depths = thread_depths(self.rows) if self.folder == "thread" else {}
        for r in self.rows:
            s = r.summary
            read_at = self.reads.get((r.id, r.folder))
            doc: dict[str, Any] = {
                "message_id": r.id,
                "folder": r.folder,
                "date": rfc3339(r.date),
                "received_at" if r.folder == "in" else "stored_at": rfc3339(r.stored_at),
                "read": read_at is not None,
                "read_at": rfc3339(read_at) if read_at is not None else None,
                "kind": r.kind,
                "author": s.get("author_name"),
                "author_fingerprint": r.author,
                "author_is_self": r.author == self.me,
                "patient": s.get("patient") or None,
                "patient_key_not_verified_by_you": s.get("patient_fp") in self.unverified_patients,
                "pseudonym": s.get("pseudonym") or None,
                "subject": s.get("subject"),
                "basis": s.get("basis"),
                "in_reply_to": r.in_reply_to,
                "author_key_revoked": self.revoked_mark(r),
            }
            if self.folder == "thread":
                doc["depth"] = depths.get(r.id, 0)
            doc["recipients"] = [self._person(fp) for fp in s.get("recipients", [])]
            if r.folder == "sent":
                doc["deliveries"] = [
                    {
                        "recipient": self.names.get(fp),
                        "fingerprint": fp,
                        "is_self": fp == self.me,
                        "status": st,
                        "at": rfc3339(at) if at is not None else None,
                    }
                    for fp, st, at in self.deliveries.get(r.id, [])
                ]
            out.append(doc)
        return {"folder": self.folder, "letters": out}

    def _patient(self, r: LetterRow) -> str:
        s = r.summary
        patient = str((s.get("patient") or {}).get("name") or "") or (
            _("pseudonym {pseudonym}").format(pseudonym=s.get("pseudonym"))
            if s.get("pseudonym")
            else ""
        )
        if s.get("patient_fp") in self.unverified_patients:
            patient += " " + _("(patient key not verified by you)")
        return patient

    def _receipts(self, r: LetterRow) -> str:
        return "; ".join(
            f"{shown_name(self.names, fp, self.me)}: {_(STATUSES[st]) if st in STATUSES else st}"
            + (f" {iso_time(at)}" if at is not None and st != "sent" else "")
            for fp, st, at in self.deliveries.get(r.id, [])
        )

    def _state(self, r: LetterRow) -> str:
        return _("read") if (r.id, r.folder) in self.reads else _("NEW")

    def render(self, out: Printer) -> None:
        if self.folder == "thread":
            self._render_thread(out)
            return
        if not self.rows:
            out.line(_("No letters.") if self.folder == "in" else _("Nothing sent yet."))
            return
        rows = []
        for r in self.rows:
            s = r.summary
            if self.folder == "sent":
                rows.append(
                    [
                        r.id,
                        iso_time(r.date),
                        kind_shown(r.kind),
                        self._patient(r),
                        str(s.get("subject")),
                        self._receipts(r),
                    ]
                )
                continue
            patient = self._patient(r)
            if self.patient_view:  # the patient is the reader: say who else got it
                patient = ", ".join(
                    shown_name(self.names, fp, self.me)
                    for fp in s.get("recipients", [])
                    if fp != self.me
                )
            rows.append(
                [
                    r.id,
                    self._state(r),
                    iso_time(r.stored_at),
                    kind_shown(r.kind),
                    str(s.get("author_name")) + author_mark(self.revoked_mark(r)),
                    patient,
                    str(s.get("subject")),
                ]
            )
        cols = (
            [_("Id"), _("Date"), _("Kind"), _("Patient"), _("Subject"), _("Receipts")]
            if self.folder == "sent"
            else [
                _("Id"),
                _("State"),
                _("Received"),
                _("Kind"),
                _("Author"),
                _("Sent to") if self.patient_view else _("Patient"),
                _("Subject"),
            ]
        )
        out.table(_("Sent (doubles)") if self.folder == "sent" else _("Inbox"), cols, rows)

    def _render_thread(self, out: Printer) -> None:
        """The conversation as a tree: each reply under the letter it answers."""
        if not self.rows:
            out.line(_("No letters in this thread."))
            return
        first = self.rows[0].summary.get("subject")
        out.line(
            _("Thread: {subject} ({n} letter(s))").format(subject=first, n=len(self.rows)), "bold"
        )
        depths = thread_depths(self.rows)
        for r in self.rows:
            s = r.summary
            d = depths.get(r.id, 0)
            lead = "  " * d + ("└─ " if d else "")
            where = _("sent") if r.folder == "sent" else self._state(r)
            author = shown_name(self.names, r.author, self.me)
            if r.author != self.me and s.get("author_name"):
                author = str(s.get("author_name"))
            out.line(
                f"{lead}{iso_time(r.date)}  {kind_shown(r.kind)}  {author}: {s.get('subject')}"
            )
            pad = "  " * d + ("   " if d else "")
            out.line(f"{pad}{r.id}  ({where})", "dim")
            if r.folder == "sent" and self.deliveries.get(r.id):
                said = _("receipts: {receipts}").format(receipts=self._receipts(r))
                out.line(pad + said, "dim")
