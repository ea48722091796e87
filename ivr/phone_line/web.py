"""The Twilio webhooks as a blueprint: the routes, the signature check, and answers that are always TwiML.

Twilio calls POST /voice when a call comes in, then the <Gather action> or <Redirect> URL of
each turn, which carries the call's state sealed in a token (tokens.py). The turns themselves are
answered in front of Flask (fast_turns.py); the rest are routes here. A turn's work is calls.py's,
with no Flask in it: this module only checks the signature (twilio_request.py) and wraps the body in
a response. A request Twilio retries carries the same token and input, so it gets the same body, and
its side effects are kept once by their keys.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request

from ivr.content.model import Content
from ivr.homes.directory import Association, Directory
from ivr.homes.directory_store import KeptDirectory
from ivr.line import Line
from ivr.phone import mask
from ivr.phone_line import form as caller_form
from ivr.phone_line import twiml
from ivr.phone_line.calls import Calls, LineConfig
from ivr.phone_line.fast_turns import FastTurns
from ivr.phone_line.signature import Signatures
from ivr.phone_line.tokens import Sealer, derive_key
from ivr.phone_line.twilio_request import call_sid, log_failure, parameters, signed
from ivr.settings import ConfigurationError, Settings
from ivr.store.counts import Counts
from ivr.store.database import Store, StoreError
from ivr.store.deadline import Deadline
from ivr.texts import outbox
from ivr.texts.caps import CallerHash, TextLimits
from ivr.texts.inbound import InboundTexts

log = logging.getLogger("ivr.phone_line.web")
TWIML = "text/xml"
EXTENSION = "ivr.phone_line"
# Everything Twilio calls lives under these: any path or method there is Twilio's or no one's.
TWILIO_PREFIXES = ("/voice", "/sms")


@dataclass(frozen=True)
class PhoneLine:
    """What the webhooks share between requests: built once by the app factory, kept on the app."""

    calls: Calls
    texts: InboundTexts
    store: Store
    deadline: Deadline
    signatures: Signatures
    validate_signature: bool
    public_base_url: str | None

    @classmethod
    def build(
        cls, settings: Settings, line: Line, content: Content, store: Store, directory: Directory | None = None
    ) -> PhoneLine:
        """The phone line over `store`; the factory calls check_signature_settings first."""
        content = content.with_line(put_through=settings.put_through,
                                    press_options=settings.put_through_press_options)  # fmt: skip
        token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
        limits = text_limits(settings)
        caller_hash = CallerHash(derive_key(line.secret_key, CALLER_HASH_LABEL, 32))
        config = LineConfig(
            base_url=settings.public_base_url or "",
            voice=twiml.TwilioVoice(
                settings.twilio_voice, settings.twilio_language, settings.twilio_slow_rate,
                settings.twilio_roleplay_voice,
            ),
            limits=limits,
            escalation_contact=settings.escalation_contact,
            crown_dependency_mobiles=settings.crown_dependency_mobiles,
            association=association(settings),
        )
        sealer = Sealer(line.secret_key, line.previous_secret_key)
        deadline = Deadline(settings.database_deadline_seconds)
        calls = Calls(content, store, directory or KeptDirectory(store, deadline), config, sealer, caller_hash,
                      Counts(store), deadline)  # fmt: skip
        return cls(
            calls=calls,
            texts=InboundTexts(content, store, limits, caller_hash, association(settings)),
            store=store,
            deadline=deadline,
            signatures=Signatures(token),
            validate_signature=settings.validate_signature,
            public_base_url=settings.public_base_url,
        )

    def refuses(self, request: Request) -> bool:
        """Whether this request is refused: the signature is checked, and Twilio did not sign it."""
        return self.validate_signature and not signed(request, self.signatures, self.public_base_url)

    def install(self, app: Flask) -> None:
        app.extensions[EXTENSION] = self
        # One database deadline for the whole request, however many times it uses the database.
        app.before_request(self.deadline.begin_request)
        app.teardown_request(lambda _error: self.deadline.end_request())
        # On the app, not the blueprint: a blueprint's hooks never see a path it has no route for.
        app.before_request(twilio_paths_only)
        app.register_blueprint(phone_line)
        # A call's turns, all but one of its requests, are answered before Flask (fast_turns.py).
        app.wsgi_app = FastTurns(app.wsgi_app, self, app.config.get("MAX_CONTENT_LENGTH"))  # type: ignore[method-assign]


# Callers' numbers are counted for the caps under a key of their own, derived from IVR_SECRET_KEY.
CALLER_HASH_LABEL = b"ivr: caller hash for the daily caps, v1"


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
    elif settings.public_base_url is None and settings.trusted_proxies > 0:
        log.warning(
            "PUBLIC_BASE_URL is not set: the address Twilio signed is taken from the X-Forwarded-Host header, "
            "trusted from %d proxy hop(s) (IVR_TRUSTED_PROXIES); set PUBLIC_BASE_URL to the address Twilio calls",
            settings.trusted_proxies,
        )


def current_line() -> PhoneLine:
    line = current_app.extensions.get(EXTENSION)
    if not isinstance(line, PhoneLine):
        raise RuntimeError("the phone line was not installed on this app: build it with ivr.app.create_app")
    return line


def twilio_only(view: Callable[..., Response]) -> Callable[..., Response]:
    """Refuse, with 403 and no TwiML, any request not signed by Twilio with our auth token."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Response:
        refusal = signature_refusal()
        return refusal if refusal is not None else view(*args, **kwargs)

    return checked


