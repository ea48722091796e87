"""The GSM-7 alphabet and segment counting, as Twilio counts a text.

A text in GSM-7 fits 160 characters in one segment, or 153 per segment once it
is split (the rest carries the part header). Characters of the extension table
take two septets each. Anything outside the alphabet forces UCS-2, where the
limits are 70 and 67: content checks keep every template inside GSM-7.
"""

from __future__ import annotations

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


def septets(text: str) -> int:
    return sum(2 if char in EXTENSION else 1 for char in text)


def count(text: str) -> SegmentCount:
    if not non_gsm7(text):
        units = septets(text)
        single, multi, encoding = SINGLE_GSM7, MULTI_GSM7, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = SINGLE_UCS2, MULTI_UCS2, "UCS-2"
    if units <= single:
        segments = 1 if units else 0
    else:
        segments = -(-units // multi)
    return SegmentCount(encoding=encoding, units=units, segments=segments)
