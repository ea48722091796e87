"""The flow engine: pure, `(content, state, input) -> (Turn, state)`.

No I/O here: no Flask, no Twilio, no database, no clock. Both front-ends drive
`start` and `advance`, so a call and a rehearsal with the same keys say the same words.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from ivr import entry_checks, speech
from ivr.checks import fallback_of
from ivr.content import Content, Entry, Menu, Message, Steps
from ivr.directory import AllowAllTexts, Directory, TextPolicy
from ivr.phone import national_digits
from ivr.turn import Ask, Hangup, Input, Keys, Pause, Say, SendSms, Silence, Speech, Step, Turn

# Message nodes flow into the next node in the same turn; content checks forbid loops
# of messages, and this bound turns a missed one into an error rather than a hang.
MAX_MESSAGES_PER_TURN = 12


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
    ticket: str | None = None
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
) -> tuple[Turn, CallState]:
    """The first turn of a call: greeting and main menu, personalised when the caller is known."""
    home = directory.home_for_landline(caller) if caller else None
    state = CallState(
        node=content.meta.start,
        slow=slow,
        ods=(ods or (home.ods if home else None)),
        mailbox=home.mailbox if home and not ods else None,
    )
    call = _Call(content, directory, state)
    call.enter(content.meta.start)
    return call.result()


def advance(
    content: Content, directory: Directory, state: CallState, given: Input, *, texting: TextPolicy | None = None
) -> tuple[Turn, CallState]:
    """The caller's next input: a key or digits, silence, or speech."""
    if state.ended:
        return (Hangup(),), state
    call = _Call(content, directory, state.model_copy(update={"turn": state.turn + 1}), texting)
    node = content.nodes.get(state.node)
    if node is None or isinstance(node, Message) or not _step_fits(node, state.step):
        # The content changed under a live call (a deploy renamed a node): start again politely.
        call.say(content.phrases.restart_apology)
        call.go_main()
        return call.result()
    match given:
        case Silence():
            call.retry(node, content.phrases.reprompt_silence)
        case Keys(digits=digits):
            call.handle(node, digits)
        case Speech(text=text):
            call.handle(node, speech.digits_from_speech(text))
    return call.result()


def _step_fits(node: Menu | Steps | Entry, step: int) -> bool:
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
        self.texting = texting or AllowAllTexts()
        self.state = state
        self.steps: list[Step] = []

    def result(self) -> tuple[Turn, CallState]:
        return tuple(self.steps), self.state

    def update(self, **changes: object) -> None:
        self.state = self.state.model_copy(update=changes)

    # --- saying things -------------------------------------------------------------

    def say(self, text: str, *, slow: bool = False) -> None:
        slow = slow or self.state.slow
        self.steps.append(Say(self.fill(text), slow=slow))
        if slow:
            self.steps.append(Pause(1))

    def fill(self, text: str) -> str:
        """Put the caller's details and key names into a text, spoken as they should be heard."""
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
        return text.format(**values)

    def ask(self, mode: Literal["key", "entry"]) -> None:
        meta = self.content.meta
        timeout = meta.key_timeout_seconds if mode == "key" else meta.entry_timeout_seconds
        self.steps.append(Ask(mode=mode, timeout=timeout))

    # --- moving about ----------------------------------------------------------------

    def enter(self, node_id: str, step: int = 0) -> None:
        """Arrive at a node: say what it says and wait, or flow on through messages."""
        for _ in range(MAX_MESSAGES_PER_TURN):
            self.update(node=node_id, step=step, attempts=0)
            node = self.content.nodes[node_id]
            if node_id not in self.content.text_flow and self.state.topic:
                self.update(topic=None, resume_node=None, resume_step=0)  # the caller left the flow
            if not isinstance(node, Message):
                self.prompt(node, full=True)
                return
            if node.send_sms:
                self.send_text(node.say)
            else:
                self.say(node.say, slow=node.slow)
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

    def back(self) -> None:
        """Up to the node's parent in the tree; the main menu when it has none."""
        self.enter(self.content.parents.get(self.state.node, self.content.meta.main_menu))

    def go_main(self) -> None:
        self.enter(self.content.meta.main_menu)

    # --- prompts ----------------------------------------------------------------

    def prompt(self, node: Menu | Steps | Entry, *, full: bool) -> None:
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
        else:
            self.say(node.say)
            self.ask("entry")

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

    def retry(self, node: Menu | Steps | Entry, reason: str) -> None:
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

    def handle(self, node: Menu | Steps | Entry, digits: str) -> None:
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
        else:
            self.handle_steps(node, key)

    def wrong_key(self, node: Menu | Steps | Entry, key: str) -> None:
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
                    self.update(topic=topic, resume_node=option.after or self.state.node, resume_step=0)
                self.enter(option.goto)
                return
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
            self.update(topic=node.sms, resume_node=self.state.node, resume_step=step)
            self.enter(self.content.meta.text_me)
        else:
            self.wrong_key(node, key)

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
        value = entry_checks.run(node.check, digits, self.directory)
        if value is None:
            self.retry(node, node.invalid)
            return
        field = {"uk_mobile": "mobile", "ods_code": "ods", "ticket_number": "ticket"}[node.check]
        self.update(**{field: value})
        self.enter(node.then)

    def send_text(self, confirmation: str) -> None:
        """Send the pending text, unless the number opted out or a daily limit is reached: then say why."""
        topic, mobile = self.state.topic, self.state.mobile
        if topic is None or mobile is None:
            raise RuntimeError("a text was to be sent before a topic and a mobile were known")
        phrases = self.content.phrases
        match self.texting.refusal(mobile):
            case "opted_out":
                self.say(phrases.text_refused_opted_out)
            case "limit":
                self.say(phrases.text_refused_limit)
            case None:
                self.say(confirmation)
                self.steps.append(SendSms(purpose=topic, to=mobile, ods=self.state.ods))

