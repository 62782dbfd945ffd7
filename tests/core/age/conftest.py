"""Fixtures for the age tests, and the end-of-run report of the CCTV vector counts."""

from __future__ import annotations

import pytest
from age_helpers import vectors_dir

from securemsg.core import age

_STATS_KEY = pytest.StashKey[dict[str, object]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_STATS_KEY] = {"passed": 0, "skipped": 0, "failed": 0, "scrypt": 0, "used": False}


@pytest.fixture
def age_vector_stats(request: pytest.FixtureRequest) -> dict[str, object]:
    stats = request.config.stash[_STATS_KEY]
    stats["used"] = True
    return stats


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    stats = terminalreporter.config.stash.get(_STATS_KEY, None)
    if not stats or not stats["used"]:
        return
    directory = vectors_dir()
    if not directory.is_dir():
        terminalreporter.write_line(
            f"age CCTV vectors: directory absent, all skipped: {directory}", yellow=True
        )
        return
    terminalreporter.write_line(
        f"age CCTV vectors: {stats['passed']} passed, {stats['skipped']} skipped "
        f"(hybrid), {stats['failed']} failed; of them scrypt: {stats['scrypt']} passed, "
        f"0 skipped; directory: {directory}",
        green=not stats["failed"],
        red=bool(stats["failed"]),
    )


@pytest.fixture(scope="session")
def alice() -> age.X25519Identity:
    return age.X25519Identity(bytes(range(32)))


@pytest.fixture(scope="session")
def bob() -> age.X25519Identity:
    return age.X25519Identity(bytes(range(32, 64)))
