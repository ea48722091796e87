"""The role-play on the phone: the helpdesk's lines in a second voice, a pause for each answer, the answer suggested.

The same script as the rehearsal's (`ivr.content.roleplay`), played in one turn: a caller who presses
a key leaves the practice for the menu that follows, as a key cuts any prompt short.
"""

from __future__ import annotations

import math

from ivr.content import roleplay
from ivr.engine.call import Call
from ivr.engine.turn import Pause, Say


def play(call: Call) -> None:
    """The role-play of the scenario the caller heard last, or why there is none to play."""
    state = call.state
    if state.scenario is None:
        call.say(call.content.phrases.roleplay_no_scenario)
        return
    home = call.directory.home(state.ods) if state.ods else None
    caller = roleplay.Caller(ods=state.ods, mailbox=state.mailbox_address(), home=home.name if home else None)
    beats = roleplay.script(call.content, state.scenario, caller, keyed=False)
    personal = state.ods is not None  # the answers suggested may give the caller's code and mailbox
    for beat in beats[1:]:  # the node's own words introduce it on the phone, with how to stop
        match beat:
            case roleplay.Cue(who="helpdesk", text=text):
                call.steps.append(Say(text, slow=state.slow, voice="helpdesk", personal=personal))
            case roleplay.Cue(text=text):
                call.steps.append(Say(text, slow=state.slow, personal=personal))
            case roleplay.YourTurn(prompt=prompt, seconds=seconds):
                call.steps.append(Say(prompt, slow=state.slow, personal=personal))
                call.steps.append(Pause(math.ceil(seconds * (1.5 if state.slow else 1))))
