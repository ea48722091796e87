"""The flow engine: pure, `(content, state, input) -> (Turn, state)`.

No I/O here: no Flask, no Twilio, no database, no clock. Both front-ends drive
`start` and `advance`, so a call and a rehearsal with the same keys say the same words.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from ivr import speech
from ivr.content.graph import fallback_of
from ivr.content.model import Confirm, Content, Entry, Menu, Message, Reason, Steps, reason_words
from ivr.engine import validators
from ivr.engine.turn import (
    Ask,
    Digits,
    Escalate,
    Hangup,
    Input,
    Instruction,
    Pause,
    Say,
    SendSms,
    Silence,
    Speech,
    Turn,
)
from ivr.homes.directory import Directory, OncePerCall, TextPolicy
from ivr.phone import national_digits, uk_mobile

# The nodes a call waits at, as a union so that isinstance narrows them one by one.
Waiting = Menu | Steps | Entry | Confirm

# Message nodes flow into the next node in the same turn; content checks forbid loops
# of messages, and this bound turns a missed one into an error rather than a hang.
MAX_MESSAGES_PER_TURN = 12
# A caller will listen to a few read-backs of matching homes, not dozens: past this many, the
# code is keyed without ambiguity instead. (A national directory has keys that match 100 homes.)
MAX_CANDIDATES = 4


class CallState(BaseModel):
    """Everything the engine needs between turns; small, serialisable and versioned."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    node: str
    step: int = 0
    attempts: int = 0
    slow: bool = False
    turn: int = 0
    ods: str | None = None
    mailbox: str | None = None
    mobile: str | None = None
    # The home's registered mobile: set only when the call comes from that home's registered
    # landline, never from a keyed ODS code, so a stranger cannot send texts to it.
    home_mobile: str | None = None
    ticket: str | None = None
    reason: Reason | None = None
    # ODS codes waiting to be confirmed one at a time, the one being read back first.
    candidates: tuple[str, ...] = ()
    # The scenarios the caller heard, for the anonymous counts kept after a purge.
    scenarios: tuple[int, ...] = ()
    # Only while a "text me" is under way: what to send, and where the caller carries on.
    topic: str | None = None
    resume_node: str | None = None
    resume_step: int = 0
    ended: bool = False

    def mailbox_address(self) -> str | None:
        if self.mailbox:
            return self.mailbox
        return speech.mailbox_address(self.ods) if self.ods else None


def start(
    content: Content,
    directory: Directory,
    *,
    caller: str | None = None,
    ods: str | None = None,
    slow: bool = False,
    notice: str | None = None,
) -> tuple[Turn, CallState]:
    """The first turn of a call: greeting and main menu, personalised when the caller is known.

    `caller` is the calling number (E.164): a home's registered landline brings its name,
    details and registered mobile. `notice` is the operator's message of the day.
    """
    home_name = None
    if ods:  # a code given up front (the rehearsal's --ods) brings the home's details, never its mobile
        keyed = directory.home(ods)
        state = CallState(node=content.meta.start, slow=slow, ods=ods, mailbox=keyed.mailbox if keyed else None)
    else:
        home = directory.home_for_landline(caller) if caller else None
        state = CallState(node=content.meta.start, slow=slow)
        if home:
            state = state.model_copy(update={"ods": home.ods, "mailbox": home.mailbox, "home_mobile": home.mobile})
            home_name = home.name
    call = _Call(content, directory, state)
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
    texting: TextPolicy | None = None,
    crown_dependency_mobiles: bool = False,
) -> tuple[Turn, CallState]:
    """The caller's next input: a key or digits, silence, or speech.

    `crown_dependency_mobiles` lets texts go to Guernsey, Jersey and Isle of Man mobiles too.
    """
    if state.ended:
        return (Hangup(),), state
    call = _Call(content, directory, state.model_copy(update={"turn": state.turn + 1}), texting)
    call.crown_dependency_mobiles = crown_dependency_mobiles
    node = content.nodes.get(state.node)
    if node is None or isinstance(node, Message) or not _step_fits(node, state.step):
        # The content changed under a live call (a deploy renamed a node): start again politely.
        call.say(content.phrases.restart_apology)
        call.go_main()
        return call.result()
    match given:
        case Silence():
            call.retry(node, content.phrases.reprompt_silence)
        case Digits(digits=digits):
            call.handle(node, digits)
        case Speech(text=text):
            if isinstance(node, Entry) and node.speech:
                call.handle_spoken(node, text)
            else:
                call.handle(node, speech.digits_from_speech(text))
    return call.result()


