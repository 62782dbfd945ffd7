"""Where the age test vectors live (shared by conftest.py and the vector driver)."""

from __future__ import annotations

import os
from pathlib import Path

VECTORS_ENV = "SECUREMSG_AGE_VECTORS"


def vectors_dir() -> Path:
    """``$SECUREMSG_AGE_VECTORS``, else ``<repo>/../shared/vectors/age``."""
    env = os.environ.get(VECTORS_ENV)
    if env:
        return Path(env)
    return (Path(__file__).parents[3] / ".." / "shared" / "vectors" / "age").resolve()
