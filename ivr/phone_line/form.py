"""What a caller's request carries, cleaned and bounded before the engine or a log line sees it.

No Flask here: a form is any mapping of strings, so the rules are tested on their own. Twilio only
ever sends keypad keys in Digits and a short transcript in SpeechResult, but a request that passed
the signature check can still carry what a caller's phone or a carrier made of it, and the engine's
words echo keys back into <Say>: a control character there makes the reply ill-formed XML, and
a hundred thousand keys made a reply of 301 KB.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from ivr.engine.turn import Digits, Input, Silence, Speech

# No entry the content asks for is longer than a mobile number keyed with a restart or two.
MAX_DIGITS = 32
# A spoken ODS code with its filler words ("V for Victor, L for Lima...") is well under this.
MAX_SPEECH = 200
# Twilio ends a call after 24 hours; twice that leaves room and still fits any database integer.
MAX_DURATION = 2 * 86400
# What is shown of one request value in a log line: a CallSid is 34 characters.
MAX_LOGGED = 80

KEYPAD = re.compile(r"[0-9*#]*")
# Two keys where one is wanted, and too few for any entry (a mobile, a ticket, an ODS code):
# by the engine's own rules that is a wrong entry at every node, re-asked without echoing what came.
WRONG_KEYS = "00"
WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def caller_input(form: Mapping[str, str]) -> Input:
    """The caller's turn: the keys pressed, else what they said, else silence."""
    digits = form.get("Digits")
    if digits is not None:
        return Digits(keys(digits))
    said = speech(form.get("SpeechResult"))
    return Speech(said) if said else Silence()


def keys(digits: str) -> str:
    """Keypad keys as pressed, or WRONG_KEYS for anything a keypad cannot send or too many of them."""
    if len(digits) > MAX_DIGITS or not KEYPAD.fullmatch(digits):
        return WRONG_KEYS
    return digits


def speech(text: str | None) -> str:
    """A transcript without control or unassigned characters (not allowed in XML), bounded in length."""
    if not text:
        return ""
    return " ".join(_printable(text[: MAX_SPEECH * 2]).split())[:MAX_SPEECH]


def duration(value: str | None) -> int | None:
    """A call's length in seconds, held between 0 and MAX_DURATION; None when it is not a number at all."""
    if not value:
        return None
    value = value.strip()
    if not WHOLE_NUMBER.fullmatch(value):
        return None
    if len(value) > 12:  # past any real length (and Python will not read over 4,300 digits as a number)
        return 0 if value.startswith("-") else MAX_DURATION
    return max(0, min(int(value), MAX_DURATION))


def logged(value: object, limit: int = MAX_LOGGED) -> str:
    """A request value fit for a log line: no control characters (a forged line), and not too long."""
    text = str(value)
    shown = _printable(text[:limit], "?")
    return shown + ("..." if len(text) > limit else "")


def _printable(text: str, instead: str = " ") -> str:
    # Category C holds the control, format, surrogate, private-use and unassigned characters:
    # XML 1.0 refuses many of them, and none of them is speech, a key or part of a CallSid.
    return "".join(instead if unicodedata.category(char)[0] == "C" else char for char in text)
