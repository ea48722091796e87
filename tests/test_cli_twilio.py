"""`ivr twilio`: the real twilio SDK over a recording HTTP client that plays a small Twilio account."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner, Result
from twilio.http import HttpClient
from twilio.http.response import Response

from ivr.cli.main import main
from ivr.phone_line import number_setup
from tests.web_support import assert_valid_twiml

ACCOUNT = "AC" + "a" * 32
BASE = "https://ivr.example.org"
LANDLINE = "+441522123456"  # a UK geographic number: voice only
MOBILE_NUMBER = "+447400123456"  # a mobile number: voice and texts
SERVICE = "MG" + "b" * 32
FORM_FIELDS = {  # Twilio's form parameter -> the resource's JSON field
    "VoiceUrl": "voice_url", "VoiceMethod": "voice_method", "VoiceFallbackUrl": "voice_fallback_url",
    "VoiceFallbackMethod": "voice_fallback_method", "StatusCallback": "status_callback",
    "StatusCallbackMethod": "status_callback_method", "SmsUrl": "sms_url", "SmsMethod": "sms_method",
    "VoiceApplicationSid": "voice_application_sid", "SmsApplicationSid": "sms_application_sid",
}  # fmt: skip


def phone_number(number: str, index: int, *, sms: bool, **fields: Any) -> dict[str, Any]:
    """An IncomingPhoneNumber as Twilio's API returns it (the fields that matter here)."""
    return {
        "sid": f"PN{index:032d}", "account_sid": ACCOUNT, "phone_number": number, "friendly_name": number,
        "voice_url": "https://demo.twilio.com/welcome/voice/", "voice_method": "POST",
        "voice_fallback_url": "", "voice_fallback_method": "POST",
        "status_callback": "", "status_callback_method": "POST",
        "sms_url": "https://demo.twilio.com/welcome/sms/reply", "sms_method": "POST",
        "voice_application_sid": None, "sms_application_sid": None, "trunk_sid": None,
        "capabilities": {"voice": True, "sms": sms, "mms": False, "fax": False},
        "status": "in-use", "uri": f"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers/PN{index:032d}.json",
        **fields,
    }  # fmt: skip


def wired(number: str, index: int, *, sms: bool) -> dict[str, Any]:
    return phone_number(number, index, sms=sms, voice_url=f"{BASE}/voice", voice_fallback_url=f"{BASE}/voice/fallback",
                        status_callback=f"{BASE}/voice/status", sms_url=f"{BASE}/sms")  # fmt: skip


