"""A turn's TwiML is built once and each call's URLs put into it: byte for byte what building it afresh gives."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ivr.content.model import Content
from ivr.engine import flow
from ivr.engine.turn import Ask, Dial, Digits, Hangup, Pause, Say, SendSms, Turn
from ivr.homes.directory import InMemoryDirectory
from ivr.phone_line import twiml
from ivr.phone_line.twiml import TwilioVoice, Urls
from tests.web_support import HOME, assert_valid_twiml

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



def test_a_caller_s_own_words_are_never_kept_in_the_cache() -> None:
    """The template of a turn with a personal Say keeps a stand-in for its words, put in for each call."""
    heard = "I heard oh seven four oh oh, one two three, four five six & <that> is all."
    twiml._template.cache_clear()
    turn = (Say("Thank you.", slow=True), Say(heard, personal=True), Say(heard, personal=True, slow=True),
            Ask("key", 7))  # fmt: skip
    for voice in (TwilioVoice(), TwilioVoice(name="Polly.Emma-Neural", slow_rate="70%")):
        for urls in URLS + URLS:  # the second time round, from the cache
            body = twiml.render(turn, urls, voice)
            assert body == twiml._render(turn, urls, voice)
            assert body.count("one two three") == 2 and twiml.SAID not in body
            assert_valid_twiml(body)
    size = twiml._template.cache_info().currsize
    kept = [twiml._template(*key) for key in _cached_turns(turn)]
    assert twiml._template.cache_info().currsize == size == 2  # the two voices' templates, and no others
    assert not any("one two three" in template for template in kept)


def _cached_turns(turn: Turn) -> list[tuple[Turn, TwilioVoice]]:
    """The keys under which `turn`'s templates were kept: its personal words stood in for, numbered in order."""
    personal = iter(range(len(turn)))
    shape = tuple(replace(step, text=f"{twiml.SAID}{next(personal)}:") if isinstance(step, Say) and step.personal
                  else step for step in turn)  # fmt: skip
    return [(shape, voice) for voice in (TwilioVoice(), TwilioVoice(name="Polly.Emma-Neural", slow_rate="70%"))]


def test_what_a_turn_writes_is_no_part_of_its_template_s_key() -> None:
    """A text's mobile, an escalation's callback: never rendered, so never kept with the template."""
    twiml._template.cache_clear()
    said = (Say("The text is on its way."), Ask("key", 7))
    texted = (SendSms("checklist", to="+447400123456", ods="VL15A", confirmation="On its way to 07400 123456."),
              *said)  # fmt: skip
    assert twiml.render(texted, URLS[0], TwilioVoice()) == twiml.render(said, URLS[0], TwilioVoice())
    assert twiml._template.cache_info().currsize == 1  # one template, under the words alone


def test_a_turn_that_dials_is_never_kept_in_the_cache() -> None:
    twiml._template.cache_clear()
    urls = Urls("/voice/turn/AQx9", "/voice/turn/AQx9/silence", dialled="/voice/dialled/AQx9", caller="+441522123456")
    body = twiml.render((Say("Putting you through."), Dial("+443332001133", 30, 14_400)), urls, TwilioVoice())
    assert "+441522123456" in body and twiml._template.cache_info().currsize == 0


def test_the_engine_marks_what_it_fills_from_the_caller_s_own_details(content: Content) -> None:
    directory = InMemoryDirectory([HOME])
    turn, state = flow.start(content, directory, caller=None)
    assert not any(step.personal for step in turn if isinstance(step, Say))  # the greeting: the content's words
    for key in ("1", "5152"):  # the main menu's "I know my code" path: key it in, heard back
        turn, state = flow.advance(content, directory, state, Digits(key))
    said = [step for step in turn if isinstance(step, Say)]
    assert any(step.personal for step in said), [step.text for step in said]


def test_the_code_spelled_out_is_marked_as_the_caller_s_own(content: Content) -> None:
    directory = InMemoryDirectory([HOME])
    turn, state = flow.start(content, directory, ods="VL15A", caller=None)
    for key in ("2", "1"):  # the shortcut to scenario one, whose steps take 4 to spell the code
        turn, state = flow.advance(content, directory, state, Digits(key))
    turn, state = flow.advance(content, directory, state, Digits(content.keys.spell))
    spelled = [step for step in turn if isinstance(step, Say) and "Victor" in step.text]
    assert spelled and all(step.personal for step in spelled)
