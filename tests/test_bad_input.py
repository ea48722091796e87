"""Calm under bad input: big bodies, unsigned methods and paths, forged proxy headers, odd keys and numbers.

Over Flask's test client with requests signed as Twilio signs them; every TwiML body is checked
against our schema.
"""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ivr.app import MAX_BODY, create_app
from ivr.content.model import Content
from ivr.settings import Settings
from ivr.store.database import Store, calls
from tests.web_support import BASE, REAL_LINE, FlaskTransport, add_home, assert_valid_twiml, next_path, sign

SID = "CA" + "4" * 32
CALL = {"CallSid": SID, "From": "+441522123456", "To": "+443300000000"}


def make_app(tmp_path: Path, content: Content, **settings: Any) -> Flask:
    chosen = Settings(database_url=f"sqlite:///{tmp_path / 'ivr.sqlite3'}", **REAL_LINE, **settings)
    store = Store(chosen.database_url)
    store.upgrade()
    add_home(store)  # the calls come from a known home: straight to the main menu
    return create_app(chosen, content=content, store=store)


@pytest.fixture()
def client(tmp_path: Path, content: Content) -> FlaskClient:
    return make_app(tmp_path, content).test_client()


def post(client: FlaskClient, path: str, params: dict[str, str]) -> tuple[int, str]:
    return FlaskTransport(client).post(BASE + path, params, sign(BASE + path, params))


class Endless(io.RawIOBase):
    """A request body of `size` bytes that is never held in memory; counts what the app reads of it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.position = 0
        self.read_so_far = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # Werkzeug's test builder measures the body by seeking to its end
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence] + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer: Any) -> int:
        count = max(0, min(len(buffer), self.size - self.position))
        buffer[:count] = b"a" * count
        self.position += count
        self.read_so_far += count
        return count


# --- the body limit ---


@pytest.mark.parametrize("signature", [None, "any signature at all"])
def test_a_huge_body_is_refused_before_it_is_read(client: FlaskClient, signature: str | None) -> None:
    body = Endless(200 * 1024 * 1024)
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    started = time.perf_counter()
    reply = client.post("/voice", input_stream=body, headers=headers, content_type="application/x-www-form-urlencoded")
    elapsed = time.perf_counter() - started
    # Unsigned: refused on the missing signature; signed: the declared length is past the limit.
    assert reply.status_code == (403 if signature is None else 413)
    assert body.read_so_far <= MAX_BODY and elapsed < 1.0


def test_a_signed_body_over_the_limit_is_413_and_under_it_is_answered(client: FlaskClient) -> None:
    big = {**CALL, "Padding": "x" * MAX_BODY}
    assert post(client, "/voice", big)[0] == 413
    status, body = post(client, "/voice", {**CALL, "Padding": "x" * (MAX_BODY // 2)})
    assert status == 200
    assert_valid_twiml(body)


# --- every path and method under /voice and /sms is Twilio's or no one's ---

PATHS = ["/voice", "/voice/", "/voice/turn/0", "/voice/no-such-page", "/voice/turn/abc", "/voice/status",
         "/sms", "/sms/status", "/sms/no-such-page"]  # fmt: skip
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


@pytest.mark.parametrize("method", METHODS)
def test_unsigned_requests_are_refused_whatever_the_path_or_method(client: FlaskClient, method: str) -> None:
    for path in PATHS:
        reply = client.open(path, method=method, data=CALL if method != "GET" else None)
        assert (reply.status_code, reply.get_data()) == (403, b""), (method, path)
    head = client.head("/voice/no-such-page")
    assert head.status_code == 403


def test_other_paths_are_not_asked_for_a_signature(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/voicemail").status_code == 404  # only /voice itself and below it are Twilio's


def test_signed_requests_to_a_wrong_method_or_path_still_get_twiml(client: FlaskClient) -> None:
    url = BASE + "/voice?x=1"
    reply = client.get("/voice?x=1", headers={"X-Twilio-Signature": sign(url, {})})
    assert reply.status_code == 200
    assert_valid_twiml(reply.get_data(as_text=True))
    status, body = post(client, "/voice/no-such-page", CALL)
    assert status == 200
    assert_valid_twiml(body)


# --- proxies: which X-Forwarded-* headers are believed ---

FORGED_URL = "https://attacker.example.net/voice"
FORGED = {"X-Forwarded-Host": "attacker.example.net", "X-Forwarded-Proto": "https"}


def test_a_forged_forwarded_host_cannot_pass_when_public_base_url_is_set(tmp_path: Path, content: Content) -> None:
    client = make_app(tmp_path, content, public_base_url="https://ivr.example.org").test_client()
    forged = client.post("/voice", data=CALL, headers={**FORGED, "X-Twilio-Signature": sign(FORGED_URL, CALL)})
    assert forged.status_code == 403
    real = {**FORGED, "X-Twilio-Signature": sign("https://ivr.example.org/voice", CALL)}
    assert client.post("/voice", data=CALL, headers=real).status_code == 200


def test_with_no_trusted_proxy_forwarded_headers_are_ignored(tmp_path: Path, content: Content) -> None:
    client = make_app(tmp_path, content, trusted_proxies=0).test_client()
    forged = client.post("/voice", data=CALL, headers={**FORGED, "X-Twilio-Signature": sign(FORGED_URL, CALL)})
    assert forged.status_code == 403
    direct = {**FORGED, "X-Twilio-Signature": sign(BASE + "/voice", CALL)}
    assert client.post("/voice", data=CALL, headers=direct).status_code == 200


def test_two_trusted_proxies_believe_the_host_two_hops_in_and_no_further(tmp_path: Path, content: Content) -> None:
    """Each proxy appends what it was told; what the caller put in front of the first is not believed."""
    client = make_app(tmp_path, content, trusted_proxies=2).test_client()
    headers = {"X-Forwarded-Host": "attacker.example.net, companion.example.org, router.internal",
               "X-Forwarded-Proto": "https, https, http"}  # fmt: skip
    signed = {**headers, "X-Twilio-Signature": sign("https://attacker.example.net/voice", CALL)}
    assert client.post("/voice", data=CALL, headers=signed).status_code == 403
    signed = {**headers, "X-Twilio-Signature": sign("https://companion.example.org/voice", CALL)}
    assert client.post("/voice", data=CALL, headers=signed).status_code == 200


def test_trusting_forwarded_hosts_without_public_base_url_is_warned_at_start(
    tmp_path: Path, content: Content, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ivr"):
        make_app(tmp_path, content)
    assert "PUBLIC_BASE_URL is not set" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ivr"):
        make_app(tmp_path, content, public_base_url="https://ivr.example.org")
        make_app(tmp_path, content, trusted_proxies=0)
    assert "PUBLIC_BASE_URL is not set" not in caplog.text


def test_the_trusted_proxies_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IVR_TRUSTED_PROXIES", "0")
    assert Settings().trusted_proxies == 0
    assert Settings(trusted_proxies=2).trusted_proxies == 2
    with pytest.raises(ValueError, match="trusted_proxies"):
        Settings(trusted_proxies=-1)


# --- what the caller sends ---


def start(client: FlaskClient) -> str:
    """The call's first turn; where its answer goes (the state sealed in the path)."""
    status, body = post(client, "/voice", CALL)
    assert status == 200
    path = next_path(body)
    assert path is not None
    return path


