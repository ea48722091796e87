"""What every command needs before it starts: the settings and the line, or one line saying what is wrong."""

from __future__ import annotations

import click

from ivr.homes.directory import Association
from ivr.line import Line, line_for
from ivr.settings import Settings, SettingsError, load_settings


class BadSetup(click.ClickException):
    """A setting or argument a person got wrong: one line, exit status 2, never a traceback."""

    exit_code = 2


def settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        raise BadSetup(str(error)) from None


def line(chosen: Settings) -> Line:
    try:
        return line_for(chosen)
    except SettingsError as error:
        raise BadSetup(str(error)) from None


def association(chosen: Settings) -> Association:
    """Whom callers are told to contact (IVR_ASSOCIATION_*), as the plain values the engine and texts take."""
    return Association(chosen.association_name, chosen.association_phone, chosen.association_email)
