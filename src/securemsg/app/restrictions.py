"""The revocations and objections that apply to a letter received here.

Issue 11, items 2 and 6: they are kept by key and by patient identity, and
applied to every letter about that patient whatever key it names (they only
restrict, so a statement signed with any key of the same person counts); an
objection against a practitioner follows them across key replacement (the
contact's key history, ``replaces`` / ``replaced_by``) and to any card of
theirs with the same RPPS number.

Each applicable statement is handed to the consent check (core/consent/check.py)
as if the patient of the letter had signed it, and each objection once per key
of the practitioner it names.
"""

from __future__ import annotations

from securemsg.core.card import Card
from securemsg.core.consent import Objection, Recipient, Revocation
from securemsg.core.frozen import replace
from securemsg.store.consents import ConsentStore
from securemsg.store.contacts import Contact, Contacts
from securemsg.store.mailbox import Mailbox


def restrictions(
    box: Mailbox, patient_fp: str | None, patient: Card | None
) -> tuple[list[Revocation], list[Objection]]:
    if patient_fp is None:
        return [], []
    store = ConsentStore(box.home)
    revs: list[Revocation] = list(store.revocations_for(patient_fp))
    objs: list[Objection] = list(store.objections_for(patient_fp))
    if patient is not None and patient.profile.role.is_patient:
        seen = {o.encoded for o in [*revs, *objs]}
        for s in store.restricting(patient):
            obj = s.obj
            if obj.encoded in seen:
                continue
            if isinstance(obj, Revocation):
                revs.append(replace(obj, patient_fp=patient_fp))
            elif isinstance(obj, Objection):
                objs.append(replace(obj, patient_fp=patient_fp))
    return revs, follow_practitioners(Contacts(box.home), objs)


def follow_practitioners(book: Contacts, objections: list[Objection]) -> list[Objection]:
    """Each objection naming a key, also for every other key of the same person."""
    if not any(o.target.fp for o in objections):
        return objections
    everyone = book.all(include_replaced=True)
    out = list(objections)
    for o in objections:
        if o.target.fp is None:
            continue
        for fp in sorted(keys_of(everyone, o.target.fp) - {o.target.fp}):
            out.append(replace(o, target=Recipient(fp=fp)))
    return out


def keys_of(everyone: list[Contact], fp: str) -> set[str]:
    """The keys of the person ``fp`` names: the replacement chain both ways, and
    every card with the same RPPS number as one of them."""
    by_fp = {c.fingerprint: c for c in everyone}
    keys = {fp}
    todo = [fp]
    while todo:
        c = by_fp.get(todo.pop())
        if c is None:
            continue
        linked = {c.replaced_by, c.replaces}
        linked |= {x.fingerprint for x in everyone if x.replaces == c.fingerprint}
        linked |= {x.fingerprint for x in everyone if x.replaced_by == c.fingerprint}
        rpps = c.card.profile.rpps
        if rpps:
            linked |= {x.fingerprint for x in everyone if x.card.profile.rpps == rpps}
        for k in linked:
            if k is not None and k not in keys:
                keys.add(k)
                todo.append(k)
    return keys
