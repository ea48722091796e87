"""Prompts shown on a console page with what is known put in, and what only a call knows left as written."""

from __future__ import annotations

import string
from collections.abc import Mapping


class _Kept(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"  # filled in on the call (the caller's own code, mobile...), not here


def fill_known(text: str, values: Mapping[str, str]) -> str:
    """`text` with the placeholders `values` names filled; any other placeholder stays as written."""
    return string.Formatter().vformat(text, (), _Kept(values))
