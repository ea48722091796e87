"""Whether the Twilio account, number and sender are ready for this app: the library under `ivr twilio check`.

Each finding is one line, ok or a problem with what to change. Only unusable credentials stop the check early.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from ivr.phone_line.number_setup import (
    LABELS,
    TWIML_BIN_HOST,
    Number,
    SetupError,
    e164,
    find_number,
    shown,
    twilio_error,
    wanted,
)


@dataclass(frozen=True)
class Finding:
    ok: bool
    text: str


@dataclass(frozen=True)
class Wanted:
    """What the app's settings expect of the account."""

    base_url: str
    number: str | None  # --number or TWILIO_FROM_NUMBER
    from_number: str | None  # TWILIO_FROM_NUMBER
    messaging_service_sid: str | None  # TWILIO_MESSAGING_SERVICE_SID


def check(twilio: Client, settings: Wanted) -> list[Finding]:
    """Every finding, one line each; stops early only when the credentials do not work."""
    return list(_check(twilio, settings))


def _check(twilio: Client, settings: Wanted) -> Iterator[Finding]:
    try:
        account = twilio.api.v2010.account.fetch()
    except (TwilioException, requests.exceptions.RequestException) as error:
        yield Finding(False, str(twilio_error(error)))
        return
    yield Finding(True, f"the credentials work (account {account.friendly_name!s})")
    if account.status != "active":
        yield Finding(False, f"the account is {account.status}: reactivate it in the Twilio Console")
    if account.type == "Trial":
        yield Finding(False, "it is a trial account: it can only call and text verified numbers and plays a "
                             "trial message first; upgrade it in the Twilio Console before going live")  # fmt: skip
    else:
        yield Finding(True, "the account is a full account, not a trial")
    try:
        number = find_number(twilio, settings.number)
    except SetupError as error:
        yield Finding(False, str(error))
        number = None
    if number is not None:
        yield Finding(True, f"the number {number.phone_number} is on the account")
        yield from _webhooks(number, settings.base_url)
        yield from _capabilities(number, settings)
    yield from _sender(twilio, settings, number)


def _webhooks(number: Number, base_url: str) -> Iterator[Finding]:
    target = wanted(base_url)
    fix = "run `ivr twilio configure`"
    if number.trunk_sid:
        yield Finding(False, f"the number's calls go to the SIP trunk {number.trunk_sid}, not to a URL: "
                             "remove it from the trunk in the Twilio Console")  # fmt: skip
    if number.voice_application_sid:
        yield Finding(False, f"the number's calls go to the TwiML App {number.voice_application_sid}, "
                             f"not to its URLs: {fix}")  # fmt: skip
    if number.sms and number.sms_application_sid:
        yield Finding(False, f"the number's texts go to the TwiML App {number.sms_application_sid}: {fix}")
    for field, label in LABELS.items():
        have, method = getattr(number.webhooks, field), getattr(number.methods, field)
        want = getattr(target, field)
        where = f'"{label}" goes to {shown(have, method)}'
        if field == "sms_url" and not number.sms:
            continue  # the number takes no texts, so its SMS URL is never called
        if have == want and method == "POST":
            yield Finding(True, where)
        elif field == "voice_fallback_url" and (have or "").startswith(TWIML_BIN_HOST):
            yield Finding(True, f"{where}, a TwiML Bin")
        elif field == "voice_fallback_url" and not have:
            yield Finding(False, f'"{label}" is not set, so callers hear Twilio\'s "application error" whenever '
                                 f"the app fails: {fix}, or give it a TwiML Bin with --fallback-url")  # fmt: skip
        elif field == "voice_fallback_url":
            yield Finding(False, f"{where}, neither {want} nor a TwiML Bin: {fix}")
        else:
            yield Finding(False, f"{where}, not {want} (POST): {fix}")


def _capabilities(number: Number, settings: Wanted) -> Iterator[Finding]:
    if number.voice:
        yield Finding(True, f"{number.phone_number} can take calls")
    else:
        yield Finding(False, f"{number.phone_number} cannot take calls: buy a voice-capable number")
    if number.sms:
        yield Finding(True, f"{number.phone_number} can send and receive texts")
    elif settings.messaging_service_sid:
        yield Finding(True, f"{number.phone_number} takes no texts; texts go out through the Messaging Service")
    else:
        kind = " (UK geographic numbers usually cannot)" if number.geographic else ""
        yield Finding(False, f"{number.phone_number} cannot send or receive texts{kind}: set "
                             "TWILIO_MESSAGING_SERVICE_SID to a Messaging Service, or TWILIO_FROM_NUMBER to a "
                             "mobile number on the account, to send texts")  # fmt: skip


def _sender(twilio: Client, settings: Wanted, number: Number | None) -> Iterator[Finding]:
    """Whether the worker can send texts from what the settings name."""
    if settings.messaging_service_sid:
        sid = settings.messaging_service_sid
        try:
            service = twilio.messaging.v1.services(sid).fetch()
        except TwilioRestException as error:
            if error.status == 404:
                yield Finding(False, f"TWILIO_MESSAGING_SERVICE_SID {sid} is not a Messaging Service on this "
                                     "account: copy its SID (MG...) from Messaging > Services")  # fmt: skip
            else:
                yield Finding(False, str(twilio_error(error)))
            return
        except (TwilioException, requests.exceptions.RequestException) as error:
            yield Finding(False, str(twilio_error(error)))
            return
        yield Finding(True, f"texts are sent through the Messaging Service {service.friendly_name!s} ({sid})")
        inbound = service.inbound_request_url
        want = f"{settings.base_url}/sms"
        if not service.use_inbound_webhook_on_number and inbound != want:
            yield Finding(False, f"the Messaging Service sends incoming texts to {inbound or '(nowhere)'}, not "
                                 f"{want}: set it under Messaging > Services > Integration, or choose "
                                 "'Defer to sender's webhook' there")  # fmt: skip
        return
    if not settings.from_number:
        yield Finding(False, "neither TWILIO_MESSAGING_SERVICE_SID nor TWILIO_FROM_NUMBER is set: texts are "
                             "printed, not sent; set one of them")  # fmt: skip
        return
    sender = number if number is not None and number.phone_number == _quiet_e164(settings.from_number) else None
    if sender is None:
        try:
            sender = find_number(twilio, settings.from_number)
        except SetupError as error:
            yield Finding(False, f"TWILIO_FROM_NUMBER: {error}")
            return
    if sender.sms:
        yield Finding(True, f"texts are sent from {sender.phone_number} (TWILIO_FROM_NUMBER)")
    else:
        yield Finding(False, f"TWILIO_FROM_NUMBER {sender.phone_number} cannot send texts: set "
                             "TWILIO_MESSAGING_SERVICE_SID, or TWILIO_FROM_NUMBER to a mobile number on the "
                             "account")  # fmt: skip


def _quiet_e164(text: str) -> str | None:
    try:
        return e164(text)
    except SetupError:
        return None
