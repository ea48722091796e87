"""The operator console: the digital officer's pages under /console, in the same app as the phone line.

Server-rendered (Jinja templates and one stylesheet shipped in the package, no script at all),
behind its own sign-in, over the same library functions as the `ivr` commands, so no rule is
written twice. Only ivr.app imports it: `install(app, ...)` when IVR_CONSOLE is on.
"""

from __future__ import annotations

from flask import Flask

from ivr.console import card, guard, hear_page, homes_page, pages, usage_page  # noqa: F401  (they add their routes to the blueprint)
from ivr.console.blueprint import EXTENSION, Console, blueprint
from ivr.content.model import Content
from ivr.homes.directory import Association
from ivr.line import Line, derive_key
from ivr.store.database import Store
from ivr.texts.caps import TextLimits

SESSION_LABEL = "ivr console session cookie v1"  # HKDF label: this key signs console sessions and nothing else


def install(app: Flask, *, line: Line, store: Store, content: Content, limits: TextLimits,
            association: Association | None = None, companion_number: str | None = None) -> None:  # fmt: skip
    app.extensions[EXTENSION] = Console(store=store, content=content, limits=limits,
                                        association=association or Association(),
                                        companion_number=companion_number)  # fmt: skip
    # The session cookie is signed with a key of its own, derived from IVR_SECRET_KEY, so it is the same in
    # every process; a new root secret signs everyone out once IVR_SECRET_KEY_PREVIOUS is unset.
    app.secret_key = line.derive(SESSION_LABEL)
    if line.previous_secret_key:  # while IVR_SECRET_KEY changes, sessions signed before it stay good
        app.config["SECRET_KEY_FALLBACKS"] = [derive_key(line.previous_secret_key, SESSION_LABEL)]
    app.config.update(
        SESSION_COOKIE_NAME="ivr_console",
        SESSION_COOKIE_PATH="/console",  # never sent with the phone line's webhooks
        SESSION_COOKIE_SECURE=True,  # browsers treat http://127.0.0.1 and localhost as secure too
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=guard.IDLE,  # renewed on each request, so this is the idle limit
        # The longest console form is a note; Twilio's posts are far smaller. Flask has no body limit by default.
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    app.register_blueprint(blueprint)

