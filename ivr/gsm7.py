"""The GSM-7 alphabet and segment counting, as Twilio counts a text.

A text in GSM-7 fits 160 characters in one segment, or 153 per segment once it
is split (the rest carries the part header). Characters of the extension table
take two septets each. Anything outside the alphabet forces UCS-2, where the
limits are 70 and 67: content checks keep every template inside GSM-7.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = frozenset("^{}\\[~]|€\f")

SINGLE_GSM7 = 160
MULTI_GSM7 = 153
SINGLE_UCS2 = 70
MULTI_UCS2 = 67


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def non_gsm7(text: str) -> list[str]:
    """The characters of `text` that GSM-7 cannot carry, in order, once each."""
    seen: list[str] = []
    for char in text:
        if char not in BASIC and char not in EXTENSION and char not in seen:
            seen.append(char)
    return seen


# Typed names often carry typography GSM-7 lacks; one such character would turn a whole text
# into UCS-2 and more than double its parts.
PLAIN = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u2026": "...",
    "\u00a0": " ",
})  # fmt: skip


def plain(text: str) -> str:
    """`text` in GSM-7 characters: typography made plain, accents GSM-7 lacks dropped (Á -> A), else '?'."""
    return "".join(_plain_char(char) for char in text.translate(PLAIN))


def _plain_char(char: str) -> str:
    if char in BASIC or char in EXTENSION:
        return char
    bare = "".join(part for part in unicodedata.normalize("NFKD", char) if not unicodedata.combining(part))
    return bare if bare and all(part in BASIC for part in bare) else "?"


def septets(text: str) -> int:
    return sum(_septets(char) for char in text)


def _septets(char: str) -> int:
    return 2 if char in EXTENSION else 1


def _utf16_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def count(text: str) -> SegmentCount:
    if not non_gsm7(text):
        size, single, multi, encoding = _septets, SINGLE_GSM7, MULTI_GSM7, "GSM-7"
    else:
        size, single, multi, encoding = _utf16_units, SINGLE_UCS2, MULTI_UCS2, "UCS-2"
    units = sum(size(char) for char in text)
    if units <= single:
        return SegmentCount(encoding=encoding, units=units, segments=1 if units else 0)
    # Split as the phone network splits: a character is never cut between two parts (an extension
    # character's escape and its code, a surrogate pair), so a part may hold one unit less.
    segments, used = 1, 0
    for char in text:
        if used + size(char) > multi:
            segments, used = segments + 1, 0
        used += size(char)
    return SegmentCount(encoding=encoding, units=units, segments=segments)
