"""A part with steps (a scenario, the checklist), one step at a time: next, back, spell the code, text me."""

from __future__ import annotations

from ivr import speech
from ivr.content.model import Steps
from ivr.engine import text_me
from ivr.engine.call import Call


def prompt(call: Call, node: Steps, *, full: bool) -> None:
    if full:
        say_step(call, node)
    else:
        call.say(call.content.phrases.step_prompt)
    call.ask("key")


def say_step(call: Call, node: Steps) -> None:
    phrases = call.content.phrases
    index = call.state.step
    total = len(node.steps)
    if index == 0:
        # The keys are said once, as the part begins; each step after ends in a short tail.
        call.say(node.title)
        call.say(phrases.steps_keys)
        if call.state.ods:
            call.say(phrases.steps_keys_spell)
    call.say(phrases.step_position.format(number=index + 1, total=total))
    step = node.steps[index]
    if step.helpdesk and step.reply:
        call.say(phrases.pushback.format(they_say=step.helpdesk, you_say=step.reply))
    elif step.say:
        call.say(step.say_with_ods if step.say_with_ods and call.state.ods else step.say)
    if index == total - 1:
        call.say(phrases.last_step)
    else:
        call.say(phrases.step_prompt if index == 0 else phrases.step_prompt_short)


def handle(call: Call, node: Steps, key: str) -> None:
    """A key that is not one of the reserved keys every node shares."""
    keys = call.content.keys
    total = len(node.steps)
    step = call.state.step
    if key == keys.next:
        if step + 1 < total:
            call.update(step=step + 1, attempts=0)
            call.prompt(node, full=True)
        else:
            call.enter(node.then)
    elif key == keys.back:
        if step > 0:
            call.update(step=step - 1, attempts=0)
            call.prompt(node, full=True)
        else:
            call.back()
    elif key == keys.spell:
        call.update(attempts=0)
        spell(call)
        call.prompt(node, full=False)
    elif key == keys.text_me:
        if text_me.begin(call, node, node.sms, resume_node=call.state.node, resume_step=step):
            call.enter(call.content.meta.text_me)
    else:
        call.wrong_key(node, key)


def spell(call: Call) -> None:
    phrases = call.content.phrases
    ods, mailbox = call.state.ods, call.state.mailbox_address()
    if not ods or not mailbox:
        call.say(phrases.spell_unknown)
        return
    spelled = speech.nato(ods, phrases.nato_letter, phrases.nato_digit)
    call.say(phrases.spell_ods, nato=spelled, mailbox_spelled=speech.spelled_address(mailbox))
