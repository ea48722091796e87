"""The rehearsal front-end: the same call as the phone, at a terminal, the keyboard as the keypad.

`Rehearsal` drives the engine and turns each Turn into transcript lines and, given a
`Speaker`, into speech; a keypad supplies the caller's input, either typed live
(`TerminalKeypad`) or from a script of keys (`ScriptedKeypad`), so the same walk can be
read, tested and compared with the phone's. As on a phone, a key pressed while a prompt
plays stops it and acts at once (barge-in). `RolePlay` plays the helpdesk call itself.
"""

from __future__ import annotations

import os
import select
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, Protocol, assert_never

try:  # POSIX terminals; on Windows the operator commands must still import (see _console_char)
    import termios
    import tty
except ImportError:
    HAS_TERMIOS = False
else:
    HAS_TERMIOS = True

from ivr.content import roleplay
from ivr.content.model import Content
from ivr.content.roleplay import Beat, Cue, YourTurn
from ivr.engine import flow
from ivr.engine.turn import (
    Ask,
    Dial,
    Digits,
    Escalate,
    Hangup,
    Input,
    Milestone,
    Pause,
    Say,
    SendSms,
    Silence,
    TextOutcome,
    Turn,
)
from ivr.homes.directory import Association, Directory
from ivr.phone import LineKind, mask
from ivr.rehearsal.player import Playback, Quiet
from ivr.rehearsal.speaker import Speaker
from ivr.rehearsal.synthesis import RehearsalVoice, Voices
from ivr.texts.compose import compose

KEYPAD_KEYS = "0123456789*#"


@dataclass(frozen=True)
class Line:
    who: Literal["companion", "caller", "text", "end", "helpdesk", "you", "suggested"]
    text: str


class Keypad(Protocol):
    def read(self, ask: Ask, first: str | None = None) -> Input | None:
        """The caller's next input, or None when the rehearsal should stop.

        `first` is a key already pressed during the prompt (barge-in): the answer, or an entry's start.
        """

    def listen(self, playback: Playback) -> str | None:
        """Wait while `playback` is heard; a key pressed first stops it and is returned ('q' to stop)."""

    def answer(self, seconds: float) -> str | None:
        """The role-play's pause for an answer said out loud: the key that ended it early, if any."""


class ScriptedKeypad:
    """Keys given up front: 'Ask' tokens separated by spaces; 't' stands for silence.

    A scripted run waits for nothing: prompts play to their end, and a role-play's turn to
    answer takes the next token if there is one (any key but 'q' carries on).
    """

    def __init__(self, script: str) -> None:
        self._tokens = script.split()

    def read(self, ask: Ask, first: str | None = None) -> Input | None:
        if first is not None:
            rest = self._tokens.pop(0) if ask.mode == "entry" and self._tokens else ""
            return Digits(first + rest)
        if not self._tokens:
            return None
        token = self._tokens.pop(0)
        # As on the phone: # is Twilio's finishing key, and # before any digit sends nothing (silence).
        if token in ("t", "#"):
            return Silence()
        return Digits(token)

    def listen(self, playback: Playback) -> str | None:
        while not playback.finished():
            time.sleep(0.01)
        return None

    def answer(self, seconds: float) -> str | None:
        token = self._tokens.pop(0) if self._tokens else None
        return None if token in (None, "t") else token


