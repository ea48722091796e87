"""The content model: every word the companion says or texts, as frozen pydantic models.

`loader.py` fills them from `prompts/*.toml`; `checks.py` judges the whole graph,
`graph.py` walks it. This module imports neither, so each of them can import it.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

KEYPAD = "0123456789*#"
# `callback`: a UK landline or mobile the care association can ring the caller back on.
EntryCheck = Literal["uk_mobile", "ods_keys", "ods_exact", "ticket_number", "callback"]
# What happened when a caller rang the helpdesk and was not helped: a closed set, so the
# care association can count and sort escalations.
Reason = Literal["refused", "leaver", "other"]
# Put me through: the stages of a put-through, and how the caller says the helpdesk call went.
PutThroughStage = Literal["prepare", "text", "dial"]
Verdict = Literal["sorted", "not_sorted", "ticket_given"]
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


Wording = Annotated[str, Field(min_length=1)]
NodeId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class Meta(Strict):
    reviewed_on: date
    helpdesk_number: Annotated[str, Field(pattern=r"^0\d{3} \d{3} \d{4}$")]
    start: NodeId
    main_menu: NodeId
    fallback: NodeId
    text_me: NodeId
    default_sms: NodeId  # sent by a "text me" before the caller has heard any topic
    retry_cap: Annotated[int, Field(ge=1, le=5)] = 3
    key_timeout_seconds: Annotated[int, Field(ge=3, le=30)] = 7
    entry_timeout_seconds: Annotated[int, Field(ge=3, le=30)] = 10
    # Inside steps (a scenario, the checklist) silence is a caller writing things down: each one
    # gets a "take your time" and this longer wait, and only `steps_waits` of them end the call.
    steps_wait_seconds: Annotated[int, Field(ge=10, le=60)] = 30
    steps_waits: Annotated[int, Field(ge=2, le=20)] = 7


class ReservedKeys(Strict):
    """The reserved keys. The menu ones mean the same on every menu; the step ones inside a scenario."""

    repeat: str = "*"
    main_menu: str = "0"
    back: str = "9"
    slow: str = "8"
    next: str = "1"
    spell: str = "4"
    text_me: str = "5"

    @field_validator("*")
    @classmethod
    def _one_key(cls, value: str) -> str:
        if len(value) != 1 or value not in KEYPAD:
            raise ValueError(f"must be one keypad key (0-9, * or #), not {value!r}")
        return value

    def menu_keys(self) -> dict[str, str]:
        return {"repeat": self.repeat, "main_menu": self.main_menu, "back": self.back, "slow": self.slow}

    def step_keys(self) -> dict[str, str]:
        return {**self.menu_keys(), "next": self.next, "spell": self.spell, "text_me": self.text_me}


class Phrases(Strict):
    """The engine's own words: re-prompts, key help, step framing, read-back patterns."""

    option: Wording
    reprompt_silence: Wording
    reprompt_wrong: Wording
    reprompt_full: Wording
    keys_help_menu: Wording
    # Said once as a part with steps begins: the keys it offers; the spell key only when the code is known.
    steps_keys: Wording
    steps_keys_spell: Wording
    step_position: Wording
    step_prompt: Wording  # after the first step
    step_prompt_short: Wording  # after each later one
    last_step: Wording
    # Silence inside steps: the first time, then each time after.
    take_your_time: Wording
    still_here: Wording
    # A wrong key at a menu, the first time: the keys it takes, not the whole menu again.
    reprompt_choices: Wording
    pushback: Wording
    slow_on: Wording
    slow_off: Wording
    spell_ods: Wording
    spell_unknown: Wording
    nato_letter: Wording
    nato_digit: Wording
    entry_restart: Wording
    restart_apology: Wording
    # When the web side fails, or Twilio calls the fallback URL: said without any call state.
    trouble_sorry: Wording
    trouble_number: Wording
    trouble_goodbye: Wording
    text_refused_opted_out: Wording
    text_refused_limit: Wording
    text_refused_already: Wording
    text_unavailable: Wording  # the text could not be written just now (the database failed)
    text_in_two: Wording  # said when the text asked for comes as two (a template with a follow_up)
    speech_unclear: Wording
    ods_unknown_sms: Wording
    mailbox_unknown_sms: Wording
    home_unknown_sms: Wording  # in the care association's text, when the call did not say which home
    callback_unknown_sms: Wording  # in the care association's text, when no number to ring back is known
    # The operator's notice (`ivr notice set`), said after the greeting.
    notice: Wording
    # The care association's contact: its name when none is set, and how its phone and email are said.
    association_unnamed: Wording
    association_phone: Wording
    association_email: Wording
    # How each escalation reason is read back and written in the care association's text.
    reason_refused: Wording
    reason_leaver: Wording
    reason_other: Wording
    # A confirmation's keys: 1 for yes, 2 for no (fixed, as on most phone lines).
    confirm_keys: Wording
    # The role-play of the helpdesk call (`ivr rehearse --roleplay N`): its framing words.
    say_first: Wording  # a scenario's three things to say first: {first}, {second}, {third}
    roleplay_intro: Wording
    roleplay_your_turn: Wording  # at a terminal: a key ends the turn
    roleplay_your_turn_timed: Wording  # on the phone: a pause for the answer
    roleplay_suggested: Wording
    roleplay_end: Wording
    roleplay_no_scenario: Wording  # a role-play asked for before any scenario was heard


