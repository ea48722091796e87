"""Escalations: helpdesk tickets callers could not get resolved, for the care association to follow up.

Part of the store (SQLAlchemy stays in store.py and its query modules). A call records one
in the same transaction as its state and the text to the care association's contact. The
`ivr escalations` commands and the operator console both follow them up through this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, insert, select, update

from ivr.homes.notice import UK
from ivr.store.database import Store, Transaction, aware, escalations, home_landlines, now, outbox

MAX_NOTE = 2000  # a paragraph: what was done, with whom, and the helpdesk's answer
CSV_COLUMNS = ("id", "received", "ods_code", "home", "ticket", "reason", "status", "closed", "callback", "note")


@dataclass(frozen=True)
class Escalation:
    id: int
    ods: str | None
    home_name: str | None
    ticket: str
    reason: str
    status: str
    created_at: datetime
    closed_at: datetime | None
    note: str | None = None
    closed_by: str | None = None
    # Where to ring back: the number the caller gave for it, else the mobile they had texts sent to on that
    # call, else the home's landline.
    callback: str | None = None


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


def listing(store: Store, *, only_open: bool = False, only_closed: bool = False) -> list[Escalation]:
    """Oldest first, with each one's callback number."""
    query = _query()
    if only_open:
        query = query.where(escalations.c.status == "open")
    if only_closed:
        query = query.where(escalations.c.status == "closed")
    return _read(store, query)


def one(store: Store, escalation_id: int) -> Escalation | None:
    found = _read(store, _query().where(escalations.c.id == escalation_id))
    return found[0] if found else None


def close(store: Store, escalation_id: int, *, note: str | None = None, by: str | None = None) -> bool | None:
    """Close an escalation: True if closed now, False if it was closed already, None if there is no such one."""
    note = (note or "").strip()[:MAX_NOTE] or None
    return _move(store, escalation_id, "closed", closed_at=now(), note=note, closed_by=by)


def reopen(store: Store, escalation_id: int) -> bool | None:
    """Open a closed escalation again (the helpdesk did not do what it said); its note is kept to read.
    True if reopened now, False if it was open, None if there is no such one."""
    return _move(store, escalation_id, "open", closed_at=None)


def _move(store: Store, escalation_id: int, status: str, **values: object) -> bool | None:
    """Set an escalation's status (and `values`): True if moved now, False if it was there, None if no such one."""
    with store.transaction() as tx:
        now_status = tx.connection.execute(
            select(escalations.c.status).where(escalations.c.id == escalation_id)
        ).scalar_one_or_none()
        if now_status is None:
            return None
        if now_status == status:
            return False
        tx.connection.execute(
            update(escalations).where(escalations.c.id == escalation_id).values(status=status, **values)
        )
        return True


def uk_time(stamp: datetime) -> str:
    """Stored in UTC; the digital officer reads UK time (GMT or BST)."""
    return stamp.astimezone(UK).strftime("%Y-%m-%d %H:%M")


def csv_rows(found: list[Escalation]) -> list[tuple[str, ...]]:
    """The rows of `ivr escalations list --csv` and the console's download, in CSV_COLUMNS' order."""
    return [
        (str(e.id), uk_time(e.created_at), e.ods or "", e.home_name or "", e.ticket, e.reason, e.status,
         uk_time(e.closed_at) if e.closed_at else "", e.callback or "", e.note or "")
        for e in found
    ]  # fmt: skip


def _query() -> Select[Any]:
    # The callback number: the caller's own mobile when they had a text sent on that call (the first
    # such text), else the home's registered landline (its lowest, when a home has several).
    mobile = (
        select(outbox.c.to_number)
        .where(and_(outbox.c.call_sid == escalations.c.call_sid, outbox.c.purpose != "escalation_notice"))
        .order_by(outbox.c.id).limit(1).scalar_subquery()
    )  # fmt: skip
    landline = (
        select(home_landlines.c.number).where(home_landlines.c.ods == escalations.c.ods)
        .order_by(home_landlines.c.number).limit(1).scalar_subquery()
    )  # fmt: skip
    return select(
        escalations.c.id, escalations.c.ods, escalations.c.home_name, escalations.c.ticket, escalations.c.reason,
        escalations.c.status, escalations.c.created_at, escalations.c.closed_at, escalations.c.note,
        escalations.c.closed_by, escalations.c.callback.label("given"), mobile.label("mobile"),
        landline.label("landline"),
    ).order_by(escalations.c.created_at, escalations.c.id)  # fmt: skip


def _read(store: Store, query: Select[Any]) -> list[Escalation]:
    with store.engine.connect() as connection:
        return [
            Escalation(row.id, row.ods, row.home_name, row.ticket, row.reason, row.status, aware(row.created_at),
                       aware(row.closed_at) if row.closed_at else None, row.note, row.closed_by,
                       row.given or row.mobile or row.landline)
            for row in connection.execute(query)
        ]  # fmt: skip
