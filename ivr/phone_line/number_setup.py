"""Pointing a Twilio number at this app, and checking that it points here: the library under `ivr twilio`.

Everything goes through the real twilio SDK; the client is handed in, so the commands build one with a
timeout and the tests one over a recording HTTP client. Failures a person can fix become `SetupError`
with one line saying what to change; nothing here prints.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import phonenumbers
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import HttpClient, TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from ivr.content.model import Content
from ivr.phone import mask
from ivr.phone_line import twiml

log = logging.getLogger(__name__)

# The SDK waits for ever unless told otherwise: a hung connection would hang the command.
TIMEOUT_SECONDS = 10.0
# A TwiML Bin is served from here: a fallback that works when this app is down.
TWIML_BIN_HOST = "https://handler.twilio.com/"
WRONG_TOKEN = "TWILIO_AUTH_TOKEN is wrong or belongs to another account"


class SetupError(Exception):
    """Something the operator must change before the number can be set up or checked."""


class SeveralNumbers(SetupError):
    def __init__(self, numbers: list[str]) -> None:
        super().__init__(
            f"the account has {len(numbers)} numbers: choose one with --number or TWILIO_FROM_NUMBER "
            f"({', '.join(numbers)})"
        )
        self.numbers = numbers


def client(account_sid: str, auth_token: str, http_client: HttpClient | None = None,
           timeout: float = TIMEOUT_SECONDS) -> Client:  # fmt: skip
    """The real SDK client, always with an HTTP timeout."""
    return Client(account_sid, auth_token, http_client=http_client or TwilioHttpClient(timeout=timeout))


@dataclass(frozen=True)
class Webhooks:
    """The four addresses a number calls: the ones `configure` sets and `check` compares."""

    voice_url: str | None
    voice_fallback_url: str | None
    status_callback: str | None
    sms_url: str | None


LABELS = {
    "voice_url": "A call comes in",
    "voice_fallback_url": "Primary handler fails",
    "status_callback": "Call status changes",
    "sms_url": "A message comes in",
}
# Where each address's HTTP method sits on an IncomingPhoneNumber.
METHODS = {
    "voice_url": "voice_method",
    "voice_fallback_url": "voice_fallback_method",
    "status_callback": "status_callback_method",
    "sms_url": "sms_method",
}


def wanted(base_url: str, fallback_url: str | None = None) -> Webhooks:
    return Webhooks(
        voice_url=f"{base_url}/voice",
        voice_fallback_url=fallback_url or f"{base_url}/voice/fallback",
        status_callback=f"{base_url}/voice/status",
        sms_url=f"{base_url}/sms",
    )


@dataclass(frozen=True)
class Number:
    """An IncomingPhoneNumber as far as this app cares."""

    sid: str
    phone_number: str
    webhooks: Webhooks
    methods: Webhooks  # the HTTP method of each address, in the same places
    voice: bool
    sms: bool
    voice_application_sid: str | None = None
    sms_application_sid: str | None = None
    trunk_sid: str | None = None

    @property
    def geographic(self) -> bool:
        """A UK landline number (01, 02): these usually cannot send or receive texts."""
        return self.phone_number.startswith(("+441", "+442"))


def _number(instance: Any) -> Number:
    capabilities = instance.capabilities or {}
    return Number(
        sid=str(instance.sid),
        phone_number=str(instance.phone_number),
        webhooks=Webhooks(*(getattr(instance, field) or None for field in LABELS)),
        methods=Webhooks(*(getattr(instance, METHODS[field]) for field in LABELS)),
        voice=bool(capabilities.get("voice")),
        sms=bool(capabilities.get("sms")),
        voice_application_sid=instance.voice_application_sid or None,
        sms_application_sid=instance.sms_application_sid or None,
        trunk_sid=instance.trunk_sid or None,
    )


def e164(text: str) -> str:
    """'01522 123456' or '+44 1522 123456' -> '+441522123456', as Twilio lists numbers."""
    try:
        parsed = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        raise SetupError(f"{text!r} is not a phone number: give it as +44... or 0...") from None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _twilio(error: Exception) -> SetupError:
    """One line for what went wrong talking to Twilio."""
    if isinstance(error, TwilioRestException):
        status, detail = error.status, f"error {error.code}: {error.msg}"
    else:
        # A listing that fails raises a bare TwilioException("Unable to fetch page", response).
        response = next((arg for arg in error.args if isinstance(arg, Response)), None)
        status, detail = (response.status_code, _message(response.text)) if response is not None else (None, "")
    if status == 401:
        return SetupError(WRONG_TOKEN)
    if status is not None:
        return SetupError(f"Twilio refused the request ({status}, {detail})")
    if isinstance(error, requests.exceptions.RequestException):
        return SetupError(f"cannot reach Twilio: {type(error).__name__} (check the network)")
    return SetupError(f"Twilio: {error}")


def _message(text: str) -> str:
    try:
        body = json.loads(text)
        return f"error {body['code']}: {body['message']}"
    except (ValueError, KeyError, TypeError):
        return "no details"


def find_number(twilio: Client, chosen: str | None) -> Number:
    """The number to set up: `chosen` (from --number or TWILIO_FROM_NUMBER), else the account's only one."""
    try:
        if chosen:
            wanted_number = e164(chosen)
            # Twilio's PhoneNumber filter matches parts of numbers too: keep the exact one.
            found = [n for n in twilio.incoming_phone_numbers.list(phone_number=wanted_number, limit=20)
                     if n.phone_number == wanted_number]  # fmt: skip
            if not found:
                raise SetupError(f"{wanted_number} is not a number on this account "
                                 "(Phone Numbers > Manage > Active numbers lists them)")  # fmt: skip
            return _number(found[0])
        every = twilio.incoming_phone_numbers.list(limit=100)
    except (TwilioException, requests.exceptions.RequestException) as error:
        raise _twilio(error) from None
    if not every:
        raise SetupError("the account has no phone numbers: buy one in the Twilio Console first")
    if len(every) > 1:
        raise SeveralNumbers([str(n.phone_number) for n in every])
    return _number(every[0])


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _shown(url: str | None, method: str | None) -> str:
    if not url:
        return "(none)"
    return f"{url} ({method or 'POST'})"


