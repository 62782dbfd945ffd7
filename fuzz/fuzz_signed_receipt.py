"""atheris target (coverage-guided): signed_receipt, see fuzz/harness.py.

Run: bash fuzz/run.sh signed_receipt
"""

import sys

import atheris

with atheris.instrument_imports():
    import harness


def test_one_input(data: bytes) -> None:
    harness.run("signed_receipt", data)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
