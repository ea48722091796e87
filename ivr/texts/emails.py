"""The email outbox's queries: an email queued in a call's transaction, claimed by a worker, and its outcome.

Part of the store (SQLAlchemy stays in the query modules). The same shape as the texts' outbox: an
idempotency key so a retried webhook queues one email, claims with a lease (FOR UPDATE SKIP LOCKED on
PostgreSQL) so several workers never send one twice and a crashed worker's claim runs out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from ivr.store.database import Store, Transaction, aware, email_outbox, now
from ivr.texts.outbox import claimable


@dataclass(frozen=True)
class QueuedEmail:
    id: int
    key: str  # the idempotency key: also the email's Message-ID, so a duplicate can be recognised
    to: str
    subject: str
    body: str
    purpose: str
    attempts: int
    created_at: datetime


def enqueue(tx: Transaction, *, key: str, purpose: str, to: str, subject: str, body: str) -> bool:
    """Queue an email unless one with this key is there; True if queued now."""
    if tx.holds(email_outbox, key):
        return False
    stamp = now()
    tx.connection.execute(insert(email_outbox).values(
        idempotency_key=key, purpose=purpose, to_address=to, subject=subject[:200], body=body, status="pending",
        created_at=stamp, updated_at=stamp, next_attempt_at=stamp,
    ))  # fmt: skip
    return True


def claim(store: Store, worker: str, *, batch: int, lease: timedelta) -> list[QueuedEmail]:
    stamp = now()
    with store.transaction() as tx:
        rows = tx.connection.execute(
            select(email_outbox).where(claimable(email_outbox, stamp)).order_by(email_outbox.c.id).limit(batch)
            .with_for_update(skip_locked=True)
        ).all()  # fmt: skip
        if rows:
            tx.connection.execute(
                update(email_outbox).where(email_outbox.c.id.in_([row.id for row in rows]))
                .values(status="sending", claimed_by=worker, claimed_until=stamp + lease, updated_at=stamp)
            )  # fmt: skip
    return [QueuedEmail(row.id, row.idempotency_key, row.to_address, row.subject, row.body, row.purpose,
                        row.attempts, aware(row.created_at)) for row in rows]  # fmt: skip


def _finish(store: Store, email_id: int, worker: str, **values: object) -> bool:
    """Record an outcome, only while this worker still holds the claim."""
    with store.transaction() as tx:
        result = tx.connection.execute(
            update(email_outbox)
            .where(email_outbox.c.id == email_id, email_outbox.c.claimed_by == worker,
                   email_outbox.c.status == "sending")
            .values(claimed_until=None, updated_at=now(), **values)
        )  # fmt: skip
        return bool(result.rowcount)


def mark_sent(store: Store, email_id: int, worker: str, attempts: int) -> bool:
    return _finish(store, email_id, worker, status="sent", sent_at=now(), attempts=attempts, error=None)


def mark_retry(store: Store, email_id: int, worker: str, attempts: int, wait: timedelta, error: str) -> bool:
    return _finish(store, email_id, worker, status="pending", attempts=attempts, next_attempt_at=now() + wait,
                   error=error)  # fmt: skip


def mark_failed(store: Store, email_id: int, worker: str, attempts: int, error: str) -> bool:
    return _finish(store, email_id, worker, status="failed", attempts=attempts, error=error)


@dataclass(frozen=True)
class EmailState:
    id: int
    purpose: str
    status: str
    attempts: int
    error: str | None


def states(store: Store) -> list[EmailState]:
    """Every email's state, oldest first (for tests and for an operator's look)."""
    query = select(email_outbox.c.id, email_outbox.c.purpose, email_outbox.c.status, email_outbox.c.attempts,
                   email_outbox.c.error).order_by(email_outbox.c.id)  # fmt: skip
    with store.engine.connect() as connection:
        return [EmailState(*row) for row in connection.execute(query)]
