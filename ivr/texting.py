"""Texts on the phone side: the daily caps and opt-outs a call's texts must pass, and replies to inbound texts."""

from __future__ import annotations

import logging
from typing import Any

from twilio.twiml.messaging_response import MessagingResponse

from ivr import outbox
from ivr.checks import OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS
from ivr.compose import compose
from ivr.content import Content
from ivr.directory import Refusal
from ivr.phone import mask, uk_mobile
from ivr.settings import Settings
from ivr.store import Store

log = logging.getLogger("ivr.texting")


class DailyCaps:
    """The text policy on the phone: opt-outs, and daily caps per mobile, per calling number and in all."""

    def __init__(self, store: Store, settings: Settings, caller_hash: str | None) -> None:
        self.store = store
        self.settings = settings
        self.caller_hash = caller_hash

    def refusal(self, to: str) -> Refusal | None:
        if outbox.is_opted_out(self.store, to):
            return "opted_out"
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


class InboundTexts:
    """Texts sent to the companion's number: keywords bring back a script; STOP and START are kept."""

    def __init__(self, content: Content, store: Store, settings: Settings) -> None:
        self.content = content
        self.store = store
        self.settings = settings
        self.keywords = {word: name for name, template in content.sms.items() for word in template.keywords}

    def reply(self, form: Any) -> str:
        sender = uk_mobile(str(form.get("From", "")), allow_crown_dependencies=True) or str(form.get("From", ""))
        words = str(form.get("Body", "")).strip().upper().split()
        word = words[0].strip(".!?,") if words else ""
        response = MessagingResponse()
        if word in OPT_OUT_KEYWORDS:  # Twilio answers STOP itself; we only remember it
            outbox.opt_out(self.store, sender)
            log.info("%s opted out of texts", mask(sender))
            return str(response)
        if word in OPT_IN_KEYWORDS:
            outbox.opt_in(self.store, sender)
            response.message(self.body("opted_in"))
            return str(response)
        if outbox.is_opted_out(self.store, sender):
            return str(response)
        purpose = self.keywords.get(word)
        if purpose is None:  # HELP, MENU, or a word we do not know: the list of what can be asked
            response.message(self.body("help"))
            return str(response)
        if outbox.sent_today(self.store, to=sender) >= self.settings.sms_daily_per_mobile:
            log.warning("a keyword text to %s was refused: the daily cap is reached", mask(sender))
            return str(response)
        with self.store.transaction() as tx:  # through the outbox: paced, retried, counted
            tx.enqueue_text(key=f"sms:{form.get('MessageSid', '')}:{purpose}", call_sid=None, purpose=purpose,
                            to=sender, body=self.body(purpose))  # fmt: skip
        return str(response)

    def body(self, purpose: str) -> str:
        return compose(self.content, purpose, ods=None)
