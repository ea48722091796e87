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


@dataclass(frozen=True)
class Association:
    """The care association callers are told to contact when the helpdesk did not help.

    The front-ends build it from settings (IVR_ASSOCIATION_*) and hand it in as plain values, as they hand
    in the directory: the engine and the texts read no settings. Any part may be missing; the content
    then names no one ("your care association's digital team").
    """

    name: str | None = None
    phone: str | None = None  # as written: "01522 123456"
    email: str | None = None


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
    """A directory held in memory, indexed for each look-up: the rehearsal's, the tests', and the phone line's
    copy of the stored directory (ivr/homes/directory_store.py)."""

    def __init__(self, homes: list[Home] | None = None) -> None:
        self._by_ods = {home.ods: home for home in homes or []}
        owners: dict[str, list[Home]] = {}
        by_keys: dict[str, list[Home]] = {}
        for home in sorted(self._by_ods.values(), key=lambda home: home.ods):
            for number in set(home.landlines):
                owners.setdefault(number, []).append(home)
            by_keys.setdefault(keys_for(home.ods), []).append(home)
        # A number two homes share (a group's head office) recognises neither: never guess a home.
        self._by_landline = {number: found[0] for number, found in owners.items() if len(found) == 1}
        self._by_keys = by_keys

    def home(self, ods: str) -> Home | None:
        return self._by_ods.get(ods)

    def home_for_landline(self, number: str) -> Home | None:
        return self._by_landline.get(number)

    def homes_for_keys(self, keys: str) -> list[Home]:
        """Homes whose ODS code, after the V, is typed with these four keys."""
        return list(self._by_keys.get(keys, ()))


