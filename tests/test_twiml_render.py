"""A turn's TwiML is built once and each call's URLs put into it: byte for byte what building it afresh gives."""

from __future__ import annotations

import pytest

from ivr.engine.turn import Ask, Hangup, Pause, Say, Turn
from ivr.phone_line import twiml
from ivr.phone_line.twiml import TwilioVoice, Urls
from tests.web_support import assert_valid_twiml

TURNS: list[Turn] = [
    (Say("Main menu. Press 1 for the checklist."), Pause(1), Say("Press 2 & more <here>.", slow=True),
     Ask("key", 7)),
    (Say("Key in your mobile number, then hash."), Ask("entry", 10)),
    (Say("Say or key the code."), Ask("entry", 8, speech=True)),
    (Say("We cannot help with that.", voice="helpdesk"), Say("Goodbye."), Hangup()),
]  # fmt: skip
URLS = [
    Urls("/voice/turn/AQx9-_z", "/voice/turn/AQx9-_z/silence"),
    Urls("https://ivr.example.org/voice/turn/AQy8", "https://ivr.example.org/voice/turn/AQy8/silence"),
    Urls('https://ivr.example.org/a?b=1&c="2"<3>', 'https://ivr.example.org/a?b=1&c="2"<3>/silence'),
]


@pytest.mark.parametrize("turn", TURNS)
def test_a_turn_rendered_from_its_template_is_the_turn_built_afresh(turn: Turn) -> None:
    for voice in (TwilioVoice(), TwilioVoice(name="Polly.Emma-Neural", slow_rate="70%")):
        for urls in URLS + URLS:  # the second time round, every template comes from the cache
            body = twiml.render(turn, urls, voice)
            assert body == twiml._render(turn, urls, voice)
            assert twiml.ACTION not in body and twiml.SILENCE not in body
            assert_valid_twiml(body)


def test_a_template_keeps_no_call_s_urls() -> None:
    first = twiml.render(TURNS[0], URLS[0], TwilioVoice())
    second = twiml.render(TURNS[0], URLS[1], TwilioVoice())
    assert "AQx9" in first and "AQx9" not in second and "AQy8" in second



def test_a_turn_that_may_say_a_caller_s_details_is_never_kept_in_the_cache() -> None:
    readback: Turn = (Say("I heard oh seven four oh oh, one two three, four five six."), Ask("key", 7))
    twiml._template.cache_clear()
    body = twiml.render(readback, URLS[0], TwilioVoice(), personal=True)
    assert "one two three" in body
    assert twiml._template.cache_info().currsize == 0
    twiml.render(readback, URLS[0], TwilioVoice())  # the same turn unmarked is kept: the check above can fail
    assert twiml._template.cache_info().currsize == 1
