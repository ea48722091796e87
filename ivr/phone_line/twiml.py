"""Turn -> TwiML, with the twilio SDK's builders.

Each prompt sits inside its <Gather> so a caller can press a key while it is being
said (barge-in). A <Gather> that times out with no key falls through to the next
verb, so every <Gather> is followed by a <Redirect> to the turn's silence URL:
without it Twilio would run out of TwiML and hang up on a silent caller.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import assert_never

from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.content.model import Content
from ivr.engine.turn import Ask, Dial, Escalate, Hangup, Instruction, Milestone, Pause, Say, SendSms, Turn
from ivr.speech import NATO, digits_grouped


@dataclass(frozen=True)
class TwilioVoice:
    name: str = "Polly.Amy-Neural"
    language: str = "en-GB"
    slow_rate: str = "80%"
    helpdesk: str = "Polly.Brian-Neural"  # the helpdesk's voice in the role-play: a second neural voice


@dataclass(frozen=True)
class Urls:
    """Where the caller's answer to this turn goes; carries the turn number, nothing personal."""

    action: str
    silence: str
    # A put-through: where Twilio comes back when the helpdesk call ends, and the caller's own number
    # (the call's From) that the helpdesk is shown; Twilio allows the calling number as the caller ID. A turn
    # with a <Dial> is therefore never kept in the template cache.
    dialled: str = ""
    caller: str | None = None


# Stand-ins for the two URLs in a rendered turn: the same turn is rendered once and its URLs, which
# carry each call's own token, put in after. Neither can occur in a prompt or in the other.
ACTION, SILENCE = "urn:ivr:action-url", "urn:ivr:silence-url"
# And for the words of a personal Say (the caller's own details), numbered in the turn, ended by the colon.
SAID = "urn:ivr:said:"


def render(turn: Turn, urls: Urls, voice: TwilioVoice) -> str:
    """The turn as TwiML. Most turns are a prompt that many calls hear alike, and building XML with the
    SDK's element tree is the dearest part of a turn (about 0.1 ms), so it is done once a turn and voice.
    What a caller gave is kept no longer than their call needs it: the words of a Say that holds their
    own details (a personal Say) are put into the template after, as the URLs are, so the template
    keeps only the content's words; a turn that dials, showing their number, is never kept at all."""
    if any(isinstance(step, Dial) for step in turn):
        return _render(turn, urls, voice)
    said: list[str] = []
    shape: list[Instruction] = []
    for step in turn:
        if isinstance(step, SendSms | Escalate | Milestone):
            continue  # never rendered, and a text's or an escalation's holds a number: no part of the key
        if isinstance(step, Say) and step.personal:
            shape.append(replace(step, text=f"{SAID}{len(said)}:"))
            said.append(step.text)
        else:
            shape.append(step)
    text = _template(tuple(shape), voice)
    text = text.replace(SILENCE, _xml_text(urls.silence)).replace(ACTION, _xml_text(urls.action, quote=True))
    for index, words in enumerate(said):
        text = text.replace(f"{SAID}{index}:", _xml_text(words), 1)
    return text


