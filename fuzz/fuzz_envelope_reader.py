"""atheris target (coverage-guided): envelope_reader, see fuzz/harness.py.

Run: bash fuzz/run.sh envelope_reader
"""

import sys

import atheris

with atheris.instrument_imports():
    import harness


def test_one_input(data: bytes) -> None:
    harness.run("envelope_reader", data)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
