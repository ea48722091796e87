from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from ivr.content.loader import load
from ivr.content.model import Content
from ivr.engine.state import CallState
from ivr.homes.directory import Home, InMemoryDirectory

# The companion's own files (a local line's secret, a default database) go to a scratch folder, not the clone's var/.
os.environ.setdefault("IVR_DATA_DIR", tempfile.mkdtemp(prefix="ivr-tests-"))

pytest_plugins = ["tests.databases"]  # the database fixtures, SQLite and PostgreSQL

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = ROOT / "prompts"


@pytest.fixture(scope="session")
def content() -> Content:
    return load(PROMPTS)


@pytest.fixture()
def directory() -> InMemoryDirectory:
    return InMemoryDirectory([Home(ods="VL15A", name="Lindum House", landlines=("+441522123456",))])


@pytest.fixture(scope="session")
def reachable(content: Content) -> dict[CallState, CallState]:
    """Every state the engine can reach from the start (tests/test_engine.py's search), searched once a session:
    the engine's tests and the phone line's over HTTP both walk it, and it is the slowest thing the suite does."""
    from tests.test_engine import HOMES, explore

    return explore(content, InMemoryDirectory(HOMES))


@pytest.fixture()
def prompts_copy(tmp_path: Path) -> Path:
    """A copy of the real prompts, for tests that break one thing in it."""
    target = tmp_path / "prompts"
    shutil.copytree(PROMPTS, target)
    return target
