"""How much English is left in the demo for a French user (issue 14).

Runs ``python -m securemsg.demo`` under ``LANG=fr_FR.UTF-8 TZ=Europe/Paris`` and
counts the output lines that read as English: two or more common English words,
not a command line (``[gp] $ securemsg ...``) and not a line of the letters'
own text (the demo's letters, src/securemsg/demo/*.md, are data, not messages).
Prints each such line and the count; exits 1 when there is any.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_WORDS = (
    "the is are was were to of and with for your you not by from this be no it its has "
    "have been will letter letters received sent key signed nothing there their who what "
    "which under only before after any every one"
)
WORDS = frozenset(_WORDS.split())


def english_lines(out: str) -> list[str]:
    letters: set[str] = set()
    titles: set[str] = set()
    for md in (ROOT / "src" / "securemsg" / "demo").glob("*.md"):
        for ln in md.read_text().splitlines():
            bare = re.sub(r"\s*\{[\w-]+\}\s*$", "", ln.strip())  # a section's {domain} tag
            letters |= {ln.strip(), bare}
            if bare.startswith("#"):
                titles.add(bare.lstrip("#").strip())
    found = []
    for line in out.splitlines():
        text = line.strip()
        if not text or re.match(r"^\[[\w-]+\] \$ securemsg ", text) or text in letters:
            continue
        for title in titles:  # the letters' section titles, quoted in a listing
            text = text.replace(title, "")
        # not words: paths and file names, hex ids, options, commands quoted in a hint
        text = re.sub(r"securemsg [^;:]*", " ", text)
        text = re.sub(r"\S*[/.]\S*|\b[0-9a-f]{6,}\b|--[\w-]+", " ", text)
        words = re.findall(r"[a-z']+", text.lower())
        if sum(1 for w in words if w in WORDS) >= 2:
            found.append(line.strip())
    return found


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "LANG": "fr_FR.UTF-8",
            "TZ": "Europe/Paris",
            "NO_COLOR": "1",
            "COLUMNS": "200",
            "TMPDIR": tmp,
            "PYTHONPATH": str(ROOT / "src"),
        }
        for var in ("LC_ALL", "LC_MESSAGES", "SECUREMSG_LANG"):
            env.pop(var, None)
        proc = subprocess.run(
            [sys.executable, "-m", "securemsg.demo"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    if proc.returncode != 0:
        print(proc.stdout[-3000:] + proc.stderr[-3000:], file=sys.stderr)
        print(f"the demo failed: exit {proc.returncode}", file=sys.stderr)
        return 2
    found = english_lines(proc.stdout + proc.stderr)
    for text in found:
        print(text)
    total = len((proc.stdout + proc.stderr).splitlines())
    print(f"{len(found)} English lines left of {total} lines of output")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
