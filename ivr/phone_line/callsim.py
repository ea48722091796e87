"""The call simulator: drives a running server over HTTP as Twilio does, and says what a caller hears.

It signs each request with the auth token, sends Twilio's parameters, follows each
<Gather action> with the next key (or lets it time out, following the <Redirect>),
and stops at <Hangup> or when the keys run out.
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


@dataclass(frozen=True)
class Heard:
    who: Literal["companion", "caller", "end", "error"]
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
    ) -> None:
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
            elif verb.tag == "Redirect":
                return urljoin(url, (verb.text or "").strip()), {}
            elif verb.tag == "Hangup":
                self.note(Heard("end", "The call ends."))
                return None, {}
        self.note(Heard("end", "The TwiML ran out: Twilio would hang up."))
        return None, {}

    def say(self, element: ET.Element) -> None:
        text = " ".join("".join(element.itertext()).split())
        self.note(Heard("companion", text))

    def note(self, heard: Heard) -> None:
        self.heard.append(heard)
        self.show(heard)
