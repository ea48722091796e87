"""Only Twilio can drive the app: the signature is checked against the URL Twilio called."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, request
from twilio.request_validator import RequestValidator

from ivr.app import create_app
from ivr.content.model import Content
from ivr.phone_line.signature import Signatures
from ivr.phone_line.twilio_request import public_url
from ivr.settings import Settings
from ivr.store.database import Store
from tests.web_support import REAL_LINE, assert_valid_twiml, sign

# Twilio's published worked example: this token, URL and these parameters give this signature.
EXAMPLE_TOKEN = "12345"
EXAMPLE_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
EXAMPLE_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
EXAMPLE_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_twilios_published_example_validates_as_the_app_rebuilds_the_url() -> None:
    app = Flask(__name__)
    with app.test_request_context("/myapp.php?foo=1&bar=2", method="POST", data=EXAMPLE_PARAMS,
                                  base_url="http://internal:8000"):  # fmt: skip
        url = public_url(request, "https://mycompany.com")
        assert url == EXAMPLE_URL
        assert RequestValidator(EXAMPLE_TOKEN).validate(url, EXAMPLE_PARAMS, EXAMPLE_SIGNATURE)
        assert not RequestValidator(EXAMPLE_TOKEN).validate(url, {**EXAMPLE_PARAMS, "Digits": "9"}, EXAMPLE_SIGNATURE)


def _app(tmp_path: Path, content: Content, public_base_url: str | None = None) -> Flask:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'ivr.sqlite3'}", **REAL_LINE, public_base_url=public_base_url
    )
    Store(settings.database_url).upgrade()
    return create_app(settings, content=content)


PARAMS = {"CallSid": "CA" + "7" * 32, "From": "+441522123456", "To": "+443300000000"}


def test_a_signed_request_is_answered(tmp_path: Path, content: Content) -> None:
    client = _app(tmp_path, content).test_client()
    reply = client.post("/voice", data=PARAMS, headers={"X-Twilio-Signature": sign("http://localhost/voice", PARAMS)})
    assert reply.status_code == 200
    assert_valid_twiml(reply.get_data(as_text=True))


@pytest.mark.parametrize(
    ("case", "signature", "data"),
    [
        ("missing", None, PARAMS),
        ("tampered body", sign("http://localhost/voice", PARAMS), {**PARAMS, "From": "+441522999999"}),
        ("wrong URL", sign("https://elsewhere.example.org/voice", PARAMS), PARAMS),
        ("wrong token", sign("http://localhost/voice", PARAMS, token="another-token"), PARAMS),
        ("garbage", "not base64 at all", PARAMS),
    ],
)
def test_unsigned_or_forged_requests_get_403_without_twiml(
    tmp_path: Path, content: Content, case: str, signature: str | None, data: dict[str, str]
) -> None:
    client = _app(tmp_path, content).test_client()
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    for path in ("/voice", "/voice/turn/AbC", "/voice/turn/AbC/silence", "/voice/status", "/voice/fallback"):
        reply = client.post(path, data=data, headers=headers)
        assert reply.status_code == 403, (case, path)
        assert reply.get_data() == b"", case


def test_a_quote_and_plus_in_the_query_validate_behind_public_base_url(tmp_path: Path, content: Content) -> None:
    client = _app(tmp_path, content, public_base_url="https://ivr.example.org/").test_client()
    raw_query = "note=it%27s+fine&x=a%2Bb"
    url = f"https://ivr.example.org/voice?{raw_query}"
    reply = client.post(f"/voice?{raw_query}", data=PARAMS, headers={"X-Twilio-Signature": sign(url, PARAMS)})
    assert reply.status_code == 200
    # Werkzeug's decoded request.url would have signed a different string:
    decoded = "https://ivr.example.org/voice?note=it's+fine&x=a%2Bb"
    assert sign(decoded, PARAMS) != sign(url, PARAMS)


@pytest.mark.parametrize("path", ["/voice", "/voice/turn/AbC", "/voice/turn/AbC/silence"])
def test_a_proxied_https_request_validates_with_one_trusted_hop(tmp_path: Path, content: Content, path: str) -> None:
    """The first request under Flask, and the turns answered before it (fast_turns.py), read the proxy alike."""
    client = _app(tmp_path, content).test_client()
    url = f"https://companion.example.org{path}"
    headers = {
        "X-Twilio-Signature": sign(url, PARAMS),
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "companion.example.org",
        "X-Forwarded-For": "54.172.60.1",
    }
    reply = client.post(path, data=PARAMS, headers=headers)
    assert reply.status_code == 200
    assert_valid_twiml(reply.get_data(as_text=True))
    # Without the proxy's headers the same signature is for another URL.
    assert client.post(path, data=PARAMS, headers={"X-Twilio-Signature": sign(url, PARAMS)}).status_code == 403


# --- the app's own check (ivr/phone_line/signature.py) accepts exactly what the SDK's validator accepts ---

SPELLINGS = [
    "https://ivr.example.org/voice/turn/AQx9",
    "https://ivr.example.org:443/voice/turn/AQx9",
    "http://ivr.example.org/voice",
    "http://ivr.example.org:80/voice",
    "http://127.0.0.1:8000/voice/turn/AQx9/silence",
    "http://127.0.0.1/voice/turn/AQx9/silence",
    "https://ivr.example.org/voice?note=it%27s+fine&x=a%2Bb",
    "https://ivr.example.org:8443/voice?x=1",
    "https://ivr.example.org/voice?x=1",
]


@pytest.mark.parametrize("called", SPELLINGS)
def test_the_apps_check_agrees_with_the_sdks_validator(called: str) -> None:
    sdk, ours = RequestValidator(EXAMPLE_TOKEN), Signatures(EXAMPLE_TOKEN)
    for signed in SPELLINGS:  # signed for one spelling, checked against another: both say the same
        for params in (EXAMPLE_PARAMS, {**EXAMPLE_PARAMS, "Digits": "9"}, {}):
            signature = sdk.compute_signature(signed, EXAMPLE_PARAMS)
            assert ours.valid(called, params, signature) == sdk.validate(called, params, signature), (signed, params)
    assert ours.valid(EXAMPLE_URL, EXAMPLE_PARAMS, EXAMPLE_SIGNATURE)


@pytest.mark.parametrize("signature", ["", "not base64", EXAMPLE_SIGNATURE[:-1], EXAMPLE_SIGNATURE + "\u00e9"])
def test_a_wrong_or_strange_signature_is_refused(signature: str) -> None:
    assert not Signatures(EXAMPLE_TOKEN).valid(EXAMPLE_URL, EXAMPLE_PARAMS, signature)


def test_a_signature_under_another_token_is_refused() -> None:
    assert not Signatures("another-token").valid(EXAMPLE_URL, EXAMPLE_PARAMS, EXAMPLE_SIGNATURE)


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_auth_token_is_no_token_and_the_app_will_not_start(blank: str) -> None:
    # An empty HMAC key would let anyone sign: an empty TWILIO_AUTH_TOKEN= line counts as not set.
    from ivr.phone_line.web import check_signature_settings
    from ivr.settings import ConfigurationError

    settings = Settings(twilio_auth_token=blank)
    assert settings.twilio_auth_token is None
    with pytest.raises(ConfigurationError, match="TWILIO_AUTH_TOKEN is not set"):
        check_signature_settings(settings)
