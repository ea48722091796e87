"""The masking filter: no phone number, ODS code or mailbox leaves through a log line or a traceback."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from ivr import privacy
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
