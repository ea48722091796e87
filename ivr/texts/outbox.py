"""The outbox's queries: claiming texts to send, recording what happened, caps and opt-outs.

Part of the store (SQLAlchemy stays in store.py and here). Several workers may run at
once: a claim takes rows with FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite's write
lock serialises claims), and marks them with a lease, so a crashed worker's claim
expires and another worker picks the text up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Table, and_, delete, func, insert, or_, select, update

from ivr.store.database import Store, aware, holds, now, opt_outs, outbox, sending_pace

# Twilio's delivery states in order; a callback may arrive late or twice, never moving a text back.
DELIVERY_ORDER = {"accepted": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4, "read": 5,
                  "undelivered": 6, "failed": 6}  # fmt: skip


@dataclass(frozen=True)
class QueuedText:
    id: int
    to: str
    body: str
    purpose: str
    attempts: int
    created_at: datetime
    reclaimed: bool  # a claim that expired: the last worker may have sent it before it died


MAX_SLOT_AHEAD = timedelta(minutes=5)


def next_slot(store: Store, interval: timedelta, at: datetime) -> datetime:
    """Reserve the next moment a text may be sent, `interval` after the last one any worker reserved.

    The row is locked for the reservation (FOR UPDATE on PostgreSQL, the write lock on SQLite), so
    however many workers run, their texts together keep to the configured rate.
    """
    with store.transaction() as tx:
        last = tx.connection.execute(
            select(sending_pace.c.next_slot).where(sending_pace.c.name == "sms").with_for_update()
        ).scalar_one()
        last = aware(last)
        # A worker whose clock ran fast may have pushed the slot far ahead; every worker would then wait
        # that long. No queue of real slots is that deep, so such a slot is forgotten.
        slot = at if last > at + MAX_SLOT_AHEAD else max(last, at)
        tx.connection.execute(update(sending_pace).where(sending_pace.c.name == "sms")
                              .values(next_slot=slot + interval))  # fmt: skip
    return slot


def call_text_key(call_sid: str, purpose: str) -> str:
    """The idempotency key of a call's text: one per call and purpose, whatever Twilio retries."""
    return f"call:{call_sid}:{purpose}"


def is_queued(store: Store, key: str) -> bool:
    with store.engine.connect() as connection:
        return holds(connection, outbox, key)


def claimable(table: Table, stamp: datetime) -> ColumnElement[bool]:
    """Rows of an outbox (texts or emails) a worker may take: due, or held by a worker whose lease ran out."""
    return or_(
        and_(table.c.status == "pending", table.c.next_attempt_at <= stamp),
        and_(table.c.status == "sending", table.c.claimed_until < stamp),
    )


