"""How a letter is shown: the verification panel, then the body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from securemsg.app.mailbox import LetterRow, Listing
from securemsg.cli.keyview import author_mark, revocation_note, revoked_before
from securemsg.cli.output import Printer
from securemsg.core.card import Card
from securemsg.core.times import iso_time, rfc3339

if TYPE_CHECKING:  # a type only: `inbox` need not import the whole reading path
    from securemsg.app.read import OpenedLetter
    from securemsg.core.letter.manifest import RecipientEntry

MARKDOWN_BUDGET = 32 * 1024  # characters of a letter's sections laid out as Markdown


def recipient_name(r: RecipientEntry, names: dict[str, str]) -> str:
    """My own name for a recipient (a contact, or me), else the name its author
    signed into the manifest, marked as such, else its fingerprint's start."""
    if r.fp in names:
        return names[r.fp]
    if r.name is not None:
        return f"{r.name} (named by the author)"
    return r.fp[:16]


def recipients_json(o: OpenedLetter, names: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "fingerprint": r.fp,
            "name": names.get(r.fp, r.name),
            "named_by": "you" if r.fp in names else ("author" if r.name is not None else None),
            "role": r.role.value,
            "domains": sorted(d.value for d in r.domains),
        }
        for r in o.manifest.recipients
    ]


def patient_ids(o: OpenedLetter) -> tuple[tuple[str, str], ...]:
    """The patient's identity as their verified card states it (app/trust.py
    refuses a letter that names them otherwise), never as the manifest does."""
    return o.patient.profile.identifiers() if o.patient is not None else ()


