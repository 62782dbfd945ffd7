"""Letter-bound consent: the prepared draft (docs/format-consent.md §3.1).

1. The practitioner prepares the letter (``send --prepare DRAFT``, the options
   of ``send``): every rule of a send is checked, the message id and each
   item's salt are fixed, and the draft is written encrypted (age) to the
   patient and to the practitioner, never in clear.
2. The patient reviews it (``consent grant --draft DRAFT``): the whole letter,
   every attachment by name, size and domain, who receives what; on
   confirmation the patient signs a grant bound to the letter commitment, which
   the patient's tool recomputes from the content it showed.
3. The practitioner sends exactly that letter (``send --draft DRAFT --consent
   GRANT``). Every recipient recomputes the commitment from the signed manifest
   and refuses a letter whose items or recipients differ (rule
   ``bound_letter_mismatch``).
"""

from __future__ import annotations

import hmac
import io
from collections.abc import Callable
from pathlib import Path

import nacl.utils

from securemsg.app import send as sending
from securemsg.core import age
from securemsg.core.card import Card
from securemsg.core.consent import Grant, Recipient
from securemsg.core.frozen import Frozen, _set
from securemsg.core.identity import KeyHolder
from securemsg.core.letter import compose, policy
from securemsg.core.letter.draft import (
    MAX_DRAFT,
    Draft,
    DraftAttachment,
    Reviewed,
    open_sealed,
    review,
)
from securemsg.core.letter.manifest import ID_BYTES, SALT_BYTES
from securemsg.errors import (
    AgeError,
    DraftNotPreparedHere,
    FormatError,
    NoIdentityMatchError,
    NotForMe,
    UsageError,
)
from securemsg.i18n import _
from securemsg.store import fs
from securemsg.store.contacts import Contacts
from securemsg.store.home import Home
from securemsg.store.mailbox import Mailbox

Lookup = Callable[[str], str | None]
DRAFTS = "drafts"  # in the home: a copy of every draft prepared here (age, as written)


class Prepared(Frozen):
    __slots__ = (  # noqa: RUF023 (field order)
        "draft",
        "reviewed",
        "file",
        "withheld",
    )
    draft: Draft
    reviewed: Reviewed
    file: Path
    withheld: tuple[tuple[str, tuple[str, ...]], ...]

    def __init__(
        self,
        draft: Draft,
        reviewed: Reviewed,
        file: Path,
        withheld: tuple[tuple[str, tuple[str, ...]], ...],
    ) -> None:
        _set(self, "draft", draft)
        _set(self, "reviewed", reviewed)
        _set(self, "file", file)
        _set(self, "withheld", withheld)


class Review(Frozen):
    """What the patient is shown before signing: the draft, its letter, and the
    names this home knows (``known``: fingerprint to contact name)."""

    __slots__ = (  # noqa: RUF023 (field order)
        "draft",
        "reviewed",
        "known",
    )
    draft: Draft
    reviewed: Reviewed
    known: dict[str, str]

    def __init__(self, draft: Draft, reviewed: Reviewed, known: dict[str, str]) -> None:
        _set(self, "draft", draft)
        _set(self, "reviewed", reviewed)
        _set(self, "known", known)

    def name_of(self, card: Card) -> tuple[str, bool]:
        """A recipient's name, and whether it is this home's own (contact or me)."""
        name = self.known.get(card.fingerprint)
        return (name, True) if name is not None else (card.name, False)


