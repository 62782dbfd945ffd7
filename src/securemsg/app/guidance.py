"""What a sender is told when the patient's consent is missing or does not cover
a letter: people by their names (from the contact cards this mailbox holds, not
key fingerprints), and the exact command the patient runs to sign the consent
that is needed.

The consent rules themselves are core/consent/check.py's, the same on both
sides; only their wording for the sender is changed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from securemsg.core.card import Card
from securemsg.core.consent.explain import short_fp
from securemsg.core.domains import Domain, Purpose
from securemsg.errors import ConsentRefused
from securemsg.i18n import _

if TYPE_CHECKING:
    from securemsg.app.send import SendRequest
    from securemsg.store.contacts import Contacts

# The refusals a new consent from the patient answers (not an exclusion or an
# objection the patient chose: those are theirs to lift, not the sender's to ask).
NEW_CONSENT_ANSWERS = frozenset(
    {
        "no_consent",
        "sender_not_allowed",
        "purpose_not_allowed",
        "recipient_not_allowed",
        "expired",
        "revoked",
        "bound_to_other_letter",
        "domain_not_granted",
    }
)


def grant_command(me: Card, recipients: Sequence[Card], kind: Purpose) -> str:
    """The command the patient runs to consent to this letter."""
    import shlex  # here: only for a letter refused for want of consent

    args = ["securemsg", "consent", "grant", "--from", me.name]
    for card in recipients:
        args += ["--to", card.name]
    args += ["--purpose", kind.value, "-o", f"consent-{kind.value}.cose"]
    return shlex.join(args)


def _how(patient: Card, me: Card, recipients: Sequence[Card], kind: Purpose) -> str:
    return _(
        "{patient} signs it on their own device, with your card and the recipients' "
        "cards as contacts: {command} ; they give you the file, "
        "and you send again with --consent consent-{kind}.cose"
    ).format(patient=patient.name, command=grant_command(me, recipients, kind), kind=kind.value)


def need_basis(req: SendRequest, contacts: Contacts, me: Card, named: Sequence[Card]) -> None:
    """A letter naming its patient, with no basis at all: say whose consent it needs."""
    if req.consent is not None or req.emergency or req.pseudonym is not None:
        return
    if req.patient is None:
        return  # the send rules say what is missing (cli/letters.py words it)
    patient = contacts.find(req.patient).card
    if not patient.profile.role.is_patient:
        return  # refused as not a patient by the send rules
    who = ", ".join(c.name for c in named)
    raise ConsentRefused(
        _(
            "this {value} about {name} needs {name}'s consent: a grant letting you "
            "({name2}) send a {value} to {who}"
        ).format(value=req.kind.value, name=patient.name, name2=me.name, who=who),
        rule="no_consent",
        party=patient.fingerprint,
        hint=_how(patient, me, named, req.kind),
    )


def with_names(message: str, contacts: Contacts, me: Card) -> str:
    """``message`` with the keys of known people (as the consent rules write them,
    core/consent/explain.short_fp) replaced by their names; mine by "you"."""
    for card in [me, *(c.card for c in contacts.all(include_replaced=True))]:
        name = _("you") if card.fingerprint == me.fingerprint else card.name
        sfp = short_fp(card.fingerprint)
        key = {"fingerprint": sfp}
        message = message.replace(_("the practitioner with key {fingerprint}").format(**key), name)
        message = message.replace(
            _("from key {fingerprint}").format(**key), _("from {name}").format(name=name)
        )
        message = message.replace(
            _("signed by key {fingerprint}").format(**key), _("signed by {name}").format(name=name)
        )
        message = message.replace(_("patient key {fingerprint}").format(**key), name)
        message = message.replace(f" ({sfp})", "").replace(sfp, name)
    return message


def named(
    exc: ConsentRefused,
    contacts: Contacts,
    me: Card,
    patient: Card | None,
    kind: Purpose,
    plan: Sequence[tuple[Card, frozenset[Domain]]],
) -> ConsentRefused:
    """``exc`` with people named instead of key fingerprints, and, where a new
    consent is the answer, the command the patient runs to sign it."""
    message = with_names(exc.message, contacts, me)
    hint = exc.hint
    if patient is not None and exc.rule in NEW_CONSENT_ANSWERS:
        recipients = [c for c, _d in plan if c.fingerprint != patient.fingerprint]
        hint = _("a new consent is needed. {how}").format(how=_how(patient, me, recipients, kind))
    return ConsentRefused(message, rule=exc.rule, party=exc.party, hint=hint)
