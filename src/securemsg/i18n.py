"""Messages in the user's language: gettext catalogs, French and English.

Every user-visible text (messages, hints, table headings, help) is written in
English in the source and marked for translation: ``_("text")`` for one text,
``ngettext("one", "many", n)`` for a count; a text with values uses named
placeholders, ``_("{name} is not a contact").format(name=name)``, so that a
translation may move them. Babel extracts the marked texts into
``src/securemsg/locale/securemsg.pot``; each language's ``.po`` is compiled into
the ``.mo`` that ships (``make messages``; tests/test_i18n.py checks that every
marked text has a translation and that the ``.mo`` files are up to date).

The language is chosen once, at start-up, by the command line (cli/main.py):
``SECUREMSG_LANG``, else the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``);
English when none names a shipped language. Until then (and in core's tests)
texts are returned as written. This module does no I/O of its own but
:func:`select` (reading one ``.mo`` file); ``_`` is a pure lookup.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

DOMAIN = "securemsg"
LANGUAGES = ("en", "fr")  # English is the source language: it needs no catalog
# no pathlib: on every command's start-up path
LOCALE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "locale")

_catalog: dict[str, str] = {}
_plurals: dict[tuple[str, int], str] = {}
_language = "en"


def _(message: str) -> str:
    """``message`` in the selected language (as written if untranslated)."""
    return _catalog.get(message, message) if _catalog else message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a text for a count ``n`` (French: one for 0 and 1)."""
    if _plurals:
        index = (0 if n <= 1 else 1) if _language == "fr" else (0 if n == 1 else 1)
        found = _plurals.get((singular, index))
        if found:
            return found
    return singular if n == 1 else plural


def language() -> str:
    """The selected language code: ``en`` or ``fr``."""
    return _language


def wanted(env: Mapping[str, str]) -> str:
    """The language the environment asks for (a shipped one, else English)."""
    for var in ("SECUREMSG_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            code = value.split(".", 1)[0].split("_", 1)[0].lower()
            return code if code in LANGUAGES else "en"
    return "en"


def select(code: str) -> None:
    """Use the catalog of ``code`` from now on (English: none)."""
    global _catalog, _plurals, _language
    _language = code if code in LANGUAGES else "en"
    _catalog, _plurals = {}, {}
    if _language == "en":
        return
    import gettext

    path = os.path.join(LOCALE_DIR, _language, "LC_MESSAGES", f"{DOMAIN}.mo")
    if not os.path.isfile(path):
        return
    with open(path, "rb") as fh:
        catalog = gettext.GNUTranslations(fh)
    raw = catalog._catalog  # type: ignore[attr-defined]  # gettext's parsed catalog
    for key, value in raw.items():
        if isinstance(key, tuple):
            _plurals[(key[0], key[1])] = value
        elif key:
            _catalog[key] = value


def N_(message: str) -> str:
    """Mark a text of a module-level table for extraction; translate it where used."""
    return message
