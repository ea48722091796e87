"""The closed, named set of checks an entry prompt may use. Content names a check; code is never named."""

from __future__ import annotations

import re

from ivr.directory import Directory
from ivr.phone import uk_mobile


def run(check: str, digits: str, directory: Directory, *, allow_crown_dependencies: bool = False) -> str | None:
    """The value to keep if `digits` pass `check`, else None."""
    if check == "uk_mobile":
        return uk_mobile(digits, allow_crown_dependencies=allow_crown_dependencies)
    if check == "ticket_number":
        # Helpdesk ticket numbers are keyed as digits; any prefix letters are left off.
        return digits if re.fullmatch(r"\d{5,15}", digits) else None
    if check == "ods_code":
        # The four characters after the V, one key each; accepted when exactly one home matches.
        if not re.fullmatch(r"\d{4}", digits):
            return None
        homes = directory.homes_for_keys(digits)
        return homes[0].ods if len(homes) == 1 else None
    raise ValueError(f"unknown entry check {check!r}")
