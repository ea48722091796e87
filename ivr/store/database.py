"""The database: what must outlive a call (its record, milestones worth counting), and the outbox of texts.

The call's state is not here: it travels with the call in a sealed token (ivr/phone_line/tokens.py).
SQLAlchemy 2 on SQLite by default, PostgreSQL through DATABASE_URL. The schema is owned by the
Alembic chain in ivr/store/migrations (`ivr db upgrade`); the tables here describe it for queries.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from ivr.store.kept import Kept
from ivr.store.sqlite_file import SqliteFile, file_of

if TYPE_CHECKING:
    from alembic.config import Config

# The advisory lock every capped text insert takes on PostgreSQL (any fixed number of our own).
CAPS_LOCK = 7_201_133
# What the store raises when the database fails it, for callers that wait and try again.
StoreError = SQLAlchemyError

metadata = MetaData()

calls = Table(
    "calls",
    metadata,
    Column("call_sid", String(64), primary_key=True),
    Column("status", String(32), nullable=False),
    Column("duration_seconds", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(160), nullable=False),
    Column("call_sid", String(64)),
    Column("purpose", String(64), nullable=False),
    Column("to_number", String(32), nullable=False),
    Column("body", Text, nullable=False),
    # pending -> sending (claimed) -> sent | failed | unknown; retry waits for next_attempt_at.
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("claimed_by", String(64)),
    Column("claimed_until", DateTime(timezone=True)),
    Column("provider_sid", String(64)),
    Column("error", Text),
    Column("sent_at", DateTime(timezone=True)),
    Column("delivery_status", String(16)),  # Twilio's, from the status callback
    Column("updated_at", DateTime(timezone=True)),
    Column("caller_hash", String(64)),  # who asked, as a keyed hash: enough to count, not to ring
    Column("capped", Boolean, nullable=False, server_default=true()),  # counts against the daily caps
    UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
)

opt_outs = Table(
    "opt_outs",
    metadata,
    Column("number", String(32), primary_key=True),
    Column("opted_out_at", DateTime(timezone=True), nullable=False),
)

# When the next text may go, shared by every worker (`outbox.next_slot`): one row, named "sms".
sending_pace = Table(
    "sending_pace",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("next_slot", DateTime(timezone=True), nullable=False),
)


# The care-home directory (`ivr homes`): a landline may belong to more than one home
# (a group's head office), and then recognises none of them.
care_homes = Table(
    "care_homes",
    metadata,
    Column("ods", String(5), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("keypad", String(4), nullable=False),  # the keypad keys that type the code after its V
    Column("mobile", String(16)),  # the registered mobile, E.164
    Column("mailbox", String(120)),  # an override of care.<ods>@nhs.net
    Column("postcode", String(10)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # What console addresses name a home by: a random token, never the ODS code (URLs are logged).
    Column("ref", String(16), nullable=False, unique=True),
)

home_landlines = Table(
    "home_landlines",
    metadata,
    Column("number", String(16), primary_key=True),  # E.164
    Column("ods", String(5), ForeignKey("care_homes.ods", ondelete="CASCADE"), primary_key=True),
)

escalations = Table(
    "escalations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(160), nullable=False, unique=True),
    Column("call_sid", String(64)),
    Column("ods", String(5)),
    Column("home_name", String(200)),
    Column("callback", String(16)),  # E.164: the home's registered landline, or a number the caller keyed
    Column("ticket", String(15), nullable=False),
    Column("reason", String(16), nullable=False),
    Column("status", String(8), nullable=False),  # open | closed
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("note", Text),  # what the digital officer did, written when closing
    Column("closed_by", String(64)),  # the console account that closed it; none from the command line
)

# A CSV file uploaded in the console, kept between its dry run and the officer's go-ahead: any web
# process may serve the second request. `plan` is a digest of the changes the dry run showed.
home_uploads = Table(
    "home_uploads",
    metadata,
    Column("token", String(32), primary_key=True),
    Column("user_name", String(64), nullable=False),
    Column("file_name", String(200), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("plan", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Emails to the care association (one for each new escalation), sent by the worker over SMTP and
# retried as texts are. Apart from the texts' outbox, whose caps, opt-outs and counts are about texts.
email_outbox = Table(
    "email_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(160), nullable=False, unique=True),
    Column("purpose", String(64), nullable=False),
    Column("to_address", String(120), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending -> sending (claimed) -> sent | failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("claimed_by", String(64)),
    Column("claimed_until", DateTime(timezone=True)),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
)

# The operator's notice, said after the greeting: one row at most (id 1).
notices = Table(
    "notices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("text", Text, nullable=False),
    Column("until", Date),  # the last day it is said, in UK time; none: until cleared
    Column("set_at", DateTime(timezone=True), nullable=False),
)

# What is worth counting about calls, with nothing personal in it: a call started or ended, a scenario
# reached, a text asked for or queued, a put-through and its outcome. Kept after a purge; each at most
# once per call (`call_key`, a keyed hash of the CallSid), so a retried webhook counts nothing twice.
milestones = Table(
    "milestones",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_key", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("detail", String(32), nullable=False, server_default=""),
    Column("at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("call_key", "kind", "detail", name="uq_milestones_once"),
)

# Counts kept by purges before milestones existed (release 0004 and earlier).
usage_counts = Table(
    "usage_counts",
    metadata,
    Column("day", Date, primary_key=True),
    Column("metric", String(64), primary_key=True),
    Column("count", Integer, nullable=False),
)


# The operator console's accounts (`ivr console add-user`): an Argon2 hash, never the password.
console_users = Table(
    "console_users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("password_hash", String(200), nullable=False),
    Column("failed_attempts", Integer, nullable=False, server_default="0"),
    Column("locked_until", DateTime(timezone=True)),
    # Raised by a logout or a new password: every session signed with an older value stops working.
    Column("session_epoch", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("password_changed_at", DateTime(timezone=True), nullable=False),
)

# Who saw personal data in the console, or changed something, and when. Kept like the escalations it names.
console_audit = Table(
    "console_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("subject", String(120), nullable=False),
)


def aware(stamp: datetime) -> datetime:
    """SQLite hands back naive datetimes for what was stored in UTC."""
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def now() -> datetime:
    return datetime.now(UTC)


def migration_config() -> Config:
    """Alembic's configuration for the migration chain, which ships as package data (ivr/store/migrations).
    Alembic is imported here, not at module load: a webhook worker never needs it."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "ivr.store:migrations")
    return config


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite_file = _sqlite_file(url)
        self.engine = _engine(url, self.sqlite_file)
        # SQLite has one writer at a time, and a second one waiting for the lock is put to sleep by its busy
        # handler (1, 2, 5, 10 ms...), however soon the lock comes free: the webhooks' writes in one process
        # queue here instead, woken as soon as the one before commits. Between processes SQLite still decides.
        self._sqlite_writer = threading.RLock() if self.engine.dialect.name == "sqlite" else None
        self.kept = Kept()  # the notice and the directory, between reads (ivr/store/kept.py)
        self._closing: list[Callable[[], None]] = []

    def when_closed(self, action: Callable[[], None]) -> None:
        """`action` is to be done before the store closes: what works on it in the background stops."""
        self._closing.append(action)

    def close(self) -> None:
        """Stop what works on the store in the background (counts are written first), then close its connections."""
        for action in self._closing:
            action()
        self.engine.dispose()

    def upgrade(self) -> None:
        """Bring the schema to the newest revision of the migration chain."""
        from alembic import command

        if self.sqlite_file is not None:
            # Made here and only here: a connection is never opened on a missing file (sqlite_file.py).
            self.sqlite_file.path.parent.mkdir(parents=True, exist_ok=True)
            self.sqlite_file.path.touch()
        config = migration_config()
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(select(calls.c.call_sid).limit(1))
            return True
        except Exception:
            return False

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Transaction]:
        """One unit of work that writes: all of it is kept, or none.

        `durable=False` is for counts only (a call's record, its milestones): on PostgreSQL its commit does
        not wait for the WAL to reach the disk, which under load was most of a call's first request. A crash
        of the database server can lose the last fraction of a second of such commits, never half of one;
        a text queued for a caller or an escalation is always written durably.
        """
        with self._writer(), self.engine.connect() as connection:
            connection.execution_options(ivr_writes=True)  # SQLite: take the write lock at BEGIN
            with connection.begin():
                if not durable and connection.dialect.name == "postgresql":
                    connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                yield Transaction(connection)

    def _writer(self) -> AbstractContextManager[object]:
        return self._sqlite_writer if self._sqlite_writer is not None else nullcontext()


