"""Composing texts from the SMS templates in `prompts/`: to the caller's mobile, and to the care association."""

from __future__ import annotations

from ivr import gsm7
from ivr.content.checks import HOME_NAME_LIMIT
from ivr.content.model import Content, Reason, association_written, keyword_menu, reason_words
from ivr.homes.directory import Association
from ivr.phone import national_digits
from ivr.speech import mailbox_address


def compose(
    content: Content,
    purpose: str,
    *,
    ods: str | None,
    mailbox: str | None = None,
    ticket: str | None = None,
    reason: Reason | None = None,
    home: str | None = None,
    callback: str | None = None,
    association: Association | None = None,
) -> str:
    """The body of the text for `purpose`, with the home's details where they are known.

    `home` is the home's name as the directory has it; in a text it is cut to the length
    the segment check allowed for. `association` is whom a caller is told to contact, from settings.
    """
    association = association or Association()
    template = content.sms[purpose]
    phrases = content.phrases
    if mailbox is None and ods:
        mailbox = mailbox_address(ods)
    return template.body.format(
        ods=ods or phrases.ods_unknown_sms,
        mailbox=mailbox or phrases.mailbox_unknown_sms,
        helpdesk=content.meta.helpdesk_number,
        ticket=ticket or "",
        reason=reason_words(content, reason) if reason else "",
        home=_home(content, home, ods),
        callback=national_digits(callback) if callback else phrases.callback_unknown_sms,
        association=association_written(content, association.name, association.phone, association.email),
        keywords=keyword_menu(content),
    )


def _home(content: Content, name: str | None, ods: str | None) -> str:
    if name and ods:
        return f"{gsm7.plain(name)[:HOME_NAME_LIMIT]}, {ods}"
    return ods or content.phrases.home_unknown_sms
