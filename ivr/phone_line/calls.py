"""One turn of a call as one unit of work, with no Flask in it: the webhooks (fast_turns.py for a call's
turns, web.py for the rest) parse the form and check the signature, this does the rest and returns the
TwiML to send.

A turn opens the state sealed in its URL, runs the pure engine, writes what the turn asked for (texts,
an escalation) in one short transaction, lets the engine word how that went, and seals the next state
into the next URLs. What it counts (milestones) is noted for ivr/store/counts.py to write behind it. A
plain menu or step turn touches no database, nor does a call's first request: the notice and the
directory are read from memory (ivr/store/kept.py); only the texts and escalations are written here.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from ivr.content.model import Content
from ivr.engine import flow, put_through
from ivr.engine.state import CallState
from ivr.engine.turn import Escalate, Input, Milestone, SendSms, TextOutcome, Turn
from ivr.homes import escalations, notice
from ivr.homes.directory import Association, Directory, Home
from ivr.phone import caller_id, mask
from ivr.phone_line import twiml
from ivr.phone_line.tokens import Sealer
from ivr.store.counts import Counts
from ivr.store.database import Store, StoreError, Transaction
from ivr.store.deadline import Deadline, unless_abandoned
from ivr.texts import emails, outbox
from ivr.texts.caps import CallerHash, TextLimits, queue_within_caps
from ivr.texts.compose import compose

log = logging.getLogger("ivr.phone_line.calls")
T = TypeVar("T")


@dataclass(frozen=True)
class LineConfig:
    """What the phone line is told once, at start, from the settings and the line (built in web.py)."""

    base_url: str  # the public address, or "" for URLs relative to the request
    voice: twiml.TwilioVoice
    limits: TextLimits
    escalation_contact: str | None
    crown_dependency_mobiles: bool
    association: Association


class GuardedDirectory:
    """A look-up the database cannot answer finds no home, so the call goes on as for a caller we do not know.
    (The phone line's directory reads within the deadline, and from memory between reads: KeptDirectory.)"""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def home(self, ods: str) -> Home | None:
        return self._look_up(lambda: self.directory.home(ods), None)

    def home_for_landline(self, number: str) -> Home | None:
        return self._look_up(lambda: self.directory.home_for_landline(number), None)

    def homes_for_keys(self, keys: str) -> list[Home]:
        return self._look_up(lambda: self.directory.homes_for_keys(keys), [])

    def _look_up(self, work: Callable[[], T], otherwise: T) -> T:
        try:
            return work()
        except StoreError:
            log.exception("a directory look-up failed; the call goes on without it")
            return otherwise


class Calls:
    def __init__(
        self,
        content: Content,
        store: Store,
        directory: Directory,
        config: LineConfig,
        sealer: Sealer,
        caller_hash: CallerHash,
        counts: Counts,
        deadline: Deadline | None = None,
    ) -> None:
        self.content = content
        self.store = store
        self.counts = counts
        self.deadline = deadline or Deadline()
        self.directory = GuardedDirectory(directory)
        self.config = config
        self.sealer = sealer
        self.caller_hash = caller_hash

    def incoming(self, call_sid: str, caller: str | None) -> str:
        """A call comes in: the greeting and the main menu; the call record and its first milestone counted."""
        number = caller_id(caller)
        # Both from memory, read again every few seconds within the deadline (ivr/store/kept.py).
        try:
            today = notice.current(self.store, within=self.deadline)
        except StoreError:  # the call goes on without a notice
            log.exception("call %s: the notice could not be read", call_sid)
            today = None
        turn, state = flow.start(self.content, self.directory, caller=number,
                                 notice=today.text if today else None, association=self.config.association)  # fmt: skip

        log.info("call %s from %s: started, %s", call_sid, mask(number),
                 "a known home" if state.ods else "not a known home")  # fmt: skip
        self.counts.call_started(call_sid)
        self.counts.milestone(call_key(call_sid), "call_started")
        return self.finish(call_sid, number, turn, state)

    def turn(self, call_sid: str, caller: str | None, token: str, given: Input) -> str:
        """The caller's answer to the turn whose state is sealed in `token`."""
        state = self.sealer.open(token, call_sid)
        if state is None:
            # A token from another call, tampered with, or sealed under a key no longer known: the
            # engine's restart (its node is no node) apologises and plays the main menu.
            log.warning("call %s: a token that does not open; starting again at the main menu", call_sid)
            state = CallState(node="")
        if state.line is None:  # sealed by a release before put-throughs: the calling number is here to classify
            state = put_through.classify(state, caller_id(caller))
        turn, state = flow.advance(self.content, self.directory, state, given,
                                   crown_dependency_mobiles=self.config.crown_dependency_mobiles,
                                   association=self.config.association)  # fmt: skip
        return self.finish(call_sid, caller_id(caller), turn, state)

    def dialled(
        self, call_sid: str, caller: str | None, token: str, status: str | None, call_status: str | None
    ) -> str:
        """Back from the helpdesk call a put-through made (the <Dial action>), perhaps hours later.

        `status` is Twilio's DialCallStatus (none when the <Dial> never started); `call_status` the caller's
        own call's: "completed" when they hung up during the helpdesk call, so there is no one to ask.
        The token names its node by a stable name, so it still opens after a deploy made meanwhile.
        """
        state = self.sealer.open(token, call_sid)
        if state is None:
            log.warning("call %s: back from the helpdesk with a token that does not open", call_sid)
            state = CallState(node="")
        log.info("call %s: the helpdesk call ended: %s", call_sid, status or "never started")
        gone = call_status == "completed"
        turn, state = flow.dialled(self.content, self.directory, state, status or "failed", caller_gone=gone,
                                   association=self.config.association)  # fmt: skip
        return self.finish(call_sid, caller_id(caller), turn, state)

    def finish(self, call_sid: str, caller: str | None, turn: Turn, state: CallState) -> str:
        """Write what the turn asked for, word how it went, and give the TwiML with the next sealed URLs."""
        key = call_key(call_sid)
        for step in turn:  # counted behind the webhook: no caller waits for a count (ivr/store/counts.py)
            if isinstance(step, Milestone):
                self.counts.milestone(key, step.kind, step.detail)
        outcomes = self.write(call_sid, caller, turn, state) if _asks_for_writes(turn) else {}
        turn, state = flow.settle(self.content, turn, state, outcomes, association=self.config.association)
        token = self.sealer.seal(state, call_sid)
        base = self.config.base_url
        action = f"{base}/voice/turn/{token}"
        urls = twiml.Urls(action=action, silence=f"{action}/silence", dialled=f"{base}/voice/dialled/{token}",
                          caller=caller)  # fmt: skip
        return twiml.render(turn, urls, self.config.voice)

    def write(self, call_sid: str, caller: str | None, turn: Turn, state: CallState) -> Mapping[str, TextOutcome]:
        """The turn's texts and escalation in one short transaction, each at most once however often Twilio retries."""
        key = call_key(call_sid)

        def work(still_wanted: Callable[[], bool]) -> dict[str, TextOutcome]:
            outcomes: dict[str, TextOutcome] = {}
            with self.store.transaction() as tx:
                for step in turn:
                    if isinstance(step, SendSms) and step.follow_up:
                        # The rest of the script rides on the first text's allowance: the caps count requests.
                        first_queued = "queued" in outcomes.values()
                        outcomes[step.purpose] = self.follow_up(tx, call_sid, step, state) if first_queued else "limit"
                    elif isinstance(step, SendSms):
                        outcomes[step.purpose] = self.queue(tx, call_sid, caller, step, state)
                        if outcomes[step.purpose] == "queued":
                            tx.milestone(key, "text_queued", step.purpose)
                    elif isinstance(step, Escalate):
                        self.escalate(tx, call_sid, step)
                unless_abandoned(still_wanted)  # the caller is being told it could not be done
            return outcomes

        try:
            return self.deadline.run(work)
        except StoreError:
            log.exception("call %s: what the turn asked for could not be written; the caller is told", call_sid)
            return {step.purpose: "unavailable" for step in turn if isinstance(step, SendSms)}

    def queue(self, tx: Transaction, call_sid: str, caller: str | None, step: SendSms, state: CallState) -> TextOutcome:
        """The text goes to the outbox within the caps; a worker sends it, never the webhook."""
        body = compose(self.content, step.purpose, ods=step.ods, mailbox=state.mailbox_address(),
                       ticket=step.ticket, reason=step.reason, association=self.config.association)  # fmt: skip
        outcome = queue_within_caps(
            tx, self.config.limits, key=outbox.call_text_key(call_sid, step.purpose), call_sid=call_sid,
            purpose=step.purpose, to=step.to, body=body, caller_hash=self.caller_hash(caller),
        )  # fmt: skip
        log.info("call %s: text %r to %s: %s", call_sid, step.purpose, mask(step.to), outcome)
        return outcome

    def follow_up(self, tx: Transaction, call_sid: str, step: SendSms, state: CallState) -> TextOutcome:
        body = compose(self.content, step.purpose, ods=step.ods, mailbox=state.mailbox_address(),
                       association=self.config.association)  # fmt: skip
        tx.enqueue_text(key=outbox.call_text_key(call_sid, step.purpose), call_sid=call_sid, purpose=step.purpose,
                        to=step.to, body=body, capped=False)  # fmt: skip
        return "queued"

    def escalate(self, tx: Transaction, call_sid: str, step: Escalate) -> None:
        """Record the ticket, and text the care association's contact: a notice, not counted against the caps."""
        home = self.directory.home(step.ods) if step.ods else None
        name = home.name if home else None
        key = f"call:{call_sid}:escalation:{step.ticket}"
        added = escalations.record(tx, key=key, call_sid=call_sid, ods=step.ods, home_name=name,
                                   ticket=step.ticket, reason=step.reason, callback=step.callback)  # fmt: skip
        contact = self.config.escalation_contact
        body = compose(self.content, "escalation_notice", ods=step.ods, ticket=step.ticket, reason=step.reason,
                       home=name, callback=step.callback, association=self.config.association)  # fmt: skip
        if added and contact:
            tx.enqueue_text(key=key, call_sid=call_sid, purpose="escalation_notice", to=contact, body=body,
                            capped=False)  # fmt: skip
        address = self.config.association.email
        if added and address:  # the association follows it up: the same words as the text, by email too
            emails.enqueue(tx, key=key, purpose="escalation_notice", to=address, body=escalation_email(body),
                           subject=f"NHSmail escalation: helpdesk ticket {step.ticket}")  # fmt: skip
        log.info("call %s: escalation for %s, to ring back on %s, %s%s", call_sid,
                 "a known home" if step.ods else "an unknown home", mask(step.callback),
                 "recorded" if added else "already recorded",
                 "" if contact else "; IVR_ESCALATION_CONTACT is not set, so no text")  # fmt: skip

    def ended(self, call_sid: str, status: str, duration: int | None) -> bool:
        """Twilio's status callback: the call record finished, and its end counted."""
        def work(_still_wanted: Callable[[], bool]) -> bool:
            with self.store.transaction(durable=False) as tx:  # counts: see Store.transaction
                known = tx.end_call(call_sid, status, duration)
                tx.milestone(call_key(call_sid), "call_ended", status)
            return known

        return self.deadline.run(work)

    def trouble(self) -> str:
        return twiml.trouble(self.content, self.config.voice)


def escalation_email(text: str) -> str:
    """The email's body: the text's words, and where to follow it up."""
    return (f"{text}\n\nA caller passed this helpdesk ticket on to you from the NHSmail helpdesk companion. "
            "Follow it up, and close it with a note, under Escalations in the operator console (or with "
            "`ivr escalations`).\n")


def call_key(call_sid: str) -> str:
    """What milestones know a call by: the same for every request of one call, and not the CallSid itself."""
    return hashlib.sha256(b"ivr milestone:" + call_sid.encode()).hexdigest()[:32]


def _asks_for_writes(turn: Turn) -> bool:
    return any(isinstance(step, SendSms | Escalate) for step in turn)
