"""The Twilio webhooks as a blueprint: the routes, the signature check, and answers that are always TwiML.

Twilio calls POST /voice when a call comes in, then the <Gather action> or <Redirect>
URL of each turn. The store is the truth for a call's state; every URL carries only
the turn number, so a request Twilio retries is answered again from the store and
changes nothing twice.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Blueprint, Flask, Response, current_app, request
from pydantic import ValidationError
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.exceptions import HTTPException

from ivr.content.model import Content
from ivr.engine import flow
from ivr.engine.flow import CallState
from ivr.engine.turn import Digits, Escalate, Input, SendSms, Silence, Speech, Turn
from ivr.homes import escalations, notice
from ivr.homes.directory import Association, Directory
from ivr.homes.directory_store import StoreDirectory
from ivr.phone import caller_id, mask
from ivr.phone_line import twiml
from ivr.settings import ConfigurationError, Settings
from ivr.store.database import DuplicateCall, Store, Transaction
from ivr.texts import outbox
from ivr.texts.caps import DailyCaps, TextLimits
from ivr.texts.compose import compose
from ivr.texts.inbound import InboundTexts

log = logging.getLogger("ivr.phone_line.web")
TWIML = "text/xml"
EXTENSION = "ivr.phone_line"


@dataclass(frozen=True)
class PhoneLine:
    """What the webhooks share between requests: built once by the app factory, kept on the app."""

    calls: Calls
    texts: InboundTexts
    store: Store
    validator: RequestValidator
    validate_signature: bool
    public_base_url: str | None

    @classmethod
    def build(cls, settings: Settings, content: Content, store: Store, directory: Directory | None = None) -> PhoneLine:
        """The phone line over `store`; the factory calls check_signature_settings first."""
        token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
        return cls(
            calls=Calls(content, store, directory or StoreDirectory(store), settings),
            texts=InboundTexts(content, store, text_limits(settings), association(settings)),
            store=store,
            validator=RequestValidator(token),
            validate_signature=settings.validate_signature,
            public_base_url=settings.public_base_url,
        )

    def install(self, app: Flask) -> None:
        app.extensions[EXTENSION] = self
        app.register_blueprint(phone_line)


def text_limits(settings: Settings) -> TextLimits:
    """The texts' room is given its limits: only the front-ends read settings."""
    return TextLimits(
        per_mobile=settings.sms_daily_per_mobile,
        per_caller=settings.sms_daily_per_caller,
        total=settings.sms_daily_total,
        crown_dependency_mobiles=settings.crown_dependency_mobiles,
    )


def association(settings: Settings) -> Association:
    """Whom callers are told to contact, as plain values: the engine and the texts read no settings."""
    return Association(settings.association_name, settings.association_phone, settings.association_email)


def check_signature_settings(settings: Settings) -> None:
    """Refuse to start without the token that proves a request came from Twilio, unless told this is development."""
    if settings.validate_signature and settings.twilio_auth_token is None:
        raise ConfigurationError(
            "TWILIO_AUTH_TOKEN is not set: it is needed to check that requests come from Twilio "
            "(for local development only, IVR_VALIDATE_SIGNATURE=false turns the check off)"
        )
    if not settings.validate_signature:
        log.warning("IVR_VALIDATE_SIGNATURE is false: anyone can drive this app. For local development only.")


def current_line() -> PhoneLine:
    line = current_app.extensions.get(EXTENSION)
    if not isinstance(line, PhoneLine):
        raise RuntimeError("the phone line was not installed on this app: build it with ivr.app.create_app")
    return line


