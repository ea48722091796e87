"""Test support for the web side: a signed Twilio stand-in over Flask's test client, and TwiML checks."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from twilio.request_validator import RequestValidator

from ivr.homes import directory_store
from ivr.homes.directory import Home
from ivr.phone_line.callsim import CallSimulator
from ivr.phone_line.web import EXTENSION, PhoneLine
from ivr.store.counts import Counts
from ivr.store.database import Store
from tests.conftest import ROOT

TOKEN = "test-auth-token-0123456789abcdef"
# Every setting a real line needs (ivr/line.py): the web app will not start with only some of them.
REAL_LINE: dict[str, str] = {
    "twilio_account_sid": "AC" + "c" * 32, "twilio_auth_token": TOKEN, "twilio_from_number": "+447400000001",
    "secret_key": "test-secret-key",
}  # fmt: skip
BASE = "http://localhost"
# The home the tests' calls come from, unless a test says otherwise: its registered landline.
LANDLINE = "+441522123456"
HOME = Home(ods="VL15A", name="Lindum House", landlines=(LANDLINE,))


def counts_of(app: Flask) -> Counts:
    """What the app's calls counted and has yet to write (ivr/store/counts.py)."""
    line: PhoneLine = app.extensions[EXTENSION]
    return line.calls.counts


def write_counts(app: Flask) -> int:
    """Write the counts the app's calls noted now, as its own thread would within a second."""
    return counts_of(app).flush()


def add_home(store: Store, home: Home = HOME) -> Home:
    directory_store.add(store, home)
    return home


# Our own schemas of the TwiML we emit (tests/twiml/): a body they refuse is one Twilio would not run.
SCHEMA = etree.XMLSchema(etree.parse(str(ROOT / "tests" / "twiml" / "voice.xsd")))
MESSAGING_SCHEMA = etree.XMLSchema(etree.parse(str(ROOT / "tests" / "twiml" / "messaging.xsd")))


class FlaskTransport:
    """Posts as Twilio would, but into the app in this process."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def post(self, url: str, params: dict[str, str], signature: str) -> tuple[int, str]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        reply = self.client.post(
            path, data=params, headers={"X-Twilio-Signature": signature},
            base_url=f"{parts.scheme}://{parts.netloc}",
        )  # fmt: skip
        return reply.status_code, reply.get_data(as_text=True)


def sign(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, params))


def assert_valid_twiml(body: str) -> etree._Element:
    document = etree.fromstring(body.encode())
    assert SCHEMA.validate(document), f"{SCHEMA.error_log.last_error}\n{body}"
    verbs = list(document)
    for index, verb in enumerate(verbs):
        if verb.tag == "Gather":  # silence must lead somewhere: never the end of the TwiML
            assert index + 1 < len(verbs) and verbs[index + 1].tag == "Redirect", body
    assert verbs and verbs[-1].tag in {"Redirect", "Hangup"}, f"the TwiML would run out:\n{body}"
    return document


def assert_valid_messaging_twiml(body: str) -> etree._Element:
    document = etree.fromstring(body.encode())
    assert MESSAGING_SCHEMA.validate(document), f"{MESSAGING_SCHEMA.error_log.last_error}\n{body}"
    return document


def simulate(client: FlaskClient, keys: str, caller: str = LANDLINE) -> CallSimulator:
    """A whole call through the app, signed as Twilio signs it; every answer checked as TwiML."""
    simulator = CallSimulator(BASE, TOKEN, FlaskTransport(client), caller=caller)
    simulator.run(keys.split())
    for body in simulator.bodies:
        assert_valid_twiml(body)
    return simulator


def next_path(body: str) -> str | None:
    """Where Twilio goes next with a key: the <Gather action>, with its sealed state (None when the call ends)."""
    gather = etree.fromstring(body.encode()).find("Gather")
    return urlsplit(gather.get("action", "")).path if gather is not None else None


class Caller:
    """One call over signed webhooks, following the sealed URL each answer gives, as Twilio does."""

    def __init__(self, client: FlaskClient, params: dict[str, str]) -> None:
        self.transport = FlaskTransport(client)
        self.params = params
        self.body = ""

    def post(self, path: str, **extra: str) -> tuple[int, str]:
        params = {**self.params, **extra}
        status, self.body = self.transport.post(BASE + path, params, sign(BASE + path, params))
        return status, self.body

    def start(self) -> tuple[int, str]:
        return self.post("/voice")

    def press(self, digits: str) -> tuple[int, str]:
        path = next_path(self.body)
        assert path is not None, f"the call has ended:\n{self.body}"
        return self.post(path, Digits=digits)
