"""Names that look alike: UTS #39 skeletons, the look-alike and near-miss
comparisons of contacts, and the characters refused in a person's name."""

from __future__ import annotations

import re

import pytest

from securemsg.core import names
from securemsg.core.card import Card
from securemsg.core.identity import Profile, Role, SecretIdentity
from securemsg.errors import FormatError, InvalidValue

ALICE = "Dr Alice Martin"
# Common French surnames, without accents: none may look like another.
SURNAMES = (
    "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel "
    "Lefebvre Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine "
    "Rousseau Vincent Muller Lefevre Faure Andre Mercier Blanc Guerin Boyer Garnier Chevalier "
    "Francois Legrand Gauthier Garcia Perrin Robin Clement Morin Nicolas Henry Roussel "
    "Mathieu Gautier Masson Marchand Duval Denis Dumont Marie Lemaire Noel Meyer Dufour "
    "Meunier Brun Blanchard Giraud Joly Riviere Lucas Brunet Gaillard Barbier Arnaud Martinez "
    "Gerard Roche Renard Schmitt Roy Leroux Colin Vidal Caron Picard Roger Fabre Aubert "
    "Lemoine Renaud Dumas Lacroix Olivier Philippe Bourgeois Pierre Benoit Rey Leclerc Payet "
    "Rolland Leclercq Guillaume Lecomte Lopez Jean Dupuy Guillot Hubert Berger Carpentier "
    "Sanchez Dupuis Moulin Louis Deschamps Huet Vasseur Perez Boucher Fleury Royer Klein "
    "Jacquet Adam Paris Poirier Marty Aubry Guyot Carre Charles Renault Charpentier Menard "
    "Maillard Baron Bertin Bailly Herve Schneider Fernandez Collet Leger Bouvier Julien "
    "Prevost Millet Perrot Daniel Cousin Germain Breton Besson Langlois Remy Pelletier "
    "Leveque Perrier Leblanc Barre Lebrun Marchal Weber Mallet Hamon Boulanger Jacob Monnier "
    "Michaud Rodriguez Guichard Gillet Etienne Grondin Poulain Tessier Chevallier Collin "
    "Chauvin Bouchet Gay Lemaitre Benard Marechal Humbert Reynaud Antoine Hoarau Perret "
    "Barthelemy Cordier Pichon Lejeune Gilbert Lamy Delaunay Pasquier Carlier Laporte"
)


def test_skeleton_is_the_uts39_skeleton() -> None:
    assert names.skeleton("paypal") == names.skeleton("p\u0430yp\u0430l")  # Cyrillic a
    assert names.skeleton("rn") == names.skeleton("m") == "rn"
    assert names.skeleton("I") == names.skeleton("l") == names.skeleton("1") == "l"
    assert names.skeleton("\u00e9") == "e\u0301"  # NFD, the mark kept
    assert names.skeleton("a\u034fb") == "ab"  # default-ignorable removed
    assert names.skeleton("Alice") != names.skeleton("Alise")


@pytest.mark.parametrize(
    "name",
    [
        "Dr \u0410lice \u041cartin",  # Cyrillic A, M
        "Dr \u0391lice \u039cartin",  # Greek Alpha, Mu
        "Dr Alice Marti\u0578",  # Armenian vo
        "Dr Alice \u13b7artin",  # Cherokee lu
        "Dr \ua4eelice Martin",  # Lisu a
        "Dr Alice \u1d0d\u1d00\u0280\u1d1b\u026a\u0274",  # small capitals
        "\u1d05\u0280 \u1d00\u029f\u026a\u1d04\u1d07 \u1d0d\u1d00\u0280\u1d1b\u026a\u0274",
        "DR \u0410LICE MARTIN",  # in capitals, a Cyrillic A
        "Dr AIice Martin",  # capital I for l
        "Dr Alice rnartin",  # rn for m
        "Dr\u00a0Alice Martin",  # no-break space
        "Dr Alice M\uff41rtin",  # fullwidth a
    ],
)
def test_lookalikes_of_a_name(name: str) -> None:
    assert names.looks_alike(name, ALICE) and names.looks_alike(ALICE, name)
    assert names.nearly_alike(name, ALICE)


