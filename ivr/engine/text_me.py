"""The "text me" flow: starting it, offering the home's registered mobile, and sending the text."""

from __future__ import annotations

from ivr.content.model import Entry, Menu, Steps
from ivr.engine.call import Call
from ivr.engine.turn import SendSms


def begin(call: Call, node: Menu | Steps, topic: str, *, resume_node: str, resume_step: int) -> bool:
    """Remember what to text and where the caller carries on afterwards.

    False when this call has sent that text already: before asking for a mobile the caller is
    told so, and stays where they are.
    """
    if call.texting.already_sent(topic):
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
    """Send the pending text, unless the number opted out or a daily limit is reached: then say why."""
    topic, mobile = call.state.topic, call.state.mobile
    if topic is None or mobile is None:
        raise RuntimeError("a text was to be sent before a topic and a mobile were known")
    phrases = call.content.phrases
    match call.texting.refusal(mobile, topic):
        case "opted_out":
            call.say(phrases.text_refused_opted_out)
        case "limit":
            call.say(phrases.text_refused_limit)
        case "already_sent":  # the outbox would drop a second one: say so, not "on its way"
            call.say(phrases.text_refused_already)
        case None:
            call.say(confirmation)
            state = call.state
            call.steps.append(SendSms(purpose=topic, to=mobile, ods=state.ods, ticket=state.ticket,
                                      reason=state.reason))  # fmt: skip
            second = call.content.sms[topic].follow_up
            # The follow-up passes the same caps; refused, the first text still goes, and alone is not "two".
            if second is not None and call.texting.refusal(mobile, second) is None:
                call.say(phrases.text_in_two)
                call.steps.append(SendSms(purpose=second, to=mobile, ods=state.ods))
