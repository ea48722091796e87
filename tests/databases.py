"""The databases the store's tests run on: SQLite always, PostgreSQL when TEST_DATABASE_URL names one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ivr.settings import Settings
from ivr.store.database import Store

POSTGRES = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ivr.sqlite3'}"
        return
    if not POSTGRES:
        pytest.skip("PostgreSQL tests skipped: set TEST_DATABASE_URL (.ci/run starts one)")
    url = Settings(database_url=POSTGRES).database_url  # the same rewriting as the app's
    engine = create_engine(url)
    with engine.begin() as connection:  # a clean schema for each test
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield url


@contextmanager
def open_store(url: str) -> Iterator[Store]:
    """A store with the schema brought up to date, its connections closed afterwards."""
    store = Store(url)
    store.upgrade()
    try:
        yield store
    finally:
        store.close()


@pytest.fixture()
def upgraded(database_url: str) -> Iterator[Store]:
    with open_store(database_url) as store:
        yield store
