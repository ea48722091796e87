"""Replies to texts sent to the companion's number: keywords, and STOP and START."""

from __future__ import annotations

import logging
from typing import Any

from ivr.content.keywords import OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS
from ivr.content.model import Content
from ivr.phone import mask, uk_mobile
from ivr.store.database import Store
from ivr.texts import outbox
from ivr.texts.caps import CallerHash, TextLimits, queue_within_caps
from ivr.texts.compose import compose

log = logging.getLogger("ivr.texts.inbound")


class InboundTexts:
    """Texts sent to the companion's number: keywords bring back a script; STOP and START are kept."""

    def __init__(self, content: Content, store: Store, limits: TextLimits, caller_hash: CallerHash) -> None:
        self.caller_hash = caller_hash
        self.content = content
        self.store = store
        self.limits = limits
        self.keywords = {word: name for name, template in content.sms.items() for word in template.keywords}

    def reply(self, form: Any) -> str | None:
        """The text to answer with, or None for no answer; the phone line turns it into TwiML."""
        given = str(form.get("From", ""))
        # Replies go only where a caller's text may go (a UK mobile, the Crown Dependencies by setting);
        # STOP and START are kept for any number, so an opt-out is never lost.
        mobile = uk_mobile(given, allow_crown_dependencies=self.limits.crown_dependency_mobiles)
        sender = mobile or given
        words = str(form.get("Body", "")).strip().upper().split()
        word = words[0].strip(".!?,") if words else ""
        if word in OPT_OUT_KEYWORDS:  # Twilio answers STOP itself; we only remember it
            outbox.opt_out(self.store, sender)
            log.info("%s opted out of texts", mask(sender))
            return None
        if word in OPT_IN_KEYWORDS:
            outbox.opt_in(self.store, sender)
            return self.body("opted_in") if mobile is not None else None
        if mobile is None:
            log.info("a text from %s was not answered: not a mobile we may text", mask(given))
            return None
        if outbox.is_opted_out(self.store, mobile):
            return None
        purpose = self.keywords.get(word)
        if purpose is None:  # HELP, MENU, or a word we do not know: the list of what can be asked
            return self.body("help")
        with self.store.transaction() as tx:  # through the outbox: paced, retried, counted within the caps
            # Over a cap: said in the log; no reply, so no text over the cap. The mobile asking is the
            # caller here, so its own allowance counts too.
            queue_within_caps(
                tx, self.limits, key=f"sms:{form.get('MessageSid', '')}:{purpose}", call_sid=None, purpose=purpose,
                to=sender, body=self.body(purpose), caller_hash=self.caller_hash(sender),
            )  # fmt: skip
        return None

    def body(self, purpose: str) -> str:
        return compose(self.content, purpose, ods=None)
