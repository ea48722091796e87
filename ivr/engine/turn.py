"""What the engine returns: a Turn, a short tuple of neutral steps each front-end realises.

A new step type must be handled by both renderers; they `match` with `assert_never`,
so mypy fails until each of them does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ivr.content.model import Reason


@dataclass(frozen=True)
class Say:
    text: str
    slow: bool = False  # slow mode: each renderer speaks it more slowly
    # Whose voice: the companion's, or the helpdesk's in a role-play (a second voice on each front-end).
    voice: Literal["companion", "helpdesk"] = "companion"
    # It says something of the caller's own (their code, mailbox, a number or ticket they keyed): the
    # phone line never keeps such words beyond the turn (its cached TwiML holds a stand-in for them).
    personal: bool = False


@dataclass(frozen=True)
class Pause:
    seconds: int


@dataclass(frozen=True)
class Ask:
    """Wait for the caller: one key, or an entry of several digits ended by hash."""

    mode: Literal["key", "entry"]
    timeout: int
    speech: bool = False  # the caller may also say the answer (an ODS code, spelled out)


@dataclass(frozen=True)
class SendSms:
    """A text the caller asked for: an intent the front-end writes, then words with `flow.settle`."""

    purpose: str  # the SMS template's name
    to: str  # E.164
    ods: str | None
    ticket: str | None = None  # for the texts about an escalation
    reason: Reason | None = None
    confirmation: str = ""  # what the caller hears once the text is queued
    follow_up: bool = False  # the second of two texts: refused, it is not mentioned


# What became of a text the caller asked for, as the front-end found when it wrote it: queued, or
# refused (the number opted out, a daily cap is reached), or not written at all (the database failed).
TextOutcome = Literal["queued", "opted_out", "limit", "unavailable"]


@dataclass(frozen=True)
class Escalate:
    """Record a helpdesk ticket the caller could not get resolved, and tell the care association."""

    ticket: str
    reason: Reason
    ods: str | None
    callback: str | None = None  # E.164: where the care association can ring the caller back


@dataclass(frozen=True)
class Milestone:
    """Something worth counting (a scenario reached, a text asked for): anonymous, at most once per call."""

    # put_through: the caller was put through (detail: the scenario); outcome: how it went, "busy.2".
    kind: Literal["scenario_reached", "text_asked", "put_through", "outcome"]
    detail: str = ""


@dataclass(frozen=True)
class Dial:
    """Put the caller through to the helpdesk; the call comes back to the companion when it ends.

    The caller ID is no part of it: the phone line shows the caller's own number, as Twilio gave it.
    """

    number: str  # E.164: the helpdesk
    ring_timeout: int
    time_limit: int
    send_digits: str | None = None  # the helpdesk's own options, pressed for the caller once it answers


@dataclass(frozen=True)
class Hangup:
    pass


Instruction = Say | Pause | Ask | SendSms | Escalate | Milestone | Dial | Hangup
Turn = tuple[Instruction, ...]


@dataclass(frozen=True)
class Silence:
    pass


@dataclass(frozen=True)
class Digits:
    digits: str


@dataclass(frozen=True)
class Speech:
    text: str


Input = Silence | Digits | Speech


def words(turn: Turn) -> str:
    """Everything said in a turn, as one line: what parity tests and transcripts compare."""
    return " ".join(step.text for step in turn if isinstance(step, Say))
