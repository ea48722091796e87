"""The daily caps and opt-outs every text a caller asks for must pass, given its limits as plain values.

The limits come from the front-end that builds this (the phone line, from settings), so the
texts' room reads no settings of its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ivr.homes.directory import Refusal
from ivr.phone import mask
from ivr.store.database import Store
from ivr.texts import outbox

log = logging.getLogger("ivr.texts.caps")


@dataclass(frozen=True)
class TextLimits:
    """How many texts callers may ask for a day, and whether Crown Dependency mobiles may be texted at all."""

    per_mobile: int
    per_caller: int
    total: int
    crown_dependency_mobiles: bool = False


class DailyCaps:
    """The text policy: opt-outs, one text per call and purpose, and daily caps per mobile, per calling
    number and in all."""

    def __init__(
        self, store: Store, limits: TextLimits, *, caller_hash: str | None = None, call_sid: str | None = None
    ) -> None:
        self.store = store
        self.limits = limits
        self.caller_hash = caller_hash
        self.call_sid = call_sid

    def refusal(self, to: str, purpose: str) -> Refusal | None:
        if outbox.is_opted_out(self.store, to):
            log.info("a text to %s was refused: the number opted out", mask(to))
            return "opted_out"
        if self.already_sent(purpose):
            log.info("a second %r text on one call was refused", purpose)
            return "already_sent"
        limits = self.limits
        over = (
            outbox.sent_today(self.store, to=to) >= limits.per_mobile
            or outbox.sent_today(self.store) >= limits.total
            or (self.caller_hash is not None
                and outbox.sent_today(self.store, caller_hash=self.caller_hash) >= limits.per_caller)
        )  # fmt: skip
        if over:
            log.warning("a text to %s was refused: a daily cap is reached", mask(to))
            return "limit"
        return None

    def already_sent(self, purpose: str) -> bool:
        return self.call_sid is not None and outbox.is_queued(self.store, outbox.call_text_key(self.call_sid, purpose))
