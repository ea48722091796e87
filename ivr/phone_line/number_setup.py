"""Pointing a Twilio number at this app: the library under `ivr twilio configure` (number_check.py checks it).

Everything goes through the real twilio SDK; the client is handed in, so the commands build one with a
timeout and the tests one over a recording HTTP client. Failures a person can fix become `SetupError`
with one line saying what to change; nothing here prints.
"""

from __future__ import annotations

import json
import logging
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


def twilio_error(error: Exception) -> SetupError:
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
        raise twilio_error(error) from None
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


def shown(url: str | None, method: str | None) -> str:
    if not url:
        return "(none)"
    return f"{url} ({method or 'POST'})"


def changes(number: Number, target: Webhooks) -> list[Change]:
    """What `configure` would change on the number, field by field (the methods all become POST)."""
    rows = []
    for field, label in LABELS.items():
        before = shown(getattr(number.webhooks, field), getattr(number.methods, field))
        rows.append(Change(label, before, shown(getattr(target, field), "POST")))
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
        raise twilio_error(error) from None
    log.info("number %s pointed at %s", mask(number.phone_number), target.voice_url)
    return _number(updated)


# --- fallback TwiML ---------------------------------------------------------------------------


def fallback_twiml(content: Content, voice: twiml.TwilioVoice) -> str:
    """The apology the app itself answers with when it fails, for a TwiML Bin: it names no URL of ours."""
    return twiml.trouble(content, voice)