class Rehearsal:
    def __init__(
        self,
        content: Content,
        directory: Directory,
        show: Callable[[Line], None] = lambda line: None,
        *,
        ods: str | None = None,
        slow: bool = False,
        speaker: Speaker | None = None,
        voices: Voices | None = None,
        crown_dependency_mobiles: bool = False,
        association: Association | None = None,
        notice: str | None = None,
        line: LineKind = "landline",
    ) -> None:
        self.content = content
        # A rehearsal has no calling number: it is played as from a UK landline, so "put me through" is
        # practised (the role-play in place of the helpdesk call); another kind hears why a call would not be.
        self.line = line
        self.dialled: Dial | None = None
        self.directory = directory
        self.association = association or Association()
        self.notice = notice  # the operator's notice of the day, said after the greeting as on the phone
        self.show = show
        self.ods = ods
        self.slow = slow
        self.speaker = speaker
        self.voices = voices
        self.crown_dependency_mobiles = crown_dependency_mobiles
        self.lines: list[Line] = []

    def run(self, keypad: Keypad) -> list[Line]:
        turn, state = self.settled(*flow.start(self.content, self.directory, ods=self.ods, slow=self.slow,
                                               notice=self.notice, association=self.association))  # fmt: skip
        state = state.model_copy(update={"line": self.line})
        while True:
            ask, pressed = self.render(turn, state, keypad)
            if self.dialled is not None and pressed != "q":
                # Put me through: the role-play stands in for the helpdesk call, then the same questions after it.
                self.dialled = None
                if self.practise(state, keypad) == "q":
                    return self.lines
                turn, state = self.settled(*flow.dialled(self.content, self.directory, state, "completed",
                                                         association=self.association))  # fmt: skip
                continue
            if ask is None or pressed == "q":
                return self.lines
            given = keypad.read(ask, pressed)
            if given is None:
                return self.lines
            self.emit(Line("caller", describe(given)))
            crown = self.crown_dependency_mobiles
            association = self.association
            advanced = flow.advance(self.content, self.directory, state, given, crown_dependency_mobiles=crown,
                                    association=association)  # fmt: skip
            turn, state = self.settled(*advanced)

    def settled(self, turn: Turn, state: flow.CallState) -> tuple[Turn, flow.CallState]:
        """Nothing is really sent in a rehearsal: every text asked for is shown, as if queued."""
        outcomes: dict[str, TextOutcome] = {step.purpose: "queued" for step in turn if isinstance(step, SendSms)}
        return flow.settle(self.content, turn, state, outcomes, association=self.association)

    def render(self, turn: Turn, state: flow.CallState, keypad: Keypad) -> tuple[Ask | None, str | None]:
        """Show and speak a turn: what it waits for (None when the call has ended), and a key pressed meanwhile."""
        waiting: Ask | None = None
        pressed: str | None = None  # once a key cuts in, the rest of the turn goes unsaid, as on the phone
        for step in turn:
            match step:
                case Say(text=text, slow=slow, voice=voice):
                    if pressed is None:
                        self.emit(Line(voice, text))
                        pressed = self.hear(text, keypad, slow=slow, helpdesk=voice == "helpdesk")
                case Pause(seconds=seconds):
                    if pressed is None and self.speaker is not None and self.speaker.active:
                        pressed = keypad.listen(Quiet(seconds))  # a pause is heard, not read
                case Ask():
                    waiting = step
                case SendSms(purpose=purpose, to=to, ods=ods):
                    body = compose(self.content, purpose, ods=ods, mailbox=state.mailbox_address(),
                                   ticket=step.ticket, reason=step.reason, association=self.association)  # fmt: skip
                    self.emit(Line("text", f"To {mask(to)}: {body}"))
                case Escalate(ticket=ticket, reason=reason, ods=ods, callback=callback):
                    self.emit(Line("text", f"To the care association: ticket {ticket} ({reason}), "
                                           f"home {ods or '(not known)'}, ring back on {mask(callback)}"))
                case Milestone():
                    pass  # counted on the phone; a rehearsal keeps no counts
                case Dial():
                    helpdesk = self.content.meta.helpdesk_number
                    self.emit(Line("end", f"On a call you would now be put through to {helpdesk}, showing your number. "
                                          "Here the helpdesk is played for you."))  # fmt: skip
                    self.dialled = step
                    return None, pressed
                case Hangup():
                    self.emit(Line("end", "The call ends."))
                    return None, None
                case _:
                    assert_never(step)
        return waiting, pressed

    def practise(self, state: flow.CallState, keypad: Keypad) -> str | None:
        """The role-play of the scenario heard last, in place of a helpdesk call; 'q' when the caller stopped."""
        if state.scenario is None:
            self.emit(Line("companion", self.content.phrases.roleplay_no_scenario))
            return None
        home = self.directory.home(state.ods) if state.ods else None
        caller = roleplay.Caller(ods=state.ods, mailbox=state.mailbox_address(), home=home.name if home else None)
        beats = roleplay.script(self.content, state.scenario, caller)[:-1]  # its end says to ring: we are back
        played = RolePlay(beats, self.show, speaker=self.speaker, voices=self.voices)
        lines = played.run(keypad)
        self.lines.extend(lines)
        return "q" if played.stopped else None

    def hear(self, text: str, keypad: Keypad, *, slow: bool, helpdesk: bool = False) -> str | None:
        if self.speaker is None or self.voices is None:
            return None
        voice = self.voices.helpdesk if helpdesk else self.voices.slow if slow else self.voices.companion
        return self.speaker.say(text, voice, keypad.listen)

    def emit(self, line: Line) -> None:
        self.lines.append(line)
        self.show(line)


class RolePlay:
    """The helpdesk call for one scenario: the helpdesk in one voice, a turn to answer aloud, a suggested answer."""

    def __init__(
        self,
        beats: Iterable[Beat],
        show: Callable[[Line], None] = lambda line: None,
        *,
        speaker: Speaker | None = None,
        voices: Voices | None = None,
        crown_dependency_mobiles: bool = False,
    ) -> None:
        self.beats = tuple(beats)
        self.show = show
        self.speaker = speaker
        self.voices = voices
        self.crown_dependency_mobiles = crown_dependency_mobiles
        self.lines: list[Line] = []
        self.stopped = False  # q was pressed

    def run(self, keypad: Keypad) -> list[Line]:
        for beat in self.beats:
            match beat:
                case Cue(who=who, text=text):
                    self.lines.append(Line(who, text))
                    self.show(Line(who, text))
                    # A key cuts a line short and moves on: the caller has heard enough of it.
                    pressed = self.hear(text, self._voice(who), keypad)
                case YourTurn(prompt=prompt, seconds=seconds):
                    self.lines.append(Line("you", prompt))
                    self.show(Line("you", prompt))
                    pressed = keypad.answer(seconds)
                case _:
                    assert_never(beat)
            if pressed == "q":
                self.stopped = True
                break
        return self.lines

    def _voice(self, who: str) -> RehearsalVoice | None:
        if self.voices is None:
            return None
        return self.voices.helpdesk if who == "helpdesk" else self.voices.companion

    def hear(self, text: str, voice: RehearsalVoice | None, keypad: Keypad) -> str | None:
        if self.speaker is None or voice is None:
            return None
        return self.speaker.say(text, voice, keypad.listen)


