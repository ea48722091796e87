"""Calm on PostgreSQL under faults, on a cluster each test makes for itself: stopped, and hung with SIGSTOP.

While the fault lasts, every webhook answers within 3 s (Twilio waits 15 s, and its fallback needs time
too) with valid TwiML or a proper status; a call goes on through its menus; a text that cannot be
queued is said so; the status and SMS webhooks never answer 500; /readyz says not ready. Once the
database is back, everything works again within seconds, writes included (no poisoned pool).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ivr.app import create_app
from ivr.content.model import Content
from ivr.phone_line.calls import call_key
from ivr.settings import Settings
from ivr.store.database import Store, milestones, outbox
from tests import pg_cluster
from tests.pg_cluster import Cluster, wait_until
from tests.web_support import (
    LANDLINE,
    REAL_LINE,
    Caller,
    add_home,
    assert_valid_messaging_twiml,
    assert_valid_twiml,
    counts_of,
    next_path,
)

pytestmark = pytest.mark.skipif(pg_cluster.missing() is not None, reason=f"no throwaway PostgreSQL cluster: "
                                f"{pg_cluster.missing()}")  # fmt: skip

PATIENCE = 3.0  # seconds any webhook may take while the database is down
RETURN = 15.0  # seconds after the database returns by which writes work again (the breaker opens for 10 s)
MOBILE = "+447400123456"
SIDS = iter(f"CA{index:032x}" for index in range(1, 10_000))


@pytest.fixture()
def cluster() -> Iterator[Cluster]:
    with pg_cluster.cluster() as made:
        yield made


@pytest.fixture()
def store(cluster: Cluster) -> Iterator[Store]:
    store = Store(Settings(database_url=cluster.url).database_url)
    store.upgrade()
    add_home(store)
    yield store
    store.close()


@pytest.fixture()
def app(store: Store, content: Content) -> Iterator[Flask]:
    settings = Settings(database_url=store.url, database_deadline_seconds=1.0, **REAL_LINE)
    app = create_app(settings, content=content, store=store)
    yield app
    counts_of(app).close()  # while the cluster runs: written now, not tried again as the test process exits


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def timed(action: Callable[[], tuple[int, str]], what: str) -> tuple[int, str]:
    began = time.monotonic()
    status, body = action()
    took = time.monotonic() - began
    assert took < PATIENCE, f"{what} took {took:.1f} s"
    assert status < 500, f"{what} answered {status}"
    return status, body


def new_call(client: FlaskClient, caller: str = LANDLINE) -> Caller:
    return Caller(client, {"CallSid": next(SIDS), "From": caller, "To": "+443300000000"})


def outbox_count(store: Store) -> int:
    """The texts calls queued. (A text asked for by keyword may be written as a hang ends: nothing was promised
    to its sender, and it is what they asked for.)"""
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(outbox)
                                      .where(outbox.c.call_sid.is_not(None))).scalar_one())  # fmt: skip


def every_webhook_while_down(client: FlaskClient, content: Content, ongoing: Caller) -> None:
    """Each of Twilio's webhooks, and the probes, once each while the database cannot answer."""
    apology = content.phrases.trouble_sorry
    # A call already under way goes on: a plain menu turn needs no database.
    status, body = timed(lambda: ongoing.press("2"), "a menu turn")
    assert status == 200 and apology not in body
    assert_valid_twiml(body)
    # A new call is answered, its record and milestones kept in memory until the database is back, and the
    # directory as it was last read: the home is known, so the main menu comes first.
    caller = new_call(client)
    status, body = timed(caller.start, "/voice")
    assert status == 200 and next_path(body) is not None
    assert_valid_twiml(body)
    # Asking for a text: the caller is told it cannot be sent, not promised it.
    for key in ("5", "07400123456", "1"):
        status, body = timed(lambda key=key: caller.press(key), f"the text turn {key}")  # type: ignore[misc]
        assert status == 200
        assert_valid_twiml(body)
    assert "cannot send texts just now" in body and "on its way" not in body
    status, body = timed(lambda: caller.post("/voice/turn/x/silence"), "a turn with a token that does not open")
    assert status == 200
    assert_valid_twiml(body)
    status, body = timed(lambda: caller.post("/voice/fallback", ErrorCode="11200"), "/voice/fallback")
    assert status == 200
    assert_valid_twiml(body)
    status, _ = timed(lambda: caller.post("/voice/status", CallStatus="completed", CallDuration="61"), "/voice/status")
    assert status == 204
    texter = Caller(client, {"From": MOBILE, "To": "+447400000001", "MessageSid": "SM" + "1" * 32})
    for words in ("checklist", "STOP", "START"):
        status, body = timed(lambda words=words: texter.post("/sms", Body=words), f"/sms {words}")  # type: ignore[misc]
        assert status == 200
        assert_valid_messaging_twiml(body)
    status, _ = timed(lambda: texter.post("/sms/status", MessageStatus="delivered"), "/sms/status")
    assert status == 204
    reply = client.get("/healthz")
    assert reply.status_code == 200  # the process is alive: no restart would help
    began = time.monotonic()
    reply = client.get("/readyz")
    assert time.monotonic() - began < PATIENCE
    assert reply.status_code == 503 and reply.get_data(as_text=True).startswith("not ready: database unreachable")