class Option(Strict):
    key: Annotated[str, Field(min_length=1, max_length=1)]
    label: Wording
    goto: NodeId
    sms: NodeId | None = None  # which text a "text me" started here sends
    after: NodeId | None = None  # where to carry on once that text flow is done
    # Send the text to the home's registered mobile (only known on a call from its registered landline).
    use_registered: bool = False
    reason: Reason | None = None  # an escalation's reason, chosen by this option
    # Instead of `goto`, when the call is not from a home's registered landline (the directory does not
    # know who is calling): where to ask what a known landline would have told us.
    goto_unregistered: NodeId | None = None


class Interactive(Strict):
    retry_cap: Annotated[int, Field(ge=1, le=5)] | None = None
    fallback: NodeId | None = None


class Menu(Interactive):
    kind: Literal["menu"]
    say: Wording
    say_with_ods: Wording | None = None
    # After `say`, the three things to say first of the scenario the caller last heard (none heard: nothing).
    say_first: bool = False
    # Said instead of `say` once the caller has been in a part with steps (a scenario, the checklist):
    # an option here that starts a text and names no `sms` sends that part's text.
    say_after_steps: Wording | None = None
    options: Annotated[tuple[Option, ...], Field(min_length=1, max_length=8)]


class Step(Strict):
    """One step: something to do or say (`say`), or a push-back the helpdesk may make at this point
    of the call (`helpdesk`) with the answer to give (`reply`), heard beside the step it belongs to."""

    say: Wording | None = None
    say_with_ods: Wording | None = None
    helpdesk: Wording | None = None
    reply: Wording | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        told = self.say is not None
        pushback = self.helpdesk is not None and self.reply is not None
        if told == pushback or (self.helpdesk is None) != (self.reply is None):
            raise ValueError("a step has either 'say' (and perhaps 'say_with_ods'), or 'helpdesk' and 'reply'")
        if self.say_with_ods is not None and not told:
            raise ValueError("'say_with_ods' needs 'say'")
        return self


class Exchange(Strict):
    """A line the helpdesk is likely to say in the role-play, and an answer the caller could give."""

    helpdesk: Wording
    reply: Wording
    reply_with_ods: Wording | None = None  # when the caller's ODS code is known: {ods} and {mailbox}
    reply_with_home: Wording | None = None  # when the home's name is known too: {home} as well


class Pushback(Exchange):
    """A line where the helpdesk is likely to resist, with the answer that keeps the call on track."""


