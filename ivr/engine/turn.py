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
    purpose: str  # the SMS template's name
    to: str  # E.164
    ods: str | None
    ticket: str | None = None  # for the texts about an escalation
    reason: Reason | None = None


@dataclass(frozen=True)
class Escalate:
    """Record a helpdesk ticket the caller could not get resolved, and tell the care association."""

    ticket: str
    reason: Reason
    ods: str | None
    callback: str | None = None  # E.164: where the care association can ring the caller back


@dataclass(frozen=True)
class Hangup:
    pass


Instruction = Say | Pause | Ask | SendSms | Escalate | Hangup
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