class TwilioAccount(HttpClient):
    """Stands where the SDK's HTTP client stands: records each request and answers as one Twilio account would."""

    def __init__(self, numbers: list[dict[str, Any]], *, account_type: str = "Full", token_ok: bool = True,
                 services: dict[str, dict[str, Any]] | None = None) -> None:  # fmt: skip
        super().__init__(logger=None, is_async=False, timeout=None)  # type: ignore[arg-type]
        self.numbers = numbers
        self.account = {"sid": ACCOUNT, "friendly_name": "LinCA Digital", "status": "active", "type": account_type}
        self.token_ok = token_ok
        self.services = services or {}
        self.requests: list[dict[str, Any]] = []

    def request(self, method: str, uri: str, params: Any = None, data: Any = None, headers: Any = None,
                auth: Any = None, timeout: Any = None, allow_redirects: bool = False) -> Response:  # fmt: skip
        self.requests.append({"method": method, "uri": uri, "params": dict(params or {}), "data": dict(data or {}),
                              "timeout": timeout})  # fmt: skip
        if not self.token_ok:
            return self._error(401, 20003, "Authenticate")
        path = re.sub(r"^https://[^/]+", "", uri)
        if path == f"/2010-04-01/Accounts/{ACCOUNT}.json":
            return Response(200, json.dumps(self.account))
        if path == f"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers.json":
            wanted = (params or {}).get("PhoneNumber")
            listed = [n for n in self.numbers if wanted is None or wanted in n["phone_number"]]
            return Response(200, json.dumps({"incoming_phone_numbers": listed, "next_page_uri": None, "page": 0,
                                             "page_size": 50, "uri": path}))  # fmt: skip
        if match := re.fullmatch(rf"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers/(PN\w+)\.json", path):
            found = next((n for n in self.numbers if n["sid"] == match[1]), None)
            if found is None:
                return self._error(404, 20404, "not found")
            if method == "POST":
                for name, value in (data or {}).items():
                    found[FORM_FIELDS[name]] = value or None
            return Response(200, json.dumps(found))
        if match := re.fullmatch(r"/v1/Services/(MG\w+)", path):
            service = self.services.get(match[1])
            return Response(200, json.dumps(service)) if service else self._error(404, 20404, "not found")
        raise AssertionError(f"unexpected request {method} {uri}")

    @staticmethod
    def _error(status: int, code: int, message: str) -> Response:
        return Response(status, json.dumps({"code": code, "message": message, "status": status,
                                            "more_info": f"https://www.twilio.com/docs/errors/{code}"}))  # fmt: skip

    @property
    def posts(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST"]


def service(*, inbound: str | None = f"{BASE}/sms", defer: bool = False) -> dict[str, Any]:
    return {
        "sid": SERVICE, "account_sid": ACCOUNT, "friendly_name": "Helpdesk companion",
        "inbound_request_url": inbound, "inbound_method": "POST", "use_inbound_webhook_on_number": defer,
    }  # fmt: skip


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the working directory
    for name in ("TWILIO_FROM_NUMBER", "TWILIO_MESSAGING_SERVICE_SID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PUBLIC_BASE_URL", BASE)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "token")


def run(account: TwilioAccount | None, *args: str) -> Result:
    return CliRunner().invoke(main, ["twilio", *args], obj={"twilio_http_client": account})


# --- configure -----------------------------------------------------------------------------------


def test_configure_sets_the_four_webhooks_by_post() -> None:
    account = TwilioAccount([phone_number(LANDLINE, 1, sms=False)])
    result = run(account, "configure")
    assert result.exit_code == 0, result.output
    (post,) = account.posts
    assert post["uri"].endswith(f"/IncomingPhoneNumbers/PN{1:032d}.json")
    assert post["data"] == {
        "VoiceUrl": f"{BASE}/voice", "VoiceMethod": "POST",
        "VoiceFallbackUrl": f"{BASE}/voice/fallback", "VoiceFallbackMethod": "POST",
        "StatusCallback": f"{BASE}/voice/status", "StatusCallbackMethod": "POST",
        "SmsUrl": f"{BASE}/sms", "SmsMethod": "POST",
    }  # fmt: skip
    assert "before: https://demo.twilio.com/welcome/voice/ (POST)" in result.output
    assert f"after:  {BASE}/voice (POST)" in result.output
    assert f"{LANDLINE} now points at {BASE}" in result.output
    assert "cannot receive texts" in result.output  # a geographic number: said, not refused


def test_configure_dry_run_changes_nothing() -> None:
    account = TwilioAccount([phone_number(LANDLINE, 1, sms=False)])
    result = run(account, "configure", "--dry-run")
    assert result.exit_code == 0, result.output
    assert account.posts == []
    assert f"after:  {BASE}/voice/status (POST)" in result.output
    assert "dry run" in result.output


def test_configure_with_a_twiml_bin_as_fallback() -> None:
    account = TwilioAccount([phone_number(LANDLINE, 1, sms=False)])
    bin_url = "https://handler.twilio.com/twiml/EH" + "c" * 32
    result = run(account, "configure", "--fallback-url", bin_url)
    assert result.exit_code == 0, result.output
    assert account.posts[0]["data"]["VoiceFallbackUrl"] == bin_url


def test_configure_with_several_numbers_and_none_chosen_lists_them() -> None:
    account = TwilioAccount([phone_number(LANDLINE, 1, sms=False), phone_number(MOBILE_NUMBER, 2, sms=True)])
    result = run(account, "configure")
    assert result.exit_code == 2
    assert LANDLINE in result.output and MOBILE_NUMBER in result.output
    assert "--number" in result.output
    assert account.posts == []


