"""What every call reads but operators seldom change (the notice, the care-home directory), kept in memory.

Read from the database at most once every few seconds per process, not once or more a call: a call's
first request read both, and those reads were most of what it cost. A change made in this process (the
console, the CLI) is seen at once, because it forgets what was kept; one made by another process (a
second web worker, `ivr homes add` beside a running server) is seen within `seconds`. If the database
fails a read, what was kept before is used, and the read is tried again after `seconds`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("ivr.store.kept")
T = TypeVar("T")
SECONDS = 5.0


class Kept:
    def __init__(self, seconds: float = SECONDS) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._values: dict[str, tuple[float, Any]] = {}  # name: (read at, on time.monotonic; value)
        self._changes: dict[str, int] = {}  # name: how often forgotten, so a read begun before is not kept
        self._reading: set[str] = set()  # being read again by a thread: the others use the copy meanwhile

    def get(self, name: str, read: Callable[[], T]) -> T:
        """The value kept under `name`, read again with `read()` when older than `seconds` or forgotten."""
        now = time.monotonic()
        with self._lock:
            kept = self._values.get(name)
            changes = self._changes.get(name, 0)
            if kept is not None and (now - kept[0] < self.seconds or name in self._reading):
                return cast(T, kept[1])  # fresh, or another thread is reading it again: the copy will do
            self._reading.add(name)
        try:
            value = read()
        except SQLAlchemyError:
            if kept is None:
                raise
            log.exception("%s could not be read again; what was read before is used for now", name)
            value = kept[1]
        finally:
            with self._lock:
                self._reading.discard(name)
        with self._lock:
            if self._changes.get(name, 0) == changes:
                self._values[name] = (now, value)
        return value

    def forget(self, *names: str) -> None:
        """This process changed what these were read from: the next `get` reads them again."""
        with self._lock:
            for name in names:
                self._values.pop(name, None)
                self._changes[name] = self._changes.get(name, 0) + 1
