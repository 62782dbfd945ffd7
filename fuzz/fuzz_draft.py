"""atheris target (coverage-guided): draft, see fuzz/harness.py.

Run: bash fuzz/run.sh draft
"""

import sys

import atheris

with atheris.instrument_imports():
    import harness


def test_one_input(data: bytes) -> None:
    harness.run("draft", data)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
