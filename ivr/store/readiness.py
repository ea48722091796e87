"""Whether the store can do its work now, and if not, why: what /readyz says.

Reachable is not enough. A database one release behind (the release step `ivr db upgrade` not run,
or failed) answers every query about tables it lacks with an error; a SQLite file deleted or made
read-only still answers reads. Each is a reason to take no traffic, and each is said in words.
"""

from __future__ import annotations

from functools import cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ivr.store.database import Store, migration_config
from ivr.store.sqlite_file import IDENTITY


@cache
def _chain() -> ScriptDirectory:
    """The migration chain, read once: it is package data and cannot change under a running process."""
    return ScriptDirectory.from_config(migration_config())


@cache
def heads() -> frozenset[str]:
    """The revisions this release's code is written for."""
    return frozenset(_chain().get_heads())


@cache
def known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in _chain().walk_revisions())


def problem(store: Store) -> str | None:
    """None when ready; otherwise one line saying what is wrong. A database error is raised, not said."""
    with store.engine.connect() as connection:
        current = frozenset(MigrationContext.configure(connection).get_current_heads())
        if store.sqlite_file is not None:
            trouble = store.sqlite_file.problem(connection.connection.info.get(IDENTITY))
            if trouble is not None:
                return trouble
    wanted = heads()
    if current == wanted:
        return None
    if not current:
        return f"schema not migrated: no revision recorded, this release needs {_names(wanted)} (run `ivr db upgrade`)"
    if current <= known_revisions():
        return f"schema not migrated: at {_names(current)}, this release needs {_names(wanted)} (run `ivr db upgrade`)"
    return (f"schema at {_names(current)}, which this release does not know (a newer release's?); "
            f"it needs {_names(wanted)}")


def _names(revisions: frozenset[str]) -> str:
    return ", ".join(sorted(revisions))
