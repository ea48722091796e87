"""The Flask app factory: one app that assembles the phone line's webhooks behind the platform's proxy.

Gunicorn and `ivr serve` build it with `ivr.app:create_app()`; tests pass their own settings,
content and store. Nothing is built at import time.
"""

from __future__ import annotations

from flask import Flask, Response, current_app
from pydantic import ValidationError
from werkzeug.middleware.proxy_fix import ProxyFix

from ivr import privacy
from ivr.content.model import Content, ContentError, load
from ivr.homes.directory import Directory
from ivr.phone_line.web import PhoneLine, check_signature_settings
from ivr.settings import ConfigurationError, Settings
from ivr.store.database import Store

STORE = "ivr.store"


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
    # Before the store is opened, so a missing token is the one thing reported.
    check_signature_settings(settings)
    store = store or Store(settings.database_url)

    app = Flask(__name__)
    # Behind the platform's router there is exactly one proxy hop to trust for scheme and host.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)  # type: ignore[method-assign]
    app.extensions[STORE] = store
    app.add_url_rule("/healthz", view_func=healthz)
    app.add_url_rule("/readyz", view_func=readyz)
    PhoneLine.build(settings, content, store, directory).install(app)
    return app


def healthz() -> Response:
    return Response("ok\n", mimetype="text/plain")


def readyz() -> Response:
    store = current_app.extensions[STORE]
    if isinstance(store, Store) and store.ping():
        return Response("ready\n", mimetype="text/plain")
    return Response("database unreachable\n", status=503, mimetype="text/plain")


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
