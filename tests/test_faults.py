"""Calm under a database that does not answer: every webhook within its deadline, nothing half-promised."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from ivr.app import create_app
from ivr.content.model import Content
from ivr.settings import Settings
from ivr.store.database import Store, outbox
from ivr.store.deadline import DatabaseUnavailable, Deadline
from tests.web_support import LANDLINE, REAL_LINE, Caller, add_home, assert_valid_twiml, next_path

SID = "CA" + "f" * 32


@pytest.fixture()
def sqlite_file(tmp_path: Path) -> Path:
    return tmp_path / "ivr.sqlite3"


@pytest.fixture()
def client(sqlite_file: Path, content: Content) -> Iterator[FlaskClient]:
    settings = Settings(database_url=f"sqlite:///{sqlite_file}", database_deadline_seconds=1.0, **REAL_LINE)
    store = Store(settings.database_url)
    store.upgrade()
    add_home(store)
    yield create_app(settings, content=content, store=store).test_client()
    store.close()


@contextmanager
def held_write_lock(sqlite_file: Path) -> Iterator[threading.Event]:
    """Another connection holds SQLite's write lock until the event is set (or 30 s pass)."""
    release, taken = threading.Event(), threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(sqlite_file, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        taken.set()
        release.wait(30)
        connection.execute("ROLLBACK")
        connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(5)
    try:
        yield release
    finally:
        release.set()
        holder.join()


@pytest.fixture()
def write_lock(sqlite_file: Path) -> Iterator[threading.Event]:
    with held_write_lock(sqlite_file) as release:
        yield release


def test_a_text_asked_for_while_the_database_is_locked_is_said_not_sent(
    client: FlaskClient, sqlite_file: Path, write_lock: threading.Event
) -> None:
    caller = Caller(client, {"CallSid": SID, "From": LANDLINE, "To": "+443300000000"})
    began = time.monotonic()
    status, body = caller.start()  # the call's record cannot be written: the call goes on regardless
    assert status == 200 and next_path(body) is not None
    assert time.monotonic() - began < 3
    caller.press("5")
    caller.press("07400123456")
    began = time.monotonic()
    status, body = caller.press("1")
    assert time.monotonic() - began < 3  # inside Twilio's 15 s, with room for the fallback
    assert status == 200 and "cannot send texts just now" in body
    assert_valid_twiml(body)
    write_lock.set()  # the database comes back: what was abandoned wrote nothing
    time.sleep(0.5)
    with sqlite3.connect(sqlite_file) as connection:
        assert connection.execute("SELECT count(*) FROM outbox").fetchone() == (0,)


def test_the_other_webhooks_never_answer_500_while_the_database_is_locked(
    client: FlaskClient, write_lock: threading.Event
) -> None:
    caller = Caller(client, {"CallSid": SID, "From": "+447400123456", "To": "+443300000000"})
    for path, extra in (("/voice/status", {"CallStatus": "completed", "CallDuration": "61"}),
                        ("/sms/status", {"MessageSid": "SM1", "MessageStatus": "delivered"}),
                        ("/sms", {"Body": "checklist", "MessageSid": "SM2"})):  # fmt: skip
        began = time.monotonic()
        status, _ = caller.post(path, **extra)
        assert status in (200, 204) and time.monotonic() - began < 3, path


def test_everything_works_again_once_the_database_returns(client: FlaskClient, sqlite_file: Path) -> None:
    with held_write_lock(sqlite_file):
        Caller(client, {"CallSid": SID, "From": LANDLINE, "To": "+443300000000"}).start()
    time.sleep(1.5)  # the abandoned work finishes; the breaker, if open, closes after its time
    second = Caller(client, {"CallSid": "CA" + "e" * 32, "From": LANDLINE, "To": "+443300000000"})
    second.start()
    for key in ("5", "07400123456", "1"):
        status, body = second.press(key)
    assert status == 200 and "The text is on its way" in body  # no poisoned pool


def test_the_breaker_opens_after_failures_and_closes_after_its_time() -> None:
    deadline = Deadline(0.2, failures_to_open=2, open_seconds=0.5)

    def stuck(_still_wanted: object) -> None:
        time.sleep(1)

    for _ in range(2):
        with pytest.raises(DatabaseUnavailable):
            deadline.run(stuck)
    began = time.monotonic()
    with pytest.raises(DatabaseUnavailable, match="breaker is open"):
        deadline.run(lambda _still_wanted: 1)
    assert time.monotonic() - began < 0.1  # nothing waits on the database while it is open
    time.sleep(0.6)
    assert deadline.run(lambda _still_wanted: 42) == 42


def test_once_open_one_request_at_a_time_tries_the_database_again() -> None:
    deadline = Deadline(0.3, failures_to_open=1, open_seconds=0.2)
    with pytest.raises(DatabaseUnavailable):
        deadline.run(lambda _still_wanted: time.sleep(0.5))
    time.sleep(0.25)  # the open time is over: the next request tries, slowly
    outcome: list[str] = []

    def try_slowly() -> None:
        try:
            deadline.run(lambda _still_wanted: time.sleep(0.5))
        except DatabaseUnavailable as error:
            outcome.append(str(error))

    trying = threading.Thread(target=try_slowly)
    trying.start()
    time.sleep(0.05)
    began = time.monotonic()
    with pytest.raises(DatabaseUnavailable, match="another request is trying it"):
        deadline.run(lambda _still_wanted: 1)
    assert time.monotonic() - began < 0.05  # it did not wait with the one trying
    trying.join()
    assert outcome and "did not answer" in outcome[0]
    with pytest.raises(DatabaseUnavailable, match="breaker is open"):  # the try failed: open again
        deadline.run(lambda _still_wanted: 1)
    time.sleep(0.25)
    assert deadline.run(lambda _still_wanted: 7) == 7  # this try succeeds, and closes it
    assert deadline.run(lambda _still_wanted: 8) == 8


def test_reads_that_succeed_do_not_keep_the_breaker_closed_while_writes_wait_out_their_deadline() -> None:
    deadline = Deadline(0.1, failures_to_open=3, open_seconds=60)
    for _ in range(3):
        assert deadline.run(lambda _still_wanted: "read") == "read"
        with pytest.raises(DatabaseUnavailable):
            deadline.run(lambda _still_wanted: time.sleep(0.3))  # a write behind SQLite's held lock
    began = time.monotonic()
    with pytest.raises(DatabaseUnavailable, match="breaker is open"):
        deadline.run(lambda _still_wanted: time.sleep(0.3))
    assert time.monotonic() - began < 0.05


def test_a_slow_database_error_counts_towards_the_breaker_and_is_raised() -> None:
    deadline = Deadline(0.4, failures_to_open=1, open_seconds=60)

    def broken(_still_wanted: object) -> None:
        time.sleep(0.3)  # a connect_timeout, say: it held a thread
        raise OperationalError("SELECT 1", {}, Exception("timeout expired"))

    with pytest.raises(OperationalError):
        deadline.run(broken)
    with pytest.raises(DatabaseUnavailable):
        deadline.run(lambda _still_wanted: 1)


def test_a_quick_database_error_is_raised_but_leaves_the_breaker_closed() -> None:
    """A refused connection holds no thread: the next request tries again, so writes resume as soon as it is back."""
    deadline = Deadline(1.0, failures_to_open=1, open_seconds=60)

    def refused(_still_wanted: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    for _ in range(5):
        with pytest.raises(OperationalError):
            deadline.run(refused)
    assert deadline.run(lambda _still_wanted: 1) == 1


def test_an_outbox_row_is_never_written_by_abandoned_work(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    store.upgrade()
    deadline = Deadline(0.2)

    def slow_write(still_wanted: object) -> None:
        from ivr.store.deadline import unless_abandoned

        with store.transaction() as tx:
            tx.enqueue_text(key="k", call_sid=None, purpose="checklist", to="+447400123456", body="b")
            time.sleep(0.5)
            unless_abandoned(still_wanted)  # type: ignore[arg-type]

    with pytest.raises(DatabaseUnavailable):
        deadline.run(slow_write)
    time.sleep(0.6)
    with store.transaction() as tx:
        assert tx.rows(outbox) == []
    store.close()
