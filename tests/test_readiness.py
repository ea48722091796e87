"""/readyz tells the truth: ready only at the schema this release needs, and says why not, on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from flask.testing import FlaskClient
from sqlalchemy import text

from ivr.app import create_app
from ivr.content.model import Content
from ivr.settings import Settings
from ivr.store.database import Store, migration_config
from ivr.store.readiness import heads
from tests.web_support import REAL_LINE


@pytest.fixture()
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    yield store
    store.close()


def client_for(store: Store, content: Content) -> FlaskClient:
    settings = Settings(database_url=store.url, database_deadline_seconds=2.0, **REAL_LINE)
    return create_app(settings, content=content, store=store).test_client()


def upgrade_to(store: Store, revision: str) -> None:
    if store.sqlite_file is not None:
        store.sqlite_file.path.touch()
    config = migration_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def readyz(store: Store, content: Content) -> tuple[int, str]:
    reply = client_for(store, content).get("/readyz")
    return reply.status_code, reply.get_data(as_text=True)


def test_ready_at_head(store: Store, content: Content) -> None:
    store.upgrade()
    assert readyz(store, content) == (200, "ready\n")


def test_a_database_never_migrated_is_not_ready(store: Store, content: Content) -> None:
    upgrade_to(store, "base")  # reachable (SQLite: the file exists), with no tables at all
    status, body = readyz(store, content)
    assert status == 503
    assert body.startswith("not ready: schema not migrated: no revision recorded")
    assert "ivr db upgrade" in body


def test_a_database_behind_head_says_where_it_is(store: Store, content: Content) -> None:
    (head,) = heads()
    behind = f"{int(head) - 1:04d}"
    upgrade_to(store, behind)
    status, body = readyz(store, content)
    assert status == 503
    assert f"schema not migrated: at {behind}, this release needs {head}" in body
    store.upgrade()  # the release step run: ready at once, nothing cached
    assert readyz(store, content) == (200, "ready\n")


def test_a_schema_from_a_newer_release_is_not_taken_for_ours(store: Store, content: Content) -> None:
    store.upgrade()
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9001'"))
    status, body = readyz(store, content)
    assert status == 503 and "schema at 9001, which this release does not know" in body


def test_the_head_is_the_last_migration_on_disk() -> None:
    from pathlib import Path

    import ivr.store.migrations

    versions = Path(ivr.store.migrations.__file__).parent / "versions"
    newest = max(path.name.split("_", 1)[0] for path in versions.glob("[0-9]*.py"))
    assert heads() == frozenset({newest})
