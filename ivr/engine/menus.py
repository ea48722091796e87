"""Menus: the options read out, and a key chosen."""

from __future__ import annotations

from ivr import speech
from ivr.content.model import Menu, Steps
from ivr.engine import put_through, text_me
from ivr.engine.call import Call


def prompt(call: Call, node: Menu, *, full: bool) -> None:
    state = call.state
    if full:
        if node.say_after_steps and state.last_steps:
            call.say(node.say_after_steps)
        else:
            call.say(node.say_with_ods if node.say_with_ods and state.ods else node.say)
        first = call.content.say_first(state.scenario) if node.say_first and state.scenario else ()
        if first:
            call.say(call.content.phrases.say_first, first=first[0], second=first[1], third=first[2])
    for option in node.options:
        if put_through.hidden(call.content, option):  # put me through, on a line that does not
            continue
        call.say(call.content.phrases.option.format(label=option.label, key=speech.key_name(option.key)))
    if full and not state.keys_told and state.node == call.content.meta.main_menu:
        # Once on a call, after the main menu's choices: the keys every menu takes. Not before them,
        # so that a caller who knows what they want hears it sooner.
        call.say(call.content.phrases.keys_help_menu)
        call.update(keys_told=True)
    call.ask("key")


def reprompt(call: Call, node: Menu) -> None:
    """After a wrong key: the keys this menu takes, and how to hear it again; not the whole menu."""
    keys = [speech.key_name(option.key) for option in node.options if not put_through.hidden(call.content, option)]
    choices = keys[0] if len(keys) == 1 else f"{', '.join(keys[:-1])} or {keys[-1]}"
    call.say(call.content.phrases.reprompt_choices, choices=choices)
    call.ask("key")


def handle(call: Call, node: Menu, key: str) -> None:
    """A key that is not one of the reserved keys every node shares."""
    content = call.content
    if key == content.keys.back:
        call.back()
        return
    for option in node.options:
        if option.key == key and not put_through.hidden(content, option):
            if option.goto == content.meta.text_me and call.state.node not in content.text_flow:
                topic = option.sms or _last_steps_text(call) or content.meta.default_sms
                resume_node = option.after or call.state.node
                if not text_me.begin(call, node, topic, resume_node=resume_node, resume_step=0):
                    return
            if option.use_registered and call.state.home_mobile:
                call.update(mobile=call.state.home_mobile)
            if option.reason:
                call.update(reason=option.reason)
            unregistered = option.goto_unregistered and not call.state.registered_landline
            call.enter(option.goto_unregistered if unregistered and option.goto_unregistered else option.goto)
            return
    call.wrong_key(node, key)


def _last_steps_text(call: Call) -> str | None:
    """The text of the part with steps the caller was in last, if any."""
    node = call.content.nodes.get(call.state.last_steps or "")
    return node.sms if isinstance(node, Steps) else None
