"""Test support for the operator console: an app with an account, example data, a live server and a browser.

Also used by scripts/console_screenshots.py, so the screenshots show what the tests check.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import insert, select, update
from werkzeug.serving import make_server

from ivr.app import create_app
from ivr.content.loader import load
from ivr.homes import directory_store, escalations
from ivr.homes.directory import Home
from ivr.operators import accounts
from ivr.settings import Settings
from ivr.store.database import Store, milestones, now, outbox, usage_counts
from ivr.store.database import escalations as escalations_table
from ivr.texts import outbox as outbox_queries
from tests.conftest import PROMPTS
from tests.web_support import REAL_LINE

USER = "digital.officer"
PASSWORD = "correct horse battery staple"
CHROMIUM = "/usr/bin/chromium"
# Debian's chromium, headless as root: Playwright's own browser download cannot be fetched here.
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def console_settings(database: Path, **extra: Any) -> Settings:
    return Settings(database_url=f"sqlite:///{database}", **{**REAL_LINE, **extra})


def console_app(settings: Settings, store: Store) -> Flask:
    app = create_app(settings, content=load(PROMPTS), store=store)
    app.config["TESTING"] = True
    return app


def add_user(store: Store, name: str = USER, password: str = PASSWORD) -> None:
    accounts.add(store, name, password)


def escalate(store: Store, key: str, *, ods: str | None, home: str | None, ticket: str, reason: str,
             hours_ago: float = 0) -> int:  # fmt: skip
    """As the phone line records one (ivr/phone_line/web.py), in a transaction of its own."""
    with store.transaction() as tx:
        escalations.record(tx, key=key, call_sid=key, ods=ods, home_name=home, ticket=ticket, reason=reason)
        if hours_ago:
            tx.connection.execute(update(escalations_table).where(escalations_table.c.idempotency_key == key)
                                  .values(created_at=now() - timedelta(hours=hours_ago)))  # fmt: skip
    return next(e.id for e in escalations.listing(store) if e.ticket == ticket)


def queue_text(store: Store, key: str, *, to: str, purpose: str, call_sid: str | None = None,
               hours_ago: float = 0, body: str = "NHSmail helpdesk 0333 200 1133. Have your ODS code ready.",
               **outcome: Any) -> int:  # fmt: skip
    """A text as a call queues it, then what the worker recorded (status, error, delivery_status...)."""
    with store.transaction() as tx:
        tx.enqueue_text(key=key, call_sid=call_sid, purpose=purpose, to=to, body=body)
        values = {**outcome}
        if hours_ago:
            values["created_at"] = now() - timedelta(hours=hours_ago)
        if values:
            tx.connection.execute(update(outbox).where(outbox.c.idempotency_key == key).values(**values))
        return int(tx.connection.execute(select(outbox.c.id).where(outbox.c.idempotency_key == key)).scalar_one())


def seed(store: Store) -> None:
    """A plausible week for the screenshots: homes, open and closed escalations, texts that went wrong."""
    directory_store.add(store, Home(ods="VL15A", name="Lindum House", landlines=("+441522123456",)))
    directory_store.add(store, Home(ods="VLC01", name="Wragby Road Care Home", landlines=("+441522654321",)))
    queue_text(store, "call:CA2:scenario_2", to="+447400123457", purpose="scenario_2", call_sid="CA2",
               hours_ago=30, status="sent", delivery_status="delivered")  # fmt: skip
    escalate(store, "CA1", ods="VL15A", home="Lindum House", ticket="INC0012345", reason="refused", hours_ago=50)
    escalate(store, "CA2", ods="VLC01", home="Wragby Road Care Home", ticket="INC0067890", reason="leaver",
             hours_ago=30)  # fmt: skip
    done = escalate(store, "CA3", ods=None, home=None, ticket="INC0055555", reason="other", hours_ago=80)
    escalations.close(store, done, note="Rang the helpdesk: the account was unlocked the same day.", by=USER)
    queue_text(store, "call:CA4:scenario_1", to="+447400200301", purpose="scenario_1", call_sid="CA4", hours_ago=5,
               status="failed", attempts=1, error="21614: 'To' number is not a valid mobile number")  # fmt: skip
    queue_text(store, "call:CA5:checklist", to="+447400200302", purpose="checklist", call_sid="CA5", hours_ago=3,
               status="unknown", attempts=2, error="timed out; not found among recent messages")  # fmt: skip
    queue_text(store, "call:CA6:scenario_3", to="+447400200303", purpose="scenario_3", call_sid="CA6", hours_ago=2,
               status="sent", delivery_status="undelivered", error=None)  # fmt: skip
    outbox_queries.opt_out(store, "+447400200399")
    seed_milestones(store)


def seed_milestones(store: Store, days: int = 120) -> None:
    """Four months of calls as the phone line counts them, quieter at weekends, the same every run."""
    chance = random.Random(7)
    rows = []
    for back in range(days):
        day = now() - timedelta(days=back)
        calls = chance.randint(0, 3) if day.weekday() >= 5 else chance.randint(2, 9)
        for n in range(calls):
            key, at = f"{back}-{n}", day - timedelta(minutes=chance.randint(0, 600))
            rows.append({"call_key": key, "kind": "call_started", "detail": "", "at": at})
            scenario = chance.choice(["1", "2", "2", "3", ""])
            if scenario:
                rows.append({"call_key": key, "kind": "scenario_reached", "detail": scenario, "at": at})
                if chance.random() < 0.6:
                    rows.append({"call_key": key, "kind": "text_asked", "detail": f"scenario_{scenario}", "at": at})
                    rows.append({"call_key": key, "kind": "text_queued", "detail": f"scenario_{scenario}", "at": at})
            if chance.random() < 0.3:
                rows.append({"call_key": key, "kind": "put_through", "detail": "", "at": at})
                rows.append({"call_key": key, "kind": "outcome", "at": at,
                             "detail": chance.choice(["sorted", "sorted", "ticket_given", "no_answer"])})
    # The texts those calls queued: still in the outbox for 30 days (most delivered), then only as the
    # anonymous counts a purge keeps.
    texts, kept = [], Counter[tuple[date, str]]()
    for row in rows:
        if row["kind"] != "text_queued":
            continue
        recent = now() - row["at"] < timedelta(days=30)
        delivered = chance.random() < (0.97 if recent else 0.9)
        if recent:
            texts.append({"idempotency_key": f"call:{row['call_key']}:{row['detail']}", "purpose": row["detail"],
                          "to_number": "+447400100200", "body": "...", "status": "sent", "created_at": row["at"],
                          "delivery_status": "delivered" if delivered else "undelivered"})  # fmt: skip
        else:
            kept[(row["at"].date(), f"texts.sent.{row['detail']}")] += 1
            kept[(row["at"].date(), f"texts.delivered.{row['detail']}")] += delivered
    with store.transaction() as tx:
        tx.connection.execute(insert(milestones), rows)
        tx.connection.execute(insert(outbox), texts)
        tx.connection.execute(insert(usage_counts), [{"day": day, "metric": metric, "count": count}
                                                     for (day, metric), count in kept.items() if count])  # fmt: skip


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """The app on a free port of 127.0.0.1 in a thread, for a real browser; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="console-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