def _xml_text(text: str, quote: bool = False) -> str:
    """Escaped as the SDK's serializer escapes element text and (quote) attribute values."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if quote:
        text = text.replace('"', "&quot;").replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#09;")
    return text


# Bounded, and only ever holding the content's own words: render leaves out what a caller gave.
@lru_cache(maxsize=1024)
def _template(turn: Turn, voice: TwilioVoice) -> str:
    return _render(turn, Urls(action=ACTION, silence=SILENCE), voice)


def _render(turn: Turn, urls: Urls, voice: TwilioVoice) -> str:
    response = VoiceResponse()
    ask = next((step for step in turn if isinstance(step, Ask)), None)
    gather: Gather | None = None
    if ask is not None:
        gather = _gather(ask, urls.action, voice)
    target = gather if gather is not None else response
    for step in turn:
        match step:
            case Say():
                _say(target, step, voice)
            case Pause(seconds=seconds):
                target.pause(length=seconds)
            case Ask():
                pass  # the <Gather> around the prompts, built above
            case SendSms() | Escalate() | Milestone():
                pass  # side effects the web layer stores with the call's state, not something said
            case Dial():
                _dial(response, step, urls)
            case Hangup():
                response.hangup()
            case _:
                assert_never(step)
    if gather is not None:
        response.append(gather)
        response.redirect(urls.silence, method="POST")
    return str(response)


# Hints bias Twilio's recogniser towards what a caller spells an ODS code with.
SPELLING_HINTS = ", ".join([*(word.lower() for word in NATO.values()), "double", "zero", "oh"])


def _gather(ask: Ask, action: str, voice: TwilioVoice) -> Gather:
    if ask.mode == "key":
        return Gather(input="dtmf", num_digits=1, timeout=ask.timeout, action=action, method="POST")
    # An entry ends with hash; star stays in the digits so the engine can start the entry again.
    # A pause of `timeout` seconds also ends it, and sends what was keyed so far.
    if not ask.speech:
        return Gather(input="dtmf", finish_on_key="#", timeout=ask.timeout, action=action, method="POST")
    # Spoken too: "auto" ends the speech at the caller's pause; the engine confirms it on the keypad.
    return Gather(
        input="dtmf speech", finish_on_key="#", timeout=ask.timeout, action=action, method="POST",
        language=voice.language, hints=SPELLING_HINTS, speech_timeout="auto",
    )


def _dial(response: VoiceResponse, step: Dial, urls: Urls) -> None:
    """The helpdesk call, showing the caller's own number; never recorded; star brings the caller back.

    With an action URL, Twilio asks it what next when the helpdesk call ends, and the verbs after
    <Dial> are not run. The <Redirect> after it is there should the <Dial> itself fail to start:
    the same URL, with no DialCallStatus, is answered as a call that did not go through.
    """
    if urls.caller is None or not urls.dialled:
        # The engine offers a put-through only to a caller whose number it knows: never show ours instead.
        raise ValueError("a put-through needs the caller's own number and a URL to come back to")
    dial = response.dial(
        action=urls.dialled, method="POST", caller_id=urls.caller, record="do-not-record", hangup_on_star=True,
        timeout=step.ring_timeout, time_limit=step.time_limit,
    )  # fmt: skip
    if step.send_digits:
        dial.number(step.number, send_digits=step.send_digits)
    else:
        dial.number(step.number)
    response.redirect(urls.dialled, method="POST")


def _say(target: VoiceResponse | Gather, step: Say, voice: TwilioVoice) -> None:
    name = voice.helpdesk if step.voice == "helpdesk" else voice.name
    if step.slow:
        say = target.say(voice=name, language=voice.language)
        say.prosody(step.text, rate=voice.slow_rate)
    else:
        target.say(step.text, voice=name, language=voice.language)


def apology(helpdesk_spoken: str, voice: TwilioVoice, sorry: str, number: str, goodbye: str) -> str:
    """A self-contained answer for when anything goes wrong: never Twilio's 'application error'."""
    response = VoiceResponse()
    response.say(sorry, voice=voice.name, language=voice.language)
    for _ in range(2):
        say = response.say(voice=voice.name, language=voice.language)
        say.prosody(number.format(helpdesk=helpdesk_spoken), rate=voice.slow_rate)
        response.pause(length=1)
    response.say(goodbye, voice=voice.name, language=voice.language)
    response.hangup()
    return str(response)


def trouble(content: Content, voice: TwilioVoice) -> str:
    """The apology in the content's words, the helpdesk number spoken digit by digit."""
    phrases = content.phrases
    helpdesk = digits_grouped(content.meta.helpdesk_number)
    return apology(helpdesk, voice, phrases.trouble_sorry, phrases.trouble_number, phrases.trouble_goodbye)
