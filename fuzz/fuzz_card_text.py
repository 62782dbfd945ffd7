"""atheris target (coverage-guided): card_text, see fuzz/harness.py.

Run: bash fuzz/run.sh card_text
"""

import sys

import atheris

with atheris.instrument_imports():
    import harness


def test_one_input(data: bytes) -> None:
    harness.run("card_text", data)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
