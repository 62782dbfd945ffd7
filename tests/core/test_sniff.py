"""core/sniff.py on key statements (issue 16): a key succession carries a card
inside it, yet is recognised as a succession (its own type comes first), a key
revocation as a revocation; both name the commands that take them."""

from __future__ import annotations

from securemsg.core.card import Card
from securemsg.core.identity import Profile, Role, SecretIdentity
from securemsg.core.keychange import KeyRevocation, Reason, Succession
from securemsg.core.sniff import COMMANDS, HEAD, FileKind, sniff

NOW = 1_790_000_000


def _card(secret: SecretIdentity) -> Card:
    return Card.sign(secret, Profile(name="Dr Alice Martin", role=Role.GP), NOW)


def test_a_succession_is_a_succession_not_the_card_it_carries() -> None:
    old, new = SecretIdentity.generate(), SecretIdentity.generate()
    succession = Succession.sign(old, new, _card(new), NOW)
    assert sniff(succession.encoded[:HEAD]) is FileKind.KEY_SUCCESSION
    assert sniff(_card(new).encoded[:HEAD]) is FileKind.CARD


def test_a_key_revocation_is_not_a_consent_revocation() -> None:
    rev = KeyRevocation.sign(SecretIdentity.generate(), Reason.COMPROMISED, NOW, None)
    assert sniff(rev.encoded[:HEAD]) is FileKind.KEY_REVOCATION


def test_every_kind_names_its_command() -> None:
    assert set(COMMANDS) == set(FileKind)
    for kind in (FileKind.KEY_SUCCESSION, FileKind.KEY_REVOCATION):
        assert COMMANDS[kind].startswith("securemsg receive {file}")