@dataclass
class LetterView:
    opened: OpenedLetter
    me: Card
    show_body: bool = True
    status: str = "read"
    names: dict[str, str] | None = None
    schema: str = "securemsg.letter/2"

    def _names(self) -> dict[str, str]:
        base = {
            self.me.fingerprint: f"{self.me.name} (you)",
            self.opened.author.fingerprint: self.opened.author.name,
        }
        if self.opened.patient is not None:
            base[self.opened.patient.fingerprint] = self.opened.patient.name
        return {**base, **(self.names or {})}

    def patient_sentences(self) -> list[str]:
        """For the patient (R4): who wrote about them, to whom, what each received,
        on which basis, in plain words."""
        o, m = self.opened, self.opened.manifest
        names = self._names()
        role = o.author.profile.role.value
        out = [
            f"{o.author.name} ({role}) wrote this {m.kind.value} about you on "
            f'{iso_time(m.date)}: "{m.subject}".'
        ]
        everything = {i.domain for i in m.items}
        for r in m.recipients:
            who = (
                "You"
                if r.fp == self.me.fingerprint
                else f"{recipient_name(r, names)} ({r.role.value})"
            )
            if r.domains >= everything:
                what = "the whole letter"
            else:
                parts = ", ".join(sorted(d.value for d in r.domains & everything))
                what = f"only the {parts} part(s)"
            out.append(f"{who} received {what}.")
        if o.grant is not None and o.grant.patient_fp != self.me.fingerprint:
            out.append(
                f"WARNING: it names you under a consent signed with another key "
                f"({o.grant.patient_fp[:16]}) than yours: you did not sign it."
            )
        elif o.grant is not None:
            g = o.grant
            out.append(
                f"It was sent under the consent you signed on {iso_time(g.issued_at)} "
                f"for {g.purpose.value} (grant {g.id_hex[:12]}), valid until "
                f"{iso_time(g.not_after)}."
            )
        elif m.basis == "emergency":
            out.append(
                "It was sent as an emergency report, without your prior consent, as the "
                "code of ethics allows unless you objected to the recipient (R8)."
            )
        if m.phone_call is not None:
            out.append(f"It confirms in writing a phone call on {iso_time(m.phone_call.time)}.")
        return out

    def to_json(self) -> dict[str, Any]:
        o, m = self.opened, self.opened.manifest
        grant = o.grant
        about_you = self.patient_sentences() if self.me.profile.role.is_patient else None
        return {
            "about_you": about_you,
            "status": self.status,
            "message_id": m.id_hex,
            "kind": m.kind.value,
            "date": rfc3339(m.date),
            "subject": m.subject,
            "author": {
                "name": o.author.name,
                "fingerprint": o.author.fingerprint,
                "role": o.author.profile.role.value,
                "verified": o.author_verified,
                "key_revoked_as_of": (
                    rfc3339(o.author_revoked_as_of) if o.author_revoked_as_of else None
                ),
                "accepted_before_revocation": revoked_before(o),
            },
            "patient": (
                {"fingerprint": m.patient_fp, **dict(patient_ids(o)), "key": o.patient_key}
                if m.patient_fp
                else None
            ),
            "pseudonym": m.pseudonym,
            "basis": m.basis,
            "consent": (
                {
                    "grant_id": grant.id_hex,
                    "purpose": grant.purpose.value,
                    "not_after": rfc3339(grant.not_after),
                    "domains": sorted(d.value for d in grant.domains),
                    "exclude": sorted(d.value for d in grant.exclude),
                }
                if grant
                else None
            ),
            "in_reply_to": m.in_reply_to.hex() if m.in_reply_to else None,
            "phone_call": (
                {"time": rfc3339(m.phone_call.time), "caller": m.phone_call.caller}
                if m.phone_call
                else None
            ),
            "recipients": recipients_json(o, self._names()),
            "my_domains": list(o.my_domains),
            "items": [
                {
                    "n": i.n,
                    "kind": i.kind,
                    "domain": i.domain,
                    "name": i.name,
                    "size": i.size,
                    **({"text": i.text} if self.show_body and i.text is not None else {}),
                    **({"saved_to": str(i.saved_to)} if i.saved_to else {}),
                }
                for i in o.items
            ],
            "withheld_items": len(m.items) - len(o.items),
        }

    def render(self, out: Printer) -> None:
        o, m = self.opened, self.opened.manifest
        names = self._names()
        rows: list[tuple[str, str, str]] = []

        def line(label: str, value: str, style: str = "") -> None:
            rows.append((label, value, style))

        line("Signature", "valid: signed by its author, untouched, addressed to you", "green")
        author = (
            f"{o.author.name} ({o.author.profile.role.value}), key {o.author.display_fingerprint}"
        )
        line("Author", author)
        line(
            "Author's key",
            "verified by you"
            if o.author_verified
            else "NOT verified: compare the safety number (securemsg contacts show)",
            "green" if o.author_verified else "yellow",
        )
        if o.author_revoked_as_of is not None:
            line("Author's key", revocation_note(o), "bold red")
        line("Date", iso_time(m.date))
        line("Kind", m.kind.value)
        line("Subject", m.subject)
        if m.patient_fp:
            line("Patient", ", ".join(v for _, v in patient_ids(o)) or m.patient_fp)
            if o.patient_key == "pinned":
                line(
                    "Patient key",
                    "NOT verified by you: learnt from this letter "
                    "(securemsg contacts verify NAME FINGERPRINT)",
                    "yellow",
                )
        else:
            line("Patient", f"pseudonym {m.pseudonym!r} (identity withheld, R11)")
        basis = {
            "consent": "the patient's signed consent",
            "emergency": "emergency report without prior consent (R8)",
            "pseudonymous": "pseudonymous tele-expertise (R11)",
        }[m.basis]
        line("Legal basis", basis)
        if o.grant is not None:
            g = o.grant
            line(
                "Consent",
                f"grant {g.id_hex[:12]} for {g.purpose.value}, domains "
                f"{', '.join(sorted(d.value for d in g.domains))}"
                + (
                    f", excluding {', '.join(sorted(d.value for d in g.exclude))}"
                    if g.exclude
                    else ""
                )
                + f", valid until {iso_time(g.not_after)}",
            )
        if m.in_reply_to:
            line("In reply to", m.in_reply_to.hex())
        if m.phone_call:
            caller = names.get(m.phone_call.caller or "", m.phone_call.caller or "")
            line("Confirms phone call", f"{iso_time(m.phone_call.time)} with {caller}")
        line("Disclosed to you", ", ".join(o.my_domains))
        withheld = len(m.items) - len(o.items)
        if withheld:
            line("Withheld from you", f"{withheld} item(s) outside your care domains")
        out.panel(f"Letter {m.id_hex}", rows)
        if self.me.profile.role.is_patient:
            for sentence in self.patient_sentences():
                out.line(sentence)
        out.table(
            "Who received what",
            ["Recipient", "Role", "Domains"],
            [
                [
                    recipient_name(r, names),
                    r.role.value,
                    ", ".join(sorted(d.value for d in r.domains)),
                ]
                for r in m.recipients
            ],
        )
        if self.show_body:
            self._body(out)

    def _body(self, out: Printer) -> None:
        """Sections as Markdown up to :data:`MARKDOWN_BUDGET` characters in all,
        the rest as plain text, as written: rich's layout costs time and memory
        out of proportion to the text (64 KiB of short lines ~4 s, 1 MiB of
        table ~30 s and ~1 GB), and a letter may hold 4 MiB (core/letter/limits.py)."""
        laid_out = 0
        for item in self.opened.items:
            if item.text is None:
                where = f" saved to {item.saved_to}" if item.saved_to else ""
                out.line(f"Attachment: {item.name} ({item.size} bytes, {item.domain}){where}")
                continue
            out.line(f"[{item.domain}]", "dim")
            if laid_out + len(item.text) <= MARKDOWN_BUDGET:
                laid_out += len(item.text)
                out.markdown(item.text)
            else:
                out.line(
                    f"(shown as plain text: only the first {MARKDOWN_BUDGET // 1024} KiB "
                    "of a letter's text are laid out as Markdown)",
                    "dim",
                )
                out.text(item.text)


