"""The role-play of the helpdesk call, as a script: pure, built from a scenario's content.

The helpdesk's lines (its opening, the push-backs, its closing) each leave the caller a
turn to answer out loud, then offer an answer they could give. The rehearsal renders
the script with two voices; the audio export renders its lines too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ivr import speech
from ivr.content.model import Content, Steps

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
    """The caller answers out loud; a key ends the wait early."""

    prompt: str
    seconds: float


Beat = Cue | YourTurn


def scenario(content: Content, number: int) -> Steps:
    for _, node in content.scenarios():
        if node.scenario == number:
            return node
    known = ", ".join(str(node.scenario) for _, node in content.scenarios())
    raise NoSuchScenario(f"there is no scenario {number} (the scenarios are {known})")


def script(content: Content, number: int) -> tuple[Beat, ...]:
    node = scenario(content, number)
    phrases = content.phrases
    values = speech.placeholder_values(content.keys.step_keys(), content.meta.helpdesk_number)
    beats: list[Beat] = [Cue("companion", phrases.roleplay_intro.format(**values)), Cue("companion", node.title)]
    for exchange in (*node.opening, *node.pushbacks, *node.closing):
        reply = exchange.reply.format(**values)
        beats += [
            Cue("helpdesk", exchange.helpdesk.format(**values)),
            YourTurn(phrases.roleplay_your_turn.format(**values), speech.seconds(reply) + ANSWER_SECONDS_EXTRA),
            Cue("suggested", phrases.roleplay_suggested.format(**values, you_say=reply)),
        ]
    beats.append(Cue("companion", phrases.roleplay_end.format(**values)))
    return tuple(beats)
