"""An email to the care association for each new escalation: queued with it, sent by the worker over real
SMTP (a local server on a socket), retried as texts are, and masked in the logs."""

from __future__ import annotations

import logging
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from ivr.homes.directory import Home
from ivr.store.database import Store, email_outbox
from ivr.texts import emails
from ivr.texts.mailing import EmailWorker, EmailWorkerSettings, LogSender, SmtpSender, mask_address, message_id
from tests.console_support import console_app, console_settings
from tests.smtp_support import Mailbox, smtp_server
from tests.web_support import LANDLINE, add_home, simulate

ASSOCIATION = "digital.team@nhs.net"


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    store.upgrade()
    add_home(store, Home(ods="VL15A", name="Lindum House", landlines=(LANDLINE,)))
    return store


def escalate_by_phone(store: Store, tmp_path: Path, **settings: str) -> None:
    """A call escalates a ticket, signed as Twilio signs it (main menu 4, ticket, reason, confirm)."""
    app = console_app(console_settings(tmp_path / "ivr.sqlite3", **settings), store)
    simulate(app.test_client(), "4 1 4455667# 1 1 1 1")


def worker(store: Store, sender: SmtpSender | LogSender, **options: object) -> EmailWorker:
    waits: list[float] = []
    return EmailWorker(store, sender, EmailWorkerSettings(**options),  # type: ignore[arg-type]
                       sleep=waits.append, jitter=lambda low, high: 0.0)  # fmt: skip


def smtp(port: int, **extra: object) -> SmtpSender:
    return SmtpSender("127.0.0.1", port, tls="none", sender="companion@example.org", **extra)  # type: ignore[arg-type]


def test_a_new_escalation_is_emailed_to_the_association_over_smtp(store: Store, tmp_path: Path) -> None:
    escalate_by_phone(store, tmp_path, association_email=ASSOCIATION, association_name="LinCA Digital")
    [queued] = emails.states(store)
    assert (queued.purpose, queued.status) == ("escalation_notice", "pending")

    with smtp_server() as (port, box):
        assert worker(store, smtp(port)).run_once() == 1

    [message] = box.received
    assert box.envelopes == [("companion@example.org", [ASSOCIATION])]
    assert message["To"] == ASSOCIATION and message["From"] == "companion@example.org"
    assert message["Subject"] == "NHSmail escalation: helpdesk ticket 4455667"
    body = message.get_content()
    assert "4455667" in body and "Lindum House" in body and "VL15A" in body
    assert "The helpdesk would not help." in body
    assert "01522 123456" in body.replace("01522123456", "01522 123456")  # the number to ring back, whole
    assert message["Message-ID"] == message_id(f"call:{_call_sid(store)}:escalation:4455667", "companion@example.org")
    assert [(e.status, e.attempts) for e in emails.states(store)] == [("sent", 1)]


def _call_sid(store: Store) -> str:
    with store.engine.connect() as connection:
        key = connection.execute(select(email_outbox.c.idempotency_key)).scalar_one()
    return str(key).split(":")[1]


def test_no_association_address_queues_no_email(store: Store, tmp_path: Path) -> None:
    escalate_by_phone(store, tmp_path)
    assert emails.states(store) == []


def test_a_temporary_refusal_is_retried_and_a_permanent_one_is_not(store: Store, tmp_path: Path) -> None:
    escalate_by_phone(store, tmp_path, association_email=ASSOCIATION)
    with smtp_server(Mailbox(data_answers=["451 4.3.0 Try again later"])) as (port, box):
        mailer = worker(store, smtp(port), base_delay=timedelta(0))
        assert mailer.run_once() == 1
        [waiting] = emails.states(store)
        assert (waiting.status, waiting.attempts, waiting.error) == ("pending", 1, "SMTP 451: 4.3.0 Try again later")
        assert mailer.run_once() == 1
    assert len(box.received) == 1
    assert [(e.status, e.attempts) for e in emails.states(store)] == [("sent", 2)]