class Transaction:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def milestone(self, call_key: str, kind: str, detail: str = "") -> bool:
        """Count something that happened on a call, once: False when it was counted already."""
        return self._insert_once(milestones, call_key=call_key, kind=kind, detail=detail[:32], at=now())

    def lock_caps(self) -> None:
        """Hold the daily caps still until this transaction ends, so counting and inserting are one step.

        SQLite's writer already holds the database's write lock from BEGIN IMMEDIATE; PostgreSQL
        takes a transaction-scoped advisory lock that every capped insert waits for.
        """
        if self.connection.dialect.name == "postgresql":
            self.connection.execute(select(func.pg_advisory_xact_lock(CAPS_LOCK)))

    def _insert_once(self, table: Table, **values: Any) -> bool:
        statement = (sqlite_insert if self.connection.dialect.name == "sqlite" else postgresql_insert)(table)
        # RETURNING, not rowcount: psycopg reports no row count for ON CONFLICT DO NOTHING.
        key = next(iter(table.primary_key.columns))
        inserted = self.connection.execute(statement.values(**values).on_conflict_do_nothing().returning(key))
        return inserted.first() is not None

    def end_call(self, call_sid: str, status: str, duration: int | None) -> bool:
        """Record a call's end; False when its start was not recorded yet (counts are written behind the calls,
        ivr/store/counts.py, perhaps by another process). Then its record is made here, dated by its end, or
        ended here if the start is written meanwhile; the start written after finds it there and is dropped."""
        stamp = now()
        ended = {"status": status, "duration_seconds": duration, "ended_at": stamp, "updated_at": stamp}
        result = self.connection.execute(update(calls).where(calls.c.call_sid == call_sid).values(**ended))
        if result.rowcount:
            return True
        statement = (sqlite_insert if self.connection.dialect.name == "sqlite" else postgresql_insert)(calls)
        self.connection.execute(statement.values(call_sid=call_sid, created_at=stamp, **ended)
                                .on_conflict_do_update(index_elements=[calls.c.call_sid], set_=ended))  # fmt: skip
        return False

    def enqueue_text(
        self,
        *,
        key: str,
        call_sid: str | None,
        purpose: str,
        to: str,
        body: str,
        caller_hash: str | None = None,
        capped: bool = True,
    ) -> bool:
        """Add a text to the outbox unless one with the same key is there; True if added."""
        if self.holds(outbox, key):
            return False
        stamp = now()
        self.connection.execute(
            insert(outbox).values(
                idempotency_key=key, call_sid=call_sid, purpose=purpose, to_number=to, body=body,
                status="pending", created_at=stamp, updated_at=stamp, next_attempt_at=stamp,
                caller_hash=caller_hash, capped=capped,
            )
        )
        return True

    def holds(self, table: Table, key: str) -> bool:
        """Whether `table` already has the row with this idempotency key (a retried webhook's work)."""
        return holds(self.connection, table, key)

    def rows(self, table: Table) -> list[dict[str, Any]]:
        return [dict(row._mapping) for row in self.connection.execute(select(table))]


