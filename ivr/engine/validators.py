"""The closed, named set of checks an entry prompt may use. Content names a check; code is never named."""

from __future__ import annotations

import re

from ivr.homes.directory import KEYPAD_LETTERS, Directory

ODS_CODE = re.compile(r"V[A-Z0-9]{4}")


def ticket_number(digits: str) -> str | None:
    # Helpdesk ticket numbers are keyed as digits; any prefix letters are left off.
    return digits if re.fullmatch(r"\d{5,15}", digits) else None


def ods_candidates(keys: str, directory: Directory) -> list[str] | None:
    """The ODS codes in the directory typed by these keys (one key per character after the V).

    None when the keys cannot be an ODS code at all; an empty list when they could, but no
    home in the directory has that code.
    """
    if not re.fullmatch(r"\d{4}", keys):
        return None
    return [home.ods for home in directory.homes_for_keys(keys)]


def ods_exact(digits: str) -> str | None:
    """An ODS code keyed without ambiguity: for each character after the V, two keys.

    A letter is its key then its place on that key ('L' is 5 then 3); a digit is itself
    then 0 ('7' is 7 then 0). Eight keys in all.
    """
    if not re.fullmatch(r"\d{8}", digits):
        return None
    code = "V"
    for key, place in zip(digits[::2], digits[1::2], strict=True):
        if place == "0":
            code += key
            continue
        letters = KEYPAD_LETTERS.get(key, "")
        index = int(place) - 1
        if not 0 <= index < len(letters):
            return None
        code += letters[index]
    return code
