"""The wording of consent: times, key names, care domains, and what a grant allows
in plain sentences (docs/format-consent.md). Pure; the refusals themselves are
worded where they are raised (core.consent.check), with these helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from securemsg.core.domains import Domain, sorted_domains
from securemsg.core.fingerprint import format_fingerprint
from securemsg.core.times import iso_time as iso_time  # re-exported: core.times.shown

if TYPE_CHECKING:  # a type only: the grant module uses these helpers
    from securemsg.core.consent.grant import Grant


def short_fp(fp_hex: str) -> str:
    return format_fingerprint(fp_hex)[:24]


def domain_names(domains: Iterable[Domain]) -> str:
    """``medical, nursing``: in the order of the domain table."""
    return ", ".join(sorted_domains(frozenset(domains)))


def explain(grant: Grant, contacts_lookup: Callable[[str], str | None]) -> list[str]:
    """What the grant allows, one plain sentence per line."""
    sender = contacts_lookup(grant.sender_fp)
    sender_text = (
        f"{sender} ({short_fp(grant.sender_fp)})"
        if sender
        else (f"the practitioner with key {short_fp(grant.sender_fp)}")
    )
    tos = [r.describe(contacts_lookup) for r in grant.recipients]
    lines = [
        f"{grant.patient_name} allows {sender_text} to send a {grant.purpose} about them "
        f"to {_join(tos)}.",
        f"Care domains allowed: {domain_names(grant.domains)}"
        + (f"; never: {domain_names(grant.exclude)}." if grant.exclude else "."),
        "Each recipient still receives only the domains of its own role "
        "(a nurse: nursing and administrative; see the domain table).",
        f"Valid from {iso_time(grant.issued_at)} until {iso_time(grant.not_after)}.",
    ]
    if grant.commitment is not None:
        lines.append(
            "Only for the one prepared letter the patient reviewed, with exactly its items "
            f"and recipients (letter commitment {grant.commitment.hex()[:16]}...)."
        )
    if grant.letter_digest is not None:
        lines.append(
            "Bound to a letter's Markdown source only (an older form that does not cover "
            "attachments): no letter is accepted under it any more."
        )
    lines.append(f"Grant id: {grant.id_hex}.")
    return lines


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
