"""Texts that need an operator: failed, fate unknown, or refused by the network; resending them; opt-outs.

Part of the store's query modules (SQLAlchemy stays in store/ and here). `ivr sms list` and the
operator console show the same list and resend through the same function, so a resend keeps
to the callers' daily caps and the opt-outs wherever it is asked for.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, String, cast, literal, or_, select
from sqlalchemy.orm import aliased

from ivr.store.database import Store, aware, opt_outs, outbox
from ivr.texts.caps import Outcome, TextLimits, queue_within_caps

# Who a resend counts against when the text had no calling number (the escalation notice): one shared
# allowance of IVR_SMS_DAILY_PER_CALLER a day for all such resends.
RESENT_FOR_NO_CALLER = "operator resend"
# Our own outcomes a person must look at, and Twilio's delivery states that mean the phone never got it.
NEEDS_ATTENTION = ("failed", "unknown")
NOT_DELIVERED = ("undelivered", "failed")
WHY = {
    "failed": "Twilio refused it, or every try failed",
    "unknown": "not known whether Twilio took it: check the Twilio Console before resending",
    "undelivered": "Twilio sent it but the phone network could not deliver it",
}


@dataclass(frozen=True)
class TextProblem:
    id: int
    purpose: str
    to: str
    status: str  # ours: failed | unknown | sent
    delivery_status: str | None  # Twilio's, from the status callback
    error: str | None  # Twilio's error, as the sender recorded it
    attempts: int
    created_at: datetime
    resent_as: int | None  # the id of the text that resent it, if one did

    @property
    def state(self) -> str:
        """The one word to show: our failure or unknown, else Twilio's undelivered or failed."""
        if self.status in NEEDS_ATTENTION:
            return self.status
        return self.delivery_status or self.status

    @property
    def why(self) -> str:
        return WHY.get(self.state, self.state)


@dataclass(frozen=True)
class OptOut:
    number: str
    at: datetime

    @property
    def ref(self) -> str:
        """A stable name for the row that does not show the number (a form or the audit log must not)."""
        return hashlib.sha256(b"opt-out:" + self.number.encode()).hexdigest()[:12]


def resend_key(text_id: int) -> str:
    """One resend per text, however often the button is pressed; a resend that fails can itself be resent."""
    return f"resend:{text_id}"


def problems(store: Store, *, limit: int = 500) -> list[TextProblem]:
    """Newest first."""
    return _read(store, _query().order_by(outbox.c.created_at.desc(), outbox.c.id.desc()).limit(limit))


def one(store: Store, text_id: int) -> TextProblem | None:
    found = _read(store, _query().where(outbox.c.id == text_id))
    return found[0] if found else None


def _query() -> Select[Any]:
    again = aliased(outbox)
    resent = (
        select(again.c.id).where(again.c.idempotency_key == literal("resend:", String) + cast(outbox.c.id, String))
        .limit(1).scalar_subquery()
    )  # fmt: skip
    return select(
        outbox.c.id, outbox.c.purpose, outbox.c.to_number, outbox.c.status, outbox.c.delivery_status,
        outbox.c.error, outbox.c.attempts, outbox.c.created_at, resent.label("resent_as"),
    ).where(or_(outbox.c.status.in_(NEEDS_ATTENTION),
                (outbox.c.status == "sent") & outbox.c.delivery_status.in_(NOT_DELIVERED)))  # fmt: skip


def _read(store: Store, query: Select[Any]) -> list[TextProblem]:
    with store.engine.connect() as connection:
        return _rows(connection, query)


def _rows(connection: Connection, query: Select[Any]) -> list[TextProblem]:
    return [
        TextProblem(row.id, row.purpose, row.to_number, row.status, row.delivery_status, row.error, row.attempts,
                    aware(row.created_at), row.resent_as)
        for row in connection.execute(query)
    ]  # fmt: skip


@dataclass(frozen=True)
class Resent:
    """`new_id` when a new text was queued; otherwise why not (`refusal`, or `reason` in words)."""

    new_id: int | None = None
    refusal: Outcome | None = None  # "opted_out" or "limit"
    reason: str | None = None


def resend(store: Store, text_id: int, limits: TextLimits) -> Resent:
    """Queue the same text again, to the same number, as a new row: the old one stays as it was, for the record.

    Through the callers' own path (queue_within_caps): refused when the number opted out or a daily
    cap is reached, counted and inserted under the caps' lock, so a double click queues one text."""
    with store.transaction() as tx:
        found = _rows(tx.connection, _query().where(outbox.c.id == text_id))
        if not found:
            return Resent(reason="that text does not need resending (it went, or it is not in the list)")
        original = found[0]
        if original.resent_as is not None:
            return Resent(new_id=original.resent_as, reason="it was resent already")
        row = tx.connection.execute(
            select(outbox.c.call_sid, outbox.c.body, outbox.c.caller_hash).where(outbox.c.id == text_id)
        ).one()
        outcome = queue_within_caps(tx, limits, key=resend_key(text_id), call_sid=row.call_sid,
                                    purpose=original.purpose, to=original.to, body=row.body,
                                    caller_hash=row.caller_hash or RESENT_FOR_NO_CALLER)  # fmt: skip
        if outcome != "queued":
            return Resent(refusal=outcome)
        new_id = tx.connection.execute(
            select(outbox.c.id).where(outbox.c.idempotency_key == resend_key(text_id))
        ).scalar_one()
    return Resent(new_id=new_id)


def opted_out(store: Store) -> list[OptOut]:
    """Numbers that texted STOP (or that Twilio reported as unsubscribed), newest first."""
    with store.engine.connect() as connection:
        rows = connection.execute(select(opt_outs).order_by(opt_outs.c.opted_out_at.desc()))
        return [OptOut(row.number, aware(row.opted_out_at)) for row in rows]