def _step_fits(node: Waiting, step: int) -> bool:
    if isinstance(node, Steps):
        return 0 <= step < len(node.steps) + len(node.pushbacks)
    return step == 0


class _Call:
    """One turn being built: the steps said so far and the state they lead to."""

    def __init__(
        self, content: Content, directory: Directory, state: CallState, texting: TextPolicy | None = None
    ) -> None:
        self.content = content
        self.directory = directory
        # Without a policy, a fresh one for this turn alone: it never sees an earlier text, so it refuses
        # none (the state search relies on that); the front-ends pass one that lasts the call.
        self.texting = texting or OncePerCall()
        self.state = state
        self.steps: list[Instruction] = []
        self.home_name: str | None = None  # known only on the first turn, for the greeting
        self.notice: str | None = None
        self.crown_dependency_mobiles = False

    def result(self) -> tuple[Turn, CallState]:
        return tuple(self.steps), self.state

    def update(self, **changes: object) -> None:
        self.state = self.state.model_copy(update=changes)

    # --- saying things -------------------------------------------------------------

    def say(self, text: str, *, slow: bool = False, **extra: str) -> None:
        slow = slow or self.state.slow
        self.steps.append(Say(self.fill(text, **extra), slow=slow))
        if slow:
            self.steps.append(Pause(1))

    def fill(self, text: str, **extra: str) -> str:
        """Put the caller's details and key names into a text, spoken as they should be heard.

        `extra` values are put in as they are, never read as templates themselves, so an
        operator's notice or a home's name may hold braces safely.
        """
        if "{" not in text:
            return text
        state = self.state
        values = speech.placeholder_values(
            self.content.keys.step_keys(),
            self.content.meta.helpdesk_number,
            ods=state.ods,
            mailbox=state.mailbox_address(),
            mobile=national_digits(state.mobile) if state.mobile else None,
            ticket=state.ticket,
        )
        phrases = self.content.phrases
        # The content checks allow these only where they are known; empty beats a crash on a call.
        values["mobile_end"] = speech.characters(state.home_mobile[-3:]) if state.home_mobile else ""
        values["reason"] = reason_words(self.content, state.reason) if state.reason else ""
        values["candidate"] = (
            speech.nato(state.candidates[0], phrases.nato_letter, phrases.nato_digit) if state.candidates else ""
        )
        return text.format(**(values | extra))


    def ask(self, mode: Literal["key", "entry"], *, spoken: bool = False) -> None:
        meta = self.content.meta
        timeout = meta.key_timeout_seconds if mode == "key" else meta.entry_timeout_seconds
        self.steps.append(Ask(mode=mode, timeout=timeout, speech=spoken))

    # --- moving about ----------------------------------------------------------------

    def enter(self, node_id: str, step: int = 0) -> None:
        """Arrive at a node: say what it says and wait, or flow on through messages."""
        for _ in range(MAX_MESSAGES_PER_TURN):
            node = self.content.nodes[node_id]
            offer = self.registered_mobile_offer(node)
            if offer is not None:
                node_id, node = offer, self.content.nodes[offer]
            self.update(node=node_id, step=step, attempts=0)
            if node_id not in self.content.text_flow and self.state.topic:
                self.update(topic=None, resume_node=None, resume_step=0)  # the caller left the flow
            if self.state.candidates and not isinstance(node, Confirm):
                self.update(candidates=())  # codes not confirmed are forgotten once the caller moves on
            if node_id == self.content.meta.main_menu and (self.state.ticket or self.state.reason):
                self.update(ticket=None, reason=None)  # an escalation is begun afresh from the main menu
            if isinstance(node, Steps) and node.scenario and node.scenario not in self.state.scenarios:
                self.update(scenarios=(*self.state.scenarios, node.scenario))
            if not isinstance(node, Message):
                self.prompt(node, full=True)
                return
            if node.send_sms:
                self.send_text(node.say)
            elif node.escalate:
                self.escalate(node.say)
            elif node.say_with_home and self.home_name:
                self.say(node.say_with_home, slow=node.slow, home=self.home_name)
            else:
                self.say(node.say, slow=node.slow)
            if node.notice and self.notice:
                self.say(self.content.phrases.notice, notice=self.notice)
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

    def registered_mobile_offer(self, node: object) -> str | None:
        """The menu offering the home's registered mobile, played first at a mobile entry reached from outside
        the text flow; None when there is nothing to offer (not a call from the home's registered landline)."""
        if isinstance(node, Entry) and self.state.home_mobile and self.state.node not in self.content.text_flow:
            return node.registered
        return None

    def back(self) -> None:
        """Up to the node's parent in the tree; the main menu when it has none."""
        self.enter(self.content.parents.get(self.state.node, self.content.meta.main_menu))

    def go_main(self) -> None:
        self.enter(self.content.meta.main_menu)

    # --- prompts ----------------------------------------------------------------

    def prompt(self, node: Waiting, *, full: bool) -> None:
        phrases = self.content.phrases
        if isinstance(node, Menu):
            if full:
                intro = node.say_with_ods if node.say_with_ods and self.state.ods else node.say
                self.say(intro)
            for option in node.options:
                self.say(phrases.option.format(label=option.label, key=speech.key_name(option.key)))
            self.ask("key")
        elif isinstance(node, Steps):
            if full:
                self.say_step(node)
            else:
                self.say(phrases.step_prompt)
            self.ask("key")
        elif isinstance(node, Confirm):
            self.say_candidate(node)
            self.say(phrases.confirm_keys)
            self.ask("key")
        else:
            self.say(node.say)
            self.ask("entry", spoken=node.speech)

    def say_candidate(self, node: Confirm) -> None:
        home = self.directory.home(self.state.candidates[0]) if self.state.candidates else None
        if home and node.say_with_name:
            self.say(node.say_with_name, candidate_name=home.name)
        else:
            self.say(node.say)

    def say_step(self, node: Steps) -> None:
        phrases = self.content.phrases
        index = self.state.step
        total = len(node.steps) + len(node.pushbacks)
        if index == 0:
            self.say(node.title)
        self.say(phrases.step_position.format(number=index + 1, total=total))
        if index < len(node.steps):
            step = node.steps[index]
            self.say(step.say_with_ods if step.say_with_ods and self.state.ods else step.say)
        else:
            pushback = node.pushbacks[index - len(node.steps)]
            self.say(phrases.pushback.format(they_say=pushback.helpdesk, you_say=pushback.reply))
        self.say(phrases.last_step if index == total - 1 else phrases.step_prompt)

    def retry(self, node: Waiting, reason: str) -> None:
        """Silence or a wrong key: a short re-prompt, then a fuller one, then the fallback."""
        attempts = self.state.attempts + 1
        cap = node.retry_cap or self.content.meta.retry_cap
        if attempts >= cap:
            self.enter(fallback_of(self.content, node))
            return
        self.update(attempts=attempts)
        self.say(reason)
        if attempts == 1:
            self.prompt(node, full=False)
            return
        phrases = self.content.phrases
        self.say(phrases.reprompt_full)
        if isinstance(node, Menu):
            self.say(phrases.keys_help_menu)
        elif isinstance(node, Steps):
            self.say(phrases.keys_help_steps)
        self.prompt(node, full=True)

    # --- handling input ---------------------------------------------------------

    def handle(self, node: Waiting, digits: str) -> None:
        if isinstance(node, Entry):
            self.handle_entry(node, digits)
            return
        if not digits:
            self.retry(node, self.content.phrases.reprompt_silence)
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
            self.handle_menu(node, key)
        elif isinstance(node, Confirm):
            self.handle_confirm(node, key)
        else:
            self.handle_steps(node, key)

    def wrong_key(self, node: Waiting, key: str) -> None:
        spoken = ", ".join(speech.key_name(k) for k in key)
        self.retry(node, self.content.phrases.reprompt_wrong.format(key=spoken))

    def handle_menu(self, node: Menu, key: str) -> None:
        if key == self.content.keys.back:
            self.back()
            return
        for option in node.options:
            if option.key == key:
                if option.goto == self.content.meta.text_me and self.state.node not in self.content.text_flow:
                    topic = option.sms or self.content.meta.default_sms
                    if self.texted_already(node, topic):
                        return
                    self.update(topic=topic, resume_node=option.after or self.state.node, resume_step=0)
                if option.use_registered and self.state.home_mobile:
                    self.update(mobile=self.state.home_mobile)
                if option.reason:
                    self.update(reason=option.reason)
                self.enter(option.goto)
                return
        self.wrong_key(node, key)

    def handle_confirm(self, node: Confirm, key: str) -> None:
        """1 takes the candidate read back; 2 moves to the next, or on when none is left."""
        if key == self.content.keys.back:
            self.update(candidates=())
            self.back()
        elif key == "1" and self.state.candidates:
            ods = self.state.candidates[0]
            home = self.directory.home(ods)
            self.update(ods=ods, mailbox=home.mailbox if home else None, candidates=())
            self.enter(node.yes)
        elif key == "2":
            rest = self.state.candidates[1:]
            self.update(candidates=rest, attempts=0)
            if rest:
                self.prompt(node, full=True)
            else:
                self.enter(node.none_left)
        else:
            self.wrong_key(node, key)

    def handle_steps(self, node: Steps, key: str) -> None:
        keys = self.content.keys
        total = len(node.steps) + len(node.pushbacks)
        step = self.state.step
        if key == keys.next:
            if step + 1 < total:
                self.update(step=step + 1, attempts=0)
                self.prompt(node, full=True)
            else:
                self.enter(node.then)
        elif key == keys.back:
            if step > 0:
                self.update(step=step - 1, attempts=0)
                self.prompt(node, full=True)
            else:
                self.back()
        elif key == keys.spell:
            self.update(attempts=0)
            self.spell()
            self.prompt(node, full=False)
        elif key == keys.text_me:
            if self.texted_already(node, node.sms):
                return
            self.update(topic=node.sms, resume_node=self.state.node, resume_step=step)
            self.enter(self.content.meta.text_me)
        else:
            self.wrong_key(node, key)

    def texted_already(self, node: Menu | Steps, topic: str) -> bool:
        """Before asking for a mobile: this call has sent that text, so say so and stay where the caller is."""
        if not self.texting.already_sent(topic):
            return False
        self.update(attempts=0)
        self.say(self.content.phrases.text_refused_already)
        self.prompt(node, full=False)
        return True

    def spell(self) -> None:
        phrases = self.content.phrases
        ods, mailbox = self.state.ods, self.state.mailbox_address()
        if not ods or not mailbox:
            self.say(phrases.spell_unknown)
            return
        spelled = speech.nato(ods, phrases.nato_letter, phrases.nato_digit)
        self.say(phrases.spell_ods.format(nato=spelled, mailbox_spelled=speech.spelled_address(mailbox)))

    def handle_entry(self, node: Entry, digits: str) -> None:
        if "*" in digits:
            # Star starts the entry again: keep only what was keyed after the last one.
            digits = digits.rsplit("*", 1)[1]
            if not digits.strip("#"):
                self.say(self.content.phrases.entry_restart)
                self.prompt(node, full=True)
                return
        digits = digits.rstrip("#")
        if not digits:  # hash alone: the caller wants out of the entry
            self.back()
            return
        match node.check:
            case "uk_mobile":
                self.keep(node, "mobile", uk_mobile(digits, allow_crown_dependencies=self.crown_dependency_mobiles))
            case "ticket_number":
                self.keep(node, "ticket", validators.ticket_number(digits))
            case "ods_exact":
                code = validators.ods_exact(digits)
                self.keep(node, "candidates", (code,) if code else None)
            case "ods_keys":
                found = validators.ods_candidates(digits, self.directory)
                if found == [] and node.unmatched:
                    self.enter(node.unmatched)
                elif found and len(found) > MAX_CANDIDATES and node.too_many:
                    self.enter(node.too_many)
                else:
                    self.keep(node, "candidates", tuple(found) if found else None)

    def handle_spoken(self, node: Entry, text: str) -> None:
        """An ODS code said aloud: kept as the one candidate, which the caller confirms on the keypad."""
        code = speech.ods_from_speech(text)
        if code is None:  # the entry's own "invalid" speaks of keys; this was said
            self.retry(node, self.content.phrases.speech_unclear)
            return
        self.keep(node, "candidates", (code,))

    def keep(self, node: Entry, field: str, value: object) -> None:
        """Keep an entry's value and carry on, or re-ask when it did not pass its check."""
        if value is None:
            self.retry(node, node.invalid)
            return
        self.update(**{field: value})
        self.enter(node.then)

    def escalate(self, confirmation: str) -> None:
        ticket, reason = self.state.ticket, self.state.reason
        if ticket is None or reason is None:
            raise RuntimeError("an escalation was to be sent before a ticket and a reason were known")
        self.say(confirmation)
        self.steps.append(Escalate(ticket=ticket, reason=reason, ods=self.state.ods))

    def send_text(self, confirmation: str) -> None:
        """Send the pending text, unless the number opted out or a daily limit is reached: then say why."""
        topic, mobile = self.state.topic, self.state.mobile
        if topic is None or mobile is None:
            raise RuntimeError("a text was to be sent before a topic and a mobile were known")
        phrases = self.content.phrases
        match self.texting.refusal(mobile, topic):
            case "opted_out":
                self.say(phrases.text_refused_opted_out)
            case "limit":
                self.say(phrases.text_refused_limit)
            case "already_sent":  # the outbox would drop a second one: say so, not "on its way"
                self.say(phrases.text_refused_already)
            case None:
                self.say(confirmation)
                state = self.state
                self.steps.append(SendSms(purpose=topic, to=mobile, ods=state.ods, ticket=state.ticket,
                                          reason=state.reason))  # fmt: skip

