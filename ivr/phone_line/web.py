"""The Twilio webhooks: a Flask app factory, the signature check, and answers that are always TwiML.

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
from functools import wraps
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Flask, Response, request
from pydantic import ValidationError
from twilio.request_validator import RequestValidator
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from ivr import privacy, speech
from ivr.content.loader import ContentError, load
from ivr.content.model import Content
from ivr.engine import flow
from ivr.engine.flow import CallState
from ivr.engine.turn import Digits, Escalate, Input, SendSms, Silence, Speech, Turn
from ivr.homes import escalations, notice
from ivr.homes.directory import Directory
from ivr.homes.directory_store import StoreDirectory
from ivr.phone import caller_id, mask
from ivr.phone_line import twiml
from ivr.settings import Settings
from ivr.store.database import DuplicateCall, Store, Transaction
from ivr.texts import outbox
from ivr.texts.compose import compose
from ivr.texts.inbound import DailyCaps, InboundTexts

log = logging.getLogger("ivr.phone_line.web")
TWIML = "text/xml"


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong: the app must not start."""


def create_app(
    settings: Settings | None = None,
    *,
    content: Content | None = None,
    store: Store | None = None,
    directory: Directory | None = None,
) -> Flask:
    privacy.configure_logging()
    settings = settings or _settings()
    content = content or _content(settings)
    if settings.validate_signature and settings.twilio_auth_token is None:
        raise ConfigurationError(
            "TWILIO_AUTH_TOKEN is not set: it is needed to check that requests come from Twilio "
            "(for local development only, IVR_VALIDATE_SIGNATURE=false turns the check off)"
        )
    if not settings.validate_signature:
        log.warning("IVR_VALIDATE_SIGNATURE is false: anyone can drive this app. For local development only.")
    store = store or Store(settings.database_url)
    calls = Calls(content, store, directory or StoreDirectory(store), settings)
    texts = InboundTexts(content, store, settings)

    app = Flask(__name__)
    # Behind the platform's router there is exactly one proxy hop to trust for scheme and host.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)  # type: ignore[method-assign]
    guard = _twilio_only(settings)
    safe = _always_twiml(calls)

    @app.post("/voice")
    @guard
    @safe
    def incoming() -> Response:
        return calls.incoming(request.form)

    @app.post("/voice/turn/<int:number>")
    @guard
    @safe
    def answer(number: int) -> Response:
        form = request.form
        given: Input
        if form.get("Digits") is not None:
            given = Digits(form["Digits"])
        elif form.get("SpeechResult"):
            given = Speech(form["SpeechResult"])
        else:
            given = Silence()
        return calls.advance(form, number, given)

    @app.post("/voice/turn/<int:number>/silence")
    @guard
    @safe
    def silence(number: int) -> Response:
        return calls.advance(request.form, number, Silence())

    @app.post("/voice/status")
    @guard
    def status() -> Response:
        form = request.form
        duration = form.get("CallDuration")
        with store.transaction() as tx:
            known = tx.end_call(
                form.get("CallSid", ""), form.get("CallStatus", "unknown")[:32],
                int(duration) if duration and duration.isdigit() else None,
            )
        log.info("call %s ended: %s, %s s%s", form.get("CallSid"), form.get("CallStatus"), duration,
                 "" if known else " (not a call we know)")
        return Response(status=204)

    @app.post("/voice/fallback")
    @guard
    def fallback() -> Response:
        log.error("Twilio used the fallback URL for call %s: %s", request.form.get("CallSid"),
                  request.form.get("ErrorCode", "no error code"))
        return calls.trouble()

    @app.post("/sms/status")
    @guard
    def sms_status() -> Response:
        form = request.form
        changed = outbox.record_delivery(store, form.get("MessageSid", ""), form.get("MessageStatus", ""))
        log.info("text %s: %s%s", form.get("MessageSid"), form.get("MessageStatus"),
                 "" if changed else " (no change)")
        return Response(status=204)

    @app.post("/sms")
    @guard
    def inbound_sms() -> Response:
        return Response(texts.reply(request.form), mimetype=TWIML)

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok\n", mimetype="text/plain")

    @app.get("/readyz")
    def readyz() -> Response:
        if store.ping():
            return Response("ready\n", mimetype="text/plain")
        return Response("database unreachable\n", status=503, mimetype="text/plain")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | HTTPException:
        # A wrong method or path under /voice must still be TwiML: Twilio would say "application error".
        if request.path.startswith("/voice") and error.code in (404, 405):
            log.warning("%s %s: %s", request.method, request.path, error.code)
            return calls.trouble()
        return error

    return app


