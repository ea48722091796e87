"""The Twilio webhooks as a blueprint: the routes, the signature check, and answers that are always TwiML.

Twilio calls POST /voice when a call comes in, then the <Gather action> or <Redirect> URL of
each turn, which carries the call's state sealed in a token (tokens.py). A turn's work is
calls.py's, with no Flask in it: this module only parses the form, checks the signature and
wraps the body in a response. A request Twilio retries carries the same token and input, so it
gets the same body, and its side effects are kept once by their keys.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Blueprint, Flask, Response, current_app, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.exceptions import HTTPException

from ivr.content.model import Content
from ivr.engine.turn import Digits, Input, Silence, Speech
from ivr.homes.directory import Directory
from ivr.homes.directory_store import StoreDirectory
from ivr.line import Line
from ivr.phone_line import twiml
from ivr.phone_line.calls import Calls, LineConfig
from ivr.phone_line.tokens import Sealer, derive_key
from ivr.settings import ConfigurationError, Settings
from ivr.store.database import Store
from ivr.texts import outbox
from ivr.texts.caps import CallerHash, TextLimits
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
    def build(
        cls, settings: Settings, line: Line, content: Content, store: Store, directory: Directory | None = None
    ) -> PhoneLine:
        """The phone line over `store`; the factory calls check_signature_settings first."""
        token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
        limits = text_limits(settings)
        caller_hash = CallerHash(derive_key(line.secret_key, CALLER_HASH_LABEL, 32))
        config = LineConfig(
            base_url=settings.public_base_url or "",
            voice=twiml.TwilioVoice(settings.twilio_voice, settings.twilio_language, settings.twilio_slow_rate),
            limits=limits,
            escalation_contact=settings.escalation_contact,
            crown_dependency_mobiles=settings.crown_dependency_mobiles,
        )
        sealer = Sealer(line.secret_key, line.previous_secret_key)
        return cls(
            calls=Calls(content, store, directory or StoreDirectory(store), config, sealer, caller_hash),
            texts=InboundTexts(content, store, limits, caller_hash),
            store=store,
            validator=RequestValidator(token),
            validate_signature=settings.validate_signature,
            public_base_url=settings.public_base_url,
        )

    def install(self, app: Flask) -> None:
        app.extensions[EXTENSION] = self
        app.register_blueprint(phone_line)


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
            return _twiml(current_line().calls.trouble())

    return safe


phone_line = Blueprint("phone_line", __name__)


@phone_line.post("/voice")
@twilio_only
@always_twiml
def incoming() -> Response:
    form = request.form
    return _twiml(current_line().calls.incoming(_call_sid(form), form.get("From")))


@phone_line.post("/voice/turn/<token>")
@twilio_only
@always_twiml
def answer(token: str) -> Response:
    form = request.form
    given: Input
    if form.get("Digits") is not None:
        given = Digits(form["Digits"])
    elif form.get("SpeechResult"):
        given = Speech(form["SpeechResult"])
    else:
        given = Silence()
    return _twiml(current_line().calls.turn(_call_sid(form), form.get("From"), token, given))


@phone_line.post("/voice/turn/<token>/silence")
@twilio_only
@always_twiml
def silence(token: str) -> Response:
    form = request.form
    return _twiml(current_line().calls.turn(_call_sid(form), form.get("From"), token, Silence()))


@phone_line.post("/voice/status")
@twilio_only
def status() -> Response:
    form = request.form
    duration = form.get("CallDuration")
    known = current_line().calls.ended(
        _call_sid(form), form.get("CallStatus", "unknown")[:32],
        int(duration) if duration and duration.isdigit() else None,
    )  # fmt: skip
    log.info("call %s ended: %s, %s s%s", form.get("CallSid"), form.get("CallStatus"), duration,
             "" if known else " (not a call we know)")
    return Response(status=204)


@phone_line.post("/voice/fallback")
@twilio_only
def fallback() -> Response:
    log.error("Twilio used the fallback URL for call %s: %s", request.form.get("CallSid"),
              request.form.get("ErrorCode", "no error code"))
    return _twiml(current_line().calls.trouble())


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
        return _twiml(current_line().calls.trouble())
    return error


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
