"""The operator's notice: a short message said after the greeting, kept in the database.

Stored rather than written in prompts/ so that it takes effect at once, without a deploy:
a known NHSmail outage, or changed helpdesk hours. It ends after its last day in UK time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select

from ivr.store.database import Store, notices, now
from ivr.store.deadline import Deadline

UK = ZoneInfo("Europe/London")
MAX_WORDS = 60  # about 25 seconds spoken: a notice must not bury the menu
KEPT = "notice"  # its name in the store's memory


@dataclass(frozen=True)
class Notice:
    text: str
    until: date | None
    set_at: datetime


def today() -> date:
    return datetime.now(UK).date()


def current(store: Store, on: date | None = None, *, within: Deadline | None = None) -> Notice | None:
    """The notice to say on a call today, if one is set and its last day has not passed.

    Read from what the store keeps (ivr/store/kept.py): every call asks, an operator seldom changes it.
    A webhook reads it `within` its deadline."""

    def read() -> Notice | None:
        return within.run(lambda _still_wanted: _stored(store)) if within else _stored(store)

    notice = store.kept.get(KEPT, read)
    if notice is None or (notice.until is not None and notice.until < (on or today())):
        return None
    return notice


def _stored(store: Store) -> Notice | None:
    with store.engine.connect() as connection:
        row = connection.execute(select(notices.c.text, notices.c.until, notices.c.set_at)).first()
    return Notice(*row) if row is not None else None


def set_notice(store: Store, text: str, until: date | None) -> Notice:
    """Replace the notice; the caller checks the text (see `problem`)."""
    notice = Notice(text=" ".join(text.split()), until=until, set_at=now())
    with store.transaction() as tx:
        tx.connection.execute(delete(notices))
        tx.connection.execute(insert(notices).values(id=1, text=notice.text, until=until, set_at=notice.set_at))
    store.kept.forget(KEPT)
    return notice


def clear(store: Store) -> bool:
    with store.transaction() as tx:
        cleared = bool(tx.connection.execute(delete(notices)).rowcount)
    store.kept.forget(KEPT)
    return cleared


def problem(text: str, until: date | None, on: date | None = None) -> str | None:
    """Why a notice cannot be set, in words for the operator; None when it can."""
    words = text.split()
    if not words:
        return "the notice is empty"
    if len(words) > MAX_WORDS:
        return f"the notice has {len(words)} words; keep it to {MAX_WORDS} (about 25 seconds spoken)"
    if until is not None and until < (on or today()):
        return f"--until {until.isoformat()} is already past"
    return None