def works_again(client: FlaskClient, store: Store) -> float:
    """Seconds until a call's text is queued again (a write through the pool), and /readyz is ready."""

    def a_text_is_queued() -> bool:
        caller = new_call(client)
        caller.start()
        for key in ("5", "07400123456", "1"):
            _, body = caller.press(key)
        return "The text is on its way" in body

    before = outbox_count(store)
    took = wait_until(a_text_is_queued, RETURN, step=0.5)
    assert outbox_count(store) == before + 1  # exactly the one promised, nothing written by abandoned work
    assert client.get("/readyz").status_code == 200
    return took


@pytest.mark.parametrize("fault", ["stopped", "hung"])
def test_every_webhook_answers_in_time_while_postgres_is_down_and_all_works_once_it_returns(
    fault: str, cluster: Cluster, app: Flask, client: FlaskClient, store: Store, content: Content
) -> None:
    ongoing = new_call(client)
    assert "The text is on its way" not in ongoing.start()[1]
    assert client.get("/readyz").status_code == 200
    queued = outbox_count(store)
    down: AbstractContextManager[None] = cluster.stopped() if fault == "stopped" else cluster.hung()
    with down:
        every_webhook_while_down(client, content, ongoing)
        begun_while_down = new_call(client)
        begun_while_down.start()
        every_webhook_while_down(client, content, begun_while_down)  # and again, with the breaker open
    assert outbox_count(store) == queued  # nothing promised while down was written once it returned
    works_again(client, store)
    # What was counted while the database was down is written once it is back (its thread tries every second).
    def started() -> set[str]:
        with store.transaction() as tx:
            return {row["call_key"] for row in tx.rows(milestones) if row["kind"] == "call_started"}

    wait_until(lambda: call_key(begun_while_down.params["CallSid"]) in started(), RETURN, step=0.2)


def test_a_hang_longer_than_the_threads_does_not_starve_the_webhooks(
    cluster: Cluster, client: FlaskClient, store: Store, content: Content
) -> None:
    """More writing turns than the deadline's pool has threads, all stuck on the hung server: still answered."""
    callers = [new_call(client) for _ in range(12)]
    for caller in callers:
        caller.start()
        caller.press("5")
        caller.press("07400123456")
    with cluster.hung():
        for caller in callers:
            status, body = timed(lambda caller=caller: caller.press("1"), "a text turn")  # type: ignore[misc]
            assert status == 200 and "cannot send texts just now" in body
    works_again(client, store)
