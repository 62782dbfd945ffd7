"""How a letter is shown: the verification panel, then the body; or, with
``read --plain`` (and whenever the output is not a terminal), the same as plain
``Label: value`` lines and the sections as written; or, with ``read
--markdown``, as one Markdown document. People are named by their cards; mine
is marked "(you)" in text, ``"is_self": true`` in JSON.

Long file: every label and sentence of the panel is a marked text with named
placeholders (issue 14), which takes lines; splitting the panel would scatter it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from securemsg.app.mailbox import LetterRow
from securemsg.cli import names as shown
from securemsg.cli.keyview import revocation_note, revoked_before
from securemsg.cli.listview import shown_name
from securemsg.cli.output import Printer
from securemsg.core.card import Card
from securemsg.core.times import iso_time, rfc3339, shown_date
from securemsg.i18n import N_, _

if TYPE_CHECKING:  # a type only: `inbox` need not import the whole reading path
    from securemsg.app.read import OpenedLetter

MARKDOWN_BUDGET = 32 * 1024  # characters of a letter's sections laid out as Markdown


def recipient_name(fp: str, names: dict[str, str], o: OpenedLetter) -> str | None:
    """A recipient's name: from the card this mailbox holds for them (contacts, the
    patient, me), else the name the author signed into the manifest, marked as the
    author's word; None if neither."""
    if fp in names:
        return names[fp]
    entry = o.manifest.entry_for(fp)
    if entry is not None and entry.name is not None:
        return _("{name} (named by the author)").format(name=entry.name)
    return None


