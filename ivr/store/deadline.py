"""A deadline the application keeps on the database, and a circuit breaker, for work done inside a webhook.

A stopped or hung database server enforces no timeout of its own (a query with statement_timeout
waits until the server resumes; libpq's connect_timeout cannot go below 2 s), and gunicorn's gthread
worker does not end a slow request. So the work runs on a small pool of its own and the webhook
waits for it only so long: then it is abandoned, not waited on, and the caller is answered without
it. Work abandoned that would still write is told so, and rolls back rather than act on a promise
the caller has already heard withdrawn. After a few failures in a row the breaker opens: for a
while nothing waits on the database at all, so stuck requests cannot take every thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("ivr.store.deadline")
T = TypeVar("T")


class DatabaseUnavailable(SQLAlchemyError):
    """The database did not answer within the deadline, or the breaker is open: try again later."""


class Abandoned(Exception):
    """Raised inside work whose webhook stopped waiting for it, so its transaction rolls back."""


class Deadline:
    def __init__(self, seconds: float = 2.0, *, failures_to_open: int = 3, open_seconds: float = 5.0,
                 window_seconds: float = 30.0, workers: int = 8) -> None:  # fmt: skip
        self.seconds = seconds
        self.failures_to_open = failures_to_open
        self.open_seconds = open_seconds
        self.window_seconds = window_seconds
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="database")
        self._lock = threading.Lock()
        # When slow failures happened, within the window. Not cleared by a success: with SQLite's write lock
        # held, reads go on succeeding while every write waits out its deadline, and those waits are what
        # take the threads.
        self._failures: deque[float] = deque()
        self._open_until = 0.0
        self._probing = False  # once open, one request at a time tries the database again
        self._request = threading.local()  # when the current thread's request must be answered by

    def begin_request(self) -> None:
        """From now, every `run` on this thread shares one deadline, until `end_request`."""
        self._request.ends = time.monotonic() + self.seconds

    def end_request(self) -> None:
        self._request.ends = None

    def run(self, work: Callable[[Callable[[], bool]], T]) -> T:
        """`work(still_wanted)` within the deadline; `still_wanted()` turns False once it is abandoned."""
        probe = self._admit()
        try:
            return self._run(work, probe)
        finally:
            if probe:
                with self._lock:
                    self._probing = False

    def _admit(self) -> bool:
        """Whether this use is the one trying a database the breaker had given up on; raises when it may not try."""
        with self._lock:
            if time.monotonic() < self._open_until:
                raise DatabaseUnavailable("the database breaker is open after repeated failures")
            if not self._open_until:
                return False
            if self._probing:  # after the open time, one request tries; the rest do not wait with it
                raise DatabaseUnavailable("the database breaker is open: another request is trying it")
            self._probing = True
            return True

    def _run(self, work: Callable[[Callable[[], bool]], T], probe: bool) -> T:
        ends = getattr(self._request, "ends", None)
        wait = self.seconds if ends is None else ends - time.monotonic()
        if wait <= 0:  # not the database's failure, so not the breaker's business
            raise DatabaseUnavailable("this request's time for the database is spent")
        wanted = threading.Event()
        wanted.set()
        began = time.monotonic()
        future: Future[T] = self._pool.submit(work, wanted.is_set)
        try:
            result = future.result(timeout=wait)
        except FutureTimeout:
            wanted.clear()
            # Work still queued behind stuck threads is dropped, so the database is not met on its return by a
            # backlog of work no one is waiting for.
            future.cancel()
            self._failed(f"no answer within {wait:.2g} s", probe)
            raise DatabaseUnavailable(f"the database did not answer within {wait:.2g} s") from None
        except SQLAlchemyError as error:
            # Only a slow failure counts: it held a thread, as a hung server's do. A quick one (a server
            # that refuses connections, a SQLite file made read-only) holds none, and opening the breaker
            # on it would only keep the line from writing for open_seconds after the database is back.
            if time.monotonic() - began >= self.seconds / 2:
                self._failed(type(error).__name__, probe)
            raise
        if probe:
            with self._lock:
                self._failures.clear()
                self._open_until = 0.0
            log.warning("the database answers again: the breaker is closed")
        return result

    def _failed(self, why: str, probe: bool) -> None:
        with self._lock:
            now = time.monotonic()
            self._failures.append(now)
            while self._failures and now - self._failures[0] > self.window_seconds:
                self._failures.popleft()
            if probe or (len(self._failures) >= self.failures_to_open and now >= self._open_until):
                self._open_until = now + self.open_seconds
                log.error("the database failed %d times in %g s (%s): not waiting on it for %g s",
                          len(self._failures), self.window_seconds, why, self.open_seconds)  # fmt: skip


def unless_abandoned(still_wanted: Callable[[], bool]) -> None:
    """Call last inside a transaction: one whose webhook has given up on it rolls back instead of committing."""
    if not still_wanted():
        raise Abandoned("the webhook stopped waiting; nothing is written")
