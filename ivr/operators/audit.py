"""The audit log: who saw personal data in the console, or changed something there, and when.

Part of the store's query modules. Written in the same request as the thing it records, before
the page shows it, so a number cannot be seen without a line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select

from ivr.store.database import Store, aware, console_audit, now


@dataclass(frozen=True)
class Entry:
    at: datetime
    user: str
    action: str
    subject: str


def record(store: Store, user: str, action: str, subject: str) -> None:
    with store.transaction() as tx:
        tx.connection.execute(insert(console_audit).values(at=now(), user_name=user, action=action,
                                                           subject=subject[:120]))  # fmt: skip


def recent(store: Store, *, limit: int = 200) -> list[Entry]:
    query = select(console_audit).order_by(console_audit.c.at.desc(), console_audit.c.id.desc()).limit(limit)
    with store.engine.connect() as connection:
        return [Entry(aware(row.at), row.user_name, row.action, row.subject) for row in connection.execute(query)]
