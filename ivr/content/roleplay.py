"""The role-play of the helpdesk call, as a script: pure, built from a scenario's content.

The helpdesk's lines (its opening, the push-backs, its closing) each leave the caller a
turn to answer out loud, then offer an answer they could give. The rehearsal renders the
script with two voices, the audio export renders its lines, and the engine plays it on the
phone (the helpdesk in a second voice, a pause for each answer): so it lives with the content,
which both front-ends may read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ivr import speech
from ivr.content.model import Content, Exchange, Steps

# The caller answers aloud more slowly than text is read: time for the answer, and to start it.
ANSWER_SECONDS_EXTRA = 4.0


class NoSuchScenario(Exception):
    pass


@dataclass(frozen=True)
class Cue:
    """A line heard: the companion's framing, the helpdesk, or the answer suggested."""

    who: Literal["companion", "helpdesk", "suggested"]
    text: str


@dataclass(frozen=True)
class YourTurn:
    """The caller answers out loud; a key ends the wait early (at a terminal), or the pause runs out (on the phone)."""

    prompt: str
    seconds: float


Beat = Cue | YourTurn


@dataclass(frozen=True)
class Caller:
    """What is known of the caller's home, to personalise the answers: its ODS code, mailbox and name."""

    ods: str | None = None
    mailbox: str | None = None
    home: str | None = None


def scenario(content: Content, number: int) -> Steps:
    for _, node in content.scenarios():
        if node.scenario == number:
            return node
    known = ", ".join(str(node.scenario) for _, node in content.scenarios())
    raise NoSuchScenario(f"there is no scenario {number} (the scenarios are {known})")


def script(content: Content, number: int, caller: Caller | None = None, *, keyed: bool = True) -> tuple[Beat, ...]:
    """The role-play for scenario `number`. `keyed`: the caller ends each turn with a key (a terminal);
    otherwise each turn is a timed pause (the phone, where a key would leave the practice)."""
    node = scenario(content, number)
    caller = caller or Caller()
    phrases = content.phrases
    values = speech.Placeholders(
        content.keys.step_keys(), content.meta.helpdesk_number, ods=caller.ods,
        mailbox=caller.mailbox or (speech.mailbox_address(caller.ods) if caller.ods else None),
    ).all()  # fmt: skip
    values["home"] = caller.home or ""
    your_turn = phrases.roleplay_your_turn if keyed else phrases.roleplay_your_turn_timed
    beats: list[Beat] = [Cue("companion", phrases.roleplay_intro.format(**values)), Cue("companion", node.title)]
    for exchange in (*node.opening, *node.pushbacks, *node.closing):
        reply = _reply(exchange, caller).format(**values)
        beats += [
            Cue("helpdesk", exchange.helpdesk.format(**values)),
            YourTurn(your_turn.format(**values), speech.seconds(reply) + ANSWER_SECONDS_EXTRA),
            Cue("suggested", phrases.roleplay_suggested.format(**values, you_say=reply)),
        ]
    beats.append(Cue("companion", phrases.roleplay_end.format(**values)))
    return tuple(beats)


def _reply(exchange: Exchange, caller: Caller) -> str:
    if exchange.reply_with_home and caller.home and caller.ods:
        return exchange.reply_with_home
    if exchange.reply_with_ods and caller.ods:
        return exchange.reply_with_ods
    return exchange.reply