@pytest.mark.parametrize("digits", ["1\x00", "\x1b[2J", "5\x0b", "1\ufffe", "<Say>x</Say>", "٣"])
def test_keys_no_keypad_can_send_are_a_wrong_key_and_the_reply_is_well_formed(
    client: FlaskClient, digits: str
) -> None:
    status, body = post(client, start(client), {**CALL, "Digits": digits})
    assert status == 200
    assert_valid_twiml(body)
    assert "is not one of the choices" in body and digits not in body


def test_a_flood_of_keys_gets_a_short_wrong_entry_reply(client: FlaskClient) -> None:
    _, entry = post(client, start(client), {**CALL, "Digits": "5"})  # the main menu's "text me": a mobile entry
    entry_path = next_path(entry)
    assert entry_path is not None
    status, body = post(client, entry_path, {**CALL, "Digits": "7" * 50_000})
    assert status == 200
    assert_valid_twiml(body)
    assert "does not look like a U K mobile number" in body and len(body) < 4000
    # A hundred thousand keys are more than any request Twilio makes: refused before they are read.
    assert post(client, entry_path, {**CALL, "Digits": "7" * 100_000})[0] == 413


def test_speech_with_control_characters_is_cleaned(client: FlaskClient) -> None:
    status, body = post(client, start(client), {**CALL, "SpeechResult": "five\x00\x1b" + " please" * 5000})
    assert status == 200
    assert_valid_twiml(body)
    assert "\x00" not in body and "\x1b" not in body


@pytest.mark.parametrize(
    ("given", "stored"), [("9223372036854775808", 2 * 86400), ("1" * 5000, 2 * 86400), ("-3", 0), ("93", 93)]
)
def test_a_call_duration_past_any_real_one_is_held_in_range(
    tmp_path: Path, content: Content, given: str, stored: int
) -> None:
    app = make_app(tmp_path, content)
    client = app.test_client()
    start(client)
    status, _ = post(client, "/voice/status", {**CALL, "CallStatus": "completed", "CallDuration": given})
    assert status == 204
    store = app.extensions["ivr.store"]
    with store.transaction() as tx:
        (row,) = tx.rows(calls)
    assert row["duration_seconds"] == stored


def test_request_values_in_log_lines_are_cleaned_and_bounded(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    forged_line = "\n2026-01-01 00:00:00 ERROR ivr: a line that was never logged"
    with caplog.at_level(logging.INFO, logger="ivr"):
        post(client, "/voice/fallback", {**CALL, "CallSid": "CA1" + forged_line, "ErrorCode": "1" * 5000})
        post(client, "/voice/status", {**CALL, "CallSid": "CA1" + forged_line, "CallStatus": "x\r\ny"})
        client.post("/voice/%0Aforged%0D" + "x" * 5000, data=CALL)  # unsigned: refused, and logged
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 3, messages
    for message in messages:
        assert "\n" not in message and "\r" not in message, message
        assert len(message) < 400, message

