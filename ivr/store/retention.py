"""Retention: personal data is kept only as long as configured, then purged to anonymous counts.

Part of the store (SQLAlchemy stays in the store and its query modules). A purge removes call
records, texts (number and body) and closed escalations older than the retention period. What
happened on calls is already counted, anonymously and live, as milestones (never purged); the
purge adds what it removes of texts and escalations to `usage_counts` (by outcome, by day) in the
same transaction, so running it daily, or twice, counts everything exactly once.

Kept on purpose: numbers that texted STOP (forgetting them would text them again) and
open escalations (the care association is still working on them).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select, update

from ivr.store.database import (
    Store,
    calls,
    email_outbox,
    escalations,
    home_uploads,
    milestones,
    now,
    outbox,
    usage_counts,
)

DELIVERED = ("delivered", "read")  # Twilio's delivery states that mean the text reached the phone


@dataclass(frozen=True)
class Purged:
    calls: int
    texts: int
    escalations: int
    counts: dict[str, int]  # what was added to the anonymous counts, by metric


def purge(store: Store, *, days: int, dry_run: bool = False) -> Purged:
    cutoff = now() - timedelta(days=days)
    counts: Counter[tuple[date, str]] = Counter()
    with store.transaction() as tx:
        connection = tx.connection
        n_calls = int(connection.execute(
            select(func.count()).select_from(calls).where(calls.c.created_at < cutoff)
        ).scalar_one())  # fmt: skip
        old_texts = connection.execute(
            select(outbox.c.created_at, outbox.c.purpose, outbox.c.status, outbox.c.delivery_status)
            .where(outbox.c.created_at < cutoff)
        )
        n_texts = 0
        for created_at, purpose, status, delivery in old_texts:
            n_texts += 1
            counts[(_day(created_at), f"texts.{status}.{purpose}")] += 1
            if delivery in DELIVERED:  # the usage page's "delivered", kept once the text itself is gone
                counts[(_day(created_at), f"texts.delivered.{purpose}")] += 1
        old_escalations = connection.execute(
            select(escalations.c.created_at, escalations.c.reason).where(
                escalations.c.status == "closed", escalations.c.closed_at < cutoff
            )
        )
        n_escalations = 0
        for created_at, reason in old_escalations:
            n_escalations += 1
            counts[(_day(created_at), f"escalations.{reason}")] += 1
        if not dry_run:
            connection.execute(delete(calls).where(calls.c.created_at < cutoff))
            connection.execute(delete(outbox).where(outbox.c.created_at < cutoff))
            # The escalation emails carry the number to ring back: gone with the texts, once settled.
            connection.execute(delete(email_outbox).where(email_outbox.c.created_at < cutoff,
                                                          email_outbox.c.status.in_(("sent", "failed"))))  # fmt: skip
            # A homes file uploaded in the console and never applied (it may hold registered mobiles).
            connection.execute(delete(home_uploads).where(home_uploads.c.created_at < now() - timedelta(days=1)))
            connection.execute(
                delete(escalations).where(escalations.c.status == "closed", escalations.c.closed_at < cutoff)
            )
            _add_counts(connection, counts)
    totals: Counter[str] = Counter()
    for (_, metric), value in counts.items():
        totals[metric] += value
    return Purged(calls=n_calls, texts=n_texts, escalations=n_escalations, counts=dict(sorted(totals.items())))


def usage(store: Store) -> dict[str, int]:
    """The anonymous counts so far, by metric, over all days: the milestones, and what purges counted."""
    totals: Counter[str] = Counter()
    with store.engine.connect() as connection:
        counted = select(milestones.c.kind, milestones.c.detail, func.count()).group_by(
            milestones.c.kind, milestones.c.detail
        )
        for kind, detail, value in connection.execute(counted):
            totals[milestone_metric(kind, detail)] += value
        for metric, value in connection.execute(select(usage_counts.c.metric, usage_counts.c.count)):
            totals[metric] += value
    return dict(sorted(totals.items()))


def _day(stamp: datetime) -> date:
    """The UTC day of a stored time: SQLite gives it back without a zone, PostgreSQL in the session's."""
    return (stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp).astimezone(UTC).date()


def milestone_metric(kind: str, detail: str) -> str:
    """A milestone as a usage metric: calls, calls.scenario_2, texts.asked.checklist, put_through.completed."""
    if kind == "call_started":
        return "calls"
    if kind == "scenario_reached":
        return f"calls.scenario_{detail}"
    return f"{kind.replace('text_', 'texts.')}.{detail}" if detail else kind


def _add_counts(connection: Connection, counts: Counter[tuple[date, str]]) -> None:
    for (day, metric), value in sorted(counts.items()):
        where = (usage_counts.c.day == day) & (usage_counts.c.metric == metric)
        if connection.execute(update(usage_counts).where(where).values(count=usage_counts.c.count + value)).rowcount:
            continue
        connection.execute(insert(usage_counts).values(day=day, metric=metric, count=value))
