"""A letter's section as Markdown, with nothing the author wrote hidden from the
reader (R4: the patient sees the exact content of a letter about them).

rich's Markdown hides some of what is written: raw HTML blocks, inline HTML and
HTML comments are dropped, a link shows its text and hides its address (or
writes it as an OSC 8 hyperlink), an image shows its alt text only, a code
fence's info string picks a pygments lexer and is not shown, a link reference
definition is not shown at all, a table drops the cells beyond its header's,
and ``~~struck~~`` text looks unstruck where no style shows. So the text is
parsed here, by markdown-it (rich's own parser) under rules that hide nothing,
and rich only lays the tokens out:

- CommonMark only, HTML off: HTML and comments are literal text; no tables, no
  strikethrough (their Markdown shows as written);
- link reference definitions are literal text (the rule is off);
- a link shows as ``text <address>`` (and its title, quoted), an autolink as
  ``<address>``, an image as ``[image: alt] <address>``: the address as
  markdown-it normalised it (percent-encoded, punycode), never a hyperlink;
- a code fence with an info string shows it as its first line, and is laid out
  without a lexer (no pygments on untrusted text);
- line breaks are kept as the author typed them (a paragraph is not re-flowed);
- every piece of text goes through core.text's sanitiser (entities such as
  ``&#x202E;`` are decoded by the parser, so the source text alone is not enough).
"""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich.markdown import Markdown

from securemsg.core.text import for_terminal


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).disable("reference")


def _text(content: str) -> Token:
    return Token("text", "", 0, content=content)


def _address(attrs: dict[str, Any], key: str) -> str:
    title = attrs.get("title")
    quoted = f' "{title}"' if title else ""
    return for_terminal(f"<{attrs.get(key, '')}>{quoted}")


def _inline(children: list[Token]) -> list[Token]:
    out: list[Token] = []
    links: list[tuple[Token, int]] = []  # open links: their token, where their text starts
    for tok in children:
        if tok.type == "link_open":
            links.append((tok, len(out)))
        elif tok.type == "link_close" and links:
            link, start = links.pop()
            if link.markup == "autolink":  # its text is its address: once is enough
                del out[start:]
                out.append(_text(_address(link.attrs, "href")))
            else:
                out.append(_text(" " + _address(link.attrs, "href")))
        elif tok.type == "image":
            out.append(_text(for_terminal(f"[image: {tok.content}] ") + _address(tok.attrs, "src")))
        elif tok.type == "softbreak":  # the author's line breaks kept (literal HTML, tables)
            tok.type, tok.tag = "hardbreak", "br"
            out.append(tok)
        elif tok.type in ("text", "code_inline", "html_inline"):
            tok.type = "code_inline" if tok.type == "code_inline" else "text"
            tok.content = for_terminal(tok.content, lines=True)
            out.append(tok)
        else:
            out.append(tok)
    return out


def tokens(text: str) -> list[Token]:
    """``text`` parsed as above, ready for rich's renderer."""
    out = _parser().parse(text)
    for tok in out:
        if tok.children:
            tok.children = _inline(tok.children)
        if tok.type == "fence" and tok.info:
            tok.content = f"{tok.markup}{tok.info}\n{tok.content}"
        if tok.type in ("fence", "code_block", "html_block"):
            tok.type, tok.tag, tok.info = "fence", "code", ""
            tok.content = for_terminal(tok.content, lines=True)
    return out


class LetterMarkdown(Markdown):
    """rich's Markdown renderer over :func:`tokens`, hyperlinks off."""

    def __init__(self, text: str) -> None:
        super().__init__("", hyperlinks=False)
        self.markup = text
        self.parsed = tokens(text)
