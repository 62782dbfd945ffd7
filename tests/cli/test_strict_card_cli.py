"""Issue 11, item 11, through the installed executable: a card whose COSE
protected header says ``true`` where the label 1 (alg) is required, or whose
algorithm is ``-8.0``, is refused by ``contacts add`` as malformed (exit 3),
and the home is unchanged. Each card is otherwise valid: correctly self-signed
under that very header, so it used to be accepted (``True == 1`` in Python).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cbor2
import pytest

from clirun import run_cli
from securemsg.core import cbor, cose, labels
from securemsg.core.card import Card
from securemsg.core.fingerprint import fingerprint
from securemsg.core.identity import Profile, Role, SecretIdentity

HEADERS: dict[str, Any] = {
    "true-for-alg-label": lambda kid: {True: -8, 3: labels.COSE_CARD, 4: kid},
    "alg-as-float": lambda kid: {1: -8.0, 3: labels.COSE_CARD, 4: kid},
}


def _card(tmp_path: Path, header: Any) -> tuple[Path, Card]:
    secret = SecretIdentity.generate()
    card = Card.sign(secret, Profile("Dr Bob Durand", Role.SPECIALIST), int(time.time()) - 60)
    payload = cose.parse(card.encoded).payload
    protected = cbor2.dumps(header(fingerprint(secret.sign_public)), canonical=True)
    sig = secret.signing_key.sign(cose.sig_structure(protected, payload)).signature
    data = cbor.dumps(cbor2.CBORTag(cose.COSE_SIGN1_TAG, [protected, {}, payload, sig]))
    path = tmp_path / "bob.card"
    path.write_bytes(data)
    return path, card


@pytest.mark.parametrize("case", sorted(HEADERS))
def test_card_with_a_non_integer_cose_label_refused(
    tmp_path: Path, make_home, snapshot, case: str
) -> None:
    home = make_home("Dr Alice Martin", "gp")
    path, card = _card(tmp_path, HEADERS[case])
    before = snapshot(home)
    res = run_cli(home, "--json", "contacts", "add", path, executable=True)
    assert res.exit_code == 3, (res.stdout, res.stderr)
    err = res.error_json()
    assert err["error"] == "malformed", err
    assert "protected header" in err["message"] or "floating-point" in err["message"], err
    assert snapshot(home) == before

    # the same card with the integer labels is accepted
    good = tmp_path / "good.card"
    good.write_bytes(card.encoded)
    res = run_cli(home, "--json", "contacts", "add", good, executable=True)
    assert res.exit_code == 0, res.stderr
    assert res.json()["status"] == "added"
