"""What is worth counting about calls (a call's record, its milestones), written behind the webhooks.

A count changes nothing the caller hears, so no webhook waits for one: it is noted in memory here,
and a thread of this process writes what has gathered in one transaction about once a second. Under
load that is one short write a second per process, not one per call's first turn and per scenario,
each queueing for SQLite's single writer or a PostgreSQL connection; in the profile those writes were
about half of what a turn cost.

What is given up: a process that is killed outright (SIGKILL, out of memory) loses the counts of its
last second. A process that exits as gunicorn stops or restarts it writes them first (atexit). While
the database is down, counts wait here, at most `most` of them; past that the oldest are dropped and
the log says how many. A retried webhook notes its counts again: the table's unique key keeps one.
Texts and escalations are never here: a caller is told those are done only once they are written.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ivr.store.database import Store, calls, milestones, now

log = logging.getLogger("ivr.store.counts")
IDLE_TURNS = 60  # the thread ends after this many waits with nothing to write


@dataclass(frozen=True)
class CallStarted:
    call_sid: str
    at: datetime


@dataclass(frozen=True)
class Counted:
    call_key: str
    kind: str
    detail: str
    at: datetime


class Counts:
    def __init__(self, store: Store, *, every: float = 1.0, most: int = 50_000) -> None:
        self.store = store
        self.every = every
        self.most = most
        self._waiting: deque[CallStarted | Counted] = deque()
        self._lock = threading.Lock()  # guards _waiting and the thread's start
        self._flushing = threading.Lock()  # one write at a time, so a batch put back keeps its order
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._at_exit = False
        self._dropped = 0
        store.when_closed(self.close)

    def call_started(self, call_sid: str) -> None:
        self._note(CallStarted(call_sid, now()))

    def milestone(self, call_key: str, kind: str, detail: str = "") -> None:
        self._note(Counted(call_key, kind, detail[:32], now()))

    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)

    def flush(self) -> int:
        """Write what is waiting, in one transaction; how many were written. On a database error they wait on."""
        with self._flushing:
            with self._lock:
                batch = list(self._waiting)
                self._waiting.clear()
            if not batch:
                return 0
            try:
                self._write(batch)
            except BaseException:
                with self._lock:  # back in front of what came meanwhile, within the bound
                    self._waiting.extendleft(reversed(batch))
                    self._trim()
                raise
            return len(batch)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread once it has written what is waiting (it tries once more), waiting at most `timeout`."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        if self.waiting():  # the database did not take them in time, or they were counted as it closed
            log.warning("counts not written as the process stopped: %d", self.waiting())

    def _note(self, item: CallStarted | Counted) -> None:
        with self._lock:
            self._waiting.append(item)
            self._trim()
            if self._thread is None and not self._stop.is_set():
                # Started by a count, so a process that never counts (the CLI) never has one.
                self._thread = threading.Thread(target=self._run, name="counts", daemon=True)
                self._thread.start()
                if not self._at_exit:
                    atexit.register(self.close)
                    self._at_exit = True

    def _trim(self) -> None:
        while len(self._waiting) > self.most:
            self._waiting.popleft()
            self._dropped += 1

    def _run(self) -> None:
        idle = 0
        while True:
            stopping = self._stop.wait(self.every)
            with self._lock:
                idle = 0 if self._waiting else idle + 1
                if idle >= IDLE_TURNS and not stopping:  # no calls for a while: the next count starts another
                    self._thread = None
                    return
            try:
                self.flush()
            except Exception:  # whatever the database did, this thread must go on
                log.exception("counts not written, waiting for the next try: %d", self.waiting())
            with self._lock:
                dropped, self._dropped = self._dropped, 0
            if dropped:
                log.error("counts dropped, the database having refused them for too long: %d", dropped)
            if stopping:
                return

    def _write(self, batch: list[CallStarted | Counted]) -> None:
        started = {item.call_sid: item.at for item in batch if isinstance(item, CallStarted)}
        counted = {(item.call_key, item.kind, item.detail): item.at for item in batch if isinstance(item, Counted)}
        with self.store.transaction(durable=False) as tx:  # counts: see Store.transaction
            connection = tx.connection
            insert = sqlite_insert if connection.dialect.name == "sqlite" else postgresql_insert
            if started:
                connection.execute(insert(calls).on_conflict_do_nothing(), [
                    {"call_sid": sid, "status": "in-progress", "created_at": at, "updated_at": at}
                    for sid, at in started.items()
                ])  # fmt: skip
            if counted:
                connection.execute(insert(milestones).on_conflict_do_nothing(), [
                    {"call_key": key, "kind": kind, "detail": detail, "at": at}
                    for (key, kind, detail), at in counted.items()
                ])  # fmt: skip