def test_configure_chooses_by_number_or_by_twilio_from_number(monkeypatch: pytest.MonkeyPatch) -> None:
    numbers = [phone_number(LANDLINE, 1, sms=False), phone_number(MOBILE_NUMBER, 2, sms=True)]
    account = TwilioAccount(numbers)
    assert run(account, "configure", "--number", "07400 123456").exit_code == 0
    assert account.posts[-1]["uri"].endswith(f"PN{2:032d}.json")
    monkeypatch.setenv("TWILIO_FROM_NUMBER", LANDLINE)
    assert run(account, "configure").exit_code == 0
    assert account.posts[-1]["uri"].endswith(f"PN{1:032d}.json")


def test_configure_an_already_wired_number_posts_nothing() -> None:
    account = TwilioAccount([wired(LANDLINE, 1, sms=False)])
    result = run(account, "configure")
    assert result.exit_code == 0, result.output
    assert account.posts == []
    assert "nothing to change" in result.output


def test_configure_without_public_base_url_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PUBLIC_BASE_URL")
    account = TwilioAccount([phone_number(LANDLINE, 1, sms=False)])
    result = run(account, "configure")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: PUBLIC_BASE_URL is not set: set it to the app's public https:// address, the one Twilio calls"
    ]
    assert account.requests == []


def test_configure_without_credentials_names_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    result = run(TwilioAccount([]), "configure")
    assert result.exit_code == 2
    assert "TWILIO_AUTH_TOKEN is not set" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_configure_warns_about_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://ivr.example.org")
    result = run(TwilioAccount([phone_number(LANDLINE, 1, sms=False)]), "configure", "--dry-run")
    assert result.exit_code == 0
    assert "warning: PUBLIC_BASE_URL starts with http://" in result.output


def test_configure_with_a_wrong_token_says_so_in_one_line() -> None:
    result = run(TwilioAccount([], token_ok=False), "configure")
    assert result.exit_code == 2
    assert result.output.strip() == "error: TWILIO_AUTH_TOKEN is wrong or belongs to another account"


def test_the_real_client_has_a_timeout() -> None:
    client = number_setup.client(ACCOUNT, "token")
    assert client.http_client.timeout == number_setup.TIMEOUT_SECONDS


# --- check ---------------------------------------------------------------------------------------


def test_check_all_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_FROM_NUMBER", MOBILE_NUMBER)
    account = TwilioAccount([wired(MOBILE_NUMBER, 1, sms=True), phone_number(LANDLINE, 2, sms=False)])
    result = run(account, "check")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert all(line.startswith("ok: ") for line in lines), result.output
    assert f'ok: "A call comes in" goes to {BASE}/voice (POST)' in lines
    assert f"ok: texts are sent from {MOBILE_NUMBER} (TWILIO_FROM_NUMBER)" in lines
    assert account.posts == []  # a check changes nothing


def test_check_all_ok_with_a_landline_and_a_messaging_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_FROM_NUMBER", LANDLINE)
    monkeypatch.setenv("TWILIO_MESSAGING_SERVICE_SID", SERVICE)
    account = TwilioAccount([wired(LANDLINE, 1, sms=False)], services={SERVICE: service()})
    result = run(account, "check")
    assert result.exit_code == 0, result.output
    assert "ok: texts are sent through the Messaging Service Helpdesk companion" in result.output


def test_check_with_a_wrong_token() -> None:
    result = run(TwilioAccount([], token_ok=False), "check")
    assert result.exit_code == 1
    assert result.output.strip() == "problem: TWILIO_AUTH_TOKEN is wrong or belongs to another account"


def test_check_a_trial_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_FROM_NUMBER", MOBILE_NUMBER)
    result = run(TwilioAccount([wired(MOBILE_NUMBER, 1, sms=True)], account_type="Trial"), "check")
    assert result.exit_code == 1
    (problem,) = [line for line in result.output.splitlines() if line.startswith("problem: ")]
    assert "trial account" in problem and "verified numbers" in problem


