"""The SQLite file behind the store, watched: deleted, replaced or made read-only is noticed, not written in vain.

SQLite keeps writing to the file it opened. Delete it and every write still "succeeds" into an
unlinked inode that vanishes with the last connection; make it read-only and a connection opened
before keeps writing (or, made immutable, dies of SIGBUS on its shared memory). So each connection
remembers which file it opened (device and inode), a checkout of a connection whose path now names
another file opens the new one, and each write transaction first checks, with a few stat calls,
that the file it would write is still the one at the path and may still be written. A connection is
never opened on a missing file either: SQLite would create an empty one with no tables.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError

IDENTITY = "ivr.sqlite_file"  # the key, in a pooled connection's info, of the file it opened


class DatabaseFileProblem(SQLAlchemyError):
    """The SQLite file was deleted, replaced or made read-only: nothing is written until it is put right."""


Identity = tuple[int, int]


class SqliteFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def identity(self) -> Identity | None:
        try:
            found = self.path.stat()
        except FileNotFoundError:
            return None
        return found.st_dev, found.st_ino

    def problem(self, opened: Identity | None) -> str | None:
        """Why the file a connection opened (`opened`) cannot be written now, or None when it can."""
        name = self.path.name
        try:
            found = self.path.stat()
        except FileNotFoundError:
            return f"the database file {name} was deleted"
        if opened is not None and (found.st_dev, found.st_ino) != opened:
            return f"the database file {name} was replaced while open"
        # access() refuses an immutable file (chattr +i) even to root; the mode bits as well, since root may
        # write whatever they say, but an operator who took the write bits away meant the file left alone.
        if not found.st_mode & 0o222 or not os.access(self.path, os.W_OK):
            return f"the database file {name} is read-only"
        folder = self.path.parent
        if not folder.stat().st_mode & 0o222 or not os.access(folder, os.W_OK):
            return f"the folder of the database file {name} is read-only (SQLite writes its journal there)"
        return None

    def install(self, engine: Engine) -> None:
        """Watch the file through `engine`'s connections (the begin hook calls `check_writable` itself)."""

        @event.listens_for(engine, "do_connect")
        def _refuse_missing(_dialect: Any, _record: Any, _cargs: Any, _cparams: Any) -> None:
            if not stat.S_ISREG(_mode(self.path)):
                # sqlite3's own error, so SQLAlchemy reports it as it reports any failure to connect.
                raise sqlite3.OperationalError(f"the database file {self.path.name} is missing: run `ivr db upgrade`")

        @event.listens_for(engine, "connect")
        def _remember(_dbapi_connection: Any, record: Any) -> None:
            record.info[IDENTITY] = self.identity()

        @event.listens_for(engine, "checkout")
        def _follow_replacement(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
            now = self.identity()
            if now is not None and now != record.info.get(IDENTITY):
                # The path names another file (put back from a backup, say): open that one instead. A deleted
                # file is left open for reading; writes to it are refused by check_writable.
                raise DisconnectionError(f"the database file {self.path.name} was replaced")

    def check_writable(self, info: dict[Any, Any]) -> None:
        """Refuse a write transaction on a connection whose file cannot be written now."""
        problem = self.problem(info.get(IDENTITY))
        if problem is not None:
            raise DatabaseFileProblem(problem)


def _mode(path: Path) -> int:
    try:
        return path.stat().st_mode
    except FileNotFoundError:
        return 0


def file_of(url_database: str | None) -> Path | None:
    """The file a SQLite URL's database names; None for an in-memory database."""
    if not url_database or url_database == ":memory:" or url_database.startswith("file:"):
        return None
    return Path(url_database)