def holds(connection: Connection, table: Table, key: str) -> bool:
    return connection.execute(select(table.c.id).where(table.c.idempotency_key == key)).first() is not None


def _sqlite_file(url: str) -> SqliteFile | None:
    if not url.startswith("sqlite"):
        return None
    path = file_of(make_url(url).database)
    return SqliteFile(path) if path is not None else None


def _engine(url: str, sqlite_file: SqliteFile | None = None) -> Engine:
    # hide_parameters: a database error's message would otherwise quote the row (a mobile, a text's body)
    # into the logs.
    if not url.startswith("sqlite"):
        # connect_timeout: a hung server accepts the connection but never answers; this frees the thread that
        # waits on it (the webhook itself stopped waiting at its deadline, ivr/store/deadline.py).
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, hide_parameters=True,
                             connect_args={"connect_timeout": 5})  # fmt: skip
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, hide_parameters=True)
    if sqlite_file is not None:
        sqlite_file.install(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, start transactions, so they can start IMMEDIATE;
        # WAL lets readers go on while a webhook writes.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash loses no committed state
        cursor.execute("PRAGMA foreign_keys=ON")  # a removed home takes its landlines with it
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Writers take the lock at the start, so two never deadlock upgrading a read lock;
        # readers do not, so a lookup never waits for (or inside) a write.
        writes = connection.get_execution_options().get("ivr_writes", False)
        if writes and sqlite_file is not None:  # never into a deleted or read-only file
            sqlite_file.check_writable(connection.connection.info)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


__all__ = [
    "Store", "Transaction", "calls", "care_homes", "console_audit", "console_users", "email_outbox", "escalations",
    "home_landlines", "home_uploads", "metadata", "milestones", "notices", "opt_outs", "outbox", "usage_counts",
]  # fmt: skip


def describe(url: str) -> str:
    """A database URL fit to print: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)