# -- 1. prepare (the practitioner) ------------------------------------------------------
def prepare(home: Home, req: sending.SendRequest, output: Path, now: int) -> Prepared:
    if req.patient is None or req.consent is not None or req.emergency or req.pseudonym:
        raise UsageError(
            _(
                "a draft is prepared for a letter on the patient's consent: name "
                "--patient, without --consent, --emergency or --pseudonym"
            )
        )
    patient_query = req.patient
    fs.check_new_file(output)
    box = Mailbox(home)
    req = sending._checked_text(req)
    contacts = Contacts(home)
    named = sending._recipients(contacts, req.to, box.card, now)
    patient = contacts.find(patient_query).card
    policy.check_patient(patient)
    patient.check_current(now)
    policy.check_patient_copy(req.kind, req.phone_call is not None, req.no_patient_copy)
    recipients = policy.all_recipients(named, patient, req.no_patient_copy)
    in_reply_to = sending._reply_to(box, req.reply_to)
    present = frozenset(
        {s.domain for s in req.source.sections} | {a.domain for a in req.attachments}
    )
    plan, withheld = policy.disclosures(present, recipients, None, patient.fingerprint)
    attachments = tuple(_in_memory(a) for a in req.attachments)
    items = len(req.source.sections) + len(attachments)
    salts = tuple(nacl.utils.random(SALT_BYTES) for _ in range(items))
    draft = Draft(
        message_id=nacl.utils.random(ID_BYTES),
        kind=req.kind,
        author=box.card,
        patient=patient,
        recipients=tuple(plan),
        default_subject=req.source.subject,
        source=req.source.raw,
        attachments=attachments,
        salts=salts,
        in_reply_to=in_reply_to,
        phone_call=req.phone_call,
    )
    plaintext = draft.to_bytes()
    if len(plaintext) > MAX_DRAFT:
        raise UsageError(
            _("a draft holds at most {value} MiB of letter and attachments").format(
                value=MAX_DRAFT >> 20
            ),
            hint=_("send large attachments in another letter"),
        )
    out = io.BytesIO()
    age.encrypt(
        [age.X25519Recipient.from_bytes(c.enc_public) for c in (patient, box.card)],
        plaintext,
        out,
    )
    data = out.getvalue()
    _keep(home, draft.message_id, data)
    fs.write_new(output, data)
    return Prepared(draft, review(draft), output, tuple(withheld))


def _in_memory(a: sending.AttachmentFile | sending.AttachmentData) -> DraftAttachment:
    if a.size() > MAX_DRAFT:  # before reading it: a draft is held in memory
        raise UsageError(
            _("{name} is larger than a draft holds ({value} MiB)").format(
                name=a.name, value=MAX_DRAFT >> 20
            ),
            hint=_("send large attachments in another letter"),
        )
    data = b"".join(a.chunks())
    if len(data) > MAX_DRAFT:  # it grew while being read
        raise UsageError(
            _("{name} is larger than a draft holds ({value} MiB)").format(
                name=a.name, value=MAX_DRAFT >> 20
            )
        )
    return DraftAttachment(a.name, a.domain, data)


def _kept(home: Home, message_id: bytes) -> Path:
    return home.path / DRAFTS / f"{message_id.hex()}.draft"


def _keep(home: Home, message_id: bytes, data: bytes) -> None:
    """The draft as written (encrypted), kept in the home: ``send --draft`` sends
    only a draft identical to one prepared here (a draft is not signed, and age
    does not say who encrypted a file: the patient, or anyone with my card,
    can write a "draft" naming me, encrypted to my key)."""
    fs.ensure_private_dir(home.path / DRAFTS)
    fs.atomic_write(_kept(home, message_id), data)


def _check_prepared_here(home: Home, draft: Draft, data: bytes, path: Path) -> None:
    try:
        kept = _kept(home, draft.message_id).read_bytes()
    except FileNotFoundError:
        kept = None
    if kept is None or not hmac.compare_digest(kept, data):
        raise DraftNotPreparedHere(
            _(
                "{path} is not a draft prepared in this home, or it was changed since: "
                "nothing was sent"
            ).format(path=path),
            hint=_(
                "send the draft file that `send --prepare` wrote here; a draft given back "
                "to you may have been rewritten (prepare the letter again if in doubt)"
            ),
        )


# -- opening a draft ---------------------------------------------------------------------
def _read(path: Path) -> bytes:
    with path.open("rb") as fh:
        data = fh.read(MAX_DRAFT + (1 << 20) + 1)
    if len(data) > MAX_DRAFT + (1 << 20):
        raise FormatError(_("{path} is too large to be a draft").format(path=path))
    return data