def twilio_paths_only() -> Response | None:
    """Before routing: whatever the path or method under /voice and /sms, no signature, no answer.

    Otherwise an unknown path or a GET would reach the TwiML answered for a wrong path, to anyone.
    """
    return signature_refusal() if any(under(request.path, prefix) for prefix in TWILIO_PREFIXES) else None


def under(path: str, prefix: str) -> bool:
    """The prefix itself or a path below it: /voice/turn/1 is under /voice, /voicemail is not."""
    return path == prefix or path.startswith(prefix + "/")


def signature_refusal() -> Response | None:
    """A 403 for a request Twilio did not sign; None when it did (checked once a request)."""
    if g.get("twilio_signed"):
        return None
    if current_line().refuses(request):
        return Response(status=403)
    g.twilio_signed = True
    return None


def always_twiml(view: Callable[..., Response]) -> Callable[..., Response]:
    """Whatever goes wrong inside a webhook, the caller hears an apology and the helpdesk number."""

    @wraps(view)
    def safe(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except Exception:
            log_failure(request)
            return _twiml(current_line().calls.trouble())

    return safe


phone_line = Blueprint("phone_line", __name__)


@phone_line.post("/voice")
@twilio_only
@always_twiml
def incoming() -> Response:
    form = twilio_form()
    return _twiml(current_line().calls.incoming(call_sid(form), form.get("From")))


@phone_line.post("/voice/dialled/<token>")
@twilio_only
@always_twiml
def dialled(token: str) -> Response:
    """Twilio's <Dial action>: the helpdesk call a put-through made has ended (busy, unanswered, or over)."""
    form = twilio_form()
    status, call_status = form.get("DialCallStatus"), form.get("CallStatus")
    return _twiml(current_line().calls.dialled(call_sid(form), form.get("From"), token,
                                               status[:32] if status else None, call_status))  # fmt: skip


@phone_line.post("/voice/status")
@twilio_only
def status() -> Response:
    form = twilio_form()
    duration = caller_form.duration(form.get("CallDuration"))
    try:
        known = current_line().calls.ended(call_sid(form), form.get("CallStatus", "unknown")[:32], duration)
    except (StoreError, ValueError):  # Twilio does not call again: say it in the log, never answer 500
        log.exception("the end of call %s could not be recorded", caller_form.logged(form.get("CallSid")))
        return Response(status=204)
    log.info("call %s ended: %s, %s s%s", caller_form.logged(form.get("CallSid")),
             caller_form.logged(form.get("CallStatus")), duration, "" if known else " (its start not yet recorded)")
    return Response(status=204)


@phone_line.post("/voice/fallback")
@twilio_only
def fallback() -> Response:
    log.error("Twilio used the fallback URL for call %s: %s", caller_form.logged(twilio_form().get("CallSid")),
              caller_form.logged(twilio_form().get("ErrorCode", "no error code")))
    return _twiml(current_line().calls.trouble())


@phone_line.post("/sms/status")
@twilio_only
def sms_status() -> Response:
    form = twilio_form()
    line = current_line()
    try:
        changed = line.deadline.run(lambda _still_wanted: outbox.record_delivery(
            line.store, form.get("MessageSid", ""), form.get("MessageStatus", "")))  # fmt: skip
    except StoreError:
        log.exception("the delivery of text %s could not be recorded", caller_form.logged(form.get("MessageSid")))
        return Response(status=204)
    log.info("text %s: %s%s", caller_form.logged(form.get("MessageSid")), caller_form.logged(form.get("MessageStatus")),
             "" if changed else " (no change)")
    return Response(status=204)


@phone_line.post("/sms")
@twilio_only
def inbound_sms() -> Response:
    response = MessagingResponse()
    line = current_line()
    form = dict(twilio_form())  # read here: the deadline's worker thread has no request of its own
    try:
        # Not abandoned once the webhook stops waiting: the sender was promised nothing, so a text they asked
        # for by keyword that the database takes late, as a hang ends, is still what they asked for.
        answer = line.deadline.run(lambda _still_wanted: line.texts.reply(form))
    except StoreError:
        # No reply rather than a 500. A STOP still holds: Twilio itself stops texts to that number, and the
        # worker records its refusal (21610) as an opt-out.
        log.exception("a text from %s could not be handled", mask(twilio_form().get("From")))
        answer = None
    if answer is not None:
        response.message(answer)
    return Response(str(response), mimetype=TWIML)


@phone_line.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response | HTTPException:
    # A wrong method or path under /voice must still be TwiML: Twilio would say "application error".
    if under(request.path, "/voice") and error.code in (404, 405):
        log.warning("%s %s: %s", caller_form.logged(request.method), caller_form.logged(request.path), error.code)
        return _twiml(current_line().calls.trouble())
    return error


def twilio_form() -> Mapping[str, str]:
    return parameters(request)


def _twiml(body: str) -> Response:
    return Response(body, mimetype=TWIML)
