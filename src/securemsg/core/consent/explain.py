"""The wording of consent: times, key names, care domains, and what a grant allows
in plain sentences (docs/format-consent.md). Pure; the refusals themselves are
worded where they are raised (core.consent.check), with these helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from securemsg.core import localnames
from securemsg.core.domains import Domain, sorted_domains
from securemsg.core.fingerprint import format_fingerprint
from securemsg.core.times import iso_time as iso_time  # re-exported: core.times.shown
from securemsg.i18n import _

if TYPE_CHECKING:  # a type only: the grant module uses these helpers
    from securemsg.core.consent.grant import Grant


def short_fp(fp_hex: str) -> str:
    return format_fingerprint(fp_hex)[:24]


def domain_names(domains: Iterable[Domain]) -> str:
    """``medical, nursing``: in the order of the domain table."""
    return ", ".join(localnames.domain(d) for d in sorted_domains(frozenset(domains)))


def explain(grant: Grant, contacts_lookup: Callable[[str], str | None]) -> list[str]:
    """What the grant allows, one plain sentence per line."""
    sender = contacts_lookup(grant.sender_fp)
    sender_text = (
        _("{name} ({fingerprint})").format(name=sender, fingerprint=short_fp(grant.sender_fp))
        if sender
        else _("the practitioner with key {fingerprint}").format(
            fingerprint=short_fp(grant.sender_fp)
        )
    )
    tos = [r.describe(contacts_lookup) for r in grant.recipients]
    domains = domain_names(grant.domains)
    lines = [
        _("{patient} allows {sender} to send a {purpose} about them to {recipients}.").format(
            patient=grant.patient_name,
            sender=sender_text,
            purpose=localnames.kind(str(grant.purpose)),
            recipients=_join(tos),
        ),
        (
            _("Care domains allowed: {domains}; never: {excluded}.").format(
                domains=domains, excluded=domain_names(grant.exclude)
            )
            if grant.exclude
            else _("Care domains allowed: {domains}.").format(domains=domains)
        ),
        _(
            "Each recipient still receives only the domains of its own role "
            "(a nurse: nursing and administrative; see the domain table)."
        ),
        _("Valid from {start} until {end}.").format(
            start=iso_time(grant.issued_at), end=iso_time(grant.not_after)
        ),
    ]
    if grant.commitment is not None:
        lines.append(
            _(
                "Only for the one prepared letter the patient reviewed, with exactly its items "
                "and recipients (letter commitment {commitment}...)."
            ).format(commitment=grant.commitment.hex()[:16])
        )
    if grant.letter_digest is not None:
        lines.append(
            _(
                "Bound to a letter's Markdown source only (an older form that does not cover "
                "attachments): no letter is accepted under it any more."
            )
        )
    lines.append(_("Grant id: {id}.").format(id=grant.id_hex))
    return lines


def _join(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return _("{items} and {last}").format(items=", ".join(items[:-1]), last=items[-1])
