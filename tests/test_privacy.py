"""The masking filter: no phone number, ODS code or mailbox leaves through a log line or a traceback."""

from __future__ import annotations

import atexit
import io
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from gunicorn import glogging
from gunicorn.config import Config
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from ivr import gunicorn_conf, privacy
from ivr.store.database import Store, now, outbox


@pytest.fixture()
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test.privacy")
    logger.addHandler(handler)
    logger.propagate = False
    privacy.install(logger)
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)


SECRETS = ("7400123456", "1522123456", "VL15A", "care.vl15a@nhs.net")


def test_a_message_is_masked(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.warning("to %s from %s about %s (%s)", "+447400123456", "01522 123456", "VL15A", "care.vl15a@nhs.net")
    line = stream.getvalue()
    assert "*********456" in line and "V****" in line and "****@nhs.net" in line
    assert not [secret for secret in SECRETS if secret in line], line


def test_a_traceback_is_masked_too(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    try:
        raise ValueError("could not store +447400123456 for VL15A, care.vl15a@nhs.net")
    except ValueError:
        logger.exception("the webhook failed")
    text = stream.getvalue()
    assert "Traceback" in text and "ValueError: could not store" in text
    assert not [secret for secret in SECRETS if secret in text], text


def test_a_database_error_does_not_quote_the_row(upgraded: Store) -> None:
    row = {"idempotency_key": "k", "purpose": "checklist", "to_number": "+447400123456",
           "body": "ODS code VL15A", "status": "pending", "created_at": now()}  # fmt: skip
    with upgraded.transaction() as tx:
        tx.connection.execute(insert(outbox).values(**row))
    with pytest.raises(IntegrityError) as failed, upgraded.transaction() as tx:
        tx.connection.execute(insert(outbox).values(**row))  # the same idempotency key again
    assert "7400123456" not in str(failed.value) and "VL15A" not in str(failed.value)


@pytest.mark.parametrize(
    ("written", "kept"),
    [("07400-123-456", "456"), ("(01522) 123456", "456"), ("+44 (0)7400 123456", "456"), ("07400 123 456", "456"),
     ("0044 7400 123456", "456"), ("+44 7400 123456", "456"), ("01522 123 456", "456"), ("7400 123456", "456"),
     ("+1 415-867-5309", "309"), ("07400.123.456", "456")],
)  # fmt: skip
def test_numbers_are_masked_however_they_are_written(written: str, kept: str) -> None:
    line = privacy.scrub(f"a text to {written} was queued")
    assert line.startswith("a text to *") and line.endswith(f"{kept} was queued"), line
    assert not any(run in line for run in ("7400", "1522", "123", "415")), line


@pytest.mark.parametrize("written", ["07400-123-456", "(01522) 123456", "+44 (0)7400 123456"])
def test_a_number_beside_a_twilio_sid_is_masked_and_the_sid_kept(written: str) -> None:
    """SIDs are passed over by the second pass (it is not cheap, and they hold most lines' digits), nothing else."""
    sid = "CA" + "0740012345" * 3 + "6f"
    line = privacy.scrub(f"call {sid} from {written}: started; text SM{'1' * 32}")
    assert line.startswith(f"call {sid} from *") and line.endswith(f"456: started; text SM{'1' * 32}"), line
    assert not any(run in line.replace(sid, "") for run in ("7400", "1522", "123")), line


# Log lines as the companion writes them: their numbers are not phone numbers and stay readable.
ORDINARY = [
    "call CA44444444444444444444444444444444 ended: completed, 172800 s",
    "text 1234 (checklist) to (none) sent: SM00000000000000000000000000000001",
    "worker-1a2b3c4d: text 12: Twilio HTTP 400 error 21610; retry in 40 s",
    'refused POST /voice/turn/3 from 10.1.2.3: no Twilio signature',
    '10.1.2.3 - - [01/Dec/2026:09:00:00 +0000] "POST /voice/turn/3 HTTP/1.1" 200 1234 "-" "TwilioProxy/1.1"',
    "purged 1234567 texts and 12345678 calls, 500 escalations",
    "took 0.123456789 s at 2026-12-01T09:00:00.123456+00:00",
    "escalation ticket 1234567 recorded",
]  # fmt: skip


@pytest.mark.parametrize("line", ORDINARY)
def test_ordinary_numbers_in_log_lines_are_left_alone(line: str) -> None:
    assert privacy.scrub(line) == line


def test_the_helpdesk_number_is_masked_like_any_number() -> None:
    """The masking cannot know which numbers are public: a log line has no need of the helpdesk's number,
    and the console sender (scrub_codes) keeps it for the script a caller reads."""
    assert privacy.scrub("ring 0333 200 1133") == "ring ********133"
    assert privacy.scrub_codes("ring 0333 200 1133 about VL15A") == "ring 0333 200 1133 about V****"


def test_the_second_pass_is_in_the_log_filter(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.info("from %s and %s", "(01522) 123456", "+44 (0)7400 123456")
    assert "1522" not in stream.getvalue() and "7400" not in stream.getvalue(), stream.getvalue()


# --- gunicorn's access log, as gunicorn itself writes it under the Procfile's settings ---


def access_lines(paths: list[str], access_log_format: str = gunicorn_conf.access_log_format) -> list[str]:
    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", access_log_format)
    log = glogging.Logger(config)
    stream = io.StringIO()
    (handler,) = [h for h in log.access_log.handlers if type(h) is logging.StreamHandler]  # gunicorn's, to stdout
    handler.setStream(stream)
    listener = gunicorn_conf.worker_logs()  # what each worker does once it has booted

    class Request:
        headers = (("HOST", "127.0.0.1:5000"), ("X-CALLER", "07400 123456"))

    class Response:
        status, sent, headers = "200 OK", 1210, (("Content-Type", "text/xml"),)

    try:
        for path in paths:
            environ = {"REQUEST_METHOD": "POST", "RAW_URI": path, "PATH_INFO": path.partition("?")[0],
                       "QUERY_STRING": path.partition("?")[2], "SERVER_PROTOCOL": "HTTP/1.1",
                       "REMOTE_ADDR": "10.0.3.17"}  # fmt: skip
            log.access(Response, Request, environ, timedelta(microseconds=12_400))
    finally:
        listener.stop()  # the lines are written by the listener's thread: all of them, by now
        atexit.unregister(listener.stop)  # stopped once: not again as the test process exits
        log.access_log.handlers = []
    return stream.getvalue().splitlines()


TOKEN = "AWq0x" + "Yx3Q0740" * 17  # shaped as a sealed token: base64url, with runs of digits


def test_an_access_line_keeps_gunicorns_figures_and_the_token_whole() -> None:
    """Masked whole, "200 1210 12ms" was taken for a phone number, and a token's digits for another."""
    assert access_lines([f"/voice/turn/{TOKEN}/silence", "/voice"]) == [
        f'10.0.3.17 "POST /voice/turn/{TOKEN}/silence HTTP/1.1" 200 1210 12ms',
        '10.0.3.17 "POST /voice HTTP/1.1" 200 1210 12ms',
    ]


def test_an_access_line_masks_what_a_request_could_carry() -> None:
    lines = access_lines(
        ["/voice?From=%2B447400123456&ods=VL15A", "/voice/07400-123-456", "/sms?to=care.vl15a@nhs.net"]
    )
    assert lines == [
        '10.0.3.17 "POST /voice?From=**********456&ods=V**** HTTP/1.1" 200 1210 12ms',
        '10.0.3.17 "POST /voice/********456 HTTP/1.1" 200 1210 12ms',
        '10.0.3.17 "POST /sms?to=****@nhs.net HTTP/1.1" 200 1210 12ms',
    ]


def test_an_access_format_of_the_operators_own_is_masked_atom_by_atom() -> None:
    """GUNICORN_CMD_ARGS can change the format: a header, the path and the query are masked as well."""
    (line,) = access_lines(["/voice/turn/VL15A?From=07400123456"], "%(U)s %(q)s %({x-caller}i)s %(s)s %(b)s")
    assert line == "/voice/turn/V**** From=********456 ********456 200 1210"
