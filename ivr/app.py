"""The Flask app factory: one app that assembles the phone line's webhooks and the operator console
behind the platform's proxy.

Gunicorn and `ivr serve` build it with `ivr.app:create_app()`; tests pass their own settings,
content and store. Nothing is built at import time.
"""

from __future__ import annotations

import logging

from flask import Flask, Request, Response, current_app
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from ivr import console, privacy
from ivr.content.loader import ContentError, load
from ivr.content.model import Content
from ivr.homes.directory import Directory
from ivr.line import Line, line_for
from ivr.phone_line.web import PhoneLine, association, check_signature_settings, text_limits
from ivr.settings import ConfigurationError, Settings, SettingsError, load_settings
from ivr.store import readiness
from ivr.store.database import Store, StoreError
from ivr.store.deadline import DatabaseUnavailable, Deadline

log = logging.getLogger("ivr.app")
STORE = "ivr.store"
READINESS = "ivr.readiness"
CONSOLE = "/console"
MAX_BODY = 64 * 1024


def create_app(
    settings: Settings | None = None,
    *,
    line: Line | None = None,
    content: Content | None = None,
    store: Store | None = None,
    directory: Directory | None = None,
) -> Flask:
    privacy.configure_logging()
    settings = settings or _settings()
    content = content or _content(settings)
    # Before the store is opened, so a missing token is the one thing reported.
    check_signature_settings(settings)
    # `ivr serve` hands over its local line; otherwise a partial set of Twilio credentials stops the app
    # here (see ivr/line.py), rather than take calls and promise texts the worker cannot send.
    line = line or _line(settings)
    store = store or Store(settings.database_url)

    app = Flask(__name__)
    app.session_interface = ConsoleSessions()
    # Flask reads any body it is sent unless told a limit: Twilio's webhooks are a few kilobytes, so a
    # larger body is refused (413) before it is read, signed or not.
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.extensions[STORE] = store
    # A deadline and breaker of its own, on two threads: a probe of a hung database answers in time and
    # cannot take the webhooks' threads, nor open their breaker.
    app.extensions[READINESS] = Deadline(settings.database_deadline_seconds, workers=2)
    app.add_url_rule("/healthz", view_func=healthz)
    app.add_url_rule("/readyz", view_func=readyz)
    PhoneLine.build(settings, line, content, store, directory).install(app)
    if settings.console:
        console.install(app, line=line, store=store, content=content, limits=text_limits(settings),
                        association=association(settings), companion_number=settings.companion_number)
    # Behind the platform's router, the hops to trust for scheme and host (IVR_TRUSTED_PROXIES, 1 by default).
    # Outermost, so that the phone line's turns, answered before Flask, see the public scheme and host too.
    hops = settings.trusted_proxies
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    return app


class ConsoleSessions(SecureCookieSessionInterface):
    """Sessions are the console's alone (its cookie's path is /console): any other request gets Flask's
    null session without building the cookie's signer, which cost the phone line's every webhook ~30 µs."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path != CONSOLE and not request.path.startswith(CONSOLE + "/"):
            return None  # Flask then gives the null session, which is never saved
        return super().open_session(app, request)


def healthz() -> Response:
    return Response("ok\n", mimetype="text/plain")


def readyz() -> Response:
    """200 "ready" when the database answers, at the schema this release needs, and may be written; else 503 and why."""
    store: Store = current_app.extensions[STORE]
    deadline: Deadline = current_app.extensions[READINESS]
    try:
        problem = deadline.run(lambda _still_wanted: readiness.problem(store))
    except DatabaseUnavailable as error:  # no answer in time, or the breaker open: its own words say which
        problem = f"database unreachable: {error}"
    except StoreError as error:
        # The driver's words (host, port, user) go to the log only: /readyz answers anyone who asks.
        log.warning("readiness: the database failed: %s", str(getattr(error, "orig", None) or error)[:300])
        problem = "database unreachable"
    if problem is None:
        return Response("ready\n", mimetype="text/plain")
    return Response(f"not ready: {problem}\n", status=503, mimetype="text/plain")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        raise ConfigurationError(str(error)) from None


def _line(settings: Settings) -> Line:
    try:
        return line_for(settings)
    except SettingsError as error:
        raise ConfigurationError(str(error)) from None


def startup_problem() -> str | None:
    """What would stop the web app, checked once in gunicorn's master so the operator sees one line."""
    try:
        settings = _settings()
        _content(settings)
        check_signature_settings(settings)
        _line(settings)
    except ConfigurationError as error:
        return str(error)
    return None


def _content(settings: Settings) -> Content:
    try:
        return load(settings.prompts_dir)
    except ContentError as error:
        raise ConfigurationError("the content in prompts/ has problems: " + "; ".join(error.problems)) from None
