"""Composing the texts sent to a caller's mobile from the SMS templates in `prompts/`."""

from __future__ import annotations

from ivr.content import Content
from ivr.speech import mailbox_address


def compose(content: Content, purpose: str, *, ods: str | None, mailbox: str | None = None) -> str:
    """The body of the text for `purpose`, with the home's details where they are known."""
    template = content.sms[purpose]
    phrases = content.phrases
    if mailbox is None and ods:
        mailbox = mailbox_address(ods)
    return template.body.format(
        ods=ods or phrases.ods_unknown_sms,
        mailbox=mailbox or phrases.mailbox_unknown_sms,
        helpdesk=content.meta.helpdesk_number,
    )
