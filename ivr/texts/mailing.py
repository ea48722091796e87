"""Sending the email outbox: over SMTP, or into the log when no SMTP server is set (the embedded default).

The worker retries what may succeed later (a refused connection, a 4xx answer) with backoff and
jitter, fails what never will (a 5xx refusal of the address or the message), and keeps an email
waiting, its attempts untouched, when the server refuses our credentials, as the texts' worker does
with Twilio's. Each email's Message-ID is made from its outbox key, so should a lost answer after the
message was sent lead to sending it again, the recipient's mail program can tell it is the same one.
"""

from __future__ import annotations

import logging
import random
import smtplib
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate
from hashlib import sha256
from typing import Literal, Protocol

from ivr.privacy import scrub
from ivr.store.database import Store
from ivr.texts import emails
from ivr.texts.emails import QueuedEmail
from ivr.texts.sending import CREDENTIALS_WAIT, SendError, retry_wait, work_outbox

log = logging.getLogger("ivr.texts.mailing")
TlsMode = Literal["starttls", "tls", "none"]


def mask_address(address: str) -> str:
    """'damon.habbin@nhs.net' -> 'd***@nhs.net': enough to tell which mailbox, not whose."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def message_id(key: str, sender: str) -> str:
    """A Message-ID from the outbox key: the same email always has the same one, and it names nothing."""
    domain = sender.partition("@")[2] or "localhost"
    return f"<{sha256(key.encode()).hexdigest()[:32]}@{domain}>"


class EmailSender(Protocol):
    def send(self, email: QueuedEmail) -> None:
        """Hand the email to the server; SendError when it is not taken."""


class SmtpSender:
    def __init__(self, host: str, port: int, *, tls: TlsMode, sender: str, user: str | None = None,
                 password: str | None = None, timeout: float = 20.0) -> None:  # fmt: skip
        self.host, self.port, self.tls, self.sender = host, port, tls, sender
        self.user, self.password, self.timeout = user, password, timeout

    def message(self, email: QueuedEmail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Date"] = formatdate(email.created_at.timestamp(), localtime=False)
        message["Message-ID"] = message_id(email.key, self.sender)
        message.set_content(email.body)
        return message

    def send(self, email: QueuedEmail) -> None:
        try:
            with self._connect() as server:
                if self.tls == "starttls":
                    server.starttls(context=ssl.create_default_context())
                if self.user:
                    server.login(self.user, self.password or "")
                server.send_message(self.message(email))
        except smtplib.SMTPAuthenticationError as error:
            raise SendError("credentials", f"SMTP {error.smtp_code}: the server refused IVR_SMTP_USER and "
                                           "IVR_SMTP_PASSWORD") from None  # fmt: skip
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            refused = all(code >= 500 for code in codes)
            reason = f"SMTP {codes[0] if codes else '?'}: the address was refused"
            raise SendError("permanent" if refused else "transient", reason) from None
        except smtplib.SMTPResponseException as error:
            reason = f"SMTP {error.smtp_code}: {_first_line(error.smtp_error)}"
            raise SendError("permanent" if error.smtp_code >= 500 else "transient", reason) from None
        except (smtplib.SMTPException, OSError) as error:  # refused, timed out, disconnected, TLS failed
            raise SendError("transient", f"could not reach the SMTP server: {type(error).__name__}") from None

    def _connect(self) -> smtplib.SMTP:
        if self.tls == "tls":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)


def _first_line(reply: bytes | str) -> str:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    return (text.splitlines() or [""])[0][:120]


class LogSender:
    """The embedded default with no SMTP server: write the email to the log, masked as every log line is."""

    def __init__(self, echo: Callable[[str], None] | None = None) -> None:
        self.echo = echo or log.info

    def send(self, email: QueuedEmail) -> None:
        self.echo(f"--- email to {mask_address(email.to)}: {email.subject} ---\n{scrub(email.body)}\n---")


@dataclass(frozen=True)
class EmailWorkerSettings:
    max_attempts: int = 6
    base_delay: timedelta = timedelta(seconds=5)
    # One email a claim, its lease longer than the four SMTP steps' timeouts together (connect, STARTTLS,
    # login, data: 20 s each): an email held past its lease could be claimed and sent by a second worker.
    lease: timedelta = timedelta(minutes=5)
    batch: int = 1


class EmailWorker:
    def __init__(self, store: Store, sender: EmailSender, settings: EmailWorkerSettings, *,
                 sleep: Callable[[float], None] = time.sleep,
                 jitter: Callable[[float, float], float] = random.uniform) -> None:  # fmt: skip
        self.store, self.sender, self.settings = store, sender, settings
        self.name = f"mailer-{uuid.uuid4().hex[:8]}"
        self.sleep, self.jitter = sleep, jitter
        self.stopping = threading.Event()

    def request_stop(self, signum: int | None = None, frame: object = None) -> None:
        self.stopping.set()

    def run_once(self) -> int:
        """Claim and send one batch; how many emails it handled."""
        if self.stopping.is_set():
            return 0
        queued = emails.claim(self.store, self.name, batch=self.settings.batch, lease=self.settings.lease)
        for email in queued:
            if self.stopping.is_set():  # asked to stop: the rest are taken up again when their lease lapses
                break
            self.deliver(email)
        return len(queued)

    def run(self, *, poll: float = 2.0, stop: Callable[[], bool] = lambda: False) -> None:
        work_outbox(self.name, "the email outbox", self.run_once, poll=poll, sleep=self.sleep,
                    stopped=lambda: stop() or self.stopping.is_set())  # fmt: skip

    def deliver(self, email: QueuedEmail) -> None:
        attempts = email.attempts + 1
        try:
            self.sender.send(email)
        except SendError as error:
            self.failed_attempt(email, attempts, error)
            return
        if not emails.mark_sent(self.store, email.id, self.name, attempts):
            log.warning("email %d was sent after its lease ran out: another worker may send it again", email.id)
            return
        log.info("email %d (%s) to %s sent", email.id, email.purpose, mask_address(email.to))

    def failed_attempt(self, email: QueuedEmail, attempts: int, error: SendError) -> None:
        if error.kind == "credentials":
            emails.mark_retry(self.store, email.id, self.name, email.attempts, CREDENTIALS_WAIT, error.reason)
            log.error("email %d waits: %s; put them right and restart the worker", email.id, error.reason)
            return
        if error.kind == "permanent":
            emails.mark_failed(self.store, email.id, self.name, attempts, error.reason)
            log.warning("email %d to %s failed for good: %s", email.id, mask_address(email.to), error.reason)
            return
        if attempts >= self.settings.max_attempts:
            emails.mark_failed(self.store, email.id, self.name, attempts, f"gave up after {attempts}: {error.reason}")
            log.warning("email %d to %s: gave up after %d attempts", email.id, mask_address(email.to), attempts)
            return
        wait = retry_wait(self.settings.base_delay, attempts, self.jitter)
        emails.mark_retry(self.store, email.id, self.name, attempts, wait, error.reason)
        log.info("email %d to %s: %s; retry in %.0f s", email.id, mask_address(email.to), error.reason,
                 wait.total_seconds())  # fmt: skip
