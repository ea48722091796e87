"""One turn being built: the steps said so far, the state they lead to, and the moves every concern may make.

The concerns (menus, scenarios, entries, text me) are plain functions over a `Call`. The moves
between nodes (`enter`, `back`, `prompt`, `retry`) need every concern, so they are only named
here and written in `flow.py`: the concerns can then use them without importing the flow.
"""

from __future__ import annotations

import functools
import re
from abc import ABC, abstractmethod
from typing import Literal

from ivr import speech
from ivr.content.model import Confirm, Content, Entry, Menu, Steps, reason_words
from ivr.engine.state import CallState
from ivr.engine.turn import Ask, Instruction, Pause, Say, Turn
from ivr.homes.directory import Association, Directory
from ivr.phone import national_digits

# Placeholders that put something of the caller's own into a prompt (mobile covers mobile_end, mailbox
# mailbox_spelled): a Say
# filled from one of them is marked personal.
PERSONAL_FIELDS = ("{ods", "{mailbox", "{mobile", "{callback", "{ticket", "{candidate", "{nato")


def association_values(content: Content, association: Association) -> dict[str, str]:
    """`{association}` (its name, or the content's words for no one in particular) and `{association_contact}`
    (how to reach it, as sentences from the content; empty when no phone or email is set), for the ear."""
    phrases = content.phrases
    contact = []
    if association.phone:
        contact.append(phrases.association_phone.format(phone=speech.digits_grouped(association.phone)))
    if association.email:
        contact.append(phrases.association_email.format(email=speech.email_spoken(association.email)))
    return {"association": association.name or phrases.association_unnamed, "association_contact": " ".join(contact)}


# The nodes a call waits at, as a union so that isinstance narrows them one by one.
Waiting = Menu | Steps | Entry | Confirm


class Call(ABC):
    """One turn being built: the steps said so far and the state they lead to."""

    def __init__(self, content: Content, directory: Directory, state: CallState) -> None:
        self.content = content
        self.directory = directory
        self.state = state
        self.steps: list[Instruction] = []
        self.home_name: str | None = None  # known only on the first turn, for the greeting
        self.notice: str | None = None
        self.crown_dependency_mobiles = False
        self.association = Association()  # whom the caller is told to contact; the front-end sets it

    def result(self) -> tuple[Turn, CallState]:
        return tuple(self.steps), self.state

    def update(self, **changes: object) -> None:
        self.state = self.state.model_copy(update=changes)

    # --- saying things -------------------------------------------------------------

    def say(self, text: str, *, slow: bool = False, **extra: str) -> None:
        slow = slow or self.state.slow
        filled = self.fill(text, **extra)
        self._speak(filled, slow, personal=any(field in text for field in PERSONAL_FIELDS))
        # Jargon is explained once, in a few words, right after the first time the call says it.
        if len(self.state.explained) == len(self.content.terms):
            return
        for term_id, term in self.content.terms.items():
            if term_id not in self.state.explained and speech.mentions(filled, term.heard):
                self.update(explained=(*self.state.explained, term_id))
                self._speak(term.explain, slow)

    def _speak(self, text: str, slow: bool, *, personal: bool = False) -> None:
        self.steps.append(Say(text, slow=slow, personal=personal))
        if slow:
            self.steps.append(Pause(1))

    def say_as_is(self, text: str) -> None:
        """Say words already filled in (a text's confirmation, worded a phase later: it may name the mobile)."""
        self.steps.append(Say(text, slow=self.state.slow, personal=True))
        if self.state.slow:
            self.steps.append(Pause(1))

    def fill(self, text: str, **extra: str) -> str:
        """Put the caller's details and key names into a text, spoken as they should be heard.

        `extra` values are put in as they are, never read as templates themselves, so an
        operator's notice or a home's name may hold braces safely.
        """
        if "{" not in text:
            return text
        state, content, phrases = self.state, self.content, self.content.phrases
        values = speech.Placeholders(content.keys.step_keys(), content.meta.helpdesk_number, ods=state.ods,
                                     mailbox=state.mailbox_address(), ticket=state.ticket)  # fmt: skip
        # The content checks allow these only where they are known; empty beats a crash on a call.
        contact = functools.cache(lambda: association_values(content, self.association))  # both names, once
        values.makers |= {
            "mobile": lambda: speech.mobile_grouped(national_digits(state.mobile)) if state.mobile else "",
            "mobile_end": lambda: speech.characters(state.home_mobile[-3:]) if state.home_mobile else "",
            "association": lambda: contact()["association"],
            "association_contact": lambda: contact()["association_contact"],
            "callback": lambda: speech.mobile_grouped(national_digits(state.callback)) if state.callback else "",
            "reason": lambda: reason_words(content, state.reason) if state.reason else "",
            "candidate": lambda: (speech.nato(state.candidates[0], phrases.nato_letter, phrases.nato_digit)
                                  if state.candidates else ""),
        }  # fmt: skip
        values.update(extra)  # given as they are: never worked out, nor read as templates
        filled = text.format_map(values)
        # A contact sentence left empty (no phone or email set) must not leave a gap or a trailing space.
        return re.sub(" {2,}", " ", filled).strip() if "{association_contact}" in text else filled

    def ask(self, mode: Literal["key", "entry"], *, spoken: bool = False, timeout: int | None = None) -> None:
        meta = self.content.meta
        if timeout is None:
            timeout = meta.key_timeout_seconds if mode == "key" else meta.entry_timeout_seconds
        self.steps.append(Ask(mode=mode, timeout=timeout, speech=spoken))

    # --- moving about: written in flow.py --------------------------------------------

    @abstractmethod
    def enter(self, node_id: str, step: int = 0, *, remember: bool = True) -> None:
        """Arrive at a node: say what it says and wait, or flow on through messages.

        The menu being left is remembered for "back", unless `remember` is false (going back).
        """

    @abstractmethod
    def back(self) -> None:
        """To the menu the caller heard last (the main menu when none is remembered)."""

    @abstractmethod
    def prompt(self, node: Waiting, *, full: bool) -> None:
        """Say what the caller may do at this node, in full or as a short reminder, and wait."""

    @abstractmethod
    def retry(self, node: Waiting, reason: str, *, wrong: bool = False) -> None:
        """Silence or a wrong answer (`wrong`): a short re-prompt, then a fuller one, then the fallback."""

    @abstractmethod
    def silence(self, node: Waiting) -> None:
        """Nothing pressed: a re-prompt, or inside steps time to write things down."""

    def wrong_key(self, node: Waiting, key: str) -> None:
        spoken = ", ".join(speech.key_name(k) for k in key)
        self.retry(node, self.content.phrases.reprompt_wrong.format(key=spoken), wrong=True)
