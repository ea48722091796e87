"""Escalations: helpdesk tickets callers could not get resolved, for the care association to follow up.

Part of the store (SQLAlchemy stays in store.py and its query modules). A call records one
in the same transaction as its state and the text to the care association's contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update

from ivr.store.database import Store, Transaction, aware, escalations, now


@dataclass(frozen=True)
class Escalation:
    id: int
    ods: str | None
    home_name: str | None
    callback: str | None  # E.164: where to ring the caller back
    ticket: str
    reason: str
    status: str
    created_at: datetime
    closed_at: datetime | None


def record(
    tx: Transaction, *, key: str, call_sid: str | None, ods: str | None, home_name: str | None, ticket: str,
    reason: str, callback: str | None = None,
) -> bool:  # fmt: skip
    """Store an escalation unless one with the same key is there; True if stored now."""
    if tx.holds(escalations, key):
        return False
    tx.connection.execute(
        insert(escalations).values(
            idempotency_key=key, call_sid=call_sid, ods=ods, home_name=home_name, callback=callback, ticket=ticket,
            reason=reason, status="open", created_at=now(),
        )
    )  # fmt: skip
    return True


def listing(store: Store, *, only_open: bool = False) -> list[Escalation]:
    query = select(
        escalations.c.id, escalations.c.ods, escalations.c.home_name, escalations.c.callback, escalations.c.ticket,
        escalations.c.reason,
        escalations.c.status, escalations.c.created_at, escalations.c.closed_at,
    ).order_by(escalations.c.created_at, escalations.c.id)  # fmt: skip
    if only_open:
        query = query.where(escalations.c.status == "open")
    with store.engine.connect() as connection:
        return [
            Escalation(row.id, row.ods, row.home_name, row.callback, row.ticket, row.reason, row.status,
                       aware(row.created_at), aware(row.closed_at) if row.closed_at else None)
            for row in connection.execute(query)
        ]  # fmt: skip


def close(store: Store, escalation_id: int) -> bool | None:
    """Close an escalation: True if closed now, False if it was closed already, None if there is no such one."""
    with store.transaction() as tx:
        status = tx.connection.execute(
            select(escalations.c.status).where(escalations.c.id == escalation_id)
        ).scalar_one_or_none()
        if status is None:
            return None
        if status == "closed":
            return False
        tx.connection.execute(
            update(escalations).where(escalations.c.id == escalation_id).values(status="closed", closed_at=now())
        )
        return True