@dataclass
class ListView:
    rows: list[LetterRow]
    folder: str
    deliveries: dict[str, list[tuple[str, str, int | None]]]
    names: dict[str, str]
    patient_view: bool = False
    schema: str = "securemsg.letters/2"
    me: str | None = None  # the reader's fingerprint: "you", whatever the names say
    unverified_patients: frozenset[str] = frozenset()  # pinned patient keys
    revoked: dict[str, int] | None = None  # authors' keys revoked since, and when

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
            revoked=listing.revoked,
        )

    def revoked_mark(self, r: LetterRow) -> str | None:
        """Issue 16: a letter signed by a key revoked since: kept from before T, or
        accepted after T (it may be forged)."""
        t = (self.revoked or {}).get(r.author)
        if t is None:
            return None
        return "accepted_before" if r.stored_at < t else "accepted_after"

    def to_json(self) -> dict[str, Any]:
        out = []
        for r in self.rows:
            s = r.summary
            doc: dict[str, Any] = {
                "message_id": r.id,
                "folder": r.folder,
                "date": rfc3339(r.date),
                "kind": r.kind,
                "author": s.get("author_name"),
                "author_fingerprint": r.author,
                "patient": s.get("patient") or None,
                "patient_key_not_verified_by_you": s.get("patient_fp") in self.unverified_patients,
                "pseudonym": s.get("pseudonym") or None,
                "subject": s.get("subject"),
                "basis": s.get("basis"),
                "in_reply_to": r.in_reply_to,
                "author_key_revoked": self.revoked_mark(r),
            }
            doc["recipients"] = [
                {"fingerprint": fp, "name": self.names.get(fp)} for fp in s.get("recipients", [])
            ]
            if r.folder == "sent":
                doc["deliveries"] = [
                    {"recipient": self.names.get(fp, fp), "fingerprint": fp, "status": st}
                    for fp, st, _ in self.deliveries.get(r.id, [])
                ]
            out.append(doc)
        return {"folder": self.folder, "letters": out}

    def render(self, out: Printer) -> None:
        if not self.rows:
            out.line("No letters." if self.folder == "in" else "Nothing sent yet.")
            return
        rows = []
        for r in self.rows:
            s = r.summary
            patient = (s.get("patient") or {}).get("name") or (
                f"pseudonym {s.get('pseudonym')}" if s.get("pseudonym") else ""
            )
            if s.get("patient_fp") in self.unverified_patients:
                patient += " (patient key not verified by you)"
            if self.folder == "sent":
                status = "; ".join(
                    f"{self.names.get(fp, fp[:10])}: {st}"
                    for fp, st, _ in self.deliveries.get(r.id, [])
                )
                rows.append(
                    [r.id[:12], iso_time(r.date), r.kind, patient, str(s.get("subject")), status]
                )
            else:
                if self.patient_view:  # the patient is the reader: say who else got it
                    patient = ", ".join(
                        self.names.get(fp, fp[:10])
                        for fp in s.get("recipients", [])
                        if fp != self.me
                    )
                rows.append(
                    [
                        r.id[:12],
                        iso_time(r.date),
                        r.kind,
                        str(s.get("author_name")) + author_mark(self.revoked_mark(r)),
                        patient,
                        str(s.get("subject")),
                    ]
                )
        cols = (
            ["Id", "Date", "Kind", "Patient", "Subject", "Receipts"]
            if self.folder == "sent"
            else [
                "Id",
                "Date",
                "Kind",
                "Author",
                "Sent to" if self.patient_view else "Patient",
                "Subject",
            ]
        )
        out.table("Sent (doubles)" if self.folder == "sent" else "Inbox", cols, rows)
