"""Keeping personal data out of logs: phone numbers and ODS codes are masked in every line."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from phonenumbers import Leniency, PhoneNumberMatcher

from ivr.phone import mask

# A phone number as callers and Twilio write them: +44..., 44... or 0..., 9 to 15 digits,
# spaces allowed between. Dates, times and durations do not start that way.
PHONE = re.compile(r"(?<![\w+-])(?:%2B|\+|44|0)\d(?:[ ]?\d){7,13}(?![\w-])")
# The regex above misses numbers written with hyphens, brackets or a bracketed trunk zero
# ("07400-123-456", "(01522) 123456", "+44 (0)7400 123456"); phonenumbers' matcher finds them.
# Its POSSIBLE leniency also takes counts, years and error codes for numbers, so a match must hold
# a whole national number: UK numbers have 9 or 10 digits after the 0 or +44.
MIN_NATIONAL_DIGITS = 9
DECIMAL = re.compile(r"\d*\.\d+")  # "0.123456789 s" is a duration, not a number written with dots
# Twilio's ids (a call's CallSid, a text's MessageSid...): two capitals and 32 hex digits, in many log lines.
# Never a phone number, so the matcher is not run over them: they held most lines' digits, and it is not cheap.
TWILIO_SID = re.compile(r"(\b[A-Z]{2}[0-9a-f]{32}\b)")
# An ODS code of a care home: V and four capital letters or digits, as a word of its own.
ODS = re.compile(r"\bV[A-Z0-9]{4}\b")
# A home's shared mailbox holds its ODS code in lower case: care.vl15a@nhs.net.
MAILBOX = re.compile(r"\b[\w.+-]+@nhs\.net\b", re.IGNORECASE)


def scrub(text: str) -> str:
    return scrub_codes(_written_numbers(PHONE.sub(lambda match: mask(match.group()), text)))


def _written_numbers(text: str) -> str:
    """The second pass: numbers however they are written, found by phonenumbers (region GB), around any SIDs."""
    pieces = TWILIO_SID.split(text)  # the text, then each SID and the text after it
    return "".join(piece if index % 2 else _numbers_in(piece) for index, piece in enumerate(pieces))


def _numbers_in(text: str) -> str:
    if sum(char.isdigit() for char in text) < MIN_NATIONAL_DIGITS:
        return text  # most lines: nothing long enough to be a number, and the matcher is not cheap
    pieces, done = [], 0
    for match in PhoneNumberMatcher(text, "GB", leniency=Leniency.POSSIBLE):
        if len(str(match.number.national_number)) < MIN_NATIONAL_DIGITS or DECIMAL.fullmatch(match.raw_string):
            continue
        pieces += [text[done : match.start], mask(match.raw_string)]
        done = match.end
    return "".join(pieces) + text[done:] if pieces else text


def scrub_codes(text: str) -> str:
    """Only the home's codes: for a text printed on the console, where the helpdesk number must stay."""
    text = MAILBOX.sub("****@nhs.net", text)
    return ODS.sub(lambda match: "V****", text)


# Set on a record once it is masked: a record passes the logger's filter and then each handler's,
# and masking it again would find nothing new at the same cost.
MASKED = "ivr_masked"


class MaskingFilter(logging.Filter):
    """Rewrites each record's message, so no handler, format or library logger can leak one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, MASKED, False):
            return True
        setattr(record, MASKED, True)
        message = record.getMessage()
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        # A traceback quotes the values it failed on (a database error quotes the row): format it
        # here, cleaned, so that the handler's formatter finds it done and does not format it again.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


# A path segment shaped like a sealed call token (tokens.py): base64url ciphertext, nothing to read in it.
TOKEN_SEGMENT = re.compile(r"(?<=/)([A-Za-z0-9_-]{40,})(?=[/?\s]|$)")
# gunicorn's access-log atoms that are its own figures or the peer's address, never anything a caller sent:
# status, bytes, times, process id, protocol and method.
GUNICORN_OWN = frozenset("hlstbBTDMLpHm")
REQUEST_ATOMS = frozenset("rUq")  # the request line, its path and its query
ATOM = re.compile(r"%\(([^)]*)\)")


def scrub_request_line(text: str) -> str:
    """A request line (or path, or query) masked as any log line, except the token segments left whole.

    Whole-line masking found "numbers" among a token's random digits (a token half starred in the log),
    and the second pass's matcher cost near a millisecond on every line that had a token in it."""
    pieces = TOKEN_SEGMENT.split(text)
    pieces[::2] = [scrub(piece) for piece in pieces[::2]]  # the even pieces are between the tokens
    return "".join(pieces)


@lru_cache(maxsize=8)
def _atoms_to_mask(format_: str) -> tuple[str, ...]:
    return tuple(name for name in ATOM.findall(format_) if name not in GUNICORN_OWN)


class AccessLogMasking(logging.Filter):
    """gunicorn's access lines: masked where something of the caller's could be, the request line and
    any header or environ atom the format names; not gunicorn's own figures.

    Masked whole, the status, size and time ("200 1210 12ms") were taken for a phone number. gunicorn
    logs each line with its format and one mapping of atoms, so each atom is masked before it is formatted.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, MASKED, False):
            return True
        atoms = record.args
        if not isinstance(record.msg, str) or "%(" not in record.msg or not isinstance(atoms, dict):
            return MaskingFilter().filter(record)  # not a line of gunicorn's atoms: masked whole
        for name in _atoms_to_mask(record.msg):
            # gunicorn's atoms answer a header or environ atom ("{x-forwarded-for}i") by its lower case.
            key = name.lower() if name.startswith("{") else name
            value = atoms.get(key)
            if isinstance(value, str):
                atoms[key] = scrub_request_line(value) if key in REQUEST_ATOMS else scrub(value)
        setattr(record, MASKED, True)
        return True


def install_access_log(logger: logging.Logger) -> None:
    """Mask gunicorn's access log (gunicorn.access) atom by atom; its lines do not reach the root handlers."""
    if not any(isinstance(f, AccessLogMasking) for f in logger.filters):
        logger.addFilter(AccessLogMasking())


def install(*loggers: logging.Logger) -> None:
    """Mask every record that reaches the root handlers and the given loggers."""
    masking = MaskingFilter()
    for logger in (logging.getLogger(), *loggers):
        if not any(isinstance(f, MaskingFilter) for f in logger.filters):
            logger.addFilter(masking)
        for handler in logger.handlers:
            if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                handler.addFilter(masking)


def configure_logging() -> None:
    """The processes' logging (web and worker): INFO to the console, every line masked."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The twilio SDK logs request parameters, phone numbers included, at INFO.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # a line per plugin and migration at every start
    install(logging.getLogger("ivr"), logging.getLogger("gunicorn.error"))
    install_access_log(logging.getLogger("gunicorn.access"))
