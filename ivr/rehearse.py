"""The rehearsal front-end: the same call as the phone, at a terminal, the keyboard as the keypad.

`Rehearsal` drives the engine and turns each Turn into transcript lines; a keypad
supplies the caller's input, either typed live (`TerminalKeypad`) or from a
script of keys (`ScriptedKeypad`), so the same walk can be read, tested and compared
with the phone's.
"""

from __future__ import annotations

import os
import select
import sys
import termios
import tty
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol, assert_never

from ivr import engine
from ivr.compose import compose
from ivr.content import Content
from ivr.directory import Directory
from ivr.phone import mask
from ivr.turn import Ask, Hangup, Input, Keys, Pause, Say, SendSms, Silence, Turn

KEYPAD_KEYS = "0123456789*#"


@dataclass(frozen=True)
class Line:
    who: Literal["companion", "caller", "text", "end"]
    text: str


class Keypad(Protocol):
    def read(self, ask: Ask) -> Input | None:
        """The caller's next input, or None when the rehearsal should stop."""


class ScriptedKeypad:
    """Keys given up front: 'Ask' tokens separated by spaces; 't' stands for silence."""

    def __init__(self, script: str) -> None:
        self._tokens = script.split()

    def read(self, ask: Ask) -> Input | None:
        if not self._tokens:
            return None
        token = self._tokens.pop(0)
        return Silence() if token == "t" else Keys(token)


class Rehearsal:
    def __init__(
        self,
        content: Content,
        directory: Directory,
        show: Callable[[Line], None] = lambda line: None,
        *,
        ods: str | None = None,
        slow: bool = False,
    ) -> None:
        self.content = content
        self.directory = directory
        self.show = show
        self.ods = ods
        self.slow = slow
        self.lines: list[Line] = []

    def run(self, keypad: Keypad) -> list[Line]:
        turn, state = engine.start(self.content, self.directory, ods=self.ods, slow=self.slow)
        while True:
            ask = self.render(turn, state)
            if ask is None:
                return self.lines
            given = keypad.read(ask)
            if given is None:
                return self.lines
            self.emit(Line("caller", describe(given)))
            turn, state = engine.advance(self.content, self.directory, state, given)

    def render(self, turn: Turn, state: engine.CallState) -> Ask | None:
        """Show a turn; return what it waits for, or None when the call has ended."""
        waiting: Ask | None = None
        for step in turn:
            match step:
                case Say(text=text):
                    self.emit(Line("companion", text))
                case Pause():
                    pass  # a pause is heard, not read
                case Ask():
                    waiting = step
                case SendSms(purpose=purpose, to=to, ods=ods):
                    body = compose(self.content, purpose, ods=ods, mailbox=state.mailbox_address())
                    self.emit(Line("text", f"To {mask(to)}: {body}"))
                case Hangup():
                    self.emit(Line("end", "The call ends."))
                    return None
                case _:
                    assert_never(step)
        return waiting

    def emit(self, line: Line) -> None:
        self.lines.append(line)
        self.show(line)


def describe(given: Input) -> str:
    match given:
        case Silence():
            return "(silence)"
        case Keys(digits=digits):
            return f"presses {digits or '(nothing)'}"
        case _:
            return f"says {given.text!r}"


def transcript(lines: Iterable[Line]) -> str:
    labels = {"companion": "Companion", "caller": "Caller", "text": "Text", "end": "End"}
    return "\n".join(f"{labels[line.who]}: {line.text}" for line in lines)


class TerminalKeypad:
    """Single key presses without Enter, with the phone's timeouts standing in for silence."""

    def __init__(self, notice: Callable[[str], None]) -> None:
        self.notice = notice

    def read(self, ask: Ask) -> Input | None:
        if ask.mode == "key":
            self.notice(f"[press a key: 0-9, * or #; q to stop; silence after {ask.timeout} s]")
            key = self._key(ask.timeout)
            if key is None:
                return Silence()
            return None if key == "q" else Keys(key)
        self.notice(f"[type the digits, then #; q to stop; silence after {ask.timeout} s]")
        digits = ""
        while True:
            key = self._key(ask.timeout)
            if key == "q":
                return None
            if key is None:  # as on the phone: a pause ends the entry with what was typed
                return Keys(digits) if digits else Silence()
            digits += key
            sys.stdout.write(key)
            sys.stdout.flush()
            if key == "#":
                sys.stdout.write("\n")
                return Keys(digits)

    def _key(self, timeout: float) -> str | None:
        """One keypad key (or 'q'), or None after `timeout` seconds with nothing pressed."""
        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
        try:
            tty.setcbreak(fd)
            while True:
                ready, _, _ = select.select([fd], [], [], timeout)
                if not ready:
                    return None
                char = os.read(fd, 1).decode(errors="ignore")
                if char in KEYPAD_KEYS:
                    return char
                if char in ("q", "Q", "\x04", "\x1b"):
                    return "q"
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
