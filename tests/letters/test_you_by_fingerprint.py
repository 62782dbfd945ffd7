"""Issue 12, item 10: "you" is decided by fingerprint, never by a name.

The patient's inbox has a "Sent to" column: who else received each letter,
without the patient. A correspondent whose card name ends in "(you)" (here the
nurse, with her own valid key) used to vanish from that column, since the
patient was recognised by the "(you)" the listing appends to its own name.
The listing runs through the installed ``securemsg`` executable.
"""

from __future__ import annotations

import re
import time

from letterworld import World

from securemsg.core.card import Card
from securemsg.core.identity import Profile, Role


def test_a_contact_named_you_is_shown_in_sent_to(world: World) -> None:
    # the nurse re-issues her card (same key, later date) under a name ending in "(you)":
    # a change of name on a known key is a key change, accepted with --replace (issue 11)
    renamed = Card.sign(
        world.secret("nurse"),
        Profile("Claire Petit (you)", Role.NURSE),
        int(time.time()) + 60,  # after the card the world was built with
        test_key=True,
    )
    path = world.write("nurse-you.card", renamed.to_text().encode())
    assert world.ok("pat", "contacts", "add", "--replace", path)["status"] == "changed"

    world.send()
    rc, doc = world.receive_drop("pat")
    assert rc == 0, doc

    res = world.run("pat", "inbox", executable=True)
    assert res.exit_code == 0, res.stderr
    (line,) = [ln for ln in res.stdout.splitlines() if "Dr Alice Martin" in ln]
    sent_to = re.split(r"\s{2,}", line.strip())[6 - 1]  # Id, State, Received, Kind, Author, Sent to
    assert "Claire Petit (you)" in sent_to and "Dr Bob Durand" in sent_to, res.stdout
    assert "Jeanne Dupont" not in sent_to  # the patient herself, by her fingerprint