class Steps(Interactive):
    kind: Literal["steps"]
    title: Wording
    scenario: Annotated[int, Field(ge=1, le=9)] | None = None
    steps: Annotated[tuple[Step, ...], Field(min_length=1)]
    # A scenario's three things to say first when a person answers: short lines, said wherever the caller
    # is about to ring (the wrap-up; a put-through, a printed card). `ivr check` holds each scenario to three.
    say_first: tuple[Wording, ...] = ()
    # The role-play's ordinary turns of the helpdesk call, before and after the push-backs.
    opening: tuple[Exchange, ...] = ()
    closing: tuple[Exchange, ...] = ()
    sms: NodeId
    then: NodeId

    @property
    def pushbacks(self) -> tuple[Pushback, ...]:
        """The push-backs among the steps, in their order on the call (the role-play's middle)."""
        return tuple(
            Pushback(helpdesk=step.helpdesk, reply=step.reply) for step in self.steps if step.helpdesk and step.reply
        )


class Entry(Interactive):
    kind: Literal["entry"]
    say: Wording
    check: EntryCheck
    invalid: Wording
    then: NodeId
    speech: bool = False  # the caller may say it instead (ODS codes only); always confirmed on the keypad
    unmatched: NodeId | None = None  # ods_keys: well-formed keys that match no home in the directory
    too_many: NodeId | None = None  # ods_keys: keys that match more homes than a caller can hear one by one
    registered: NodeId | None = None  # uk_mobile: a menu offering the home's registered mobile first


class Confirm(Interactive):
    """Candidates read back one at a time (ODS codes matched from keys): 1 takes it, 2 hears the next."""

    kind: Literal["confirm"]
    say: Wording
    say_with_name: Wording | None = None  # when the directory knows the candidate's home
    yes: NodeId
    none_left: NodeId  # every candidate was refused


class Message(Strict):
    kind: Literal["message"]
    say: Wording
    say_with_home: Wording | None = None  # on a call from a home's registered landline: {home} is its name
    slow: bool = False
    send_sms: bool = False
    escalate: bool = False  # record the escalation and text the care association
    notice: bool = False  # then say the operator's notice, when one is set
    # Then play the role-play of the scenario heard last: the helpdesk in its own voice, a pause for each answer.
    roleplay: bool = False
    then: NodeId | None = None
    then_unknown: NodeId | None = None  # instead of `then`, when the caller's home is not known
    resume: bool = False
    hangup: bool = False
    # --- put me through (prompts/put_through.toml; ivr/engine/put_through.py) ---
    # "prepare": can this caller be put through, and is the script texted first; "text": text the script
    # of the scenario heard last, then carry on at `then`; "dial": the briefing, then the helpdesk call.
    put_through: PutThroughStage | None = None
    outcome: Verdict | None = None  # how the caller says the helpdesk call went: counted, per scenario


Node = Annotated[Menu | Steps | Entry | Confirm | Message, Field(discriminator="kind")]


class SmsTemplate(Strict):
    body: Wording
    max_segments: Annotated[int, Field(ge=1, le=6)] = 3
    # Words a person may text to the companion's number to get this text back.
    keywords: tuple[Annotated[str, Field(pattern=r"^[A-Z0-9]{1,20}$")], ...] = ()
    # What a text brought back by keyword holds, in a few words: the HELP text lists its first keyword with them.
    describes: Wording | None = None
    # A second text sent straight after this one, when one cannot carry it all in its budget: the caller
    # is told two are coming.
    follow_up: NodeId | None = None


# --- put me through: the section of prompts/put_through.toml ---------------------------------------------

# What the pressing of the helpdesk's own options may hold: digits, and waits (w half a second, W a second).
SEND_DIGITS = r"^[0-9wW*#]{1,40}$"


class PutThroughWords(Strict):
    """What the companion says around a put-through that is not a node of its own."""

    # Why a caller cannot be put through, then the number to ring.
    refused_off: Wording  # the line does not put calls through (IVR_PUT_THROUGH=false)
    refused_withheld: Wording
    refused_mobile: Wording
    refused_abroad: Wording
    refused_other: Wording  # a UK number that is not a landline (03, 08, VoIP...)
    ring_yourself: Wording
    # A geographic number the directory does not know: the helpdesk sees it, and may not know the home.
    reminder: Wording
    texted: Wording  # the script texted before the ring, to a mobile the call already knows
    start_with: Wording  # {first}, {second}, {third}: the scenario's three things to say first
    star: Wording  # pressing star on the helpdesk call comes back here
    press_yourself: Wording  # the helpdesk's own options, when the line does not press them
    pressing_for_you: Wording
    # The helpdesk call did not happen: by Twilio's DialCallStatus.
    busy: Wording
    no_answer: Wording
    failed: Wording


