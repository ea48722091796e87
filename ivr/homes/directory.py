"""The read-only view of the care-home directory that the engine is given.

The phone passes a store-backed directory, the rehearsal an in-memory one, so both
get the same answers from the same data while the engine itself does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ivr.speech import mailbox_address

# The letters on each key of a phone keypad, to match ODS codes keyed one key per character.
KEYPAD_LETTERS = {
    "2": "ABC", "3": "DEF", "4": "GHI", "5": "JKL", "6": "MNO", "7": "PQRS", "8": "TUV", "9": "WXYZ",
}  # fmt: skip


@dataclass(frozen=True)
class Home:
    ods: str
    name: str
    landlines: tuple[str, ...] = ()
    mobile: str | None = None
    mailbox_override: str | None = None
    postcode: str | None = None

    @property
    def mailbox(self) -> str:
        return self.mailbox_override or mailbox_address(self.ods)


class Directory(Protocol):
    def home(self, ods: str) -> Home | None: ...

    def home_for_landline(self, number: str) -> Home | None: ...

    def homes_for_keys(self, keys: str) -> list[Home]: ...


def keys_for(ods: str) -> str:
    """The four keys that type an ODS code after its V: 'VL15A' -> '5152'."""
    return "".join(key_for(char) for char in ods[1:])


def key_for(char: str) -> str:
    """The keypad key a character is typed with: digits are themselves, letters their key."""
    if char.isdigit():
        return char
    for key, letters in KEYPAD_LETTERS.items():
        if char.upper() in letters:
            return key
    raise ValueError(f"{char!r} is not on a keypad")


class InMemoryDirectory:
    """A directory held in a list: the rehearsal's, and the tests'."""

    def __init__(self, homes: list[Home] | None = None) -> None:
        self._homes = list(homes or [])

    def home(self, ods: str) -> Home | None:
        return next((home for home in self._homes if home.ods == ods), None)

    def home_for_landline(self, number: str) -> Home | None:
        # A number two homes share (a group's head office) recognises neither: never guess a home.
        found = [home for home in self._homes if number in home.landlines]
        return found[0] if len(found) == 1 else None

    def homes_for_keys(self, keys: str) -> list[Home]:
        """Homes whose ODS code, after the V, is typed with these four keys."""
        return sorted((home for home in self._homes if keys_for(home.ods) == keys), key=lambda home: home.ods)


