"""Menus: the options read out, and a key chosen."""

from __future__ import annotations

from ivr import speech
from ivr.content.model import Menu
from ivr.engine import put_through, text_me
from ivr.engine.call import Call


def prompt(call: Call, node: Menu, *, full: bool) -> None:
    if full:
        intro = node.say_with_ods if node.say_with_ods and call.state.ods else node.say
        call.say(intro)
        first = call.content.say_first(call.state.scenario) if node.say_first and call.state.scenario else ()
        if first:
            call.say(call.content.phrases.say_first, first=first[0], second=first[1], third=first[2])
    for option in node.options:
        if put_through.hidden(call.content, option):  # put me through, on a line that does not
            continue
        call.say(call.content.phrases.option.format(label=option.label, key=speech.key_name(option.key)))
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
                topic = option.sms or content.meta.default_sms
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
