"""The Flask app factory: one app that assembles the phone line's webhooks and the operator console
behind the platform's proxy.

Gunicorn and `ivr serve` build it with `ivr.app:create_app()`; tests pass their own settings,
content and store. Nothing is built at import time.
"""

from __future__ import annotations

from flask import Flask, Request, Response, current_app
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from ivr import console, privacy
from ivr.content.loader import ContentError, load
from ivr.content.model import Content
from ivr.homes.directory import Directory
from ivr.line import Line, line_for
from ivr.phone_line.web import PhoneLine, check_signature_settings, text_limits
from ivr.settings import ConfigurationError, Settings, SettingsError, load_settings
from ivr.store.database import Store

STORE = "ivr.store"
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
    # Behind the platform's router, the hops to trust for scheme and host (IVR_TRUSTED_PROXIES, 1 by default).
    hops = settings.trusted_proxies
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    app.extensions[STORE] = store
    app.add_url_rule("/healthz", view_func=healthz)
    app.add_url_rule("/readyz", view_func=readyz)
    PhoneLine.build(settings, line, content, store, directory).install(app)
    if settings.console:
        console.install(app, line=line, store=store, content=content, limits=text_limits(settings))
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
    store = current_app.extensions[STORE]
    if isinstance(store, Store) and store.ping():
        return Response("ready\n", mimetype="text/plain")
    return Response("database unreachable\n", status=503, mimetype="text/plain")


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
