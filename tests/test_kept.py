"""What the store keeps in memory between reads: the notice and the directory every call asks for."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from ivr.homes import directory_store, notice
from ivr.homes.directory import Home
from ivr.homes.directory_store import KeptDirectory
from ivr.store.database import Store
from ivr.store.deadline import Deadline
from ivr.store.kept import Kept


class Reads:
    """A read that counts itself, and fails when told."""

    def __init__(self) -> None:
        self.count = 0
        self.failing = False

    def __call__(self) -> int:
        self.count += 1
        if self.failing:
            raise OperationalError("SELECT", {}, Exception("the database is down"))
        return self.count


def test_a_value_is_read_once_until_it_is_old_or_forgotten() -> None:
    kept, read = Kept(seconds=0.2), Reads()
    assert [kept.get("x", read) for _ in range(3)] == [1, 1, 1]
    kept.forget("x")
    assert kept.get("x", read) == 2
    time.sleep(0.25)
    assert kept.get("x", read) == 3


def test_a_failed_read_keeps_what_was_read_before_and_tries_again_later() -> None:
    kept, read = Kept(seconds=0.05), Reads()
    assert kept.get("x", read) == 1
    read.failing = True
    time.sleep(0.06)
    assert kept.get("x", read) == 1  # the database failed: the old value, and no second try at once
    assert kept.get("x", read) == 1 and read.count == 2
    with pytest.raises(OperationalError):  # nothing read before: the failure is the caller's to handle
        kept.get("y", read)


@contextmanager
def read_on_another_thread(kept: Kept, value: str) -> Iterator[None]:
    """Another thread reads "x" again, and its read is under way until the block ends; then it gives `value`."""
    reading, finish = threading.Event(), threading.Event()

    def slow_read() -> str:
        reading.set()
        finish.wait(5)
        return value

    thread = threading.Thread(target=lambda: kept.get("x", slow_read))
    thread.start()
    reading.wait(5)
    try:
        yield
    finally:
        finish.set()
        thread.join()


def test_while_one_thread_reads_again_the_others_use_the_copy() -> None:
    """When the copy grows old, one request reads it again; the rest do not all read at once."""
    kept = Kept(seconds=0.05)
    assert kept.get("x", lambda: "old") == "old"
    time.sleep(0.06)
    with read_on_another_thread(kept, "new"):
        assert kept.get("x", lambda: "a second read") == "old"
    assert kept.get("x", lambda: "a second read") == "new"


def test_a_read_begun_before_a_change_is_not_kept() -> None:
    kept = Kept(seconds=60)
    with read_on_another_thread(kept, "before the change"):
        kept.forget("x")  # this process changed it while the read was under way
    assert kept.get("x", lambda: "after the change") == "after the change"


def test_the_phone_line_hears_a_change_made_here_at_once_and_one_made_elsewhere_within_seconds(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'kept.sqlite3'}"
    here, elsewhere = Store(url), Store(url)  # two processes' stores, as a web worker and the CLI
    here.upgrade()
    here.kept = Kept(seconds=2)  # long enough that "not yet" is checked well within it, even on a busy machine
    phone = KeptDirectory(here, Deadline())
    assert phone.home_for_landline("+441522123456") is None and notice.current(here) is None
    directory_store.add(here, Home(ods="VL15A", name="Lindum House", landlines=("+441522123456",)))
    notice.set_notice(here, "The helpdesk closes early today.", None)
    assert phone.home_for_landline("+441522123456") is not None  # changed here: at once
    assert notice.current(here) is not None
    directory_store.add(elsewhere, Home(ods="VL16B", name="Witham Court", landlines=("+441522654321",)))
    notice.clear(elsewhere)
    assert phone.home_for_landline("+441522654321") is None  # changed elsewhere: not yet
    assert notice.current(here) is not None
    time.sleep(2.1)
    found = phone.home_for_landline("+441522654321")
    assert found is not None and found.name == "Witham Court"
    assert phone.homes_for_keys(directory_store.keys_for("VL16B")) == [found]
    assert notice.current(here) is None
