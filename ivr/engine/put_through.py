"""Put me through: the caller is connected to the helpdesk showing their own number, then says how it went.

Offered where it can work: the helpdesk knows a home by the landline registered with the CQC, and
Twilio may show the calling number to the helpdesk, so only a call from a UK landline is put through
(a home's registered landline best of all). Before the ring the script is texted (to a mobile the call
knows, or offered), and the caller hears the scenario's three things to say first and that star
brings them back. When the helpdesk call ends, Twilio asks the companion again (`after_dial`): a call
that did not happen is explained with the choice to try again; a call that did is followed by the
caller's verdict, counted per scenario with nothing personal in it.
"""

from __future__ import annotations

from ivr.content.model import Content, Message, Option, PutThrough, Verdict
from ivr.engine import text_me
from ivr.engine.call import Call
from ivr.engine.state import CallState
from ivr.engine.turn import Dial, Hangup, Milestone
from ivr.phone import line_kind

# Twilio's DialCallStatus, as the companion counts it. "answered" is what Twilio reports for some dialled
# calls (a conference among them) where others report "completed": both mean the helpdesk answered.
DIAL_OUTCOMES = {
    "completed": "connected",
    "answered": "connected",
    "busy": "busy",
    "no-answer": "no_answer",
    "failed": "failed",
    "canceled": "canceled",
}


def classify(state: CallState, caller: str | None) -> CallState:
    """The call's line, decided once from the calling number at the start; a home's registered landline is best."""
    return state.model_copy(update={"line": "registered" if state.registered_landline else line_kind(caller)})


def offered(content: Content) -> bool:
    return content.put_through is not None and content.put_through.enabled


def hidden(content: Content, option: Option) -> bool:
    """An option that would put the caller through, on a line that does not: it is neither said nor taken."""
    if offered(content):
        return False
    target = content.nodes.get(option.goto)
    return isinstance(target, Message) and target.put_through is not None


def helpdesk_e164(content: Content) -> str:
    """The helpdesk number of the content ('0333 200 1133') as Twilio dials it ('+443332001133')."""
    return "+44" + content.meta.helpdesk_number.replace(" ", "")[1:]


def stage(call: Call, node_id: str, node: Message) -> None:
    """A put-through's stage, reached as a message: it says its words and moves the call on itself."""
    section = call.content.put_through
    if section is None:  # the checks allow no stage without the section: content changed under the call
        call.say(call.content.phrases.restart_apology)
        call.enter(call.content.meta.main_menu)
        return
    if _refused(call, section):
        return
    match node.put_through:
        case "prepare":
            _prepare(call, section, node)
        case "text":
            call.update(topic=_topic(call), resume_node=node.then or section.dial, resume_step=0)
            call.say(node.say)
            call.enter(call.content.meta.text_me)
        case "dial":
            _dial(call, section, node_id, node)
        case None:
            pass


def _refused(call: Call, section: PutThrough) -> bool:
    """Tell a caller who cannot be put through why not and the number to ring; False when they can be."""
    words = section.words
    line = call.state.line
    if not section.enabled:
        reason = words.refused_off
    elif line in ("registered", "landline"):
        return False
    elif line == "withheld":
        reason = words.refused_withheld
    elif line == "mobile":
        reason = words.refused_mobile
    elif line == "abroad":
        reason = words.refused_abroad
    else:
        reason = words.refused_other
    call.say(reason)
    call.say(words.ring_yourself)
    call.enter(section.refused)
    return True


def _topic(call: Call) -> str:
    """What to text before the ring: the script of the scenario heard last, else the checklist."""
    scenario = call.state.scenario
    found = next((node for _, node in call.content.scenarios() if node.scenario == scenario), None)
    return found.sms if found is not None else call.content.meta.default_sms


def _prepare(call: Call, section: PutThrough, node: Message) -> None:
    """Ready before the ring: the reminder for an unknown landline, and the script by text, sent or offered."""
    call.say(node.say)
    if call.state.line != "registered":
        call.say(section.words.reminder)
    topic = _topic(call)
    if topic not in call.state.texted:
        # Only a mobile this caller gave: the home's registered mobile may be a former manager's (the guide's
        # scenarios two and three), so it is offered by the text-first menu, never used unasked.
        mobile = call.state.mobile
        if mobile is None:
            call.enter(section.text_offer)
            return
        call.update(topic=topic, mobile=mobile)
        text_me.send(call, section.words.texted)
    call.enter(node.then or section.dial)


def _dial(call: Call, section: PutThrough, node_id: str, node: Message) -> None:
    """The briefing, then the helpdesk call: the turn ends with it, and Twilio comes back when it is over."""
    words = section.words
    scenario = call.state.scenario
    first = call.content.say_first(scenario) if scenario else ()
    if len(first) == 3:
        call.say(words.start_with, first=first[0], second=first[1], third=first[2])
    call.say(words.star)
    press = section.press_options and section.send_digits is not None
    call.say(words.pressing_for_you if press else words.press_yourself)
    call.say(node.say)
    call.update(node=node_id, step=0, attempts=0, topic=None, resume_node=None, resume_step=0)
    call.steps.append(Milestone("put_through", _scenario_detail(call.state)))
    call.steps.append(Dial(number=helpdesk_e164(call.content), ring_timeout=section.ring_timeout_seconds,
                           time_limit=section.time_limit_seconds,
                           send_digits=section.send_digits if press else None))  # fmt: skip


def after_dial(call: Call, status: str, *, caller_gone: bool = False) -> None:
    """The helpdesk call has ended, with Twilio's DialCallStatus: count it, then carry on with the caller.

    A status Twilio may add later counts as failed, so the caller still hears something sensible.
    `caller_gone`: the caller hung up during the helpdesk call, so there is no one to ask.
    """
    outcome = DIAL_OUTCOMES.get(status, "failed")
    call.steps.append(Milestone("outcome", f"{outcome}.{_scenario_detail(call.state)}"))
    if caller_gone:
        call.steps.append(Hangup())
        call.update(ended=True)
        return
    section = call.content.put_through
    if section is None:  # a deploy took the put-through away while the caller was on the helpdesk call
        call.say(call.content.phrases.restart_apology)
        call.enter(call.content.meta.main_menu)
        return
    if outcome == "connected":
        call.enter(section.connected)
        return
    words = section.words
    call.say({"busy": words.busy, "no_answer": words.no_answer}.get(outcome, words.failed))
    call.enter(section.not_connected)


def verdict(call: Call, said: Verdict) -> None:
    """How the caller says the helpdesk call went: counted, per scenario."""
    call.steps.append(Milestone("outcome", f"{said}.{_scenario_detail(call.state)}"))


def _scenario_detail(state: CallState) -> str:
    return str(state.scenario) if state.scenario else "none"
