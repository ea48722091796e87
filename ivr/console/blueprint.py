"""The console's blueprint and what its views share, kept on the app by `ivr.console.install`."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, current_app

from ivr.content.model import Content
from ivr.homes.directory import Association
from ivr.store.database import Store
from ivr.texts.caps import TextLimits

EXTENSION = "ivr.console"

blueprint = Blueprint(
    "console", __name__, url_prefix="/console", template_folder="templates", static_folder="static",
    static_url_path="/static",
)  # fmt: skip


@dataclass(frozen=True)
class Console:
    store: Store
    content: Content  # for the words of an escalation's reason, as the caller heard them
    limits: TextLimits  # a resend keeps to the callers' daily caps
    association: Association = field(default_factory=Association)  # whom texts name (the phone tree page)
    companion_number: str | None = None  # IVR_COMPANION_NUMBER, for each home's card


def current() -> Console:
    found = current_app.extensions.get(EXTENSION)
    if not isinstance(found, Console):
        raise RuntimeError("the console was not installed on this app: build it with ivr.app.create_app")
    return found
