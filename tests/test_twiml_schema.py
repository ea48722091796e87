"""The project's own TwiML schemas (tests/twiml/) accept what Twilio runs and refuse what it would not."""

from __future__ import annotations

import pytest
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from ivr.phone_line.twiml import TwilioVoice, apology
from tests.web_support import assert_valid_messaging_twiml, assert_valid_twiml

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
GATHER = '<Gather action="/voice/turn/1" method="POST" input="dtmf" numDigits="1" timeout="6">{}</Gather>'
REDIRECT = '<Redirect method="POST">/voice/silence/1</Redirect>'


def voice(inner: str) -> str:
    return f"{HEAD}<Response>{inner}</Response>"


def a_menu(gather_inner: str = '<Say voice="Polly.Amy-Neural" language="en-GB">Press 1.</Say>') -> str:
    return voice(GATHER.format(gather_inner) + REDIRECT)


def test_a_menu_as_the_renderer_writes_it_is_valid() -> None:
    assert_valid_twiml(a_menu())


def test_a_put_through_as_twilio_documents_it_is_valid() -> None:
    response = VoiceResponse()
    dial = response.dial(caller_id="+441522123456", hangup_on_star=True, timeout=30, time_limit=7200,
                         action="https://example.org/voice/after", method="POST", record="do-not-record")  # fmt: skip
    dial.number("+443332001133", send_digits="ww1ww1")
    response.redirect("https://example.org/voice/after", method="POST")
    assert_valid_twiml(str(response))


def test_the_apology_is_valid() -> None:
    body = apology("0 3 3 3, 2 0 0, 1 1 3 3", TwilioVoice(), "Sorry.", "Ring {helpdesk}.", "Goodbye.")
    assert_valid_twiml(body)


@pytest.mark.parametrize(
    "body",
    [
        # an attribute Twilio does not know
        voice(GATHER.replace("timeout=", 'bargeIn="true" timeout=').format("") + REDIRECT),
        voice('<Say voice="Polly.Amy" colour="blue">Hello.</Say><Hangup/>'),
        # enumerated or typed values Twilio does not accept
        voice(GATHER.replace('input="dtmf"', 'input="keys"').format("") + REDIRECT),
        voice(GATHER.replace('method="POST"', 'method="PUT"').format("") + REDIRECT),
        voice(GATHER.replace('timeout="6"', 'timeout="0"').format("") + REDIRECT),
        voice(GATHER.replace('numDigits="1"', 'numDigits="one"').format("") + REDIRECT),
        voice('<Gather finishOnKey="##">' + "</Gather>" + REDIRECT),
        voice('<Say voice="Amy">Hello.</Say><Hangup/>'),
        voice('<Say><prosody rate="very slow">Hello.</prosody></Say><Hangup/>'),
        voice('<Dial timeout="2"><Number>+443332001133</Number></Dial>'),
        voice('<Dial record="yes please"><Number>+443332001133</Number></Dial>'),
        voice('<Dial callerId="01522 123456"><Number>+443332001133</Number></Dial>'),
        voice('<Dial timeLimit="100000"><Number>+443332001133</Number></Dial>'),
        # verbs in the wrong place
        a_menu("<Gather/>"),
        a_menu("<Hangup/>"),
        a_menu(REDIRECT),
        voice("<Say>Hello.</Say><Message>Hello.</Message>"),
        voice("<Hangup>now</Hangup>"),
        voice("<Dial><Say>Hello.</Say></Dial>"),
        f"{HEAD}<Reply><Hangup/></Reply>",
    ],
)
def test_the_schema_refuses_what_twilio_would_not_run(body: str) -> None:
    with pytest.raises(AssertionError):
        assert_valid_twiml(body)


def test_a_keyword_reply_is_valid_messaging_twiml() -> None:
    response = MessagingResponse()
    response.message("Text CHECKLIST for the list of what to have ready.")
    assert_valid_messaging_twiml(str(response))
    assert_valid_messaging_twiml(str(MessagingResponse()))


@pytest.mark.parametrize(
    "body",
    [
        f"{HEAD}<Response><Say>Hello.</Say></Response>",
        f'{HEAD}<Response><Message media="x">Hello.</Message></Response>',
        f"{HEAD}<Response><Message><Gather/></Message></Response>",
    ],
)
def test_the_messaging_schema_refuses_voice_verbs_and_unknown_attributes(body: str) -> None:
    with pytest.raises(AssertionError):
        assert_valid_messaging_twiml(body)