def describe(given: Input) -> str:
    match given:
        case Silence():
            return "(silence)"
        case Digits(digits=digits):
            return f"presses {digits or '(nothing)'}"
        case _:
            return f"says {given.text!r}"


def transcript(lines: Iterable[Line]) -> str:
    labels = {
        "companion": "Companion", "caller": "Caller", "text": "Text", "end": "End",
        "helpdesk": "Helpdesk", "you": "You", "suggested": "Suggested",
    }  # fmt: skip
    # A suggested answer speaks for itself ("Suggested answer: ..."): a label would say it twice.
    return "\n".join(line.text if line.who == "suggested" else f"{labels[line.who]}: {line.text}" for line in lines)


class TerminalKeypad:
    """Single key presses without Enter, with the phone's timeouts standing in for silence."""

    def __init__(self, notice: Callable[[str], None]) -> None:
        self.notice = notice

    def read(self, ask: Ask, first: str | None = None) -> Input | None:
        if ask.mode == "key":
            if first is not None:
                return Digits(first)
            self.notice(f"[press a key: 0-9, * or #; q to stop; silence after {ask.timeout} s]")
            key = self._key(ask.timeout)
            if key is None or key == "#":  # Twilio sends nothing for # alone: silence, as on the phone
                return Silence()
            return None if key == "q" else Digits(key)
        self.notice(f"[type the digits, then #; q to stop; silence after {ask.timeout} s]")
        digits = ""
        while True:
            key, first = (first, None) if first is not None else (self._key(ask.timeout), None)
            if key == "q":
                return None
            if key is None:  # as on the phone: a pause ends the entry with what was typed
                return Digits(digits) if digits else Silence()
            digits += key
            sys.stdout.write(key)
            sys.stdout.flush()
            if key == "#":
                sys.stdout.write("\n")
                return Digits(digits) if digits != "#" else Silence()  # Twilio sends nothing for # alone

    def listen(self, playback: Playback) -> str | None:
        with _cbreak() as fd:
            while not playback.finished():
                key = _poll_key(fd, POLL_SECONDS)
                if key is not None:
                    playback.stop()
                    return key
        return None

    def answer(self, seconds: float) -> str | None:
        """Any key ends the turn (Enter, space, a letter: whatever a person reaches for), q stops."""
        deadline = time.monotonic() + seconds
        with _cbreak() as fd:
            while (left := deadline - time.monotonic()) > 0:
                char = _poll_char(fd, left)
                if char is not None:
                    return _keypad_key(char) or char
        return None

    def _key(self, timeout: float) -> str | None:
        """One keypad key (or 'q'), or None after `timeout` seconds with nothing pressed."""
        deadline = time.monotonic() + timeout
        with _cbreak() as fd:
            while (left := deadline - time.monotonic()) > 0:
                key = _poll_key(fd, left)
                if key is not None:
                    return key
        return None


# How often a playing prompt is checked for its end while a key is awaited: short enough
# that the next prompt follows without a gap anyone hears.
POLL_SECONDS = 0.03


@contextmanager
def _cbreak() -> Iterator[int]:
    """Keys arrive one at a time, unechoed, without Enter; the terminal is restored afterwards."""
    if not HAS_TERMIOS:  # the Windows console hands over keys one at a time already
        yield -1
        return
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield fd
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _poll_key(fd: int, timeout: float) -> str | None:
    """A keypad key or 'q' typed within `timeout` seconds; other characters are ignored."""
    char = _poll_char(fd, timeout)
    return _keypad_key(char) if char is not None else None


def _poll_char(fd: int, timeout: float) -> str | None:
    """Any character typed within `timeout` seconds (Enter is one too)."""
    if not HAS_TERMIOS:
        return _console_char(timeout)
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return None
    return os.read(fd, 1).decode(errors="ignore") or "\x04"  # end of input: as if q


def _console_char(timeout: float) -> str | None:
    if sys.platform == "win32":
        import msvcrt

        deadline = time.monotonic() + timeout
        while not msvcrt.kbhit():
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.01)
        return msvcrt.getwch()
    raise RuntimeError("no way to read single keys on this system: use --keys")


def _keypad_key(char: str) -> str | None:
    if char in KEYPAD_KEYS:
        return char
    if char in ("q", "Q", "\x04", "\x1b"):
        return "q"
    return None
