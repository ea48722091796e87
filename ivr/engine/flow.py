"""The flow engine: pure, `(content, state, input) -> (Turn, state)`.

No I/O here: no Flask, no Twilio, no database, no clock. Both front-ends drive
`start` and `advance`, so a call and a rehearsal with the same keys say the same words.
This module moves the call between nodes; what each kind of node says and does with a
key is its concern's: `menus`, `scenarios`, `entries` (with confirmations) and `text_me`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import assert_never

from ivr import speech
from ivr.content.graph import fallback_of
from ivr.content.model import Confirm, Content, Entry, Menu, Message, Steps
from ivr.engine import entries, menus, put_through, roleplay, scenarios, text_me
from ivr.engine.call import Call, Waiting
from ivr.engine.state import HISTORY_LIMIT, CallState
from ivr.engine.turn import Digits, Escalate, Hangup, Input, Milestone, SendSms, Silence, Speech, TextOutcome, Turn
from ivr.homes.directory import Association, Directory, InMemoryDirectory

__all__ = ["CallState", "advance", "dialled", "settle", "start"]

# Message nodes flow into the next node in the same turn; content checks forbid loops
# of messages, and this bound turns a missed one into an error rather than a hang.
MAX_MESSAGES_PER_TURN = 12


def start(
    content: Content,
    directory: Directory,
    *,
    caller: str | None = None,
    ods: str | None = None,
    slow: bool = False,
    notice: str | None = None,
    association: Association | None = None,
) -> tuple[Turn, CallState]:
    """The first turn of a call: greeting and main menu, personalised when the caller is known.

    `caller` is the calling number (E.164): a home's registered landline brings its name,
    details and registered mobile. `notice` is the operator's message of the day; `association` is whom
    the caller is told to contact when the helpdesk did not help.
    """
    home_name = None
    if ods:  # a code given up front (the rehearsal's --ods) brings the home's details, never its mobile
        keyed = directory.home(ods)
        mailbox = keyed.mailbox_override if keyed else None
        state = CallState(node=content.meta.start, slow=slow, ods=ods, mailbox=mailbox)
    else:
        home = directory.home_for_landline(caller) if caller else None
        state = CallState(node=content.meta.start, slow=slow)
        if home:
            state = state.model_copy(update={"ods": home.ods, "mailbox": home.mailbox_override,
                                             "home_mobile": home.mobile, "registered_landline": True,
                                             "callback": caller})  # fmt: skip
            home_name = home.name
    state = put_through.classify(state, caller)  # whether this caller can be put through to the helpdesk
    call = _Call(content, directory, state)
    call.association = association or Association()
    call.home_name = home_name
    call.notice = notice
    call.enter(content.meta.start)
    return call.result()


def advance(
    content: Content,
    directory: Directory,
    state: CallState,
    given: Input,
    *,
    crown_dependency_mobiles: bool = False,
    association: Association | None = None,
) -> tuple[Turn, CallState]:
    """The caller's next input: a key or digits, silence, or speech.

    `crown_dependency_mobiles` lets texts go to Guernsey, Jersey and Isle of Man mobiles too. A text
    asked for is an intent in the turn (`SendSms`): the front-end writes it, then calls `settle`.
    """
    if state.ended:
        return (Hangup(),), state
    call = _Call(content, directory, state.model_copy(update={"turn": state.turn + 1}))
    call.crown_dependency_mobiles = crown_dependency_mobiles
    call.association = association or Association()
    node = content.nodes.get(state.node)
    if node is None or isinstance(node, Message) or not _step_fits(node, state.step):
        # The content changed under a live call (a deploy renamed a node): start again politely.
        call.say(content.phrases.restart_apology)
        call.go_main()
        return call.result()
    match given:
        case Silence():
            call.silence(node)
        case Digits(digits=digits):
            call.handle(node, digits)
        case Speech(text=text):
            if isinstance(node, Entry) and node.speech:
                entries.handle_spoken(call, node, text)
            else:
                call.handle(node, speech.digits_from_speech(text))
    return call.result()


def settle(
    content: Content,
    turn: Turn,
    state: CallState,
    outcomes: Mapping[str, TextOutcome],
    *,
    association: Association | None = None,
) -> tuple[Turn, CallState]:
    """The second phase of a turn: say what became of each text asked for (queued, refused, not sent
    just now), as the front-end found when it wrote them; a turn with none comes back as it was."""
    if not any(isinstance(instruction, SendSms) for instruction in turn):
        return turn, state
    call = _Call(content, InMemoryDirectory(), state)
    call.association = association or Association()
    settled = text_me.settle(call, turn, outcomes)
    return settled, call.state


def dialled(
    content: Content,
    directory: Directory,
    state: CallState,
    status: str,
    *,
    caller_gone: bool = False,
    association: Association | None = None,
) -> tuple[Turn, CallState]:
    """The helpdesk call a put-through made has ended (Twilio's DialCallStatus, `status`): count how it
    went and carry on with the caller, or end when `caller_gone` (they hung up during it)."""
    call = _Call(content, directory, state.model_copy(update={"turn": state.turn + 1}))
    call.association = association or Association()
    put_through.after_dial(call, status, caller_gone=caller_gone)
    return call.result()


def _step_fits(node: Waiting, step: int) -> bool:
    if isinstance(node, Steps):
        return 0 <= step < len(node.steps)
    return step == 0


class _Call(Call):
    """A call's turn, moving between nodes and handing each node's own work to its concern."""

    def enter(self, node_id: str, step: int = 0, *, remember: bool = True) -> None:
        if remember and node_id != self.state.node:
            self.remember(self.state.node)
        for _ in range(MAX_MESSAGES_PER_TURN):
            node = self.content.nodes[node_id]
            offer = text_me.registered_mobile_offer(self, node)
            if offer is not None:
                node_id, node = offer, self.content.nodes[offer]
            self.update(node=node_id, step=step, attempts=0)
            if node_id not in self.content.text_flow and self.state.topic:
                self.update(topic=None, resume_node=None, resume_step=0)  # the caller left the flow
            if self.state.candidates and not isinstance(node, Confirm):
                self.update(candidates=())  # codes not confirmed are forgotten once the caller moves on
            if node_id == self.content.meta.main_menu and (self.state.ticket or self.state.reason):
                # An escalation is begun afresh from the main menu; back must not reach a menu that needs it.
                kept = tuple(menu for menu in self.state.history if menu not in self.content.escalation_flow)
                self.update(ticket=None, reason=None, history=kept)
            if isinstance(node, Steps):
                self.update(last_steps=node_id)
                if node.scenario:
                    self.update(scenario=node.scenario)
                if node.scenario and node.scenario not in self.state.scenarios:
                    self.update(scenarios=(*self.state.scenarios, node.scenario))
                    self.steps.append(Milestone("scenario_reached", str(node.scenario)))
            if not isinstance(node, Message):
                if self.state.history[-1:] == (node_id,):  # back at the menu last heard: back goes beyond it
                    self.update(history=self.state.history[:-1])
                self.prompt(node, full=True)
                return
            if node.put_through:  # put me through: its module says its words and moves the call on
                put_through.stage(self, node_id, node)
                return
            if node.outcome:  # how the caller says the helpdesk call went: counted
                put_through.verdict(self, node.outcome)
            if node.send_sms:
                text_me.send(self, node.say)
            elif node.escalate:
                self.escalate(node.say)
                # Back must not lead into the menus that sent it: they would send it again.
                self.update(history=())
            elif node.say_with_home and self.home_name:
                self.say(node.say_with_home, slow=node.slow, home=self.home_name)
            else:
                self.say(node.say, slow=node.slow)
            if node.notice and self.notice:
                self.say(self.content.phrases.notice, notice=self.notice)
            if node.roleplay:
                roleplay.play(self)
            if node.then_unknown and self.state.ods is None:
                node_id, step = node.then_unknown, 0
                continue
            if node.hangup:
                self.steps.append(Hangup())
                self.update(ended=True)
                return
            if node.resume and self.state.resume_node:
                node_id, step = self.state.resume_node, self.state.resume_step
                self.update(resume_node=None, resume_step=0)
            elif node.then:
                node_id, step = node.then, 0
            else:  # a resume with nothing to resume: the main menu is always safe
                node_id, step = self.content.meta.main_menu, 0
        raise RuntimeError(f"messages flow on for more than {MAX_MESSAGES_PER_TURN} nodes from {node_id!r}")

    def remember(self, node_id: str) -> None:
        """Keep a menu the caller is leaving, for "back"; the oldest goes past the limit."""
        node = self.content.nodes.get(node_id)
        if not isinstance(node, Menu) or node_id in self.content.text_flow:
            return
        if node_id == self.content.meta.main_menu and not self.state.history:
            return  # back with nothing remembered goes to the main menu anyway: the token stays short
        self.update(history=(*self.state.history, node_id)[-HISTORY_LIMIT:])

    def back(self) -> None:
        state = self.state
        resume = self.content.nodes.get(state.resume_node or "")
        if state.node in self.content.text_flow and isinstance(resume, Steps):
            # A text asked for in the middle of the steps: back is the step the caller was on.
            self.enter(state.resume_node or "", state.resume_step, remember=False)
            return
        target = state.history[-1] if state.history else self.content.meta.main_menu
        self.update(history=state.history[:-1])
        self.enter(target, remember=False)

    def go_main(self) -> None:
        self.enter(self.content.meta.main_menu)

    def prompt(self, node: Waiting, *, full: bool) -> None:
        match node:
            case Menu():
                menus.prompt(self, node, full=full)
            case Steps():
                scenarios.prompt(self, node, full=full)
            case Confirm():
                entries.prompt_confirm(self, node)
            case Entry():
                entries.prompt_entry(self, node)
            case _:
                assert_never(node)

    def retry(self, node: Waiting, reason: str, *, wrong: bool = False) -> None:
        phrases = self.content.phrases
        if isinstance(node, Steps):
            # Inside steps a wrong key never ends the call: say which keys work, and wait.
            self.update(attempts=0)
            self.say(reason)
            self.prompt(node, full=False)
            return
        attempts = self.state.attempts + 1
        cap = node.retry_cap or self.content.meta.retry_cap
        if attempts >= cap:
            self.enter(fallback_of(self.content, node))
            return
        self.update(attempts=attempts)
        self.say(reason)
        if attempts == 1:
            if wrong and isinstance(node, Menu):
                menus.reprompt(self, node)
            else:
                self.prompt(node, full=False)
            return
        self.say(phrases.reprompt_full)
        if isinstance(node, Menu):
            self.say(phrases.keys_help_menu)
        self.prompt(node, full=True)

    def silence(self, node: Waiting) -> None:
        if not isinstance(node, Steps):
            self.retry(node, self.content.phrases.reprompt_silence)
            return
        # A caller in the middle of the steps is most likely writing: wait longer, and only
        # after minutes of silence say the helpdesk number and offer the steps by text.
        meta, phrases = self.content.meta, self.content.phrases
        attempts = self.state.attempts + 1
        if attempts >= meta.steps_waits:
            self.enter(fallback_of(self.content, node))
            return
        self.update(attempts=attempts)
        self.say(phrases.take_your_time if attempts == 1 else phrases.still_here)
        self.ask("key", timeout=meta.steps_wait_seconds)

    def handle(self, node: Waiting, digits: str) -> None:
        """Keys pressed: an entry takes them all; elsewhere one key, the reserved ones meaning the same everywhere."""
        if isinstance(node, Entry):
            entries.handle_entry(self, node, digits)
            return
        if not digits:
            self.silence(node)
            return
        key = digits[0]
        keys = self.content.keys
        if len(digits) > 1:
            self.wrong_key(node, digits)
        elif key == keys.repeat:
            self.update(attempts=0)
            self.prompt(node, full=True)
        elif key == keys.main_menu:
            self.go_main()
        elif key == keys.slow:
            slow = not self.state.slow
            self.update(slow=slow, attempts=0)
            phrases = self.content.phrases
            self.say(phrases.slow_on if slow else phrases.slow_off)
            self.prompt(node, full=not isinstance(node, Steps))
        elif isinstance(node, Menu):
            menus.handle(self, node, key)
        elif isinstance(node, Confirm):
            entries.handle_confirm(self, node, key)
        else:
            scenarios.handle(self, node, key)

    def escalate(self, confirmation: str) -> None:
        ticket, reason = self.state.ticket, self.state.reason
        if ticket is None or reason is None:
            raise RuntimeError("an escalation was to be sent before a ticket and a reason were known")
        self.say(confirmation)
        self.steps.append(Escalate(ticket=ticket, reason=reason, ods=self.state.ods, callback=self.state.callback))
