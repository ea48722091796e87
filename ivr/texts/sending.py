"""Sending the outbox: the senders (Twilio, or the console) and the worker that drains it.

The webhooks never call Twilio: they write texts to the outbox and answer at once. The
worker claims texts, sends them at a steady rate, retries what may succeed later,
fails what never will, and, where it cannot tell whether Twilio took a text, looks
before sending again, choosing 'unknown' for an operator over a silent duplicate.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

import requests
from twilio.base.exceptions import TwilioException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from ivr import gsm7
from ivr.phone import mask
from ivr.privacy import scrub_codes
from ivr.store.database import Store, StoreError, now
from ivr.texts import outbox

log = logging.getLogger("ivr.texts.sending")

# Twilio error codes that no retry will change: a bad or unreachable number, no permission for
# the region, a sender that cannot send there.
PERMANENT_CODES = frozenset({21211, 21214, 21408, 21612, 21614, 21606, 21617, 21659, 21660, 21661})
# Twilio refuses a number that texted it STOP (or another opt-out word) even when that text never
# reached us: it is the person's choice, so it is recorded as an opt-out, not retried as a failure.
OPTED_OUT_CODE = 21610


class SendError(Exception):
    """Why a send failed. "credentials": Twilio refused our account, not the text, so the text waits.
    "opted_out": the person asked Twilio to stop texting them."""

    def __init__(
        self, kind: Literal["permanent", "transient", "ambiguous", "credentials", "opted_out"], reason: str
    ) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


class Sender(Protocol):
    def send(self, to: str, body: str, status_callback: str | None) -> str:
        """Hand a text to the provider; its id, or SendError."""

    def find(self, to: str, body: str, since: datetime) -> str | None:
        """The id of a text with this body sent to `to` since `since`; SendError when it cannot tell."""


class TwilioSender:
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        http_client: HttpClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError("set TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID to send texts")
        # The SDK has no HTTP timeout unless given one: a stuck request would stall the worker.
        self.client = Client(account_sid, auth_token, http_client=http_client or TwilioHttpClient(timeout=timeout))
        self.sender: dict[str, str] = (
            {"messaging_service_sid": messaging_service_sid} if messaging_service_sid else {"from_": str(from_number)}
        )

    def send(self, to: str, body: str, status_callback: str | None) -> str:
        extra: dict[str, Any] = {"status_callback": status_callback} if status_callback else {}
        try:
            message = self.client.messages.create(to=to, body=body, **self.sender, **extra)
        except TwilioException as error:  # TwilioServiceException is not a TwilioRestException since 9.10
            raise _classify(error) from None
        except requests.exceptions.ConnectTimeout:
            raise SendError("transient", "could not connect to Twilio (timed out)") from None
        except requests.exceptions.ConnectionError as error:
            if _never_connected(error):  # refused, or no such host: nothing reached Twilio
                raise SendError("transient", "could not connect to Twilio") from None
            raise SendError("ambiguous", f"no answer from Twilio: {type(error).__name__}") from None
        except requests.exceptions.RequestException as error:
            # The request may have reached Twilio before the connection broke or timed out.
            raise SendError("ambiguous", f"no answer from Twilio: {type(error).__name__}") from None
        return str(message.sid)

    def find(self, to: str, body: str, since: datetime) -> str | None:
        try:
            for message in self.client.messages.list(to=to, limit=50):
                created = message.date_created
                if message.body == body and (created is None or created >= since - timedelta(minutes=1)):
                    return str(message.sid)
        except (TwilioException, requests.exceptions.RequestException) as error:
            raise SendError("ambiguous", f"could not list recent texts: {type(error).__name__}") from None
        return None


def _never_connected(error: requests.exceptions.ConnectionError) -> bool:
    """True when the connection was never made, so Twilio cannot have the text."""
    cause = error.args[0] if error.args else None
    cause = getattr(cause, "reason", cause)  # urllib3's MaxRetryError carries the cause as .reason
    return isinstance(cause, (NewConnectionError, ConnectTimeoutError))  # refused, no such host, timed out


def _classify(error: TwilioException) -> SendError:
    status = getattr(error, "status", None)
    code = getattr(error, "code", None)
    reason = f"Twilio HTTP {status} error {code}"
    if status == 429 or (isinstance(status, int) and status >= 500):
        return SendError("transient", reason)
    if code == OPTED_OUT_CODE:
        return SendError("opted_out", f"{reason}: the number has opted out of texts from us")
    if status == 401:
        return SendError("credentials", f"{reason}: Twilio refused the account SID or auth token")
    if code in PERMANENT_CODES or (isinstance(status, int) and 400 <= status < 500):
        return SendError("permanent", reason)
    return SendError("transient", reason)


class ConsoleSender:
    """The embedded default with no Twilio credentials: print the text instead of sending it."""

    def __init__(self, echo: Callable[[str], None] = print) -> None:
        self.echo = echo

    def send(self, to: str, body: str, status_callback: str | None) -> str:
        counted = gsm7.count(body)
        # Masked as the logs are: a console is read over shoulders and kept in scrollback.
        shown = scrub_codes(body)
        self.echo(f"--- text to {mask(to)} ({counted.encoding}, {counted.segments} segments) ---\n{shown}\n---")
        return f"console-{uuid.uuid4().hex[:12]}"

    def find(self, to: str, body: str, since: datetime) -> str | None:
        return None  # nothing printed can have been lost in flight


@dataclass(frozen=True)
class WorkerSettings:
    per_second: float = 1.0  # a UK long code sends about one text a second
    max_attempts: int = 6
    base_delay: timedelta = timedelta(seconds=5)
    # Short, so a crashed worker's texts are taken over within half a minute; a live worker renews
    # its claims as it works through them (every third of a lease), so it keeps what it holds.
    lease: timedelta = timedelta(seconds=20)
    batch: int = 10
    status_callback: str | None = None


# How long a text waits when Twilio refuses our credentials, before it is tried again.
CREDENTIALS_WAIT = timedelta(minutes=5)
# How long the worker waits after the database failed it, at most (doubling from the poll interval).
LONGEST_OUTAGE_WAIT = 60.0


def retry_wait(base_delay: timedelta, attempts: int, jitter: Callable[[float, float], float]) -> timedelta:
    """How long a text or an email waits after its `attempts`-th failure: doubling from the base delay,
    plus up to one base delay of jitter so that many retries do not all come at once."""
    base = base_delay.total_seconds()
    return timedelta(seconds=base * 2 ** (attempts - 1) + jitter(0, base))


def work_outbox(name: str, what: str, run_once: Callable[[], int], *, poll: float, sleep: Callable[[float], None],
                stopped: Callable[[], bool]) -> None:  # fmt: skip
    """A worker's loop, for texts and emails alike: a batch at a time, waiting `poll` when there was none;
    while the database is away its rows wait in `what`, and the worker backs off (doubling, at most a minute)."""
    wait = poll
    while not stopped():
        try:
            handled = run_once()
        except (StoreError, OSError) as error:
            log.error("%s: could not work %s (%s); trying again in %.0f s", name, what, type(error).__name__, wait)
            sleep(wait)
            wait = min(wait * 2, LONGEST_OUTAGE_WAIT)
            continue
        wait = poll
        if not handled and not stopped():
            sleep(poll)


class Worker:
    def __init__(
        self,
        store: Store,
        sender: Sender,
        settings: WorkerSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = now,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.store = store
        self.sender = sender
        self.settings = settings
        self.name = f"worker-{uuid.uuid4().hex[:8]}"
        self.sleep = sleep
        self.clock = clock
        self.jitter = jitter
        self.stopping = threading.Event()

    def request_stop(self, signum: int | None = None, frame: object = None) -> None:
        """Stop after the text being sent (a signal handler for SIGTERM): unsent claims are let go."""
        if not self.stopping.is_set():
            log.info("%s: stopping once the current text is sent", self.name)
        self.stopping.set()

    def run_once(self) -> int:
        """Claim and deliver one batch; how many texts it handled."""
        if self.stopping.is_set():
            return 0
        texts = outbox.claim(self.store, self.name, batch=self.batch(), lease=self.settings.lease)
        renewed = time.monotonic()
        for index, text in enumerate(texts):
            unsent = texts[index:]
            if self.stopping.is_set():
                # Another worker takes these at once, rather than when their claims run out.
                released = outbox.release(self.store, unsent, self.name)
                log.info("%s: let go of %d claimed text(s) on stopping", self.name, released)
                return index
            if time.monotonic() - renewed > self.settings.lease.total_seconds() / 3:
                outbox.renew_held(self.store, [later.id for later in unsent], self.name, self.settings.lease)
                renewed = time.monotonic()
            self.deliver(text)
        return len(texts)

    def batch(self) -> int:
        """No more texts a claim than can be sent, at the rate, well inside the claim's lease."""
        return max(1, min(self.settings.batch, int(self.settings.lease.total_seconds() * self.settings.per_second / 2)))

    def run(self, *, poll: float = 1.0, stop: Callable[[], bool] = lambda: False) -> None:
        work_outbox(self.name, "the outbox", self.run_once, poll=poll, sleep=self.sleep,
                    stopped=lambda: stop() or self.stopping.is_set())  # fmt: skip

    def deliver(self, text: outbox.QueuedText) -> None:
        attempts = text.attempts + 1
        if outbox.is_opted_out(self.store, text.to):
            outbox.mark_opted_out(self.store, text.id, self.name, text.attempts, "the number opted out (STOP)")
            log.info("text %d to %s not sent: opted out", text.id, mask(text.to))
            return
        if text.reclaimed and self.settle(text, attempts):
            return  # a worker died holding it; it may have sent it, so look first
        self.pace()
        # Pacing and earlier sends take time: if this claim ran out meanwhile, another worker may
        # have taken the text, so it must not be sent from here as well.
        if not outbox.renew(self.store, text.id, self.name, self.settings.lease):
            log.warning("text %d: the claim ran out before it could be sent; left to the worker that has it", text.id)
            return
        try:
            sid = self.sender.send(text.to, text.body, self.settings.status_callback)
        except SendError as error:
            self.failed_attempt(text, attempts, error)
            return
        outbox.mark_sent(self.store, text.id, self.name, sid, attempts)
        log.info("text %d (%s) to %s sent: %s", text.id, text.purpose, mask(text.to), sid)

    def failed_attempt(self, text: outbox.QueuedText, attempts: int, error: SendError) -> None:
        if error.kind == "credentials":  # no fault of the text's: it waits, its attempts untouched, for a fix
            outbox.mark_retry(self.store, text.id, self.name, text.attempts, CREDENTIALS_WAIT, error.reason)
            log.error("text %d waits: %s; set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and restart the worker",
                      text.id, error.reason)  # fmt: skip
            return
        if error.kind == "opted_out":
            # Remembered, so no later text is queued for it and the caller is told why on the phone.
            outbox.opt_out(self.store, text.to)
            outbox.mark_opted_out(self.store, text.id, self.name, attempts, error.reason)
            log.info("text %d to %s not sent: Twilio says the number opted out; recorded", text.id, mask(text.to))
            return
        if error.kind == "permanent":
            outbox.mark_failed(self.store, text.id, self.name, attempts, error.reason)
            log.warning("text %d to %s failed for good: %s", text.id, mask(text.to), error.reason)
            return
        if error.kind == "ambiguous" and self.settle(text, attempts):
            return
        if attempts >= self.settings.max_attempts:
            outbox.mark_failed(self.store, text.id, self.name, attempts, f"gave up after {attempts}: {error.reason}")
            log.warning("text %d to %s: gave up after %d attempts", text.id, mask(text.to), attempts)
            return
        wait = retry_wait(self.settings.base_delay, attempts, self.jitter)
        outbox.mark_retry(self.store, text.id, self.name, attempts, wait, error.reason)
        log.info("text %d to %s: %s; retry in %.0f s", text.id, mask(text.to), error.reason, wait.total_seconds())

    def settle(self, text: outbox.QueuedText, attempts: int) -> bool:
        """Was an earlier attempt taken by Twilio? True when that is settled (sent, or marked unknown)."""
        try:
            sid = self.sender.find(text.to, text.body, text.created_at)
        except SendError as error:
            outbox.mark_unknown(self.store, text.id, self.name, attempts, f"may have been sent: {error.reason}")
            log.warning("text %d to %s: cannot tell if it was sent; left for an operator", text.id, mask(text.to))
            return True
        if sid is None:
            return False  # Twilio has no such text: sending it is safe
        outbox.mark_sent(self.store, text.id, self.name, sid, attempts)
        log.info("text %d to %s: found already sent as %s", text.id, mask(text.to), sid)
        return True

    def pace(self) -> None:
        """Keep to the configured sending rate: all workers together, by a slot reserved in the store."""
        interval = timedelta(seconds=1.0 / self.settings.per_second)
        slot = outbox.next_slot(self.store, interval, at=self.clock())
        wait = (slot - self.clock()).total_seconds()
        if wait > 0:
            self.sleep(wait)
