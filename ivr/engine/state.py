"""The call's state between turns: what travels, sealed, in each action URL (and in memory in a rehearsal)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from ivr import speech
from ivr.content.model import Reason
from ivr.phone import LineKind

# "Back" returns through the menus heard, most recent last; a few are enough for a caller, and the
# state travels in every action URL, so the oldest is dropped past this many.
HISTORY_LIMIT = 6


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
    # Only a home's own mailbox when it is not the usual care.<ods>@nhs.net (`mailbox_address` gives either):
    # the state travels in every URL, so what can be worked out is not carried.
    mailbox: str | None = None
    mobile: str | None = None
    # The home's registered mobile: set only when the call comes from that home's registered
    # landline, never from a keyed ODS code, so a stranger cannot send texts to it.
    home_mobile: str | None = None
    # The call comes from a home's registered landline: the directory knows who is calling.
    registered_landline: bool = False
    # Where the care association can ring the caller back about an escalation (E.164): the registered
    # landline, or a number the caller keyed and confirmed.
    callback: str | None = None
    ticket: str | None = None
    reason: Reason | None = None
    # ODS codes waiting to be confirmed one at a time, the one being read back first.
    candidates: tuple[str, ...] = ()
    # The scenarios the caller heard, so each is counted (a milestone) once.
    scenarios: tuple[int, ...] = ()
    # The texts this call has queued, by purpose: one of each per call.
    texted: tuple[str, ...] = ()
    # The scenario heard last: what the caller is about to ring about (its things to say first, its role-play).
    scenario: int | None = None
    # What the calling number is, for a put-through (engine/put_through.py): None until the call is classified.
    line: LineKind | None = None
    # Only while a "text me" is under way: what to send, and where the caller carries on.
    topic: str | None = None
    resume_node: str | None = None
    resume_step: int = 0
    ended: bool = False
    # The menus the caller heard before this node, most recent last (at most HISTORY_LIMIT):
    # where "back" goes. Menus of the "text me" flow are left out: going back into one would
    # send a text that is no longer pending.
    history: tuple[str, ...] = ()
    # The part with steps the caller was in last (a scenario, the checklist): what a goodbye offers to text.
    last_steps: str | None = None
    # The menu keys (repeat, back, main menu, slow) have been told once on this call.
    keys_told: bool = False
    # The terms of jargon (ids in the content's [terms]) already explained on this call.
    explained: tuple[str, ...] = ()

    def mailbox_address(self) -> str | None:
        if self.mailbox:
            return self.mailbox
        return speech.mailbox_address(self.ods) if self.ods else None
