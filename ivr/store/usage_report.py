"""Usage, live: calls, scenarios reached, texts and put-throughs, per day for the last 30 days and per month
before that, for the console's usage page.

Part of the store's query modules. Read from the milestones (anonymous, counted as calls happen, never
purged), the outbox for texts still kept (sent, and delivered by Twilio's callback), and the counts purges
kept of what they removed (`usage_counts`, by UTC day). Days are UK days.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ivr.store.database import Store, aware, milestones, outbox, usage_counts
from ivr.store.retention import DELIVERED

UK = ZoneInfo("Europe/London")


@dataclass
class Period:
    """One day, or one month: what happened in it."""

    start: date
    calls: int = 0
    scenarios: Counter[str] = field(default_factory=Counter)  # scenario number -> calls that reached it
    texts_asked: int = 0  # texts callers asked for
    texts_queued: int = 0  # of those, put in the outbox (not refused by a cap or an opt-out)
    texts_sent: int = 0  # taken by Twilio
    texts_delivered: int = 0  # reported delivered to the phone by Twilio
    put_through: int = 0  # callers put through to the helpdesk
    outcomes: Counter[str] = field(default_factory=Counter)  # how those calls went, as the caller said


@dataclass(frozen=True)
class Report:
    days: list[Period]  # the last `days` days, oldest first, today last
    months: list[Period]  # each month before those days with anything in it, oldest first
    scenarios: list[str]  # every scenario number seen, in order
    outcomes: list[str]  # every outcome seen, in order


def report(store: Store, *, today: date, days: int = 30) -> Report:
    first_day = today - timedelta(days=days - 1)
    by_day = {first_day + timedelta(days=n): Period(first_day + timedelta(days=n)) for n in range(days)}
    by_month: dict[date, Period] = {}

    def period(day: date) -> Period | None:
        if day > today:
            return None
        if day >= first_day:
            return by_day[day]
        month = day.replace(day=1)
        return by_month.setdefault(month, Period(month))

    with store.engine.connect() as connection:
        for kind, detail, at in connection.execute(select(milestones.c.kind, milestones.c.detail, milestones.c.at)):
            found = period(_uk_day(at))
            if found is not None:
                _count_milestone(found, kind, detail)
        texts = select(outbox.c.created_at, outbox.c.status, outbox.c.delivery_status)
        for created_at, status, delivery in connection.execute(texts):
            found = period(_uk_day(created_at))
            if found is not None and status == "sent":
                found.texts_sent += 1
                found.texts_delivered += delivery in DELIVERED
        for day, metric, count in connection.execute(select(usage_counts.c.day, usage_counts.c.metric,
                                                            usage_counts.c.count)):  # fmt: skip
            found = period(day)  # kept by UTC day: near midnight in summer a count may fall a day early
            if found is not None:
                _count_kept(found, metric, count)
    months = [by_month[month] for month in sorted(by_month)]
    everything = [*by_day.values(), *months]
    scenarios = sorted({name for p in everything for name in p.scenarios}, key=lambda name: (len(name), name))
    outcomes = sorted({name for p in everything for name in p.outcomes})
    return Report(days=list(by_day.values()), months=months, scenarios=scenarios, outcomes=outcomes)


def _uk_day(stamp: datetime) -> date:
    return aware(stamp).astimezone(UK).date()


def _count_milestone(found: Period, kind: str, detail: str) -> None:
    if kind == "call_started":
        found.calls += 1
    elif kind == "scenario_reached":
        found.scenarios[detail] += 1
    elif kind == "text_asked":
        found.texts_asked += 1
    elif kind == "text_queued":
        found.texts_queued += 1
    elif kind == "put_through":
        found.put_through += 1
    elif kind == "outcome":
        # "busy.2": how a put-through went, then its scenario ("none" before any); counted here by how it went.
        found.outcomes[detail.partition(".")[0]] += 1


def _count_kept(found: Period, metric: str, count: int) -> None:
    """What a purge kept: calls before milestones existed, and the texts it removed."""
    if metric == "calls":
        found.calls += count
    elif metric.startswith("calls.scenario_"):
        found.scenarios[metric.removeprefix("calls.scenario_")] += count
    elif metric.startswith("texts.sent."):
        found.texts_sent += count
    elif metric.startswith("texts.delivered."):
        found.texts_delivered += count