def changes(number: Number, target: Webhooks) -> list[Change]:
    """What `configure` would change on the number, field by field (the methods all become POST)."""
    rows = []
    for field, label in LABELS.items():
        before = _shown(getattr(number.webhooks, field), getattr(number.methods, field))
        rows.append(Change(label, before, _shown(getattr(target, field), "POST")))
    # A TwiML App or a SIP trunk on the number takes precedence over its URLs: Twilio would ignore them.
    if number.voice_application_sid:
        rows.append(Change("Voice TwiML App", number.voice_application_sid, "(none)"))
    if number.sms_application_sid:
        rows.append(Change("Messaging TwiML App", number.sms_application_sid, "(none)"))
    return rows


def configure(twilio: Client, number: Number, target: Webhooks) -> Number:
    """Point the number at `target`, every webhook by POST; returns the number as Twilio now has it."""
    extra: dict[str, str] = {}
    if number.voice_application_sid:
        extra["voice_application_sid"] = ""
    if number.sms_application_sid:
        extra["sms_application_sid"] = ""
    try:
        updated = twilio.incoming_phone_numbers(number.sid).update(
            voice_url=target.voice_url, voice_method="POST",
            voice_fallback_url=target.voice_fallback_url, voice_fallback_method="POST",
            status_callback=target.status_callback, status_callback_method="POST",
            sms_url=target.sms_url, sms_method="POST",
            **extra,
        )  # fmt: skip
    except (TwilioException, requests.exceptions.RequestException) as error:
        raise _twilio(error) from None
    log.info("number %s pointed at %s", mask(number.phone_number), target.voice_url)
    return _number(updated)


# --- check ------------------------------------------------------------------------------------


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
        yield Finding(False, str(_twilio(error)))
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
        where = f'"{label}" goes to {_shown(have, method)}'
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
                yield Finding(False, str(_twilio(error)))
            return
        except (TwilioException, requests.exceptions.RequestException) as error:
            yield Finding(False, str(_twilio(error)))
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


# --- fallback TwiML ---------------------------------------------------------------------------


def fallback_twiml(content: Content, voice: twiml.TwilioVoice) -> str:
    """The apology the app itself answers with when it fails, for a TwiML Bin: it names no URL of ours."""
    return twiml.trouble(content, voice)
