"""The call simulator: drives a running server over HTTP as Twilio does, and says what a caller hears.

It signs each request with the auth token, sends Twilio's parameters, follows each
<Gather action> with the next key (or lets it time out, following the <Redirect>),
and stops at <Hangup> or when the keys run out. A <Dial> (a put-through) rings no one:
the simulator says what Twilio would dial and comes back to the <Dial action> with the
DialCallStatus given as the next key ("dial:busy"), or else the simulator's own `dial_status`.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol
from urllib.error import HTTPError
from urllib.parse import urlencode, urljoin
from urllib.request import Request, urlopen

from twilio.request_validator import RequestValidator

MAX_REQUESTS = 500  # a runaway loop of redirects ends the simulation rather than the laptop
# Twilio's DialCallStatus values, and "hangup": the caller hangs up during the helpdesk call.
DIAL_STATUSES = ("completed", "answered", "busy", "no-answer", "failed", "canceled", "hangup")
SIMULATED_HELPDESK_CALL_SECONDS = "754"  # the DialCallDuration of a helpdesk call that was answered


@dataclass(frozen=True)
class Heard:
    who: Literal["companion", "caller", "end", "error", "dial"]
    text: str


class Transport(Protocol):
    def post(self, url: str, params: dict[str, str], signature: str) -> tuple[int, str]: ...


class HttpTransport:
    def __init__(self, timeout: float = 15.0) -> None:
        self.timeout = timeout

    def post(self, url: str, params: dict[str, str], signature: str) -> tuple[int, str]:
        data = urlencode(params).encode()
        headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded",
                   "User-Agent": "TwilioProxy/1.1 (ivr call simulator)"}  # fmt: skip
        try:
            with urlopen(Request(url, data=data, headers=headers, method="POST"), timeout=self.timeout) as reply:
                return reply.status, reply.read().decode()
        except HTTPError as error:
            with error:  # an HTTPError holds the connection open until closed
                return error.code, error.read().decode(errors="replace")


class CallSimulator:
    def __init__(
        self,
        base_url: str,
        auth_token: str,
        transport: Transport | None = None,
        *,
        caller: str = "+441522123456",
        called: str = "+443300000000",
        show: Callable[[Heard], None] = lambda heard: None,
        dial_status: str = "completed",
    ) -> None:
        if dial_status not in DIAL_STATUSES:
            raise ValueError(f"dial_status must be one of {', '.join(DIAL_STATUSES)}")
        self.dial_status = dial_status
        self.base_url = base_url.rstrip("/")
        self.validator = RequestValidator(auth_token)
        self.transport = transport or HttpTransport()
        self.params = {
            "CallSid": "CA" + uuid.uuid4().hex,
            "AccountSid": "AC" + "0" * 32,
            "From": caller,
            "Caller": caller,
            "To": called,
            "Called": called,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        self.show = show
        self.heard: list[Heard] = []
        self.bodies: list[str] = []

    @property
    def call_sid(self) -> str:
        return self.params["CallSid"]

    def run(self, keys: list[str]) -> list[Heard]:
        pending = list(keys)
        url: str | None = self.base_url + "/voice"
        extra: dict[str, str] = {}
        for _ in range(MAX_REQUESTS):
            if url is None:
                break
            status, body = self.request(url, extra)
            if status != 200:
                self.note(Heard("error", f"HTTP {status} from {url}"))
                break
            url, extra = self.play(body, url, pending)
        return self.heard

    def request(self, url: str, extra: dict[str, str]) -> tuple[int, str]:
        params = {**self.params, **extra}
        signature = self.validator.compute_signature(url, params)
        status, body = self.transport.post(url, params, signature)
        self.bodies.append(body)
        return status, body

    def play(self, body: str, url: str, pending: list[str]) -> tuple[str | None, dict[str, str]]:
        """Hear one TwiML document; return the next request to make, or None when the call is over."""
        for verb in ET.fromstring(body):
            if verb.tag == "Say":
                self.say(verb)
            elif verb.tag == "Gather":
                for inner in verb:
                    if inner.tag == "Say":
                        self.say(inner)
                if not pending:
                    return None, {}
                key = pending.pop(0)
                if key == "t":  # silence: Twilio moves on to the verb after the Gather
                    self.note(Heard("caller", "(silence)"))
                    continue
                action = urljoin(url, verb.get("action", url))
                if key.startswith("say:") and "speech" in (verb.get("input") or ""):
                    # A spoken answer, as Twilio's recogniser would hand it over: say:victor_lima_1_5_alpha
                    spoken = key.removeprefix("say:").replace("_", " ")
                    self.note(Heard("caller", f"says {spoken!r}"))
                    return action, {"SpeechResult": spoken, "Confidence": "0.9"}
                self.note(Heard("caller", f"presses {key}"))
                # Twilio's finishOnKey is # unless the Gather says otherwise. The key that ends an entry
                # is not sent, and an entry ended before any digit sends nothing at all: Twilio goes on
                # to the verb after the Gather, as for silence.
                finish = verb.get("finishOnKey", "#")
                digits = key.removesuffix(finish) if finish else key
                if not digits:
                    continue
                return action, {"Digits": digits}
            elif verb.tag == "Dial":
                return self.dial(verb, url, pending)
            elif verb.tag == "Redirect":
                return urljoin(url, (verb.text or "").strip()), {}
            elif verb.tag == "Hangup":
                self.note(Heard("end", "The call ends."))
                return None, {}
        self.note(Heard("end", "The TwiML ran out: Twilio would hang up."))
        return None, {}

    def dial(self, verb: ET.Element, url: str, pending: list[str]) -> tuple[str | None, dict[str, str]]:
        """A put-through: say what Twilio would dial, then come back as its <Dial action> would."""
        number = verb.find("Number")
        called = (number.text or "").strip() if number is not None else "(no number)"
        digits = number.get("sendDigits") if number is not None else None
        chosen = pending and pending[0].startswith("dial:")
        status = pending.pop(0).removeprefix("dial:") if chosen else self.dial_status
        if status not in DIAL_STATUSES:
            self.note(Heard("error", f"unknown dial status {status!r} (one of {', '.join(DIAL_STATUSES)})"))
            return None, {}
        pressed = f", pressing {digits}" if digits else ""
        self.note(Heard("dial", f"Put through to {called}, showing {verb.get('callerId', '(our number)')}{pressed}, "
                                f"never recorded: the helpdesk call ends, {status}."))  # fmt: skip
        action = verb.get("action")
        if action is None:  # the companion always sends one: without it the caller would never come back to us
            self.note(Heard("error", "a <Dial> with no action URL"))
            return None, {}
        answered = status in ("completed", "answered", "hangup")
        extra = {
            "DialCallStatus": "completed" if status == "hangup" else status,
            "DialCallSid": "CA" + uuid.uuid4().hex,
            "DialCallDuration": SIMULATED_HELPDESK_CALL_SECONDS if answered else "0",
            "DialBridged": "true" if answered else "false",
        }
        if status == "hangup":
            extra["CallStatus"] = "completed"  # the caller's own call is over: whatever we answer is not heard
        return urljoin(url, action), extra

    def say(self, element: ET.Element) -> None:
        text = " ".join("".join(element.itertext()).split())
        self.note(Heard("companion", text))

    def note(self, heard: Heard) -> None:
        self.heard.append(heard)
        self.show(heard)
