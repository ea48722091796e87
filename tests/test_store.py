"""The store on SQLite and on PostgreSQL: migrations, call state that never moves twice, the outbox."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import inspect

from ivr.app import create_app
from ivr.content.model import Content
from ivr.settings import Settings
from ivr.store.database import DuplicateCall, Store, calls, outbox
from tests.web_support import REAL_LINE, FlaskTransport, add_home, sign


def test_the_migration_chain_creates_the_tables_and_runs_twice(upgraded: Store) -> None:
    upgraded.upgrade()  # a second release on the same database changes nothing
    tables = set(inspect(upgraded.engine).get_table_names())
    assert {"calls", "outbox", "opt_outs", "care_homes", "home_landlines", "escalations", "notices", "usage_counts",
            "alembic_version"} <= tables  # fmt: skip
    assert upgraded.ping()


def test_a_call_is_created_once(upgraded: Store) -> None:
    with upgraded.transaction() as tx:
        tx.create_call("CA1", "{}", "<Response/>")
    with pytest.raises(DuplicateCall), upgraded.transaction() as tx:
        tx.create_call("CA1", "{}", "<Response/>")
    record = upgraded.read_call("CA1")
    assert record is not None and record.answered_turn == -1


def test_a_turn_is_saved_only_from_where_it_was_read(upgraded: Store) -> None:
    with upgraded.transaction() as tx:
        tx.create_call("CA2", "{}", "<Response/>")
    with upgraded.transaction() as tx:
        assert tx.save_turn("CA2", '{"turn": 1}', 0, "<one/>", after=-1)
    with upgraded.transaction() as tx:
        assert not tx.save_turn("CA2", '{"turn": 1}', 0, "<two/>", after=-1)
    assert upgraded.read_call("CA2").response == "<one/>"  # type: ignore[union-attr]


def test_the_outbox_takes_one_text_per_key(upgraded: Store) -> None:
    with upgraded.transaction() as tx:
        assert tx.enqueue_text(key="call:CA3:checklist", call_sid="CA3", purpose="checklist", to="+447400123456",
                               body="hello")  # fmt: skip
        assert not tx.enqueue_text(key="call:CA3:checklist", call_sid="CA3", purpose="checklist",
                                   to="+447400123456", body="hello")  # fmt: skip
    with upgraded.transaction() as tx:
        assert len(tx.rows(outbox)) == 1


def test_concurrent_retries_of_one_turn_change_it_once(upgraded: Store, content: Content) -> None:
    """Twilio may send a turn again while the first is still being answered: one wins, one text."""
    settings = Settings(database_url=upgraded.url, **REAL_LINE)
    add_home(upgraded)
    app = create_app(settings, content=content, store=upgraded)
    sid = "CA" + "8" * 32
    base = {"CallSid": sid, "From": "+441522123456", "To": "+443300000000"}

    def post(path: str, **extra: str) -> tuple[int, str]:
        params = {**base, **extra}
        url = "http://localhost" + path
        return FlaskTransport(app.test_client()).post(url, params, sign(url, params))

    post("/voice")
    post("/voice/turn/0", Digits="5")
    post("/voice/turn/1", Digits="07400123456")
    answers: list[tuple[int, str]] = []
    barrier = threading.Barrier(6)

    def confirm() -> None:
        barrier.wait()
        answers.append(post("/voice/turn/2", Digits="1"))

    threads = [threading.Thread(target=confirm) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 6 and len(set(answers)) == 1 and answers[0][0] == 200
    assert "The text is on its way" in answers[0][1]
    with upgraded.transaction() as tx:
        assert len(tx.rows(outbox)) == 1
        (call,) = tx.rows(calls)
    assert call["answered_turn"] == 2


def test_heroku_style_urls_are_accepted() -> None:
    settings = Settings(database_url="postgres://user:secret@db.example.org:5432/ivr")
    assert settings.database_url == "postgresql+psycopg://user:secret@db.example.org:5432/ivr"