def claim(store: Store, worker: str, *, batch: int, lease: timedelta) -> list[QueuedText]:
    stamp = now()
    with store.transaction() as tx:
        rows = tx.connection.execute(
            select(outbox.c.id, outbox.c.to_number, outbox.c.body, outbox.c.purpose, outbox.c.attempts,
                   outbox.c.created_at, outbox.c.status)
            .where(claimable(outbox, stamp))
            .order_by(outbox.c.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        if rows:
            tx.connection.execute(
                update(outbox)
                .where(outbox.c.id.in_([row.id for row in rows]))
                .values(status="sending", claimed_by=worker, claimed_until=stamp + lease, updated_at=stamp)
            )
    return [
        QueuedText(row.id, row.to_number, row.body, row.purpose, row.attempts, aware(row.created_at),
             reclaimed=row.status == "sending")
        for row in rows
    ]


def _finish(store: Store, text_id: int, worker: str, **values: object) -> bool:
    """Record an outcome, only while this worker still holds the claim."""
    with store.transaction() as tx:
        result = tx.connection.execute(
            update(outbox)
            .where(outbox.c.id == text_id, outbox.c.claimed_by == worker, outbox.c.status == "sending")
            .values(claimed_until=None, updated_at=now(), **values)
        )
        return bool(result.rowcount)


def renew(store: Store, text_id: int, worker: str, lease: timedelta) -> bool:
    """Extend this worker's claim just before it sends; False if another worker has taken the text.

    A claim that ran out but that nobody took is still this worker's to send. A claim taken over
    has another claimed_by: `claim` rewrites it under the row lock, and PostgreSQL re-checks this
    condition after waiting on that lock.
    """
    stamp = now()
    with store.transaction() as tx:
        result = tx.connection.execute(
            update(outbox)
            .where(outbox.c.id == text_id, outbox.c.claimed_by == worker, outbox.c.status == "sending")
            .values(claimed_until=stamp + lease, updated_at=stamp)
        )
        return bool(result.rowcount)


def renew_held(store: Store, text_ids: list[int], worker: str, lease: timedelta) -> int:
    """Extend every claim this worker still holds among `text_ids`: it is alive and working through them.

    Leases are short so that a crashed worker's texts are taken over quickly; a live worker keeps its
    texts by renewing them as it goes. How many it still holds.
    """
    if not text_ids:
        return 0
    stamp = now()
    with store.transaction() as tx:
        result = tx.connection.execute(
            update(outbox)
            .where(outbox.c.id.in_(text_ids), outbox.c.claimed_by == worker, outbox.c.status == "sending")
            .values(claimed_until=stamp + lease, updated_at=stamp)
        )
        return int(result.rowcount)


def release(store: Store, texts: list[QueuedText], worker: str) -> int:
    """Let go of claims this worker will not send (it is stopping), so another worker takes them at once.

    A text claimed fresh goes back to 'pending'. One taken over from a worker that died may have been
    sent by it, so it stays 'sending' with its claim already run out: whoever takes it looks first.
    """
    stamp = now()
    held = and_(outbox.c.claimed_by == worker, outbox.c.status == "sending")
    fresh = [text.id for text in texts if not text.reclaimed]
    reclaimed = [text.id for text in texts if text.reclaimed]
    with store.transaction() as tx:
        released = 0
        if fresh:
            released += tx.connection.execute(
                update(outbox).where(outbox.c.id.in_(fresh), held)
                .values(status="pending", claimed_by=None, claimed_until=None, updated_at=stamp)
            ).rowcount  # fmt: skip
        if reclaimed:
            released += tx.connection.execute(
                update(outbox).where(outbox.c.id.in_(reclaimed), held)
                .values(claimed_until=stamp - timedelta(seconds=1), updated_at=stamp)
            ).rowcount  # fmt: skip
        return int(released)


def mark_sent(store: Store, text_id: int, worker: str, sid: str, attempts: int) -> bool:
    return _finish(store, text_id, worker, status="sent", provider_sid=sid, sent_at=now(), attempts=attempts,
                   error=None)  # fmt: skip


def mark_retry(store: Store, text_id: int, worker: str, attempts: int, wait: timedelta, error: str) -> bool:
    return _finish(store, text_id, worker, status="pending", attempts=attempts, next_attempt_at=now() + wait,
                   error=error)  # fmt: skip


def mark_failed(store: Store, text_id: int, worker: str, attempts: int, error: str) -> bool:
    return _finish(store, text_id, worker, status="failed", attempts=attempts, error=error)


def mark_opted_out(store: Store, text_id: int, worker: str, attempts: int, error: str) -> bool:
    """Not sent because the person opted out: their choice, not a failure, so never retried."""
    return _finish(store, text_id, worker, status="opted_out", attempts=attempts, error=error)


def mark_unknown(store: Store, text_id: int, worker: str, attempts: int, error: str) -> bool:
    """Not known whether Twilio took it: an operator decides, rather than risk sending it twice."""
    return _finish(store, text_id, worker, status="unknown", attempts=attempts, error=error)


def record_delivery(store: Store, sid: str, status: str) -> bool:
    """Twilio's status callback: move the delivery state forward only. True if it changed."""
    rank = DELIVERY_ORDER.get(status)
    if rank is None:
        return False
    behind = [name for name, earlier in DELIVERY_ORDER.items() if earlier < rank]
    # One conditional UPDATE, so two callbacks racing cannot both read the old state and the
    # later-arriving, earlier state win (PostgreSQL re-checks the condition after the row lock).
    with store.transaction() as tx:
        result = tx.connection.execute(
            update(outbox)
            .where(outbox.c.provider_sid == sid,
                   or_(outbox.c.delivery_status.is_(None), outbox.c.delivery_status.in_(behind)))
            .values(delivery_status=status, updated_at=now())
        )  # fmt: skip
        return bool(result.rowcount)


def sent_today(store: Store, *, to: str | None = None, caller_hash: str | None = None) -> int:
    """Texts callers asked for in the last 24 hours: to one mobile, from one caller, or in all."""
    with store.engine.connect() as connection:
        return count_today(connection, to=to, caller_hash=caller_hash)


def count_today(connection: Connection, *, to: str | None = None, caller_hash: str | None = None) -> int:
    """`sent_today` inside a transaction that holds the caps (texts/caps.py)."""
    query = select(func.count()).select_from(outbox).where(
        outbox.c.capped.is_(True), outbox.c.created_at >= now() - timedelta(days=1)
    )
    if to is not None:
        query = query.where(outbox.c.to_number == to)
    if caller_hash is not None:
        query = query.where(outbox.c.caller_hash == caller_hash)
    return int(connection.execute(query).scalar_one())


def is_opted_out(store: Store, number: str) -> bool:
    with store.engine.connect() as connection:
        return opted_out(connection, number)


def opted_out(connection: Connection, number: str) -> bool:
    return connection.execute(select(opt_outs.c.number).where(opt_outs.c.number == number)).first() is not None


def opt_out(store: Store, number: str) -> None:
    with store.transaction() as tx:
        if not tx.connection.execute(select(opt_outs.c.number).where(opt_outs.c.number == number)).first():
            tx.connection.execute(insert(opt_outs).values(number=number, opted_out_at=now()))


def opt_in(store: Store, number: str) -> None:
    with store.transaction() as tx:
        tx.connection.execute(delete(opt_outs).where(opt_outs.c.number == number))