def test_an_address_the_server_refuses_fails_at_once(store: Store, tmp_path: Path) -> None:
    escalate_by_phone(store, tmp_path, association_email=ASSOCIATION)
    with smtp_server(Mailbox(refuse_recipient="550 5.1.1 No such mailbox")) as (port, box):
        worker(store, smtp(port)).run_once()
    [failed] = emails.states(store)
    assert (failed.status, failed.attempts, failed.error) == ("failed", 1, "SMTP 550: the address was refused")
    assert box.received == []


def test_the_password_is_given_and_a_wrong_one_keeps_the_email_waiting(store: Store, tmp_path: Path) -> None:
    escalate_by_phone(store, tmp_path, association_email=ASSOCIATION)
    with smtp_server(Mailbox(credentials=("companion", "right"))) as (port, box):
        worker(store, smtp(port, user="companion", password="wrong")).run_once()
        [waiting] = emails.states(store)
        assert (waiting.status, waiting.attempts) == ("pending", 0)  # the email's fault it is not
        assert "refused IVR_SMTP_USER and IVR_SMTP_PASSWORD" in (waiting.error or "")
        with store.transaction() as tx:  # the credentials put right, and the wait over
            tx.connection.execute(update(email_outbox).values(next_attempt_at=email_outbox.c.created_at))
        worker(store, smtp(port, user="companion", password="right")).run_once()
    assert len(box.received) == 1 and box.logins == 2
    assert [e.status for e in emails.states(store)] == ["sent"]


def test_a_server_that_is_not_there_is_tried_again_then_given_up(store: Store, tmp_path: Path) -> None:
    escalate_by_phone(store, tmp_path, association_email=ASSOCIATION)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # nothing listens here once closed
    mailer = worker(store, smtp(port), max_attempts=2, base_delay=timedelta(0))
    mailer.run_once()
    assert [(e.status, e.attempts) for e in emails.states(store)] == [("pending", 1)]
    mailer.run_once()
    [given_up] = emails.states(store)
    assert (given_up.status, given_up.attempts) == ("failed", 2)
    assert "could not reach the SMTP server" in (given_up.error or "")


def test_without_a_server_the_email_is_logged_masked(store: Store, tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    escalate_by_phone(store, tmp_path, association_email=ASSOCIATION)
    lines: list[str] = []
    with caplog.at_level(logging.INFO, logger="ivr"):
        worker(store, LogSender(lines.append)).run_once()
    [shown] = lines
    assert "d***@nhs.net" in shown and "4455667" in shown
    assert "VL15A" not in shown and "123456" not in shown
    assert all(ASSOCIATION not in record.getMessage() for record in caplog.records)
    assert mask_address(ASSOCIATION) == "d***@nhs.net"
    assert [e.status for e in emails.states(store)] == ["sent"]


def test_the_worker_command_sends_emails_too(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from ivr.cli.main import main

    escalate_by_phone(store, tmp_path, association_email=ASSOCIATION)
    monkeypatch.chdir(tmp_path)
    with smtp_server() as (port, box):
        env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'ivr.sqlite3'}", "IVR_SMTP_HOST": "127.0.0.1",
               "IVR_SMTP_PORT": str(port), "IVR_SMTP_TLS": "none", "IVR_EMAIL_FROM": "companion@example.org"}
        result = CliRunner().invoke(main, ["worker", "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "emails through SmtpSender" in result.output
    assert len(box.received) == 1


def test_a_purge_removes_settled_emails_past_the_retention_period(store: Store, tmp_path: Path) -> None:
    from ivr.store import retention
    from ivr.store.database import now

    escalate_by_phone(store, tmp_path, association_email=ASSOCIATION)
    escalate_by_phone(store, tmp_path, association_email=ASSOCIATION)
    with smtp_server() as (port, _box):
        worker(store, smtp(port), batch=1).run_once()  # one sent, one still waiting
    with store.transaction() as tx:
        tx.connection.execute(update(email_outbox).values(created_at=now() - timedelta(days=40)))
    retention.purge(store, days=30)
    assert [e.status for e in emails.states(store)] == ["pending"]  # the one not yet sent is kept
