"""Retention on SQLite and PostgreSQL: a purge removes old personal data, keeps what it must, and counts it once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Table, insert, select

from ivr.homes import directory_store, notice
from ivr.homes.directory import Home
from ivr.store import retention
from ivr.store.database import (
    Store,
    calls,
    care_homes,
    escalations,
    home_landlines,
    milestones,
    notices,
    opt_outs,
    outbox,
    usage_counts,
)
from ivr.store.retention import Purged
from ivr.texts import outbox as outbox_store

NOW = datetime(2025, 3, 31, 12, 0, tzinfo=UTC)  # the purge's clock, so every cutoff and day is known


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "now", lambda: NOW)


def ago(days: float, **more: float) -> datetime:
    return NOW - timedelta(days=days, **more)


def add_call(store: Store, sid: str, created: datetime, *scenarios: int) -> None:
    """A call as the phone line records it: its record, and the milestones counted as it went."""
    with store.transaction() as tx:
        tx.connection.execute(insert(calls).values(
            call_sid=sid, status="completed", duration_seconds=95, created_at=created, updated_at=created,
            ended_at=created,
        ))  # fmt: skip
        reached = [("scenario_reached", str(number)) for number in scenarios]
        for kind, detail in [("call_started", ""), *reached]:
            tx.connection.execute(insert(milestones).values(call_key=sid, kind=kind, detail=detail, at=created))


def add_text(store: Store, key: str, created: datetime, status: str, purpose: str) -> None:
    with store.transaction() as tx:
        tx.connection.execute(insert(outbox).values(
            idempotency_key=key, call_sid=None, purpose=purpose, to_number="+447400123456", body="Your steps",
            status=status, created_at=created, updated_at=created,
        ))  # fmt: skip


def add_escalation(store: Store, key: str, created: datetime, reason: str, closed: datetime | None = None) -> None:
    with store.transaction() as tx:
        tx.connection.execute(insert(escalations).values(
            idempotency_key=key, call_sid=key, ods="VLC01", home_name="Wragby Road Care Home", ticket="INC0012345",
            reason=reason, status="closed" if closed else "open", created_at=created, closed_at=closed,
        ))  # fmt: skip


def column(store: Store, table: Table, name: str) -> list[Any]:
    with store.engine.connect() as connection:
        return sorted(connection.execute(select(table.c[name])).scalars())


def everything(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    with store.engine.connect() as connection:
        return {
            table.name: [tuple(row) for row in connection.execute(select(table).order_by(*table.primary_key.columns))]
            for table in (calls, outbox, escalations, opt_outs, care_homes, home_landlines, notices, usage_counts)
        }


def daily_counts(store: Store) -> set[tuple[Any, ...]]:
    """The rows of usage_counts: (day, metric, count)."""
    with store.engine.connect() as connection:
        return {tuple(row) for row in connection.execute(select(usage_counts))}


@pytest.fixture()
def filled(upgraded: Store) -> Store:
    """Old and recent calls, texts and escalations, and what a purge must never touch; kept: 30 days."""
    add_call(upgraded, "CA-old-1", ago(40), 1, 3)
    add_call(upgraded, "CA-old-2", ago(40, hours=1), 3)
    add_call(upgraded, "CA-old-3", ago(35))
    add_call(upgraded, "CA-old-4", ago(31), 2)
    add_call(upgraded, "CA-old-5", ago(30, seconds=1))
    add_call(upgraded, "CA-recent", ago(29, hours=23), 2)
    add_call(upgraded, "CA-today", ago(0), 1)
    add_text(upgraded, "old-sent", ago(40), "sent", "checklist")
    add_text(upgraded, "old-failed", ago(40), "failed", "checklist")
    add_text(upgraded, "old-notice", ago(35), "sent", "escalation_notice")
    add_text(upgraded, "recent-sent", ago(29), "sent", "checklist")
    add_text(upgraded, "today-pending", ago(0), "pending", "checklist")
    add_escalation(upgraded, "closed-long-ago", ago(60), "refused", closed=ago(45))
    add_escalation(upgraded, "open-long-ago", ago(90), "leaver")  # still being worked on
    add_escalation(upgraded, "closed-lately", ago(60), "other", closed=ago(5))
    outbox_store.opt_out(upgraded, "+447400999888")
    with upgraded.transaction() as tx:
        tx.connection.execute(insert(opt_outs).values(number="+447400111222", opted_out_at=ago(400)))
    directory_store.add(upgraded, Home("VLC01", "Wragby Road Care Home", ("+441522500100",), "+447400123456"))
    notice.set_notice(upgraded, "NHSmail is down this morning.", None)
    return upgraded


# What a purge of `filled` counts as it removes: texts and escalations (calls are milestones already).
PURGED_COUNTS = {
    "escalations.refused": 1,
    "texts.failed.checklist": 1,
    "texts.sent.checklist": 1,
    "texts.sent.escalation_notice": 1,
}
# The calls of `filled`, counted live from their milestones, whatever has been purged.
CALL_COUNTS = {"calls": 7, "calls.scenario_1": 2, "calls.scenario_2": 2, "calls.scenario_3": 2}
EXPECTED_COUNTS = CALL_COUNTS | PURGED_COUNTS


def test_purge_removes_only_what_is_older_than_the_period(filled: Store) -> None:
    before = everything(filled)

    done = retention.purge(filled, days=30)

    assert done == Purged(calls=5, texts=3, escalations=1, counts=PURGED_COUNTS)
    assert column(filled, calls, "call_sid") == ["CA-recent", "CA-today"]
    assert column(filled, outbox, "idempotency_key") == ["recent-sent", "today-pending"]
    assert column(filled, escalations, "idempotency_key") == ["closed-lately", "open-long-ago"]
    after = everything(filled)
    for name in ("opt_outs", "care_homes", "home_landlines", "notices"):
        assert after[name] == before[name], name
    assert len(after["opt_outs"]) == 2  # a STOP, however old, is never forgotten
    assert notice.current(filled) is not None


def test_purge_keeps_anonymous_counts_by_the_day_of_each_call_and_text(filled: Store) -> None:
    retention.purge(filled, days=30)

    assert retention.usage(filled) == EXPECTED_COUNTS
    day = ago(40).date()
    assert daily_counts(filled) == {
        (day, "texts.sent.checklist", 1),
        (day, "texts.failed.checklist", 1),
        (ago(35).date(), "texts.sent.escalation_notice", 1),
        (ago(60).date(), "escalations.refused", 1),  # counted on the day it was received
    }


def test_purging_twice_counts_each_call_once(filled: Store) -> None:
    retention.purge(filled, days=30)
    counted = daily_counts(filled)

    again = retention.purge(filled, days=30)

    assert again == Purged(calls=0, texts=0, escalations=0, counts={})
    assert daily_counts(filled) == counted
    assert retention.usage(filled) == EXPECTED_COUNTS


def test_a_later_purge_adds_to_the_counts_of_a_day_already_counted(upgraded: Store) -> None:
    morning, evening = datetime(2025, 2, 1, 9, 0, tzinfo=UTC), datetime(2025, 2, 1, 20, 0, tzinfo=UTC)
    add_call(upgraded, "CA-morning", morning, 1)
    add_call(upgraded, "CA-evening", evening, 1, 2)
    add_text(upgraded, "morning", morning, "sent", "checklist")
    add_text(upgraded, "evening", evening, "sent", "checklist")
    cutoff_between = (NOW - datetime(2025, 2, 1, 12, 0, tzinfo=UTC)).days  # 58 days: midday on 1 February

    first = retention.purge(upgraded, days=cutoff_between)

    assert (first.calls, first.texts) == (1, 1)
    assert column(upgraded, calls, "call_sid") == ["CA-evening"]

    second = retention.purge(upgraded, days=30)

    assert (second.calls, second.texts) == (1, 1)
    assert daily_counts(upgraded) == {(date(2025, 2, 1), "texts.sent.checklist", 2)}
    assert retention.usage(upgraded) == {
        "calls": 2, "calls.scenario_1": 2, "calls.scenario_2": 1, "texts.sent.checklist": 2,
    }  # fmt: skip


def test_a_dry_run_removes_nothing_and_counts_nothing(filled: Store) -> None:
    before = everything(filled)

    dry = retention.purge(filled, days=30, dry_run=True)

    assert dry == Purged(calls=5, texts=3, escalations=1, counts=PURGED_COUNTS)
    assert everything(filled) == before
    assert retention.usage(filled) == CALL_COUNTS
    assert retention.purge(filled, days=30) == dry  # what it said would go, went


def test_a_longer_period_keeps_more(filled: Store) -> None:
    done = retention.purge(filled, days=38)

    assert (done.calls, done.texts, done.escalations) == (2, 2, 1)
    assert done.counts == {"escalations.refused": 1, "texts.failed.checklist": 1, "texts.sent.checklist": 1}
    assert column(filled, calls, "call_sid") == ["CA-old-3", "CA-old-4", "CA-old-5", "CA-recent", "CA-today"]


def test_nothing_to_purge(upgraded: Store) -> None:
    assert retention.purge(upgraded, days=30) == Purged(calls=0, texts=0, escalations=0, counts={})
    assert retention.usage(upgraded) == {}