def open_draft(path: Path, secret: KeyHolder, data: bytes | None = None) -> Draft:
    """The draft in ``path`` (or its bytes ``data``, read from it), decrypted with
    my key and read strictly."""
    if data is None:
        data = _read(path)
    try:
        return open_sealed(data, secret.share_opener())
    except NoIdentityMatchError as exc:
        raise NotForMe(
            _("{path} is not a draft encrypted to you").format(path=path),
            hint=_("only the patient of the draft and its author can open it"),
        ) from exc
    except AgeError as exc:
        raise FormatError(
            _("{path} is not a readable draft: {message}").format(path=path, message=exc.message)
        ) from exc


# -- 2. review and sign (the patient) ---------------------------------------------------
def grant_from_draft(
    home: Home,
    me: Card,
    path: Path,
    valid_for: int,
    output: Path,
    now: int,
    confirm: Callable[[Review], bool],
) -> Grant | None:
    """Show the draft (``confirm``), then sign a grant bound to its letter
    commitment; None if the patient declined."""
    fs.check_new_file(output)
    secret = home.unlock()
    draft = open_draft(path, secret)
    if draft.patient.fingerprint != me.fingerprint:
        raise UsageError(_("this draft is about another patient, not you"))
    contacts = Contacts(home)
    author = contacts.get(draft.author.fingerprint)
    if author is None or author.card.profile.role.is_patient:
        raise UsageError(
            _(
                "the draft was prepared by {name}, who is not one of your practitioner contacts"
            ).format(name=draft.author.name),
            hint=_("add their card first (securemsg contacts add FILE), after checking it"),
        )
    author.card.check_current(now)
    known = {c.fingerprint: c.name for c in contacts.all()}
    known[me.fingerprint] = me.name
    reviewed = review(draft)
    if not confirm(Review(draft, reviewed, known)):
        return None
    others = [(c, d) for c, d in draft.recipients if c.fingerprint != me.fingerprint]
    if not others:
        raise UsageError(_("the draft is addressed to you alone: it needs no consent"))
    domains = frozenset().union(*(d for _c, d in others))
    return Grant.sign(
        secret,
        me,
        sender_fp=draft.author.fingerprint,
        recipients=[Recipient(fp=c.fingerprint) for c, _d in others],
        purpose=draft.kind,
        now=now,
        domains=domains,
        valid_for=valid_for,
        commitment=reviewed.commitment,
    )


# -- 3. send (the practitioner) ---------------------------------------------------------
def send_draft(
    home: Home,
    path: Path,
    consent: bytes,
    out_dir: Path | None,
    drop: Path | None,
    now: int,
) -> sending.SendResult:
    """Send exactly the prepared letter, under the grant the patient signed for it."""
    data = _read(path)
    draft = open_draft(path, home.unlock(), data)
    if draft.author.fingerprint != home.card().fingerprint:
        raise UsageError(_("this draft was prepared by someone else; only its author sends it"))
    _check_prepared_here(home, draft, data, path)
    reviewed = review(draft)
    patient_fp = draft.patient.fingerprint
    req = sending.SendRequest(
        source=reviewed.source,
        to=[c.fingerprint for c, _d in draft.recipients if c.fingerprint != patient_fp],
        kind=draft.kind,
        patient=patient_fp,
        consent=consent,
        attachments=[sending.AttachmentData(a.name, a.domain, a.data) for a in draft.attachments],
        reply_to=draft.in_reply_to.hex() if draft.in_reply_to is not None else None,
        phone_call=draft.phone_call,
        no_patient_copy=not draft.patient_copy,
        out_dir=out_dir,
        drop=drop,
        draft=sending.FromDraft(
            compose.Fixed(draft.message_id, draft.salts),
            tuple(item for item, _out in reviewed.items),
        ),
    )
    return sending.send(home, req, now)
