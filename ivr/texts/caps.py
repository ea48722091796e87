"""The daily caps and opt-outs every text a caller asks for must pass, given its limits as plain values.

The limits come from the front-end that builds this (the phone line, from settings), so the
texts' room reads no settings of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Literal

from ivr.phone import mask
from ivr.store.database import Transaction
from ivr.store.database import outbox as outbox_table
from ivr.texts import outbox

log = logging.getLogger("ivr.texts.caps")


@dataclass(frozen=True)
class TextLimits:
    """How many texts callers may ask for a day, and whether Crown Dependency mobiles may be texted at all."""

    per_mobile: int
    per_caller: int
    total: int
    crown_dependency_mobiles: bool = False


class CallerHash:
    """A keyed hash of a calling number: enough to count its texts, not to ring it back.

    Withheld and unknown numbers all hash alike, so together they share one caller's allowance
    rather than escaping it.
    """

    WITHHELD = "withheld"

    def __init__(self, key: bytes) -> None:
        self.key = key

    def __call__(self, number: str | None) -> str:
        return hmac.new(self.key, (number or self.WITHHELD).encode(), hashlib.sha256).hexdigest()[:32]


# What became of a text a caller asked for: queued, or refused because the number opted out or a
# daily cap is reached.
Outcome = Literal["queued", "opted_out", "limit"]


def queue_within_caps(
    tx: Transaction,
    limits: TextLimits,
    *,
    key: str,
    call_sid: str | None,
    purpose: str,
    to: str,
    body: str,
    caller_hash: str,
) -> Outcome:
    """Queue a text a caller asked for, if the opt-outs and the daily caps allow, counting and inserting
    in one step: the caps are locked for the transaction, so twenty callers at once cannot slip past one.

    A text already queued under `key` (a retried request) is "queued" again, so the retry is told
    the same as the first; `caller_hash` is the calling number's, or the shared one for withheld
    and unknown numbers, which then share one allowance.
    """
    tx.lock_caps()
    connection = tx.connection
    if tx.holds(outbox_table, key):
        return "queued"
    if outbox.opted_out(connection, to):
        log.info("a text to %s was refused: the number opted out", mask(to))
        return "opted_out"
    over = (
        outbox.count_today(connection, to=to) >= limits.per_mobile
        or outbox.count_today(connection) >= limits.total
        or outbox.count_today(connection, caller_hash=caller_hash) >= limits.per_caller
    )
    if over:
        log.warning("a text to %s was refused: a daily cap is reached", mask(to))
        return "limit"
    tx.enqueue_text(key=key, call_sid=call_sid, purpose=purpose, to=to, body=body, caller_hash=caller_hash)
    return "queued"
