"""The usage page and its report: live counts from the milestones, per UK day for 30 days, per month before."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import insert

from ivr.store import usage_report
from ivr.store.database import Store, milestones, outbox, usage_counts
from tests.console_support import PASSWORD, USER, add_user, console_app, console_settings
from tests.test_console import CSRF

TODAY = date(2026, 7, 15)


def milestone(store: Store, call: str, kind: str, detail: str, at: datetime) -> None:
    with store.transaction() as tx:
        tx.connection.execute(insert(milestones).values(call_key=call, kind=kind, detail=detail, at=at))


def a_call(store: Store, call: str, at: datetime, *, scenario: str | None = None, text: str | None = None,
           outcome: str | None = None) -> None:  # fmt: skip
    milestone(store, call, "call_started", "", at)
    if scenario:
        milestone(store, call, "scenario_reached", scenario, at)
    if text:
        milestone(store, call, "text_asked", text, at)
        milestone(store, call, "text_queued", text, at)
    if outcome:
        milestone(store, call, "put_through", "", at)
        milestone(store, call, "outcome", outcome, at)
    milestone(store, call, "call_ended", "", at)


def test_the_report_counts_by_uk_day_then_by_month(upgraded: Store) -> None:
    store = upgraded
    # 23:30 UTC on 14 July is 00:30 on the 15th in London (BST): it is today's call.
    a_call(store, "a", datetime(2026, 7, 14, 23, 30, tzinfo=UTC), scenario="2", text="scenario_2",
           outcome="sorted")  # fmt: skip
    a_call(store, "b", datetime(2026, 7, 14, 9, 0, tzinfo=UTC), scenario="2")
    a_call(store, "c", datetime(2026, 6, 20, 9, 0, tzinfo=UTC), scenario="1")  # 26 days before: a day
    a_call(store, "d", datetime(2026, 6, 10, 9, 0, tzinfo=UTC), scenario="3")  # before the 30 days: June
    a_call(store, "e", datetime(2026, 4, 2, 9, 0, tzinfo=UTC), outcome="no_answer")
    a_call(store, "f", datetime(2026, 7, 16, 9, 0, tzinfo=UTC))  # after today (a clock ahead): left out
    with store.transaction() as tx:  # a text still in the outbox, sent and delivered
        tx.enqueue_text(key="k", call_sid=None, purpose="scenario_2", to="+447400123456", body="...")
        tx.connection.execute(outbox.update().values(status="sent", delivery_status="delivered",
                                                     created_at=datetime(2026, 7, 15, 8, 0, tzinfo=UTC)))
        tx.connection.execute(insert(usage_counts), [  # what purges kept of older days
            {"day": date(2026, 4, 3), "metric": "texts.sent.checklist", "count": 3},
            {"day": date(2026, 4, 3), "metric": "texts.delivered.checklist", "count": 2},
            {"day": date(2026, 3, 3), "metric": "calls", "count": 7},
            {"day": date(2026, 3, 3), "metric": "calls.scenario_1", "count": 4},
        ])  # fmt: skip
    found = usage_report.report(store, today=TODAY, days=30)
    assert len(found.days) == 30 and found.days[-1].start == TODAY and found.days[0].start == date(2026, 6, 16)
    today, yesterday = found.days[-1], found.days[-2]
    assert (today.calls, today.scenarios["2"], today.texts_asked, today.texts_queued) == (1, 1, 1, 1)
    assert (today.texts_sent, today.texts_delivered, today.put_through, today.outcomes["sorted"]) == (1, 1, 1, 1)
    assert (yesterday.calls, yesterday.scenarios["2"]) == (1, 1)
    assert next(p for p in found.days if p.start == date(2026, 6, 20)).scenarios["1"] == 1
    assert [p.start for p in found.months] == [date(2026, 3, 1), date(2026, 4, 1), date(2026, 6, 1)]
    march, april, june = found.months
    assert (march.calls, march.scenarios["1"]) == (7, 4)
    assert (april.calls, april.texts_sent, april.texts_delivered, april.outcomes["no_answer"]) == (1, 3, 2, 1)
    assert (june.calls, june.scenarios["3"]) == (1, 1)
    assert found.scenarios == ["1", "2", "3"] and found.outcomes == ["no_answer", "sorted"]
    assert sum(p.calls for p in [*found.days, *found.months]) == 5 + 7


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    store.upgrade()
    add_user(store)
    return store


@pytest.fixture()
def signed_in(tmp_path: Path, store: Store) -> FlaskClient:
    client = console_app(console_settings(tmp_path / "ivr.sqlite3"), store).test_client()
    csrf = CSRF.search(client.get("/console/sign-in").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    reply = client.post("/console/sign-in", data={"csrf_token": csrf, "name": USER, "password": PASSWORD})
    assert reply.status_code == 302
    return client


def test_the_usage_page_shows_a_chart_and_the_table(signed_in: FlaskClient, store: Store) -> None:
    now = datetime.now(UTC)
    a_call(store, "a", now - timedelta(minutes=5), scenario="2", text="scenario_2", outcome="sorted")
    a_call(store, "b", now - timedelta(days=70), scenario="1")
    page = signed_in.get("/console/usage").get_data(as_text=True)
    assert page.count("<svg") == 2 and 'role="img"' in page and "<rect" in page
    assert "Scenario 1" in page and "Scenario 2" in page and "Outcome: sorted" in page
    assert "The last 30 days" in page and "Before that, by month" in page
    assert "style=" not in page and "<script" not in page


def test_a_purge_keeps_how_many_texts_were_delivered_for_the_months(upgraded: Store) -> None:
    from ivr.store import retention

    store = upgraded
    old = datetime.now(UTC) - timedelta(days=60)
    with store.transaction() as tx:
        for key, delivery in (("a", "delivered"), ("b", "undelivered"), ("c", "read")):
            tx.enqueue_text(key=key, call_sid=None, purpose="checklist", to="+447400123456", body="...")
            tx.connection.execute(outbox.update().where(outbox.c.idempotency_key == key)
                                  .values(status="sent", delivery_status=delivery, created_at=old))  # fmt: skip
    before = usage_report.report(store, today=datetime.now(UTC).date())
    done = retention.purge(store, days=30)
    assert done.texts == 3 and done.counts["texts.delivered.checklist"] == 2
    after = usage_report.report(store, today=datetime.now(UTC).date())
    sent = [(p.texts_sent, p.texts_delivered) for p in before.months]
    assert sent == [(p.texts_sent, p.texts_delivered) for p in after.months] and sum(s for s, _ in sent) == 3