def recipients_json(o: OpenedLetter, names: dict[str, str], me: str) -> list[dict[str, Any]]:
    return [
        {
            "fingerprint": r.fp,
            "name": names.get(r.fp, r.name),
            "is_self": r.fp == me,
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


class LetterView:
    """A letter as shown (a plain class, not a dataclass: `read` builds it at start-up)."""

    __slots__ = (  # noqa: RUF023 (field order)
        "opened",
        "me",
        "show_body",
        "status",
        "names",
        "schema",
        "folder",
        "replied_to",
        "received_at",
        "first_read_at",
    )

    def __init__(
        self,
        opened: OpenedLetter,
        me: Card,
        show_body: bool = True,
        status: str = "read",
        names: dict[str, str] | None = None,
        schema: str = "securemsg.letter/3",
        folder: str | None = None,  # in | sent; None: a letter file, not stored
        replied_to: LetterRow | None = None,  # the letter it answers, when held here
        received_at: int | None = None,
        first_read_at: int | None = None,
    ) -> None:
        self.opened = opened
        self.me = me
        self.show_body = show_body
        self.status = status
        self.names = names
        self.schema = schema
        self.folder = folder
        self.replied_to = replied_to
        self.received_at = received_at
        self.first_read_at = first_read_at

    def _names(self) -> dict[str, str]:
        base = {
            self.me.fingerprint: self.me.name,
            self.opened.author.fingerprint: self.opened.author.name,
        }
        if self.opened.patient is not None:
            base[self.opened.patient.fingerprint] = self.opened.patient.name
        return {**base, **(self.names or {})}

    def _who(self, fp: str) -> str:
        """A person in text: their name, "(you)" for me, else a short fingerprint."""
        name = recipient_name(fp, self._names(), self.opened)
        return shown_name({fp: name} if name else {}, fp, self.me.fingerprint)

    def _in_reply_to(self) -> str | None:
        m = self.opened.manifest
        if m.in_reply_to is None:
            return None
        r = self.replied_to
        if r is None:
            return _("{id} (not in this mailbox)").format(id=m.in_reply_to.hex())
        return _('"{subject}" of {date} ({id})').format(
            subject=r.summary.get("subject"), date=iso_time(r.date), id=r.id
        )

    def _in_reply_to_json(self) -> dict[str, Any] | None:
        r = self.replied_to
        if r is None:
            return None
        return {
            "message_id": r.id,
            "subject": r.summary.get("subject"),
            "date": rfc3339(r.date),
            "folder": r.folder,
        }

    def patient_sentences(self) -> list[str]:
        """For the patient (R4): who wrote about them, to whom, what each received,
        on which basis, in plain words."""
        o, m = self.opened, self.opened.manifest
        role = shown.role(o.author.profile.role.value)
        out = [
            _('{name} ({role}) wrote this {kind} about you on {date}: "{subject}".').format(
                name=o.author.name,
                role=role,
                kind=shown.kind(m.kind.value),
                date=iso_time(m.date),
                subject=m.subject,
            )
        ]
        everything = {i.domain for i in m.items}
        for r in m.recipients:
            if r.fp == self.me.fingerprint:
                who = _("You")
            else:
                who = f"{self._who(r.fp)} ({shown.role(r.role.value)})"
            if r.domains >= everything:
                what = _("the whole letter")
            else:
                parts = shown.domains(r.domains & everything)
                what = _("only the {parts} part(s)").format(parts=parts)
            out.append(_("{who} received {what}.").format(who=who, what=_(what)))
        if o.grant is not None and o.grant.patient_fp != self.me.fingerprint:
            out.append(
                _(
                    "WARNING: it names you under a consent signed with another key "
                    "({key}) than yours: you did not sign it."
                ).format(key=o.grant.patient_fp[:16])
            )
        elif o.grant is not None:
            g = o.grant
            out.append(
                _(
                    "It was sent under the consent you signed on {signed} "
                    "for {purpose} (grant {grant}), valid until {until}."
                ).format(
                    signed=iso_time(g.issued_at),
                    purpose=shown.kind(g.purpose.value),
                    grant=g.id_hex[:12],
                    until=iso_time(g.not_after),
                )
            )
        elif m.basis == "emergency":
            out.append(
                _(
                    "It was sent as an emergency report, without your prior consent, as the "
                    "code of ethics allows unless you objected to the recipient (R8)."
                )
            )
        if m.phone_call is not None:
            out.append(
                _("It confirms in writing a phone call on {time}.").format(
                    time=iso_time(m.phone_call.time)
                )
            )
        return out

    def to_json(self) -> dict[str, Any]:
        o, m = self.opened, self.opened.manifest
        grant = o.grant
        about_you = self.patient_sentences() if self.me.profile.role.is_patient else None
        return {
            "about_you": about_you,
            "status": self.status,
            "message_id": m.id_hex,
            "folder": self.folder,
            "kind": m.kind.value,
            "date": rfc3339(m.date),
            "received_at": rfc3339(self.received_at) if self.received_at else None,
            "first_read_at": rfc3339(self.first_read_at) if self.first_read_at else None,
            "subject": m.subject,
            "author": {
                "name": o.author.name,
                "fingerprint": o.author.fingerprint,
                "is_self": o.author.fingerprint == self.me.fingerprint,
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
            "in_reply_to_letter": self._in_reply_to_json(),
            "phone_call": (
                {"time": rfc3339(m.phone_call.time), "caller": m.phone_call.caller}
                if m.phone_call
                else None
            ),
            "recipients": recipients_json(o, self._names(), self.me.fingerprint),
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

    def panel_rows(self) -> list[tuple[str, str, str]]:
        """The verification panel: (label, value, style)."""
        o, m = self.opened, self.opened.manifest
        rows: list[tuple[str, str, str]] = []

        def line(label: str, value: str, style: str = "") -> None:
            rows.append((label, value, style))

        mine = o.author.fingerprint == self.me.fingerprint
        line(_("Signature"), _("valid: signed by its author, untouched, addressed to you"), "green")
        author = _("{who} ({role}), key {key}").format(
            who=self._who(o.author.fingerprint),
            role=shown.role(o.author.profile.role.value),
            key=o.author.display_fingerprint,
        )
        line(_("Author"), author)
        if mine:
            line(_("Author's key"), _("your own key"), "green")
        else:
            line(
                _("Author's key"),
                _("verified by you")
                if o.author_verified
                else _("NOT verified: compare the safety number (securemsg contacts show)"),
                "green" if o.author_verified else "yellow",
            )
        if o.author_revoked_as_of is not None:
            line(_("Author's key"), revocation_note(o), "bold red")
        line(_("Date"), iso_time(m.date))
        if self.received_at is not None:
            line(_("Kept") if self.folder == "sent" else _("Received"), iso_time(self.received_at))
        line(_("Kind"), shown.kind(m.kind.value))
        line(_("Subject"), m.subject)
        if m.patient_fp:
            ids = [shown_date(v) if k == "birth_date" else v for k, v in patient_ids(o)]
            line(_("Patient"), ", ".join(ids) or m.patient_fp)
            if o.patient_key == "pinned":
                line(
                    _("Patient key"),
                    _(
                        "NOT verified by you: learnt from this letter "
                        "(securemsg contacts verify NAME FINGERPRINT)"
                    ),
                    "yellow",
                )
        else:
            line(
                _("Patient"),
                _("pseudonym {pseudonym} (identity withheld, R11)").format(
                    pseudonym=repr(m.pseudonym)
                ),
            )
        basis = {
            "consent": N_("the patient's signed consent"),
            "emergency": N_("emergency report without prior consent (R8)"),
            "pseudonymous": N_("pseudonymous tele-expertise (R11)"),
        }[m.basis]
        line(_("Legal basis"), _(basis))
        if o.grant is not None:
            g = o.grant
            if g.exclude:
                text = _(
                    "grant {grant} for {purpose}, domains {domains}, excluding {excluded}, "
                    "valid until {until}"
                )
            else:
                text = _("grant {grant} for {purpose}, domains {domains}, valid until {until}")
            line(
                _("Consent"),
                text.format(
                    grant=g.id_hex[:12],
                    purpose=shown.kind(g.purpose.value),
                    domains=shown.domains(g.domains),
                    excluded=shown.domains(g.exclude),
                    until=iso_time(g.not_after),
                ),
            )
        if (replied := self._in_reply_to()) is not None:
            line(_("In reply to"), replied)
        if m.phone_call:
            caller = self._who(m.phone_call.caller) if m.phone_call.caller else ""
            line(
                _("Confirms phone call"),
                _("{time} with {caller}").format(time=iso_time(m.phone_call.time), caller=caller),
            )
        line(_("Disclosed to you"), ", ".join(shown.domain(d) for d in o.my_domains))
        withheld = len(m.items) - len(o.items)
        if withheld:
            line(
                _("Withheld from you"),
                _("{n} item(s) outside your care domains").format(n=withheld),
            )
        return rows

    def render(self, out: Printer) -> None:
        o, m = self.opened, self.opened.manifest
        out.panel(_("Letter {id}").format(id=m.id_hex), self.panel_rows())
        if self.me.profile.role.is_patient:
            for sentence in self.patient_sentences():
                out.line(sentence)
        out.table(
            _("Who received what"),
            [_("Recipient"), _("Role"), _("Domains")],
            [
                [self._who(r.fp), shown.role(r.role.value), shown.domains(r.domains)]
                for r in m.recipients
            ],
        )
        if self.show_body:
            self._body(out)
        del o

    def to_markdown(self) -> str:
        """The letter as one Markdown document: its subject as the title, the
        verification facts as a list, each section as written, the attachments
        listed. No decoration, no trailing spaces; hidden characters escaped."""
        from securemsg.core.text import for_terminal

        m = self.opened.manifest
        lines = [f"# {m.subject}", ""]
        for label, value, _style in self.panel_rows():
            lines.append(f"- **{label}:** {value}")
        label = _("Message id")
        lines.append(f"- **{label}:** {m.id_hex}")
        if self.me.profile.role.is_patient:
            lines += ["", *self.patient_sentences()]
        lines += ["", "## " + _("Who received what"), ""]
        for r in m.recipients:
            domains = shown.domains(r.domains)
            lines.append(f"- {self._who(r.fp)} ({shown.role(r.role.value)}): {domains}")
        for item in self.opened.items:
            lines.append("")
            if item.text is None:
                lines.append("*" + self._attachment(item, markdown=True) + "*")
                continue
            lines.append(f"<!-- section: {item.domain} -->")
            lines.append(item.text.rstrip("\n"))
        body = "\n".join(for_terminal(x, lines=True) for x in lines)
        return "\n".join(x.rstrip() for x in body.split("\n")) + "\n"

    @staticmethod
    def _attachment(item: Any, markdown: bool = False) -> str:
        """An attachment in text: name, size, domain, where it was saved."""
        values = {
            "name": item.name,
            "size": item.size,
            "domain": shown.domain(str(item.domain)),
            "saved_to": item.saved_to,
        }
        if not item.saved_to:
            return _("Attachment: {name} ({size} bytes, {domain})").format(**values)
        if markdown:
            return _("Attachment: {name} ({size} bytes, {domain}, saved to {saved_to})").format(
                **values
            )
        return _("Attachment: {name} ({size} bytes, {domain}) saved to {saved_to}").format(**values)

    def _body(self, out: Printer) -> None:
        """Sections as Markdown up to :data:`MARKDOWN_BUDGET` characters in all,
        the rest as plain text, as written: rich's layout costs time and memory
        out of proportion to the text (64 KiB of short lines ~4 s, 1 MiB of
        table ~30 s and ~1 GB), and a letter may hold 4 MiB (core/letter/limits.py)."""
        laid_out = 0
        for item in self.opened.items:
            if item.text is None:
                out.line(self._attachment(item))
                continue
            out.line(f"[{shown.domain(str(item.domain))}]", "dim")
            if laid_out + len(item.text) <= MARKDOWN_BUDGET:
                laid_out += len(item.text)
                out.markdown(item.text)
            else:
                out.line(
                    _(
                        "(shown as plain text: only the first {kib} KiB "
                        "of a letter's text are laid out as Markdown)"
                    ).format(kib=MARKDOWN_BUDGET // 1024),
                    "dim",
                )
                out.text(item.text)
