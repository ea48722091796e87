"""UK telephone numbers: which mobiles may receive a text, and how numbers appear in logs."""

from __future__ import annotations

from typing import Literal

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

# Guernsey, Jersey and the Isle of Man share +44 but are not GB to phonenumbers.
CROWN_DEPENDENCIES = frozenset({"GG", "JE", "IM"})


def uk_mobile(text: str, *, allow_crown_dependencies: bool = False) -> str | None:
    """The number in E.164 if `text` is a mobile a text can be sent to, else None.

    Only true mobiles pass: phonenumbers classes 070 as personal numbering and 076 as
    pagers, and landlines, 03 and premium ranges are other types again.
    """
    allowed = {"GB"} | (CROWN_DEPENDENCIES if allow_crown_dependencies else set())
    return _e164_of(text, allowed, frozenset({PhoneNumberType.MOBILE}))


# Kinds of number the care association may ring a caller back on: no premium, shared-cost or pager ranges.
CALLBACK_TYPES = frozenset({
    PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.UAN,
    PhoneNumberType.VOIP,
})  # fmt: skip


def uk_callback(text: str) -> str | None:
    """The number in E.164 if `text` is a UK landline or mobile someone can be rung back on, else None."""
    return _e164_of(text, {"GB"} | CROWN_DEPENDENCIES, CALLBACK_TYPES)


def _e164_of(text: str, regions: set[str], types: frozenset[int]) -> str | None:
    """`text` in E.164 if it is a valid number of one of `regions` and one of `types`, else None."""
    try:
        number = phonenumbers.parse(text, "GB")
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or phonenumbers.region_code_for_number(number) not in regions:
        return None
    if phonenumbers.number_type(number) not in types:
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def national_digits(e164: str) -> str:
    """'+447400123456' -> '07400123456', as a caller would key it."""
    number = phonenumbers.parse(e164, "GB")
    return "0" + str(number.national_number)


def mask(number: str | None) -> str:
    """Keep only the last three digits, for logs: '+447400123456' -> '*********456'."""
    if not number:
        return "(none)"
    digits = [c for c in number if c.isdigit()]
    if len(digits) <= 3:
        return "*" * len(digits)
    return "*" * (len(digits) - 3) + "".join(digits[-3:])


# Twilio's stand-ins for a withheld number: not a number anyone can be reached on.
WITHHELD = frozenset({"", "anonymous", "restricted", "unknown", "private", "+266696687", "+7378742833", "+2562533"})


def caller_id(text: str | None) -> str | None:
    """The caller's number in E.164, or None when it is withheld or not a number at all."""
    if text is None or text.strip().lower() in WITHHELD:
        return None
    value = text.strip()
    if not value.startswith("+") or not value[1:].isdigit() or not 8 <= len(value) <= 16:
        return None
    return value


# The calling number as a put-through sees it: a home's registered landline (known from the directory, so
# never decided here), another UK geographic landline (01, 02), a mobile, a number abroad, another UK number
# (03, 08, VoIP, pagers...), or withheld.
LineKind = Literal["registered", "landline", "mobile", "abroad", "other", "withheld"]


def line_kind(number: str | None) -> LineKind:
    """What a calling number (E.164, or None when withheld) is, for putting the caller through.

    Only a UK geographic number is a landline here: the helpdesk knows homes by the landline
    registered with the CQC, and those are 01 and 02 numbers. The Crown Dependencies' numbers share
    +44 but are not GB to phonenumbers: they count as abroad, as their calls are priced.
    """
    if number is None:
        return "withheld"
    try:
        parsed = phonenumbers.parse(number, "GB")
    except NumberParseException:
        return "other"
    if not phonenumbers.is_valid_number(parsed):
        return "other"
    if phonenumbers.region_code_for_number(parsed) != "GB":
        return "abroad"
    kind = phonenumbers.number_type(parsed)
    if kind == PhoneNumberType.MOBILE:
        return "mobile"
    geographic = str(parsed.national_number)[:1] in ("1", "2")
    if kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE) and geographic:
        return "landline"
    return "other"