def twilio_only(view: Callable[..., Response]) -> Callable[..., Response]:
    """Refuse, with 403 and no TwiML, any request not signed by Twilio with our auth token."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Response:
        line = current_line()
        if line.validate_signature:
            url = public_url(line.public_base_url)
            signature = request.headers.get("X-Twilio-Signature")
            try:
                valid = signature is not None and line.validator.validate(url, request.form.to_dict(), signature)
            except (TypeError, ValueError):  # twilio 9 raises on some malformed input
                valid = False
            if not valid:
                log.warning("refused %s %s from %s: %s Twilio signature", request.method, request.path,
                            request.remote_addr, "no" if signature is None else "a wrong")
                return Response(status=403)
        return view(*args, **kwargs)

    return checked


def always_twiml(view: Callable[..., Response]) -> Callable[..., Response]:
    """Whatever goes wrong inside a webhook, the caller hears an apology and the helpdesk number."""

    @wraps(view)
    def safe(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except Exception:
            log.exception("webhook %s failed for call %s", request.path, request.form.get("CallSid"))
            return current_line().calls.trouble()

    return safe


phone_line = Blueprint("phone_line", __name__)


@phone_line.post("/voice")
@twilio_only
@always_twiml
def incoming() -> Response:
    return current_line().calls.incoming(request.form)


@phone_line.post("/voice/turn/<int:number>")
@twilio_only
@always_twiml
def answer(number: int) -> Response:
    form = request.form
    given: Input
    if form.get("Digits") is not None:
        given = Digits(form["Digits"])
    elif form.get("SpeechResult"):
        given = Speech(form["SpeechResult"])
    else:
        given = Silence()
    return current_line().calls.advance(form, number, given)


@phone_line.post("/voice/turn/<int:number>/silence")
@twilio_only
@always_twiml
def silence(number: int) -> Response:
    return current_line().calls.advance(request.form, number, Silence())


@phone_line.post("/voice/status")
@twilio_only
def status() -> Response:
    form = request.form
    duration = form.get("CallDuration")
    with current_line().store.transaction() as tx:
        known = tx.end_call(
            form.get("CallSid", ""), form.get("CallStatus", "unknown")[:32],
            int(duration) if duration and duration.isdigit() else None,
        )
    log.info("call %s ended: %s, %s s%s", form.get("CallSid"), form.get("CallStatus"), duration,
             "" if known else " (not a call we know)")
    return Response(status=204)


@phone_line.post("/voice/fallback")
@twilio_only
def fallback() -> Response:
    log.error("Twilio used the fallback URL for call %s: %s", request.form.get("CallSid"),
              request.form.get("ErrorCode", "no error code"))
    return current_line().calls.trouble()


@phone_line.post("/sms/status")
@twilio_only
def sms_status() -> Response:
    form = request.form
    changed = outbox.record_delivery(current_line().store, form.get("MessageSid", ""), form.get("MessageStatus", ""))
    log.info("text %s: %s%s", form.get("MessageSid"), form.get("MessageStatus"), "" if changed else " (no change)")
    return Response(status=204)


@phone_line.post("/sms")
@twilio_only
def inbound_sms() -> Response:
    response = MessagingResponse()
    answer = current_line().texts.reply(request.form)
    if answer is not None:
        response.message(answer)
    return Response(str(response), mimetype=TWIML)


@phone_line.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response | HTTPException:
    # A wrong method or path under /voice must still be TwiML: Twilio would say "application error".
    if request.path.startswith("/voice") and error.code in (404, 405):
        log.warning("%s %s: %s", request.method, request.path, error.code)
        return current_line().calls.trouble()
    return error


class Calls:
    """What the webhooks do with a call: read its state, run the engine, then write state and texts together."""

    def __init__(self, content: Content, store: Store, directory: Directory, settings: Settings) -> None:
        self.content = content
        self.store = store
        self.directory = directory
        self.settings = settings
        self.limits = text_limits(settings)
        self.association = association(settings)
        self.base = settings.public_base_url or ""
        self.voice = twiml.TwilioVoice(settings.twilio_voice, settings.twilio_language, settings.twilio_slow_rate,
                                       settings.twilio_roleplay_voice)  # fmt: skip
        token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else "ivr"
        self.hash_key = hashlib.sha256(b"ivr caller hash:" + token.encode()).digest()

    def caller_hash(self, number: str | None) -> str | None:
        """A keyed hash of the calling number: enough to count its texts, not to ring it back."""
        if number is None:
            return None
        return hmac.new(self.hash_key, number.encode(), hashlib.sha256).hexdigest()[:32]

    def incoming(self, form: Any) -> Response:
        sid = _call_sid(form)
        record = self.store.read_call(sid)
        if record is not None:  # Twilio retried the first request
            return _twiml(record.response)
        today = notice.current(self.store)
        caller = caller_id(form.get("From"))
        turn, state = flow.start(self.content, self.directory, caller=caller, notice=today.text if today else None,
                                 association=self.association)  # fmt: skip
        body = self.render(turn, state)
        try:
            with self.store.transaction() as tx:
                tx.create_call(sid, state.model_dump_json(), body)
                self.enqueue(tx, sid, turn, state)
        except DuplicateCall:  # a retry of this first request was stored a moment before
            stored = self.store.read_call(sid)
            return _twiml(stored.response if stored else body)
        log.info("call %s from %s: started, %s", sid, mask(caller), "a known home" if state.ods else "not a known home")
        return _twiml(body)

    def advance(self, form: Any, number: int, given: Input) -> Response:
        """Answer turn `number`. The engine runs outside any lock; the write checks nothing moved on."""
        sid = _call_sid(form)
        record = self.store.read_call(sid)
        if record is None:
            # A call we have no record of (the database was reset mid-call): begin again.
            log.warning("call %s: turn %d for a call with no record; starting again", sid, number)
            turn, state = flow.advance(self.content, self.directory, CallState(node="", turn=number), given,
                                       association=self.association)  # fmt: skip
            body = self.render(turn, state)
            with self.store.transaction() as tx:
                tx.create_call(sid, state.model_dump_json(), body)
            return _twiml(body)
        if number == record.answered_turn:  # a retry of a turn already answered
            log.info("call %s: turn %d answered again from the store", sid, number)
            return _twiml(record.response)
        try:
            state = CallState.model_validate_json(record.state)
        except ValidationError:  # stored by an older release: the engine restarts politely
            state = CallState(node="", turn=number)
        if number != state.turn:  # out of date: say again what the caller last heard
            return _twiml(record.response)
        caller = self.caller_hash(caller_id(form.get("From")))
        policy = DailyCaps(self.store, self.limits, caller_hash=caller, call_sid=sid)
        turn, state = flow.advance(
            self.content, self.directory, state, given, texting=policy,
            crown_dependency_mobiles=self.settings.crown_dependency_mobiles, association=self.association,
        )  # fmt: skip
        body = self.render(turn, state)
        with self.store.transaction() as tx:
            saved = tx.save_turn(sid, state.model_dump_json(), number, body, after=record.answered_turn)
            if saved:
                self.enqueue(tx, sid, turn, state, caller)
            else:
                winner = tx.read_call(sid)
                body = winner.response if winner else body
        return _twiml(body)

    def render(self, turn: Turn, state: CallState) -> str:
        action = f"{self.base}/voice/turn/{state.turn}"
        return twiml.render(turn, twiml.Urls(action=action, silence=f"{action}/silence"), self.voice)

    def enqueue(self, tx: Transaction, sid: str, turn: Turn, state: CallState, caller: str | None = None) -> None:
        """Texts go to the outbox in the caller's transaction; a worker sends them, never the webhook."""
        for step in turn:
            if isinstance(step, SendSms):
                body = compose(self.content, step.purpose, ods=step.ods, mailbox=state.mailbox_address(),
                               ticket=step.ticket, reason=step.reason, association=self.association)  # fmt: skip
                added = tx.enqueue_text(
                    key=outbox.call_text_key(sid, step.purpose), call_sid=sid, purpose=step.purpose, to=step.to,
                    body=body, caller_hash=caller,
                )
                log.info("call %s: text %r to %s %s", sid, step.purpose, mask(step.to),
                         "queued" if added else "already queued for this call")
            elif isinstance(step, Escalate):
                self.escalate(tx, sid, step)

    def escalate(self, tx: Transaction, sid: str, step: Escalate) -> None:
        """Record the ticket, and text the care association's contact: a notice, not counted against the caps."""
        home = self.directory.home(step.ods) if step.ods else None
        name = home.name if home else None
        key = f"call:{sid}:escalation:{step.ticket}"
        added = escalations.record(tx, key=key, call_sid=sid, ods=step.ods, home_name=name, ticket=step.ticket,
                                   reason=step.reason, callback=step.callback)  # fmt: skip
        contact = self.settings.escalation_contact
        if added and contact:
            body = compose(self.content, "escalation_notice", ods=step.ods, ticket=step.ticket, reason=step.reason,
                           home=name, callback=step.callback, association=self.association)  # fmt: skip
            tx.enqueue_text(key=key, call_sid=sid, purpose="escalation_notice", to=contact, body=body, capped=False)
        log.info("call %s: escalation for %s, to ring back on %s, %s%s", sid,
                 "a known home" if step.ods else "an unknown home", mask(step.callback), "recorded" if added else
                 "already recorded", "" if contact else "; IVR_ESCALATION_CONTACT is not set, so no text")

    def trouble(self) -> Response:
        return _twiml(twiml.trouble(self.content, self.voice))


def _call_sid(form: Any) -> str:
    sid = str(form.get("CallSid", "")).strip()
    if not sid or len(sid) > 64:
        raise ValueError("a voice request without a usable CallSid")
    return sid


def _twiml(body: str) -> Response:
    return Response(body, mimetype=TWIML)


def public_url(base: str | None) -> str:
    """The URL Twilio signed: the public address it called, with the path and query as sent.

    Werkzeug's request.url decodes escapes such as %27, which changes the signed string,
    so the URL is rebuilt from the raw request line.
    """
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw and raw.startswith(("http://", "https://")):  # an absolute-form request line
        parts = urlsplit(raw)
        raw = parts.path + (f"?{parts.query}" if parts.query else "")
    if not raw:
        query = environ.get("QUERY_STRING", "")
        raw = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")) + (f"?{query}" if query else "")
    if base:
        return base + raw
    return f"{request.scheme}://{request.host}{raw}"
