"""The "text me" flow: starting it, offering the home's registered mobile, and sending the text."""

from __future__ import annotations

from collections.abc import Mapping

from ivr.content.model import Entry, Menu, Steps
from ivr.engine.call import Call
from ivr.engine.turn import Instruction, Milestone, SendSms, TextOutcome, Turn


def begin(call: Call, node: Menu | Steps, topic: str, *, resume_node: str, resume_step: int) -> bool:
    """Remember what to text and where the caller carries on afterwards.

    False when this call has sent that text already: before asking for a mobile the caller is
    told so, and stays where they are.
    """
    if topic in call.state.texted:
        call.update(attempts=0)
        call.say(call.content.phrases.text_refused_already)
        call.prompt(node, full=False)
        return False
    call.update(topic=topic, resume_node=resume_node, resume_step=resume_step)
    return True


def registered_mobile_offer(call: Call, node: object) -> str | None:
    """The menu offering the home's registered mobile, played first at a mobile entry reached from outside
    the text flow; None when there is nothing to offer (not a call from the home's registered landline)."""
    if isinstance(node, Entry) and call.state.home_mobile and call.state.node not in call.content.text_flow:
        return node.registered
    return None


def send(call: Call, confirmation: str) -> None:
    """Ask for the pending text to be sent: an intent, worded once the front-end has written it (`settle`).

    Whether it may go (an opt-out, the daily caps) is known only where it is written, in the same
    transaction as the count, so a burst of callers cannot slip past a cap.
    """
    topic, mobile = call.state.topic, call.state.mobile
    if topic is None or mobile is None:
        raise RuntimeError("a text was to be sent before a topic and a mobile were known")
    if topic in call.state.texted:  # asked again on the same call: say so, not "on its way"
        call.say(call.content.phrases.text_refused_already)
        return
    state = call.state
    call.steps.append(Milestone("text_asked", topic))
    call.steps.append(SendSms(purpose=topic, to=mobile, ods=state.ods, ticket=state.ticket, reason=state.reason,
                              confirmation=call.fill(confirmation)))  # fmt: skip


def settle(call: Call, turn: Turn, outcomes: Mapping[str, TextOutcome]) -> Turn:
    """Word what became of each text asked for in `turn`, where it was asked; a queued one is remembered."""
    phrases = call.content.phrases
    words = {"opted_out": phrases.text_refused_opted_out, "limit": phrases.text_refused_limit,
             "unavailable": phrases.text_unavailable}  # fmt: skip
    settled: list[Instruction] = []
    for instruction in turn:
        if not isinstance(instruction, SendSms):
            settled.append(instruction)
            continue
        outcome = outcomes.get(instruction.purpose, "unavailable")
        call.steps = []
        if outcome == "queued":
            call.say_as_is(instruction.confirmation)  # filled when it was asked for
            call.update(texted=(*call.state.texted, instruction.purpose))
        else:
            call.say(words[outcome])
        settled.extend(call.steps)
        if outcome == "queued":
            settled.append(instruction)  # the rehearsal shows it; the phone has written it already
    call.steps = []
    return tuple(settled)
