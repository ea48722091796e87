"""The store on SQLite and on PostgreSQL: migrations, call state that never moves twice, the outbox."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect

from ivr.app import create_app
from ivr.content.model import Content
from ivr.settings import Settings
from ivr.store.counts import Counts
from ivr.store.database import Store, StoreError, calls, milestones, outbox
from tests.web_support import REAL_LINE, Caller, add_home, next_path, write_counts


def test_the_migration_chain_creates_the_tables_and_runs_twice(upgraded: Store) -> None:
    upgraded.upgrade()  # a second release on the same database changes nothing
    tables = set(inspect(upgraded.engine).get_table_names())
    assert {"calls", "outbox", "opt_outs", "care_homes", "home_landlines", "escalations", "notices", "usage_counts",
            "alembic_version"} <= tables  # fmt: skip
    assert upgraded.ping()


def test_a_call_is_recorded_once_and_each_milestone_counted_once(upgraded: Store) -> None:
    counts = Counts(upgraded, every=3600)  # written here, by flush(), not by its thread
    counts.call_started("CA1")
    counts.milestone("key-1", "scenario_reached", "2")
    assert counts.flush() == 2
    counts.call_started("CA1")  # a retried request notes it all again
    counts.milestone("key-1", "scenario_reached", "2")
    counts.milestone("key-1", "scenario_reached", "3")
    counts.milestone("key-1", "scenario_reached", "3")  # and twice in one batch
    assert counts.flush() == 4
    with upgraded.transaction() as tx:
        assert len(tx.rows(calls)) == 1
        assert sorted(row["detail"] for row in tx.rows(milestones)) == ["2", "3"]


def test_counts_are_written_by_their_own_thread_within_a_moment(upgraded: Store) -> None:
    counts = Counts(upgraded, every=0.05)
    try:
        counts.milestone("key-2", "call_started")
        deadline = time.monotonic() + 10
        while not written(upgraded) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert written(upgraded) == ["key-2"]
    finally:
        counts.close()


def written(store: Store) -> list[str]:
    with store.transaction() as tx:
        return [row["call_key"] for row in tx.rows(milestones)]


def test_counts_wait_while_the_database_refuses_them_and_are_kept_within_a_bound(tmp_path: Path) -> None:
    path = tmp_path / "counts.sqlite3"
    store = Store(f"sqlite:///{path}")
    store.upgrade()
    counts = Counts(store, most=3, every=3600)
    for detail in ("1", "2", "3", "4"):  # past the bound, the oldest is dropped
        counts.milestone("key-3", "scenario_reached", detail)
    path.unlink()  # the file guard refuses every write (ivr/store/sqlite_file.py)
    with pytest.raises(StoreError):
        counts.flush()
    assert counts.waiting() == 3
    store.upgrade()  # the file is back
    assert counts.flush() == 3
    with store.transaction() as tx:
        assert sorted(row["detail"] for row in tx.rows(milestones)) == ["2", "3", "4"]
    counts.close()


def test_a_call_that_ends_before_its_start_is_written_is_recorded_once(upgraded: Store) -> None:
    """Twilio's status callback may reach another process before this one has written the call's start."""
    counts = Counts(upgraded, every=3600)
    counts.call_started("CA5")
    with upgraded.transaction() as tx:
        assert not tx.end_call("CA5", "completed", 42)  # not known yet: its record is made here
    counts.flush()
    with upgraded.transaction() as tx:
        assert [(row["status"], row["duration_seconds"]) for row in tx.rows(calls)] == [("completed", 42)]


def test_the_outbox_takes_one_text_per_key(upgraded: Store) -> None:
    with upgraded.transaction() as tx:
        assert tx.enqueue_text(key="call:CA3:checklist", call_sid="CA3", purpose="checklist", to="+447400123456",
                               body="hello")  # fmt: skip
        assert not tx.enqueue_text(key="call:CA3:checklist", call_sid="CA3", purpose="checklist",
                                   to="+447400123456", body="hello")  # fmt: skip
    with upgraded.transaction() as tx:
        assert len(tx.rows(outbox)) == 1


def test_concurrent_retries_of_one_turn_change_it_once(upgraded: Store, content: Content) -> None:
    """Twilio may send a turn again while the first is still being answered: one text, the same answer."""
    settings = Settings(database_url=upgraded.url, **REAL_LINE)
    add_home(upgraded)
    app = create_app(settings, content=content, store=upgraded)
    sid = "CA" + "8" * 32
    caller = Caller(app.test_client(), {"CallSid": sid, "From": "+441522123456", "To": "+443300000000"})
    caller.start()
    caller.press("5")
    caller.press("07400123456")
    path = next_path(caller.body)
    assert path is not None
    answers: list[tuple[int, str]] = []
    barrier = threading.Barrier(6)

    def confirm() -> None:
        barrier.wait()
        answers.append(Caller(app.test_client(), caller.params).post(path, Digits="1"))

    threads = [threading.Thread(target=confirm) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 6 and len(set(answers)) == 1 and answers[0][0] == 200
    assert "The text is on its way" in answers[0][1]
    write_counts(app)
    with upgraded.transaction() as tx:
        assert len(tx.rows(outbox)) == 1 and len(tx.rows(calls)) == 1


def test_caps_hold_under_a_burst_of_confirmations(upgraded: Store, content: Content) -> None:
    """Twenty callers confirm a text to one mobile at once: counting and inserting are one step, so the
    cap of five holds; withheld and unknown callers share one caller's allowance (three)."""
    settings = Settings(database_url=upgraded.url, **REAL_LINE, sms_daily_per_mobile=5, sms_daily_per_caller=3)
    app = create_app(settings, content=content, store=upgraded)
    paths: list[tuple[dict[str, str], str]] = []
    for index in range(20):
        caller = Caller(app.test_client(), {"CallSid": f"CA{index:032d}", "From": "+441522123456" if index < 10
                                            else "anonymous", "To": "+443300000000"})  # fmt: skip
        caller.start()
        for key in ("2", "5", "07400123456"):
            caller.press(key)
        path = next_path(caller.body)
        assert path is not None
        paths.append((caller.params, path))
    barrier = threading.Barrier(len(paths))
    answers: list[str] = []

    def confirm(params: dict[str, str], path: str) -> None:
        barrier.wait()
        answers.append(Caller(app.test_client(), params).post(path, Digits="1")[1])

    threads = [threading.Thread(target=confirm, args=pair) for pair in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queued = sum("The text is on its way" in answer for answer in answers)
    refused = sum("cannot send any more texts today" in answer for answer in answers)
    with upgraded.transaction() as tx:
        texts = tx.rows(outbox)
    assert len(texts) == queued == 5 and refused == 15
    withheld = [text for text in texts if text["call_sid"] >= f"CA{10:032d}"]
    assert len(withheld) <= 3


def test_heroku_style_urls_are_accepted() -> None:
    settings = Settings(database_url="postgres://user:secret@db.example.org:5432/ivr")
    assert settings.database_url == "postgresql+psycopg://user:secret@db.example.org:5432/ivr"


def test_the_milestones_migration_goes_down_and_up_again(upgraded: Store) -> None:
    """0005 drops the stored call state; its downgrade puts the columns back (empty), and up again works."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "ivr.store:migrations")
    with upgraded.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
    columns = {column["name"] for column in inspect(upgraded.engine).get_columns("calls")}
    assert {"state", "answered_turn", "response"} <= columns
    assert "milestones" not in inspect(upgraded.engine).get_table_names()
    upgraded.upgrade()
    columns = {column["name"] for column in inspect(upgraded.engine).get_columns("calls")}
    assert not {"state", "answered_turn", "response"} & columns
    assert "milestones" in inspect(upgraded.engine).get_table_names()


def test_only_counts_skip_waiting_for_the_disk(upgraded: Store) -> None:
    """A call's record and milestones commit without waiting for PostgreSQL's WAL flush; a text never does."""
    if upgraded.engine.dialect.name != "postgresql":
        with upgraded.transaction(durable=False) as tx:  # SQLite: the same transaction, its writes kept
            tx.milestone("k" * 32, "call_started")
        with upgraded.transaction() as tx:
            assert len(tx.rows(milestones)) == 1
        return
    for durable, setting in ((True, "on"), (False, "off")):
        with upgraded.transaction(durable=durable) as tx:
            assert tx.connection.exec_driver_sql("SHOW synchronous_commit").scalar() == setting
    with upgraded.engine.connect() as connection:  # SET LOCAL: the pooled connection is left as it was
        assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