class Calls:
    """What the webhooks do with a call: read its state, run the engine, then write state and texts together."""

    def __init__(self, content: Content, store: Store, directory: Directory, settings: Settings) -> None:
        self.content = content
        self.store = store
        self.directory = directory
        self.settings = settings
        self.base = settings.public_base_url or ""
        self.voice = twiml.TwilioVoice(settings.voice, settings.language, settings.slow_rate)
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
        turn, state = flow.start(self.content, self.directory, caller=caller, notice=today.text if today else None)
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
            turn, state = flow.advance(self.content, self.directory, CallState(node="", turn=number), given)
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
        policy = DailyCaps(self.store, self.settings, caller_hash=caller, call_sid=sid)
        turn, state = flow.advance(
            self.content, self.directory, state, given, texting=policy,
            crown_dependency_mobiles=self.settings.crown_dependency_mobiles,
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
                               ticket=step.ticket, reason=step.reason)  # fmt: skip
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
                                   reason=step.reason)  # fmt: skip
        contact = self.settings.escalation_contact
        if added and contact:
            body = compose(self.content, "escalation_notice", ods=step.ods, ticket=step.ticket, reason=step.reason,
                           home=name)  # fmt: skip
            tx.enqueue_text(key=key, call_sid=sid, purpose="escalation_notice", to=contact, body=body, capped=False)
        log.info("call %s: escalation for %s %s%s", sid, "a known home" if step.ods else "an unknown home",
                 "recorded" if added else
                 "already recorded", "" if contact else "; IVR_ESCALATION_CONTACT is not set, so no text")

    def trouble(self) -> Response:
        phrases = self.content.phrases
        helpdesk = speech.digits_grouped(self.content.meta.helpdesk_number)
        body = twiml.apology(
            helpdesk, self.voice, phrases.trouble_sorry, phrases.trouble_number, phrases.trouble_goodbye
        )
        return _twiml(body)


def _call_sid(form: Any) -> str:
    sid = str(form.get("CallSid", "")).strip()
    if not sid or len(sid) > 64:
        raise ValueError("a voice request without a usable CallSid")
    return sid


def _twiml(body: str) -> Response:
    return Response(body, mimetype=TWIML)


def _twilio_only(settings: Settings) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Refuse, with 403 and no TwiML, any request not signed by Twilio with our auth token."""
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    validator = RequestValidator(token)

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Response:
            if settings.validate_signature:
                url = public_url(settings.public_base_url)
                signature = request.headers.get("X-Twilio-Signature")
                try:
                    valid = signature is not None and validator.validate(url, request.form.to_dict(), signature)
                except (TypeError, ValueError):  # twilio 9 raises on some malformed input
                    valid = False
                if not valid:
                    log.warning("refused %s %s from %s: %s Twilio signature", request.method, request.path,
                                request.remote_addr, "no" if signature is None else "a wrong")
                    return Response(status=403)
            return view(*args, **kwargs)

        return checked

    return decorate


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


def _always_twiml(calls: Calls) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Whatever goes wrong inside a webhook, the caller hears an apology and the helpdesk number."""

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @wraps(view)
        def safe(*args: Any, **kwargs: Any) -> Response:
            try:
                return view(*args, **kwargs)
            except Exception:
                log.exception("webhook %s failed for call %s", request.path, request.form.get("CallSid"))
                return calls.trouble()

        return safe

    return decorate


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        lines = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()]
        raise ConfigurationError("bad settings: " + "; ".join(lines)) from None


def _content(settings: Settings) -> Content:
    try:
        return load(settings.prompts_dir)
    except ContentError as error:
        raise ConfigurationError("the content in prompts/ has problems: " + "; ".join(error.problems)) from None