class PutThrough(Strict):
    """Putting the caller through to the helpdesk, showing their own number, and hearing how it went."""

    words: PutThroughWords
    # The helpdesk's options (Option 1, then Option 1) pressed for the caller once the helpdesk answers.
    # Used only when the line sets IVR_PUT_THROUGH_PRESS_OPTIONS: the recorded messages can change.
    send_digits: Annotated[str, Field(pattern=SEND_DIGITS)] | None = None
    ring_timeout_seconds: Annotated[int, Field(ge=10, le=60)] = 30
    # Twilio's default is four hours; the guide warns these calls take time, so never under two.
    time_limit_seconds: Annotated[int, Field(ge=7200, le=14400)] = 14400
    # Where the call carries on.
    dial: NodeId  # the message that dials: retries come back to it
    text_offer: NodeId  # no mobile known yet: a menu offering the script by text first
    refused: NodeId  # a caller who cannot be put through, once told why
    connected: NodeId  # back after the helpdesk call: how did it go?
    not_connected: NodeId  # busy, no answer, failed: try again, or the number by text
    # Set by the line from its settings when it starts (`Content.with_line`), never in a content file.
    enabled: bool = True
    press_options: bool = False
class Term(Strict):
    """A word of jargon, explained in a few words the first time a call says it, and only then."""

    heard: Annotated[tuple[Wording, ...], Field(min_length=1)]  # how it is written in what is said
    explain: Wording


class Content(Strict):
    meta: Meta
    keys: ReservedKeys
    phrases: Phrases
    nodes: dict[str, Node]
    sms: dict[str, SmsTemplate]
    terms: dict[str, Term] = Field(default_factory=dict)
    files: tuple[str, ...] = ()
    # Derived when loading: the nodes of the "text me" flow (the only place a pending text is remembered),
    # and of an escalation, from its ticket number to the message that sends it.
    text_flow: frozenset[str] = frozenset()
    escalation_flow: frozenset[str] = frozenset()
    put_through: PutThrough | None = None  # prompts/put_through.toml; none: the line never puts through

    def with_line(self, *, put_through: bool, press_options: bool) -> Content:
        """The content as this line runs it: put-throughs on or off, the helpdesk's options pressed or not."""
        if self.put_through is None:
            return self
        section = self.put_through.model_copy(update={"enabled": put_through, "press_options": press_options})
        return self.model_copy(update={"put_through": section})

    def say_first(self, scenario: int) -> tuple[str, ...]:
        """The three things to say first when the helpdesk answers, for scenario `scenario`; () if none."""
        return next((node.say_first for _, node in self.scenarios() if node.scenario == scenario), ())

    def scenarios(self) -> list[tuple[str, Steps]]:
        found = [(nid, n) for nid, n in self.nodes.items() if isinstance(n, Steps) and n.scenario]
        return sorted(found, key=lambda item: item[1].scenario or 0)


def keyword_menu(content: Content) -> str:
    """What the HELP text lists: each keyword text's first word with what it brings back, in the content's order."""
    return ", ".join(
        f"{template.keywords[0]} ({template.describes})"
        for template in content.sms.values()
        if template.keywords and template.describes
    )


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def reason_words(content: Content, reason: Reason) -> str:
    """How an escalation's reason is said on the call and written in the care association's text."""
    phrases = content.phrases
    return {"refused": phrases.reason_refused, "leaver": phrases.reason_leaver, "other": phrases.reason_other}[reason]


def association_written(content: Content, name: str | None, phone: str | None, email: str | None) -> str:
    """The care association as a text gives it: 'LinCA Digital (01522 123456, digital@example.org)'.

    Its name, or the content's words for no one in particular, with whichever of its phone and email are set.
    """
    contact = ", ".join(part for part in (phone, email) if part)
    named = name or content.phrases.association_unnamed
    return f"{named} ({contact})" if contact else named
