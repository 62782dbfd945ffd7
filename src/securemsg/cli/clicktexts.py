"""Click's own texts ("Usage:", "Options:", "Show this message and exit.", "No
such option ...") in the selected language.

Click marks its texts with the standard library's ``gettext``, bound in each of
its modules at import (``from gettext import gettext as _``). Rather than a second
catalog domain looked up through the process locale, the modules' ``_`` and
``ngettext`` are pointed at :mod:`securemsg.i18n`'s, whose catalog holds click's
texts too (``locale/fr/LC_MESSAGES/click.po``, merged into ``securemsg.mo``).
Only done when the language is not English (cli/main.py): English costs nothing.
"""

from __future__ import annotations

import sys

from securemsg import i18n

MODULES = (
    "click.core",
    "click.decorators",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.termui",
    "click.types",
    "click.utils",
)

# The names of click's parameter types: not marked in click, but shown in its
# messages ("'abc' is not a valid integer.") and as the metavar of an option
# that has none (INTEGER, TEXT). Set on the classes in the selected language.
TYPE_NAMES = (
    ("BoolParamType", i18n.N_("boolean")),
    ("Choice", i18n.N_("choice")),
    ("DateTime", i18n.N_("datetime")),
    ("File", i18n.N_("filename")),
    ("FloatParamType", i18n.N_("float")),
    ("FloatRange", i18n.N_("float range")),
    ("IntParamType", i18n.N_("integer")),
    ("IntRange", i18n.N_("integer range")),
    ("StringParamType", i18n.N_("text")),
    ("UnprocessedParamType", i18n.N_("text")),
)


def translate_click() -> None:
    """Click's texts through our catalog from now on (modules already imported)."""
    for name in MODULES:
        module = sys.modules.get(name)
        if module is None:
            continue
        if hasattr(module, "_"):
            module._ = i18n._  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = i18n.ngettext  # type: ignore[attr-defined]
    types = sys.modules.get("click.types")
    for cls_name, text in TYPE_NAMES if types is not None else ():
        cls = getattr(types, cls_name, None)
        if cls is not None:
            cls.name = i18n._(text)
