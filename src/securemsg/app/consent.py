"""The patient's consent, as use cases: sign a grant, a revocation or an
objection (the patient), and verify, explain, check, record and list the
objects patients signed (anyone).

Every refusal is core's (core/consent/check.py), in core's words: a grant
shown here is judged by the same :func:`check_consent` a send runs.

Long file: signing (with the grant drafted before the patient confirms it),
finding a grant by id, naming who must get a revocation or objection, and
verifying and recording share the helpers above (lookups, bounded reads, the
status of a grant); split them out if the consent use cases grow again.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path

from securemsg.core.card import Card
from securemsg.core.consent import (
    Basis,
    ConsentObject,
    Decision,
    Disclosure,
    Grant,
    LetterFacts,
    Objection,
    Recipient,
    Revocation,
    allowed_domains,
    check_consent,
    common,
    grant_status,
    short_fp,
)
from securemsg.core.domains import Domain, Purpose
from securemsg.core.frozen import Frozen, _set
from securemsg.core.identity import Role
from securemsg.errors import (
    AmbiguousId,
    FormatError,
    NotFoundError,
    UsageError,
    VerificationError,
)
from securemsg.i18n import N_, _
from securemsg.store import fs
from securemsg.store.consents import ConsentStore
from securemsg.store.contacts import Contacts
from securemsg.store.fs import write_new
from securemsg.store.home import Home

MAX_CONSENT_FILE = 64 * 1024
Lookup = Callable[[str], str | None]


class Status(enum.Enum):
    """A grant as of now (revocations, objections: always VALID)."""

    VALID = "valid"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    REVOKED = "revoked"


class ImportStatus(enum.Enum):
    ADDED = "added"
    UNCHANGED = "unchanged"  # recorded before


class ConsentInfo(Frozen):
    """A verified consent object, with what this home knows of it."""

    __slots__ = (  # noqa: RUF023 (field order)
        "obj",
        "card",
        "status",
        "recorded",
        "lookup",
        "file",
        "decision",
    )
    obj: ConsentObject
    card: Card  # the patient who signed it
    status: Status
    recorded: bool  # kept in this home's consent store
    lookup: Lookup  # a fingerprint's name, if it is mine or a contact's
    file: Path | None  # where a new object was written
    decision: Decision | None  # the check of a letter, when asked

    def __init__(
        self,
        obj: ConsentObject,
        card: Card,
        status: Status,
        recorded: bool,
        lookup: Lookup,
        file: Path | None = None,
        decision: Decision | None = None,
    ) -> None:
        _set(self, "obj", obj)
        _set(self, "card", card)
        _set(self, "status", status)
        _set(self, "recorded", recorded)
        _set(self, "lookup", lookup)
        _set(self, "file", file)
        _set(self, "decision", decision)


class Imported(Frozen):
    __slots__ = ("info", "status")
    info: ConsentInfo
    status: ImportStatus

    def __init__(self, info: ConsentInfo, status: ImportStatus) -> None:
        _set(self, "info", info)
        _set(self, "status", status)


class LetterQuery(Frozen):
    """``consent show --sender/--recipient/--purpose/--domain/--letter``: the
    facts of a letter to check a grant against, as given (contacts by name)."""

    __slots__ = (  # noqa: RUF023 (field order)
        "sender",
        "recipients",
        "purpose",
        "domains",
        "letter",
    )
    sender: str | None
    recipients: tuple[str, ...]
    purpose: str | None
    domains: tuple[str, ...]
    letter: Path | None

    def __init__(
        self,
        sender: str | None,
        recipients: tuple[str, ...],
        purpose: str | None,
        domains: tuple[str, ...],
        letter: Path | None,
    ) -> None:
        _set(self, "sender", sender)
        _set(self, "recipients", recipients)
        _set(self, "purpose", purpose)
        _set(self, "domains", domains)
        _set(self, "letter", letter)


# -- helpers ------------------------------------------------------------------------
def lookup_of(home: Home) -> Lookup:
    me = home.card()
    names = {c.fingerprint: c.name for c in Contacts(home).all(include_replaced=True)}
    names[me.fingerprint] = me.name
    return names.get


def require_patient(home: Home) -> Card:
    """My card, if I am a patient: only a patient grants, revokes or objects."""
    me = home.card()
    common.require_patient(me, mine=True)
    return me


def check_new_file(path: Path) -> None:
    """A signed object is never written over a file (nor over a link)."""
    fs.check_new_file(path)


def read_limited(path: Path, limit: int, what: str) -> bytes:
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise FormatError(_("{path} is too large to be a {what}").format(path=path, what=_(what)))
    return data


def resolve_recipient(home: Home, value: str) -> Recipient:
    """A role name (any practitioner of that role) or a practitioner contact."""
    if value.strip().lower() in {r.value for r in Role}:
        return Recipient(role=Role.parse(value))
    contact = Contacts(home).find(value)
    if contact.card.profile.role.is_patient:
        raise UsageError(
            _("{name} is a patient; a consent names practitioners").format(name=contact.name)
        )
    return Recipient(fp=contact.fingerprint)


def status_of(store: ConsentStore, obj: ConsentObject, now: int) -> Status:
    if isinstance(obj, Grant):
        return Status(grant_status(obj, store.revocations_for(obj.patient_fp), now))
    return Status.VALID


def _info(home: Home, store: ConsentStore, obj: ConsentObject, card: Card, now: int) -> ConsentInfo:
    return ConsentInfo(obj, card, status_of(store, obj, now), True, lookup_of(home))


# -- signing (the patient) ----------------------------------------------------------
def write_and_keep(home: Home, obj: ConsentObject, output: Path, now: int) -> ConsentInfo:
    check_new_file(output)
    write_new(output, obj.encoded)
    store = ConsentStore(home)
    store.record(obj.encoded, now, origin="signed")
    info = _info(home, store, obj, home.card(), now)
    return ConsentInfo(info.obj, info.card, info.status, True, info.lookup, file=output)


def explain_draft(home: Home, obj: Grant) -> ConsentInfo:
    """A grant signed in memory, not written nor kept, to be shown before the
    patient confirms it."""
    return ConsentInfo(obj, home.card(), Status.VALID, False, lookup_of(home))


def draft_grant(
    home: Home,
    me: Card,
    *,
    sender: str,
    to: tuple[str, ...],
    purpose: Purpose,
    domains: list[Domain] | None,
    exclude: list[Domain],
    valid_for: int,
    now: int,
) -> Grant:
    """The grant signed in memory: nothing is written or kept (:func:`write_and_keep`
    does, after the patient confirmed). Without ``domains``, every care domain
    but those excluded and but the insurance domain (what the social-security
    medical adviser is told): that one only when the patient names it (R3)."""
    if domains is None:
        domains = [d for d in Domain if d is not Domain.INSURANCE and d not in exclude]
    secret = home.unlock()
    sender_contact = Contacts(home).find(sender)
    if sender_contact.card.profile.role.is_patient:
        raise UsageError(
            _("{name} is a patient; the sender is a practitioner").format(name=sender_contact.name)
        )
    recipients = [resolve_recipient(home, t) for t in to]
    signed = Grant.sign(
        secret,
        me,
        sender_fp=sender_contact.fingerprint,
        recipients=recipients,
        purpose=purpose,
        domains=domains,
        exclude=exclude,
        now=now,
        valid_for=valid_for,
    )
    return signed


MIN_GRANT_PREFIX = 6


def my_grant(home: Home, me: Card, ref: str) -> Grant:
    """A grant I signed, by its file or its id (32 hex digits, or a unique prefix of
    :data:`MIN_GRANT_PREFIX` or more, as ``consent list`` shows it)."""
    path = Path(ref)
    if path.is_file():
        return Grant.verify(read_limited(path, MAX_CONSENT_FILE, N_("consent grant")), me)
    prefix = ref.strip().lower()
    if len(prefix) < MIN_GRANT_PREFIX or any(c not in "0123456789abcdef" for c in prefix):
        raise UsageError(
            _("{ref!r} is neither a grant file nor a grant id").format(ref=ref),
            hint=_(
                "give the grant's file, or its id (at least {MIN_GRANT_PREFIX} hex "
                "digits) as `securemsg consent list` shows it"
            ).format(MIN_GRANT_PREFIX=MIN_GRANT_PREFIX),
        )
    mine = {
        s.obj.id_hex: s.obj
        for s in ConsentStore(home).all()
        if isinstance(s.obj, Grant) and s.obj.patient_fp == me.fingerprint
    }
    found = sorted(i for i in mine if i.startswith(prefix))
    if not found:
        raise NotFoundError(
            _("no grant {prefix} signed by you is recorded here").format(prefix=prefix),
            hint=_("see `securemsg consent list`, or give the grant's file"),
        )
    if len(found) > 1:
        raise AmbiguousId(
            _("{prefix} is the start of {count} grant ids: {found}").format(
                prefix=prefix, count=len(found), found=", ".join(found)
            ),
            hint=_("give more of its digits"),
        )
    return mine[found[0]]


def concerned(home: Home, obj: ConsentObject) -> list[str]:
    """Who must get a revocation or objection, by name: a revocation, the grant's
    sender and every recipient it names; an objection, the one objected to."""
    lookup = lookup_of(home)
    store = ConsentStore(home)
    if isinstance(obj, Revocation):
        grants = [s.obj for s in store.all() if isinstance(s.obj, Grant)]
        g = next((x for x in grants if x.id == obj.grant_id), None)
        if g is None:
            return []
        people = [lookup(g.sender_fp) or short_fp(g.sender_fp)]
        people += [r.describe(lookup) for r in g.recipients]
        return people
    if isinstance(obj, Objection):
        return [obj.target.describe(lookup)]
    return []


def revoke(home: Home, me: Card, grant_file: Path | str, output: Path, now: int) -> ConsentInfo:
    """Withdraw a grant ``me`` signed (its file or id); the grant is kept too."""
    withdrawn = my_grant(home, me, str(grant_file))
    secret = home.unlock()
    store = ConsentStore(home)
    store.record(withdrawn.encoded, now, origin="signed")
    return write_and_keep(home, Revocation.sign(secret, me, withdrawn, now), output, now)


def object_to(
    home: Home,
    me: Card,
    to: str | None,
    output: Path,
    now: int,
    by_rpps: tuple[str, str] | None = None,
) -> ConsentInfo:
    """Object to a recipient (a contact or a role; or, ``by_rpps``, a practitioner
    the patient knows by name and RPPS number, whose card she need not hold)
    being informed about ``me``."""
    secret = home.unlock()
    if by_rpps is not None:
        name, rpps = by_rpps
        target = Recipient(rpps=rpps.strip(), name=name)
    elif to is not None:
        target = resolve_recipient(home, to)
    else:
        raise UsageError(_("name who must not be told: --to CONTACT|ROLE, or --name and --rpps"))
    return write_and_keep(home, Objection.sign(secret, me, target, now), output, now)


# -- verifying, checking, recording (anyone) ------------------------------------------
def show(home: Home, file: Path, now: int, query: LetterQuery | None = None) -> ConsentInfo:
    """Verify ``file`` against its patient's card; with ``query``, check whether
    a letter with those facts would be allowed, exactly as sending would."""
    store = ConsentStore(home)
    obj, card = store.verify(read_limited(file, MAX_CONSENT_FILE, N_("consent object")))
    info = ConsentInfo(
        obj, card, status_of(store, obj, now), store.is_recorded(obj), lookup_of(home)
    )
    if query is None:
        return info
    if not isinstance(obj, Grant):
        raise UsageError(_("only a grant can be checked against a letter"))
    if query.letter is not None:
        raise UsageError(
            _(
                "--letter is no longer supported: a grant is bound to a prepared letter "
                "(its items and recipients), not to a Markdown text"
            ),
            hint=_("a letter-bound grant is checked when its draft is sent (send --draft)"),
        )
    decision = _check(home, obj, card, store, now, query)
    return ConsentInfo(info.obj, card, info.status, info.recorded, info.lookup, decision=decision)


def _check(
    home: Home, grant: Grant, card: Card, store: ConsentStore, now: int, q: LetterQuery
) -> Decision:
    book = Contacts(home)
    sender_fp = book.find(q.sender).fingerprint if q.sender else home.card().fingerprint
    disclosures = []
    for query in q.recipients:
        c = book.find(query)
        role = c.card.profile.role
        doms = frozenset(Domain.parse(d) for d in q.domains) or allowed_domains(
            grant, c.fingerprint, role, grant.patient_fp
        )
        disclosures.append(Disclosure(c.fingerprint, role, doms, c.name, rpps=c.card.profile.rpps))
    facts = LetterFacts(
        sender_fp=sender_fp,
        patient_fp=card.fingerprint,
        purpose=Purpose.parse(q.purpose) if q.purpose else grant.purpose,
        disclosures=tuple(disclosures),
        letter_digest=None,
        date=now,
        basis=Basis.CONSENT,
        patient_identifiers_present=True,
    )
    return check_consent(
        facts,
        card,
        grant.encoded,
        store.revocations_for(card.fingerprint),
        store.objections_for(card.fingerprint),
        now,
    )


def refuse_unusable(home: Home, info: ConsentInfo, now: int) -> None:
    """Raise core's refusal for a grant that allows nothing now (revoked,
    expired, not yet valid): :func:`check_consent` on a letter of its own
    sender and purpose, to no one."""
    grant = info.obj
    if not isinstance(grant, Grant) or info.status is Status.VALID:
        return
    facts = LetterFacts(
        sender_fp=grant.sender_fp,
        patient_fp=info.card.fingerprint,
        purpose=grant.purpose,
        disclosures=(),
        letter_digest=grant.letter_digest,
        date=now,
        basis=Basis.CONSENT,
        patient_identifiers_present=True,
    )
    revocations = ConsentStore(home).revocations_for(info.card.fingerprint)
    check_consent(facts, info.card, grant.encoded, revocations, [], now)


def record(home: Home, file: Path, now: int, card_file: Path | None = None) -> Imported:
    """Verify a grant, revocation or objection signed by a patient who is a
    contact (or me), and keep it. A revocation or an objection (they only
    restrict) may also be signed by a patient unknown here: ``card_file`` is
    their card, checked current and no public test key in a real home."""
    store = ConsentStore(home)
    carried = None
    if card_file is not None:
        carried = Card.parse(read_limited(card_file, MAX_CONSENT_FILE, N_("patient card")))
        carried.check_current(now)
        if carried.test_key and not home.card().test_key:
            raise VerificationError(
                _("the card of {name} belongs to a PUBLIC TEST KEY").format(name=carried.name),
                hint=_("anyone can sign with a test key; ask the patient for their real card"),
            )
    data = read_limited(file, MAX_CONSENT_FILE, N_("consent object"))
    result = store.record(data, now, carried=carried)
    s = result.stored
    return Imported(_info(home, store, s.obj, s.patient_card, now), ImportStatus(result.status))


def list_all(home: Home, now: int) -> list[ConsentInfo]:
    """Grants, revocations and objections known here, oldest first."""
    store = ConsentStore(home)
    lookup = lookup_of(home)
    return [
        ConsentInfo(s.obj, s.patient_card, status_of(store, s.obj, now), True, lookup)
        for s in store.all()
    ]
