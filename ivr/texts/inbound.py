"""Texts on the phone side: the daily caps and opt-outs a call's texts must pass, and replies to inbound texts."""

from __future__ import annotations

import logging
from typing import Any

from twilio.twiml.messaging_response import MessagingResponse

from ivr.content.keywords import OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS
from ivr.content.model import Content
from ivr.homes.directory import Refusal
from ivr.phone import mask, uk_mobile
from ivr.settings import Settings
from ivr.store.database import Store
from ivr.texts import outbox
from ivr.texts.compose import compose

log = logging.getLogger("ivr.texts.inbound")


class DailyCaps:
    """The text policy: opt-outs, one text per call and purpose, and daily caps per mobile, per calling
    number and in all."""

    def __init__(
        self, store: Store, settings: Settings, *, caller_hash: str | None = None, call_sid: str | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self.caller_hash = caller_hash
        self.call_sid = call_sid

    def refusal(self, to: str, purpose: str) -> Refusal | None:
        if outbox.is_opted_out(self.store, to):
            log.info("a text to %s was refused: the number opted out", mask(to))
            return "opted_out"
        if self.already_sent(purpose):
            log.info("a second %r text on one call was refused", purpose)
            return "already_sent"
        limits = self.settings
        over = (
            outbox.sent_today(self.store, to=to) >= limits.sms_daily_per_mobile
            or outbox.sent_today(self.store) >= limits.sms_daily_total
            or (self.caller_hash is not None
                and outbox.sent_today(self.store, caller_hash=self.caller_hash) >= limits.sms_daily_per_caller)
        )  # fmt: skip
        if over:
            log.warning("a text to %s was refused: a daily cap is reached", mask(to))
            return "limit"
        return None

    def already_sent(self, purpose: str) -> bool:
        return self.call_sid is not None and outbox.is_queued(self.store, outbox.call_text_key(self.call_sid, purpose))


class InboundTexts:
    """Texts sent to the companion's number: keywords bring back a script; STOP and START are kept."""

    def __init__(self, content: Content, store: Store, settings: Settings) -> None:
        self.content = content
        self.store = store
        self.settings = settings
        self.keywords = {word: name for name, template in content.sms.items() for word in template.keywords}

    def reply(self, form: Any) -> str:
        given = str(form.get("From", ""))
        # Replies go only where a caller's text may go (a UK mobile, the Crown Dependencies by setting);
        # STOP and START are kept for any number, so an opt-out is never lost.
        mobile = uk_mobile(given, allow_crown_dependencies=self.settings.crown_dependency_mobiles)
        sender = mobile or given
        words = str(form.get("Body", "")).strip().upper().split()
        word = words[0].strip(".!?,") if words else ""
        response = MessagingResponse()
        if word in OPT_OUT_KEYWORDS:  # Twilio answers STOP itself; we only remember it
            outbox.opt_out(self.store, sender)
            log.info("%s opted out of texts", mask(sender))
            return str(response)
        if word in OPT_IN_KEYWORDS:
            outbox.opt_in(self.store, sender)
            if mobile is not None:
                response.message(self.body("opted_in"))
            return str(response)
        if mobile is None:
            log.info("a text from %s was not answered: not a mobile we may text", mask(given))
            return str(response)
        if outbox.is_opted_out(self.store, mobile):
            return str(response)
        purpose = self.keywords.get(word)
        if purpose is None:  # HELP, MENU, or a word we do not know: the list of what can be asked
            response.message(self.body("help"))
            return str(response)
        if DailyCaps(self.store, self.settings).refusal(mobile, purpose) is not None:
            return str(response)  # over a daily cap: said in the log; no reply, so no text over the cap
        with self.store.transaction() as tx:  # through the outbox: paced, retried, counted
            tx.enqueue_text(key=f"sms:{form.get('MessageSid', '')}:{purpose}", call_sid=None, purpose=purpose,
                            to=sender, body=self.body(purpose))  # fmt: skip
        return str(response)

    def body(self, purpose: str) -> str:
        return compose(self.content, purpose, ods=None)
