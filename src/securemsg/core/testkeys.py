"""PUBLIC TEST KEYS: the demo and test identities published in keys/.

Anyone can read them, so cards made with them carry ``test_key: true`` and a
home with a real identity refuses them as contacts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from securemsg.core.identity import SecretIdentity
from securemsg.errors import FormatError
from securemsg.i18n import _

PREFIX = "SECUREMSG-PUBLIC-TEST-KEY-V1:"
BANNER = (
    "# securemsg PUBLIC TEST KEY. It is published in the securemsg repository:\n"
    "# anyone can sign and decrypt with it. For demos and tests only.\n"
    "# securemsg marks its cards as test keys and real homes refuse them.\n"
)


def derive_test_identity(label: str) -> SecretIdentity:
    """Deterministic keys from a public label (so keys/ can be regenerated)."""
    seed = hashlib.sha512(b"securemsg/public-test-key/v1\x00" + label.encode()).digest()
    return SecretIdentity(seed[:32], seed[32:])


def format_test_key(secret: SecretIdentity) -> str:
    return BANNER + PREFIX + base64.b64encode(secret.to_bytes()).decode() + "\n"


def parse_test_key(text: str) -> SecretIdentity:
    for line in text.splitlines():
        if line.startswith(PREFIX):
            try:
                return SecretIdentity.from_bytes(
                    base64.b64decode(line[len(PREFIX) :], validate=True)
                )
            except (binascii.Error, ValueError) as exc:
                raise FormatError(_("test key file is damaged")) from exc
    raise FormatError(_("not a securemsg public test key file"))
