"""The letter's source format (docs/letters.md): YAML front matter read strictly,
the subject from a first "# Title", {shared} text, untagged text medical, line
numbers and did-you-mean in the refusals."""

from __future__ import annotations

import pytest

from securemsg.core.domains import Domain
from securemsg.core.letter.source import parse_letter
from securemsg.errors import InvalidValue


def parse(text: str, default: str = "file-name") -> tuple[str, list[tuple[str, Domain, str]]]:
    src = parse_letter(text.encode(), default)
    return src.subject, [(s.title, s.domain, s.text) for s in src.sections]


def test_quoted_subject_loses_its_quotes() -> None:
    subject, _ = parse('---\nsubject: "Referral: chest pain"\n---\nHello\n')
    assert subject == "Referral: chest pain"


@pytest.mark.parametrize(
    ("front", "words"),
    [
        (
            "subjet: Hello",
            "unknown key 'subjet' in the front matter at line 2: did you mean subject?",
        ),
        ("subject: Hello\ntitle: x", "unknown key 'title' in the front matter at line 3"),
        ("subject: 2026", "the front matter's subject at line 2 is not text"),
        ("subject: [a, b]", "the front matter's subject at line 2 is not text"),
        ("subject: a\nsubject: b", "the key 'subject' is given twice"),
        ("subject: Referral: chest pain", "not valid YAML at line 2"),
        ("- subject", "not a list of 'key: value' lines"),
        ("? [a]\n: b", "a key is not a word"),
        ("subject: " + "[" * 2000 + "]" * 2000, "nested too deeply"),
        ("subject: " + "x" * 9000, "longer than 8192 characters"),
        (
            "subject: Referral \x1b]0;x\x07",
            "subject holds an invisible or control character (U+001B) at line 2",
        ),
        ("subject: a\u202eb", "subject holds an invisible or control character (U+202E) at line 2"),
        ("subject: !!python/object:os.system x", "not valid YAML"),
    ],
)
def test_front_matter_is_strict_yaml(front: str, words: str) -> None:
    with pytest.raises(InvalidValue) as info:
        parse(f"---\n{front}\n---\nHello\n")
    assert words in info.value.message


def test_unclosed_front_matter() -> None:
    with pytest.raises(InvalidValue, match="not closed"):
        parse("---\nsubject: x\nHello\n")


def test_subject_from_the_first_heading_not_the_file_name() -> None:
    subject, sections = parse("\n# Chest pain, Mrs D.\n\nDear colleague,\n")
    assert subject == "Chest pain, Mrs D."
    assert [s[2] for s in sections] == ["Dear colleague,\n"]  # the title is not repeated
    assert parse("Dear colleague,\n\n# Later heading\n")[0] == "file-name"


def test_shared_text_goes_to_everyone_whatever_the_order() -> None:
    text = (
        "{shared}\nDear colleague,\n\n## History\nAngina.\n\n## Dressing {nursing}\nDaily.\n\n"
        "## Practical {shared}\nMornings.\n\n{shared}\nKind regards,\nDr Alice Martin\n"
    )
    _, sections = parse(text)
    assert sections == [
        ("", Domain.ADMINISTRATIVE, "Dear colleague,\n"),
        ("History", Domain.MEDICAL, "## History\nAngina.\n"),
        ("Dressing", Domain.NURSING, "## Dressing\nDaily.\n"),
        ("Practical", Domain.ADMINISTRATIVE, "## Practical\nMornings.\n"),
        ("", Domain.ADMINISTRATIVE, "Kind regards,\nDr Alice Martin\n"),  # two lines kept
    ]


def test_untagged_text_is_medical() -> None:
    _, sections = parse("Dear colleague,\n\n## History\nAngina.\n")
    assert [s[1] for s in sections] == [Domain.MEDICAL, Domain.MEDICAL]


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (
            "## Dressing {nursng}",
            "unknown care domain {nursng} at line 4: '## Dressing {nursng}': did you mean nursing?",
        ),
        ("{shraed}", "unknown care domain {shraed} at line 4: '{shraed}': did you mean shared?"),
    ],
)
def test_unknown_tag_with_line_and_suggestion(line: str, words: str) -> None:
    with pytest.raises(InvalidValue) as info:
        parse(f"---\nsubject: x\n---\n{line}\nText\n")
    assert info.value.message == words