@pytest.mark.parametrize(
    "name",
    ["Dr. Alice Martin", "Dr Alice Mart\u00edn", "Dr Alice-Martin", "Dr \u00c0lice Martin"],
)
def test_punctuation_and_accents_are_near_misses_not_lookalikes(name: str) -> None:
    assert not names.looks_alike(name, ALICE)
    assert names.nearly_alike(name, ALICE) and names.nearly_alike(ALICE, name)


@pytest.mark.parametrize(
    "other",
    ["Dr Alicia Martin", "Dr Alice Marin", "Dr Allce Martin", "Alice Martin", "Dr Alice Martine"],
)
def test_other_names_are_neither(other: str) -> None:
    assert not names.looks_alike(other, ALICE) and not names.nearly_alike(other, ALICE)


def test_common_french_surnames_do_not_collide() -> None:
    surnames = SURNAMES.split()
    keys = {names.lookalike_keys(s)[0]: s for s in surnames}
    assert len(keys) == len(set(surnames))
    for a in surnames:
        for b in surnames:
            if a != b:
                assert not names.looks_alike(a, b), (a, b)


@pytest.mark.parametrize(
    ("bad", "what"),
    [
        ("Dr Alice\u3164Martin", "U+3164 HANGUL FILLER"),
        ("Dr Alice\uffa0Martin", "U+FFA0 HALFWIDTH HANGUL FILLER"),
        ("Dr Alice\u115fMartin", "U+115F HANGUL CHOSEONG FILLER"),
        ("Dr Alice\u1160Martin", "U+1160 HANGUL JUNGSEONG FILLER"),
        ("Dr Ali\u034fce Martin", "U+034F COMBINING GRAPHEME JOINER"),
        ("Dr Alice Martin\ufe0f", "U+FE0F VARIATION SELECTOR-16"),
        ("Dr Alice Marti\U000e0100n", "U+E0100 VARIATION SELECTOR-17"),
        ("Dr Alice Ma\u180brtin", "U+180B MONGOLIAN FREE VARIATION SELECTOR ONE"),
        ("Dr Alice Ma\u17b4rtin", "U+17B4 KHMER VOWEL INHERENT AQ"),
        ("Dr Alice\u2800Martin", "U+2800 BRAILLE PATTERN BLANK"),
        ("Dr Alice Martin\U0001d159", "U+1D159 MUSICAL SYMBOL NULL NOTEHEAD"),
        ("\u3164", "U+3164 HANGUL FILLER"),
    ],
)
def test_names_showing_nothing_refused(bad: str, what: str) -> None:
    with pytest.raises(
        InvalidValue, match=re.escape(f"shows as nothing on screen ({what})")
    ) as info:
        names.clean_name(bad)
    assert info.value.hint and "keyboard" in info.value.hint
    with pytest.raises(InvalidValue):
        Profile(bad, Role.GP)


@pytest.mark.parametrize(
    "good",
    [
        "H\u00e9l\u00e8ne Roux-\u00c9luard",
        "Dr Jean-Baptiste O'Neil",
        "Zo\u00eb \u00d1\u00fa\u00f1ez",
        "\u00c6lfrida \u00d8rsted",
        "Fran\u00e7ois L\u2019Hu\u00eellier",
        "Dr\u00a0Alice Martin",
        "\u738b\u5c0f\u660e",
    ],
)
def test_ordinary_names_accepted(good: str) -> None:
    assert names.clean_name(good) == good


def test_clean_text_keeps_variation_selectors_elsewhere() -> None:
    """Only person names refuse default-ignorable characters (a subject may hold an emoji)."""
    assert names.clean_text("Merci \u2764\ufe0f", "subject") == "Merci \u2764\ufe0f"


def test_a_card_with_such_a_name_is_malformed() -> None:
    from securemsg.core import signed
    from securemsg.core.card import CARD

    secret = SecretIdentity.generate()
    payload = {
        "v": 1,
        "profile": {"name": "Dr Alice\u3164Martin", "role": "gp"},
        "sign_key": secret.sign_public,
        "enc_key": secret.enc_public,
        "created": 1_700_000_000,
        "expires": 1_800_000_000,
    }
    data = signed.sign(secret, CARD, payload)
    with pytest.raises(FormatError, match="U\\+3164 HANGUL FILLER") as info:
        Card.parse(data)
    assert info.value.hint and "ask for a new one" in info.value.hint
