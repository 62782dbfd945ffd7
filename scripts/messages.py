"""Extract the marked texts and compile the French catalog (``make messages``).

1. Extract every ``_("...")``, ``N_("...")`` and ``ngettext("...", "...", n)``
   of ``src/securemsg`` into ``src/securemsg/locale/securemsg.pot`` (Babel).
2. Merge ALL the ``.po`` files of ``src/securemsg/locale/fr/LC_MESSAGES/``
   (``securemsg.po`` for cli and demo texts, ``core.po`` for errors, core,
   store and app, ...) into one catalog and compile it into
   ``src/securemsg/locale/fr/LC_MESSAGES/securemsg.mo``, deterministically
   (fixed header, sorted messages: the same ``.po`` files give the same bytes;
   tests/test_i18n.py checks the committed ``.mo`` against a fresh compile).

``--check`` reports the marked texts that have no French translation and exits
1 when there are some. Babel is a dev dependency: only this script and the
tests import it, never the command line.
"""

from __future__ import annotations

import argparse
import io
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "securemsg"
LOCALE = SOURCE / "locale"
POT = LOCALE / "securemsg.pot"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
FIXED = datetime(2026, 12, 1, tzinfo=UTC)  # header dates: deterministic output
LANGUAGES = ("fr",)


def extract() -> Catalog:
    """The marked texts of the source, as a template catalog."""
    catalog = Catalog(
        project="securemsg", domain="securemsg", creation_date=FIXED, revision_date=FIXED
    )
    found = extract_from_dir(
        str(SOURCE),
        method_map=[("**.py", "python")],
        keywords=KEYWORDS,
        comment_tags=("Translators:",),
        strip_comment_tags=True,
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(
            message,
            None,
            [(f"src/securemsg/{filename}", lineno)],
            auto_comments=comments,
            context=context,
        )
    for where, text in help_texts():
        if text not in catalog:
            catalog.add(text, None, [(where, 0)], auto_comments=["help text (click)"])
    return catalog


def help_texts() -> list[tuple[str, str]]:
    """The help of every command and option, as click holds it (docstrings and
    ``help=`` texts: cli/main.py translates them when the command is loaded)."""
    import importlib

    from securemsg.cli.main import LazyGroup, cli

    out: list[tuple[str, str]] = []

    def walk(cmd: object, where: str) -> None:
        for text in (getattr(cmd, "help", None), getattr(cmd, "short_help", None)):
            if text:
                out.append((where, text))
        for param in getattr(cmd, "params", []):
            text = getattr(param, "help", None)
            if text:
                out.append((where, text))
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub, where)

    walk(cli, "src/securemsg/cli/main.py")
    for module, attr in sorted(set(LazyGroup.lazy.values())):
        command = getattr(importlib.import_module(module), attr)
        walk(command, "src/securemsg/" + module.split(".", 1)[1].replace(".", "/") + ".py")
    return out


def po_files(language: str) -> list[Path]:
    """The ``.po`` files of one language, in name order."""
    return sorted((LOCALE / language / "LC_MESSAGES").glob("*.po"))


def merged(language: str) -> Catalog:
    """All the ``.po`` files of ``language`` in one catalog (first one wins)."""
    catalog = Catalog(
        locale=language,
        domain="securemsg",
        project="securemsg",
        creation_date=FIXED,
        revision_date=FIXED,
    )
    plural_forms(catalog)
    for path in po_files(language):
        with path.open("rb") as fh:
            part = read_po(fh, locale=language)
        for message in part:
            if message.id and message.id not in catalog and message.string:
                if message.fuzzy:
                    continue
                catalog.add(message.id, message.string, context=message.context)
    return catalog


def plural_forms(catalog: Catalog) -> None:
    """French as gettext and securemsg.i18n count: two forms, one for 0 and 1
    (Babel's CLDR data gives French a third form that gettext texts never have)."""
    catalog._num_plurals = 2
    catalog._plural_expr = "(n > 1)"


def compiled(language: str) -> bytes:
    """The ``.mo`` bytes of ``language``'s merged catalog."""
    out = io.BytesIO()
    write_mo(out, merged(language))
    return out.getvalue()


def mo_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "securemsg.mo"


def missing(language: str) -> list[str]:
    """Marked texts of the source with no (non-empty) translation."""
    have = merged(language)
    out = []
    for message in extract():
        if not message.id:
            continue
        found = have.get(message.id)
        strings = found.string if found is not None else None
        ok = all(strings) if isinstance(strings, (tuple, list)) else bool(strings)
        if not ok:
            key = message.id if isinstance(message.id, str) else message.id[0]
            out.append(key)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="only list untranslated texts")
    args = parser.parse_args(argv)
    if not args.check:
        template = extract()
        out = io.BytesIO()
        write_po(out, template, width=100, omit_header=False, sort_by_file=True)
        POT.write_bytes(out.getvalue())
        for language in LANGUAGES:
            mo_path(language).write_bytes(compiled(language))
            print(f"{mo_path(language).relative_to(ROOT)}: {len(merged(language))} messages")
    status = 0
    for language in LANGUAGES:
        gaps = missing(language)
        for text in gaps:
            print(f"{language}: no translation: {text!r}", file=sys.stderr)
        if gaps:
            print(f"{language}: {len(gaps)} texts without translation", file=sys.stderr)
            status = 1 if args.check else 0
    return status


if __name__ == "__main__":
    raise SystemExit(main())
