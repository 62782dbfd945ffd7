"""Public cards: a profile and both public keys, signed by the signing key.

Binary form: a COSE_Sign1 (type ``labels.COSE_CARD``) whose payload is the
canonical CBOR map described in docs/format.md §Card. Text form: the binary
form in base64 between ``-----BEGIN SECUREMSG CARD-----`` lines, after
informational ``Key: value`` lines that are checked against the payload.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

import nacl.signing

from securemsg.core import labels, names, signed
from securemsg.core.fingerprint import fingerprint, format_fingerprint
from securemsg.core.frozen import Frozen, _set
from securemsg.core.identity import KeyHolder, Profile
from securemsg.core.times import shown_day
from securemsg.core.x25519_point import is_low_order
from securemsg.errors import ExpiredError, FormatError
from securemsg.i18n import N_, _

CARD_VERSION = 1
DEFAULT_VALIDITY_DAYS = 2 * 365
BEGIN = "-----BEGIN SECUREMSG CARD-----"
END = "-----END SECUREMSG CARD-----"
MAX_CARD_TEXT = 64 * 1024
EXPIRY_WARNING_DAYS = 60  # own card and contacts: warned about this long before expiry
RENEW_GRACE_DAYS = 30  # card renew: allowed up to this long after expiry (docs/cli.md)
MAX_VALIDITY_DAYS = 3 * 365


def _kid_mismatch(kind: signed.Kind, kid: bytes, signer: signed.Signer) -> FormatError:
    return FormatError(_("card: key id does not match the signing key"))


CARD = signed.Kind(
    labels.COSE_CARD,
    N_("card"),
    required=("profile", "sign_key", "enc_key", "created", "expires"),
    optional=("test_key",),
    wrong_signer=_kid_mismatch,
)


class Card(Frozen, signed.Signed):
    """A verified card. Obtain one with :meth:`sign`, :meth:`verify` or :meth:`parse`.

    A frozen value (core.frozen: no dataclass on whoami's import path)."""

    __slots__ = (  # noqa: RUF023 (field order)
        "profile",
        "sign_public",
        "enc_public",
        "created",
        "expires",
        "test_key",
        "encoded",
    )
    profile: Profile
    sign_public: bytes
    enc_public: bytes
    created: int
    expires: int
    test_key: bool
    encoded: bytes  # the exact COSE_Sign1 bytes

    def __init__(
        self,
        profile: Profile,
        sign_public: bytes,
        enc_public: bytes,
        created: int,
        expires: int,
        test_key: bool,
        encoded: bytes,
    ) -> None:
        _set(self, "profile", profile)
        _set(self, "sign_public", sign_public)
        _set(self, "enc_public", enc_public)
        _set(self, "created", created)
        _set(self, "expires", expires)
        _set(self, "test_key", test_key)
        _set(self, "encoded", encoded)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.sign_public).hex()

    @property
    def display_fingerprint(self) -> str:
        return format_fingerprint(self.fingerprint)

    @property
    def name(self) -> str:
        return self.profile.name

    def verify_key(self) -> nacl.signing.VerifyKey:
        return nacl.signing.VerifyKey(self.sign_public)

    def is_expired(self, now: int) -> bool:
        return now >= self.expires

    def check_current(self, now: int) -> None:
        if now < self.created - 300:
            raise ExpiredError(
                _("the card of {name} is dated in the future").format(name=self.name)
            )
        if self.is_expired(now):
            raise ExpiredError(
                _("the card of {name} expired on {expires}").format(
                    name=self.name, expires=shown_day(self.expires)
                ),
                hint=_("ask them for their current card (securemsg card export)"),
            )

    def days_left(self, now: int) -> int:
        """Days until expiry, rounded up (0 or less once expired)."""
        return -((now - self.expires) // 86400)

    def expiry_state(self, now: int) -> str | None:
        """ "expired", "expires_soon" (within EXPIRY_WARNING_DAYS) or None."""
        if self.is_expired(now):
            return "expired"
        if self.expires - now <= EXPIRY_WARNING_DAYS * 86400:
            return "expires_soon"
        return None

    def renewed(self, secret: KeyHolder, now: int, validity_days: int) -> Card:
        """The same card (profile, keys, test-key mark) re-signed with a new
        validity from ``now`` (docs/cli.md, "card renew"): a renewal is a card
        whose only change is its dates, which contacts accept silently. Its
        ``created`` is always later than this card's (contacts take only a later
        card), even when renewed within the same second."""
        if secret.sign_public != self.sign_public or secret.enc_public != self.enc_public:
            raise FormatError(_("card: these private keys are not this card's"))
        if not 1 <= validity_days <= MAX_VALIDITY_DAYS:
            raise FormatError(
                _("card: validity must be 1 to {MAX_VALIDITY_DAYS} days").format(
                    MAX_VALIDITY_DAYS=MAX_VALIDITY_DAYS
                )
            )
        when = max(now, self.created + 1)
        return Card.sign(secret, self.profile, when, validity_days, test_key=self.test_key)

    @classmethod
    def sign(
        cls,
        secret: KeyHolder,
        profile: Profile,
        now: int,
        validity_days: int = DEFAULT_VALIDITY_DAYS,
        test_key: bool = False,
    ) -> Card:
        payload: dict[str, Any] = {
            "v": CARD_VERSION,
            "profile": profile.to_cbor(),
            "sign_key": secret.sign_public,
            "enc_key": secret.enc_public,
            "created": now,
            "expires": now + validity_days * 86400,
        }
        if test_key:
            payload["test_key"] = True
        return cls.verify(signed.sign(secret, CARD, payload))

    @classmethod
    def verify(cls, data: bytes) -> Card:
        """Parse and verify the self-signature (not the expiry: see check_current).

        The order of docs/format.md §5.3: the payload names the signer's key, so
        it is read before the kid and the signature are checked (core.signed)."""
        obj = signed.Unverified(data, CARD)
        p = obj.payload()
        sk, ek = p.bstr("sign_key", 32), p.bstr("enc_key", 32)
        if is_low_order(ek):  # would make every letter to this card readable
            raise FormatError(_("card: the encryption key is a point of small order"))
        created, expires = p.time("created"), p.time("expires")
        if not created < expires:
            raise FormatError(_("card: expires must come after created"))
        if "test_key" in p and p.raw("test_key") is not True:
            raise FormatError(_("card: test_key must be true when present"))
        obj.check(signed.Key(sk))
        return cls(
            profile=Profile.from_cbor(p.raw("profile")),
            sign_public=sk,
            enc_public=ek,
            created=created,
            expires=expires,
            test_key="test_key" in p,
            encoded=data,
        )

    def to_text(self) -> str:
        b64 = base64.b64encode(self.encoded).decode()
        lines = [BEGIN, *self._info_lines(), ""]
        lines += [b64[i : i + 64] for i in range(0, len(b64), 64)]
        lines.append(END)
        return "\n".join(lines) + "\n"

    def _info_lines(self) -> list[str]:
        p = self.profile
        out = [f"Name: {p.name}", f"Role: {p.role.value}"]
        if p.specialty:
            out.append(f"Specialty: {p.specialty}")
        out.append(f"Fingerprint: {self.display_fingerprint}")
        out.append(f"Expires: {iso_day(self.expires)}")
        if self.test_key:
            out.append("Warning: PUBLIC TEST KEY - not for real use")
        return out

    @classmethod
    def parse(cls, data: bytes | str) -> Card:
        """Accept the text form (as mailed or pasted) or the binary form."""
        if isinstance(data, bytes):
            if len(data) > MAX_CARD_TEXT:
                raise FormatError(_("card: file is too large to be a card"))
            if BEGIN.encode() not in data:
                return cls.verify(data)
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise FormatError(_("card: text form is not UTF-8")) from exc
        return cls._parse_text(data)

    @classmethod
    def _parse_text(cls, text: str) -> Card:
        if len(text) > MAX_CARD_TEXT:
            raise FormatError(_("card: text is too large to be a card"))
        lines = [ln.strip() for ln in text.replace("\r\n", "\n").split("\n")]
        # Mail clients quote with "> "; strip one level of quoting.
        lines = [ln[1:].strip() if ln.startswith(">") else ln for ln in lines]
        try:
            start, end = lines.index(BEGIN), lines.index(END)
        except ValueError as exc:
            raise FormatError(
                _("card: no BEGIN/END SECUREMSG CARD lines found"),
                hint=_("paste the whole card, from -----BEGIN to -----END"),
            ) from exc
        body = lines[start + 1 : end]
        info: dict[str, str] = {}
        if "" in body:  # informational lines, a blank line, then the base64 body
            split = body.index("")
            for line in body[:split]:
                key, sep, value = line.partition(":")
                if not sep:
                    raise FormatError(
                        _("card: unexpected line {line!r} before the body").format(line=line[:40])
                    )
                info[key.strip().lower()] = value.strip()
            body = body[split + 1 :]
        b64 = "".join(body)
        try:
            raw = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise FormatError(_("card: the body is not valid base64")) from exc
        if base64.b64encode(raw).decode() != b64:  # unused bits set: another text, same bytes
            raise FormatError(_("card: the body is not in canonical base64"))
        card = cls.verify(raw)
        if "fingerprint" in info and info["fingerprint"].replace(" ", "") != card.fingerprint:
            raise FormatError(_("card: the Fingerprint line does not match the signed keys"))
        expected = {
            key.lower(): value.strip()
            for key, _sep, value in (line.partition(":") for line in card._info_lines())
        }
        for key, value in info.items():
            if key not in expected:  # e.g. "Nаme:" with a Cyrillic a, shown but never checked
                raise FormatError(
                    _("card: unknown line {key!r} before the body").format(key=key[:20]),
                    hint=_("the text around the card was edited; ask for the card again"),
                )
            if key != "fingerprint" and value != expected[key]:
                raise FormatError(
                    _("card: the {capitalize} line does not match the signed card").format(
                        capitalize=key.capitalize()
                    ),
                    hint=_("the text around the card was edited; ask for the card again"),
                )
        return card


def iso_day(ts: int) -> str:
    from securemsg.core.times import LAST  # a card may say "until 36812": written as LAST

    return dt.datetime.fromtimestamp(min(max(ts, 0), LAST), tz=dt.UTC).date().isoformat()


def same_patient(a: Card, b: Card) -> bool:
    """Whether two patient cards name the same person (INS, else name + birth date)."""
    if not (a.profile.role.is_patient and b.profile.role.is_patient):
        return False
    if a.profile.ins and b.profile.ins:
        return a.profile.ins == b.profile.ins
    return (
        names.match_key(a.name) == names.match_key(b.name)
        and a.profile.birth_date == b.profile.birth_date
    )
