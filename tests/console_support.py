"""Test support for the operator console: an app with an account, example data, a live server and a browser.

Also used by scripts/console_screenshots.py, so the screenshots show what the tests check.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from werkzeug.serving import make_server

from ivr.app import create_app
from ivr.content.loader import load
from ivr.homes import directory_store, escalations
from ivr.homes.directory import Home
from ivr.operators import accounts
from ivr.settings import Settings
from ivr.store.database import Store, now, outbox
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