def test_check_a_geographic_number_without_sms_and_no_messaging_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_FROM_NUMBER", LANDLINE)
    result = run(TwilioAccount([wired(LANDLINE, 1, sms=False)]), "check")
    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines() if line.startswith("problem: ")]
    assert problems[0] == (
        f"problem: {LANDLINE} cannot send or receive texts (UK geographic numbers usually cannot): set "
        "TWILIO_MESSAGING_SERVICE_SID to a Messaging Service, or TWILIO_FROM_NUMBER to a mobile number on the "
        "account, to send texts"
    )
    assert "TWILIO_MESSAGING_SERVICE_SID" in problems[1]
    assert 'ok: "A call comes in" goes to' in result.output  # the voice side is still fine


def test_check_a_wrong_voice_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_FROM_NUMBER", MOBILE_NUMBER)
    number = wired(MOBILE_NUMBER, 1, sms=True)
    number["voice_url"] = "https://old-app.example.org/voice"
    result = run(TwilioAccount([number]), "check")
    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines() if line.startswith("problem: ")]
    assert problems == [
        'problem: "A call comes in" goes to https://old-app.example.org/voice (POST), not '
        f"{BASE}/voice (POST): run `ivr twilio configure`"
    ]


def test_check_a_number_not_on_the_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_FROM_NUMBER", "+447400999999")
    result = run(TwilioAccount([wired(MOBILE_NUMBER, 1, sms=True)]), "check")
    assert result.exit_code == 1
    assert "problem: +447400999999 is not a number on this account" in result.output


def test_check_a_missing_messaging_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_MESSAGING_SERVICE_SID", SERVICE)
    result = run(TwilioAccount([wired(LANDLINE, 1, sms=False)]), "check")
    assert result.exit_code == 1
    assert f"problem: TWILIO_MESSAGING_SERVICE_SID {SERVICE} is not a Messaging Service" in result.output


def test_check_a_messaging_service_that_sends_incoming_texts_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_MESSAGING_SERVICE_SID", SERVICE)
    account = TwilioAccount([wired(LANDLINE, 1, sms=False)], services={SERVICE: service(inbound=None)})
    result = run(account, "check")
    assert result.exit_code == 1
    assert "problem: the Messaging Service sends incoming texts to (nowhere)" in result.output


def test_check_takes_a_twiml_bin_as_the_fallback_and_asks_for_one_when_there_is_none() -> None:
    number = wired(LANDLINE, 1, sms=False)
    number["voice_fallback_url"] = "https://handler.twilio.com/twiml/EH" + "c" * 32
    result = run(TwilioAccount([number]), "check", "--number", LANDLINE)
    assert 'ok: "Primary handler fails" goes to https://handler.twilio.com/twiml/EH' in result.output
    number["voice_fallback_url"] = ""
    result = run(TwilioAccount([number]), "check", "--number", LANDLINE)
    assert 'problem: "Primary handler fails" is not set' in result.output


def test_configure_clears_a_twiml_app_that_would_override_the_urls() -> None:
    account = TwilioAccount([phone_number(LANDLINE, 1, sms=False, voice_application_sid="AP" + "d" * 32)])
    assert 'the TwiML App AP' in run(account, "check").output
    result = run(account, "configure")
    assert result.exit_code == 0, result.output
    assert account.posts[0]["data"]["VoiceApplicationSid"] == ""
    assert account.numbers[0]["voice_application_sid"] is None


# --- fallback-twiml ------------------------------------------------------------------------------


def test_fallback_twiml_is_valid_and_self_contained() -> None:
    result = run(None, "fallback-twiml")
    assert result.exit_code == 0, result.output
    document = assert_valid_twiml(result.output.strip())
    spoken = " ".join(document.itertext())
    assert spoken.count("oh three three three, two oh oh, one one three three") == 2  # the helpdesk number, said twice
    assert "http" not in result.output  # nothing points back at the app that has failed
    assert document[-1].tag == "Hangup"
