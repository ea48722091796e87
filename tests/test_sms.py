"""Texts: the real twilio SDK over a recording HTTP client, faults injected there, and the worker's outcomes."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from twilio.http import HttpClient
from twilio.http.response import Response
from urllib3.exceptions import MaxRetryError, NewConnectionError

from ivr.app import create_app
from ivr.cli.phone_line import worker_for
from ivr.content.model import Content
from ivr.settings import Settings
from ivr.store.database import Store
from ivr.store.database import outbox as outbox_table
from ivr.texts import outbox
from ivr.texts.sending import ConsoleSender, TwilioSender, Worker, WorkerSettings
from tests.web_support import (
    LANDLINE,
    REAL_LINE,
    Caller,
    FlaskTransport,
    add_home,
    assert_valid_messaging_twiml,
    assert_valid_twiml,
    sign,
    simulate,
)

ACCOUNT = "AC" + "a" * 32
MOBILE = "+447400123456"


class RecordingHttpClient(HttpClient):
    """Stands where the SDK's HTTP client stands: records each request, answers from a script.

    The script says, for a text's body, what its successive sends meet: an HTTP status (201 creates
    the message), an HTTP status with Twilio's error code, or an exception to raise. Past its script,
    every send succeeds.
    """

    def __init__(self, script: dict[str, list[int | tuple[int, int] | Exception]] | None = None) -> None:
        super().__init__(logger=None, is_async=False, timeout=None)  # type: ignore[arg-type]
        self.script = {body: list(steps) for body, steps in (script or {}).items()}
        self.requests: list[dict[str, Any]] = []
        self.created: list[dict[str, Any]] = []  # what Twilio really took

    def request(self, method: str, uri: str, params: Any = None, data: Any = None, headers: Any = None,
                auth: Any = None, timeout: Any = None, allow_redirects: bool = False) -> Response:  # fmt: skip
        self.requests.append({"method": method, "uri": uri, "data": dict(data or {}), "timeout": timeout})
        if method == "GET":  # listing recent messages
            listing = [self._message(m) for m in reversed(self.created) if m["To"] == (params or {}).get("To")]
            return Response(200, json.dumps({"messages": listing, "next_page_uri": None, "page": 0}))
        steps = self.script.get(str((data or {}).get("Body")), [])
        step = steps.pop(0) if steps else 201
        if isinstance(step, requests.exceptions.ReadTimeout) and getattr(step, "after_create", False):
            self.created.append(dict(data))  # Twilio took it, then the answer was lost
            raise step
        if isinstance(step, Exception):
            raise step
        if step == 201:
            self.created.append(dict(data))
            return Response(201, json.dumps(self._message(data)))
        codes = {400: 21211, 429: 20429, 500: 20500, 503: 20503}
        status, code = step if isinstance(step, tuple) else (step, codes.get(step, 20001))
        return Response(status, json.dumps({"code": code, "message": "scripted", "status": status}))

    def _message(self, data: dict[str, Any]) -> dict[str, Any]:
        index = self.created.index(data) if data in self.created else len(self.created)
        return {"sid": f"SM{index:032d}", "to": data["To"], "body": data["Body"], "status": "queued",
                "date_created": datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")}  # fmt: skip


def late_timeout() -> requests.exceptions.ReadTimeout:
    error = requests.exceptions.ReadTimeout("read timed out")
    error.after_create = True  # type: ignore[attr-defined]
    return error


@pytest.fixture()
def store(upgraded: Store) -> Store:
    return upgraded


def queue(store: Store, count: int = 1) -> None:
    with store.transaction() as tx:
        for index in range(count):
            tx.enqueue_text(key=f"test:{index}", call_sid=None, purpose="checklist", to=MOBILE, body=f"body {index}")


def worker(store: Store, client: RecordingHttpClient, **options: Any) -> Worker:
    sender = TwilioSender(ACCOUNT, "token", from_number="+441234567890", http_client=client)
    settings = WorkerSettings(per_second=1000, max_attempts=options.pop("max_attempts", 4),
                              status_callback="https://ivr.example.org/sms/status")  # fmt: skip
    return Worker(store, sender, settings, sleep=lambda seconds: None, jitter=lambda a, b: 0.0)


def rows(store: Store) -> list[dict[str, Any]]:
    with store.transaction() as tx:
        return sorted(tx.rows(outbox_table), key=lambda row: row["id"])


def drain(store: Store, runner: Worker) -> None:
    """Run the worker until nothing is due, making every retry due at once."""
    for _ in range(50):
        with store.transaction() as tx:
            tx.connection.execute(outbox_table.update().values(next_attempt_at=datetime(2000, 1, 1, tzinfo=UTC)))
        if not runner.run_once():
            return


def test_the_sdk_sends_the_right_request(store: Store) -> None:
    queue(store)
    client = RecordingHttpClient()
    drain(store, worker(store, client))
    (request,) = client.requests
    assert request["method"] == "POST"
    assert urlsplit(request["uri"]).path == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert request["data"] == {"To": MOBILE, "From": "+441234567890", "Body": "body 0",
                               "StatusCallback": "https://ivr.example.org/sms/status"}  # fmt: skip
    (row,) = rows(store)
    assert row["status"] == "sent" and row["provider_sid"] == "SM" + "0" * 32 and row["attempts"] == 1


def test_a_messaging_service_is_used_when_configured(store: Store) -> None:
    queue(store)
    client = RecordingHttpClient()
    sender = TwilioSender(ACCOUNT, "token", messaging_service_sid="MG" + "b" * 32, http_client=client)
    Worker(store, sender, WorkerSettings(per_second=1000), sleep=lambda s: None).run_once()
    assert client.requests[0]["data"]["MessagingServiceSid"] == "MG" + "b" * 32
    assert "From" not in client.requests[0]["data"] and "StatusCallback" not in client.requests[0]["data"]


def test_faults_end_with_each_text_sent_once_or_marked(store: Store) -> None:
    queue(store, 6)
    client = RecordingHttpClient({
        "body 0": [500, 429],  # two transient failures, then sent
        "body 1": [400],  # an invalid number: failed, no retry
        "body 2": [late_timeout()],  # Twilio took it but the answer was lost: found, not sent again
        "body 3": [requests.exceptions.ReadTimeout("lost before Twilio")],  # not found on lookup: sent again
        "body 4": [requests.exceptions.ConnectionError("reset")],  # broke mid-request: not found, sent again
        "body 5": [503, 503, 503, 503],  # gives up after the most attempts
    })  # fmt: skip
    drain(store, worker(store, client))
    outcome = {row["body"]: (row["status"], row["attempts"]) for row in rows(store)}
    assert outcome["body 0"] == ("sent", 3)
    assert outcome["body 1"][0] == "failed"
    assert outcome["body 2"] == ("sent", 1)
    assert outcome["body 3"][0] == "sent" and outcome["body 4"][0] == "sent"
    assert outcome["body 5"] == ("failed", 4)
    sent_bodies = [data["Body"] for data in client.created]
    assert sorted(sent_bodies) == sorted(set(sent_bodies)), "a text was sent twice"
    assert set(sent_bodies) == {"body 0", "body 2", "body 3", "body 4"}


def test_the_sdk_is_given_an_http_timeout() -> None:
    sender = TwilioSender(ACCOUNT, "token", from_number="+441234567890")
    assert sender.client.http_client.timeout == 10.0  # without one, a stuck request stalls the worker


def refused() -> requests.exceptions.ConnectionError:
    """What requests raises when nothing listens: the connection was never made."""
    cause = NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/Messages.json", cause))  # type: ignore[arg-type]


def test_twilio_unreachable_is_retried_without_a_lookup(store: Store) -> None:
    """Refused before Twilio: no text can exist, so it is retried, never left 'unknown'."""
    queue(store)

    class Unreachable(RecordingHttpClient):
        def request(self, method: str, uri: str, *args: Any, **kwargs: Any) -> Response:
            if method == "GET" or len(self.requests) < 2:  # the first two sends, and every lookup
                self.requests.append({"method": method, "uri": uri})
                raise refused()
            return super().request(method, uri, *args, **kwargs)

    client = Unreachable()
    drain(store, worker(store, client))
    (row,) = rows(store)
    assert (row["status"], row["attempts"]) == ("sent", 3)
    assert [request["method"] for request in client.requests] == ["POST", "POST", "POST"]
    assert len(client.created) == 1


def test_wrong_credentials_keep_the_text_waiting_without_using_its_attempts(store: Store) -> None:
    """Twilio refusing our account is not the text's fault: however long until the token is fixed, it is kept."""
    queue(store)
    client = RecordingHttpClient({"body 0": [401] * 100})
    runner = worker(store, client, max_attempts=4)
    drain(store, runner)  # fifty refusals: many more than the text's four attempts
    (row,) = rows(store)
    assert (row["status"], row["attempts"]) == ("pending", 0) and "refused the account" in row["error"]
    client.script.clear()  # the token is put right
    drain(store, runner)
    (row,) = rows(store)
    assert (row["status"], row["attempts"]) == ("sent", 1) and len(client.created) == 1


def expire_claims(store: Store) -> None:
    """Pacing or a slow send outlasted the claims still held."""
    with store.transaction() as tx:
        tx.connection.execute(outbox_table.update().where(outbox_table.c.status == "sending")
                              .values(claimed_until=datetime(2000, 1, 1, tzinfo=UTC)))  # fmt: skip


def test_a_claim_taken_over_is_not_sent_by_its_old_worker(store: Store) -> None:
    """A slow worker whose claim expired must leave the text to the worker that took it over."""
    queue(store, 2)
    client = RecordingHttpClient()
    slow, other = worker(store, client), worker(store, client)
    texts = outbox.claim(store, slow.name, batch=2, lease=WorkerSettings().lease)
    slow.deliver(texts[0])
    expire_claims(store)
    taken = outbox.claim(store, other.name, batch=2, lease=WorkerSettings().lease)
    assert [text.body for text in taken] == ["body 1"]
    slow.deliver(texts[1])  # the old worker gets round to it while the other holds it: it must not send
    assert [data["Body"] for data in client.created] == ["body 0"]
    other.deliver(taken[0])  # looks first (it may have been sent), finds nothing, sends
    assert sorted(data["Body"] for data in client.created) == ["body 0", "body 1"]
    assert [row["status"] for row in rows(store)] == ["sent", "sent"]
    assert rows(store)[1]["claimed_by"] == other.name


def test_a_claim_that_ran_out_but_was_not_taken_is_still_sent(store: Store) -> None:
    queue(store, 1)
    client = RecordingHttpClient()
    slow = worker(store, client)
    (text,) = outbox.claim(store, slow.name, batch=1, lease=WorkerSettings().lease)
    expire_claims(store)
    slow.deliver(text)
    assert [row["status"] for row in rows(store)] == ["sent"] and len(client.created) == 1


def test_a_batch_fits_inside_its_claim_at_a_slow_rate(store: Store) -> None:
    sender = TwilioSender(ACCOUNT, "token", from_number="+441234567890", http_client=RecordingHttpClient())
    slow = Worker(store, sender, WorkerSettings(per_second=0.05, batch=10, lease=timedelta(seconds=120)))
    assert slow.batch() == 3  # three texts at one each 20 s take a minute: half the lease
    assert Worker(store, sender, WorkerSettings(per_second=0.001)).batch() == 1


def test_a_lookup_that_fails_leaves_the_text_unknown(store: Store) -> None:
    queue(store)

    class NoLookup(RecordingHttpClient):
        def request(self, method: str, uri: str, *args: Any, **kwargs: Any) -> Response:
            if method == "GET":
                raise requests.exceptions.ConnectionError("no answer")
            return super().request(method, uri, *args, **kwargs)

    client = NoLookup({"body 0": [late_timeout()]})
    drain(store, worker(store, client))
    (row,) = rows(store)
    assert row["status"] == "unknown" and "may have been sent" in row["error"]
    assert len(client.created) == 1


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(store: Store) -> None:
    queue(store, 3)
    client = RecordingHttpClient()
    dead = worker(store, client)
    texts = outbox.claim(store, dead.name, batch=3, lease=WorkerSettings().lease)
    dead.deliver(texts[0])  # sent, then the process dies holding the other two claims
    client.created.append({"To": MOBILE, "From": "+441234567890", "Body": "body 1"})  # sent, but not recorded
    with store.transaction() as tx:  # the dead worker's lease runs out
        tx.connection.execute(outbox_table.update().values(claimed_until=datetime(2000, 1, 1, tzinfo=UTC)))
    drain(store, worker(store, client))
    assert [row["status"] for row in rows(store)] == ["sent", "sent", "sent"]
    bodies = [data["Body"] for data in client.created]
    assert sorted(bodies) == ["body 0", "body 1", "body 2"]


def test_an_opted_out_number_is_not_sent_to(store: Store) -> None:
    queue(store)
    outbox.opt_out(store, MOBILE)
    client = RecordingHttpClient()
    drain(store, worker(store, client))
    assert rows(store)[0]["status"] == "opted_out" and client.requests == []


def test_twilios_refusal_of_an_opted_out_number_is_kept_as_an_opt_out(store: Store) -> None:
    """The STOP went to Twilio and never reached us: its error 21610 is the person's choice, not a fault."""
    queue(store, 2)
    client = RecordingHttpClient({"body 0": [(400, 21610)]})
    drain(store, worker(store, client))
    first, second = rows(store)
    assert (first["status"], first["attempts"]) == ("opted_out", 1) and "21610" in first["error"]
    assert outbox.is_opted_out(store, MOBILE)
    # The second text to the same number is not even tried: one request in all, never retried.
    assert second["status"] == "opted_out" and len(client.requests) == 1 and client.created == []


class FakeTime:
    """A clock that moves only when the worker sleeps."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


def test_the_worker_keeps_to_its_rate(store: Store) -> None:
    queue(store, 5)
    time = FakeTime()
    sender = TwilioSender(ACCOUNT, "token", from_number="+441234567890", http_client=RecordingHttpClient())
    Worker(store, sender, WorkerSettings(per_second=2), sleep=time.sleep, clock=lambda: time.now).run_once()
    assert sum(time.slept) == pytest.approx(2.0)  # five texts at two a second: four gaps of half a second


def test_several_workers_keep_to_one_rate_between_them(store: Store) -> None:
    """The rate is the deployment's, not each worker's: two workers at 2/s send four texts in 1.5 s, not 0.5 s."""
    queue(store, 4)
    time = FakeTime()
    sender = TwilioSender(ACCOUNT, "token", from_number="+441234567890", http_client=RecordingHttpClient())
    settings = WorkerSettings(per_second=2, batch=1)
    workers = [Worker(store, sender, settings, sleep=time.sleep, clock=lambda: time.now) for _ in range(2)]
    for _ in range(2):
        for runner in workers:
            runner.run_once()
    assert sum(time.slept) == pytest.approx(1.5)
    assert [row["status"] for row in rows(store)] == ["sent"] * 4


def test_slots_reserved_at_once_never_coincide(store: Store) -> None:
    """Workers racing for the next slot each get their own (FOR UPDATE on PostgreSQL, the write lock on SQLite).

    Only PostgreSQL can show a race here: SQLite serialises every writing transaction.
    """
    import threading

    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    slots: list[datetime] = []
    start = threading.Barrier(20)

    def reserve() -> None:
        start.wait()
        slots.append(outbox.next_slot(store, timedelta(milliseconds=500), at=at))

    threads = [threading.Thread(target=reserve) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(slots) == [at + timedelta(milliseconds=500 * index) for index in range(20)]


# --- over the webhooks ---


@pytest.fixture()
def client_app(store: Store, content: Content) -> Any:
    settings = Settings(database_url=store.url, **REAL_LINE, sms_daily_per_mobile=2)
    add_home(store)  # the calls come from a known home's landline: straight to the main menu
    return create_app(settings, content=content, store=store).test_client()


def post(client: Any, path: str, params: dict[str, str]) -> tuple[int, str]:
    url = "http://localhost" + path
    return FlaskTransport(client).post(url, params, sign(url, params))


def inbound(client: Any, body: str, sid: str) -> str:
    status, reply = post(client, "/sms", {"From": MOBILE, "To": "+443300000000", "Body": body, "MessageSid": sid})
    assert status == 200
    assert reply.startswith("<?xml") and "<Response" in reply
    assert_valid_messaging_twiml(reply)
    return reply


def test_inbound_keywords(client_app: Any, store: Store) -> None:
    help_text = inbound(client_app, "help", "SM1")
    # The list is built from the keywords: every keyword text's first word, and none that brings nothing back.
    assert "Text a word for a script: CHECKLIST (what to have ready), CALL (what to press)" in help_text
    assert "NOOWNER (no Owner left)" in help_text and "WORDS (Owner, User, Shared Mailbox)" in help_text
    assert "Text a word for a script" in inbound(client_app, "what is this?", "SM2")
    inbound(client_app, "Checklist", "SM3")
    inbound(client_app, "2", "SM4")
    inbound(client_app, "2", "SM4")  # Twilio retried the same message: one text
    queued = [(row["purpose"], row["to_number"]) for row in rows(store)]
    assert queued == [("checklist", MOBILE), ("scenario_2", MOBILE), ("answers_2", MOBILE)]  # a script comes in two


@pytest.mark.parametrize("word", ["STOP", "stopall", "Unsubscribe", "cancel", "END", "quit", "OPTOUT", "revoke"])
def test_every_one_of_twilios_opt_out_words_is_kept(client_app: Any, store: Store, word: str) -> None:
    assert "<Message" not in inbound(client_app, word, "SM1")
    assert outbox.is_opted_out(store, MOBILE)


@pytest.mark.parametrize("word", ["START", "yes", "Unstop"])
def test_every_one_of_twilios_opt_in_words_is_kept(client_app: Any, store: Store, word: str) -> None:
    outbox.opt_out(store, MOBILE)
    assert "back on" in inbound(client_app, word, "SM1")
    assert not outbox.is_opted_out(store, MOBILE)


def test_stop_then_a_send_is_refused_then_start(client_app: Any, store: Store) -> None:
    assert "<Message" not in inbound(client_app, "STOP", "SM5")
    assert outbox.is_opted_out(store, MOBILE)
    assert "<Message" not in inbound(client_app, "checklist", "SM6") and rows(store) == []
    sid = "CA" + "9" * 32
    base = {"CallSid": sid, "From": "+441522123456", "To": "+443300000000"}
    caller = Caller(client_app, base)
    caller.start()
    caller.press("5")
    caller.press("07400123456")
    status, body = caller.press("1")
    assert status == 200 and "asked us not to send it texts" in body and rows(store) == []
    assert_valid_twiml(body)
    assert "back on" in inbound(client_app, "Start", "SM7")
    assert not outbox.is_opted_out(store, MOBILE)


def test_daily_cap_per_mobile_is_explained_to_the_caller(client_app: Any, store: Store) -> None:
    for call in range(3):
        sid = f"CA{call:032d}"
        base = {"CallSid": sid, "From": "+441522123456", "To": "+443300000000"}
        caller = Caller(client_app, base)
        caller.start()
        caller.press("5")
        caller.press("07400123456")
        status, body = caller.press("1")
        assert status == 200
    assert "cannot send any more texts today" in body
    assert len(rows(store)) == 2


def test_status_callbacks_move_delivery_forward_only(client_app: Any, store: Store) -> None:
    queue(store)
    drain(store, worker(store, RecordingHttpClient()))
    sid = rows(store)[0]["provider_sid"]
    for status in ("sent", "delivered", "sent", "delivered", "queued"):
        assert post(client_app, "/sms/status", {"MessageSid": sid, "MessageStatus": status})[0] == 204
    assert rows(store)[0]["delivery_status"] == "delivered"
    assert outbox.record_delivery(store, sid, "sent") is False and outbox.record_delivery(store, sid, "read")
    assert rows(store)[0]["delivery_status"] == "read"


def test_status_callbacks_racing_never_move_delivery_back(store: Store) -> None:
    """Twilio may post 'sent' and 'delivered' at the same moment; the later state must stand.

    Only PostgreSQL can show the race: SQLite's write lock serialises the callbacks whatever the code.
    """
    import threading

    queue(store, 20)
    drain(store, worker(store, RecordingHttpClient()))
    sids = [row["provider_sid"] for row in rows(store)]
    start = threading.Barrier(3 * len(sids))

    def post_status(sid: str, status: str) -> None:
        start.wait()
        outbox.record_delivery(store, sid, status)

    threads = [threading.Thread(target=post_status, args=(sid, status))
               for sid in sids for status in ("queued", "delivered", "sent")]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [row["delivery_status"] for row in rows(store)] == ["delivered"] * len(sids)


def test_several_workers_at_once_send_each_text_once(store: Store) -> None:
    """Claims do not overlap: on PostgreSQL by FOR UPDATE SKIP LOCKED, on SQLite by its write lock."""
    import threading

    queue(store, 40)
    client = RecordingHttpClient()
    lock = threading.Lock()

    class Shared(RecordingHttpClient):  # one recording Twilio shared by every worker
        def request(self, *args: Any, **kwargs: Any) -> Response:
            with lock:
                return client.request(*args, **kwargs)

    workers = []
    for _ in range(4):
        runner = worker(store, Shared())
        runner.settings = WorkerSettings(per_second=1000, batch=3)
        workers.append(runner)
    threads = [threading.Thread(target=lambda w=w: [w.run_once() for _ in range(20)]) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bodies = [data["Body"] for data in client.created]
    assert sorted(bodies) == sorted(f"body {index}" for index in range(40))
    assert all(row["status"] == "sent" for row in rows(store))
    assert len({row["claimed_by"] for row in rows(store)}) > 1  # the work was really shared


def test_the_worker_carries_on_when_the_database_is_unreachable(caplog: pytest.LogCaptureFixture) -> None:
    broken = Store("sqlite:////nonexistent/dir/ivr.sqlite3")
    sender = TwilioSender(ACCOUNT, "token", from_number="+441234567890", http_client=RecordingHttpClient())
    naps: list[float] = []
    runner = Worker(broken, sender, WorkerSettings(), sleep=naps.append)
    with caplog.at_level(logging.ERROR, logger="ivr.texts.sending"):
        runner.run(poll=1.0, stop=lambda: len(naps) >= 8)
    assert naps == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]  # it waits longer each time, rather than dying
    assert caplog.text.count("could not work the outbox (OperationalError); trying again") == 8


# --- what a caller may have texted, over the webhooks ---


def app_with(store: Store, content: Content, **limits: Any) -> Any:
    settings = Settings(database_url=store.url, **REAL_LINE, **limits)
    add_home(store)  # calls from LANDLINE are a known home's
    return create_app(settings, content=content, store=store).test_client()


def ask_for_text(client: Any, mobile: str = "07400123456", caller: str = LANDLINE) -> str:
    """From the main menu: text me the checklist, key the mobile, confirm; what the caller hears after."""
    to_main_menu = "" if caller == LANDLINE else "2 "  # an unknown caller is first offered the ODS code
    simulator = simulate(client, f"{to_main_menu}5 {mobile}# 1", caller=caller)
    return after_last_press(simulator)


def after_last_press(simulator: Any) -> str:
    last_press = max(index for index, heard in enumerate(simulator.heard) if heard.who == "caller")
    return " ".join(heard.text for heard in simulator.heard[last_press + 1 :])


def test_a_second_text_of_a_kind_on_one_call_is_explained_not_dropped(store: Store, content: Content) -> None:
    client = app_with(store, content)
    simulator = simulate(client, "5 07400123456# 1 5")
    heard = after_last_press(simulator)  # asked again: told at once, before keying a number for nothing
    assert heard.startswith("That text is already on its way") and "press 5." in heard
    assert "key in your mobile" not in heard
    assert [row["to_number"] for row in rows(store)] == [MOBILE]


def test_a_text_already_queued_for_the_call_is_not_queued_again(store: Store, content: Content) -> None:
    """The outbox's key for the call and purpose is the truth: a text already there (as a retried request
    finds it) is not sent twice, and the caller is told it is on its way, as the first request was."""
    client = app_with(store, content)
    sid = "CA" + "8" * 32
    base = {"CallSid": sid, "From": LANDLINE, "To": "+443300000000"}
    caller = Caller(client, base)
    caller.start()
    caller.press("5")
    caller.press("07400987654")  # read back for confirmation
    with store.transaction() as tx:  # meanwhile the same call's checklist text reached the outbox
        tx.enqueue_text(key=outbox.call_text_key(sid, "checklist"), call_sid=sid, purpose="checklist", to=MOBILE,
                        body="checklist")  # fmt: skip
    status, body = caller.press("1")
    assert status == 200 and "The text is on its way" in body
    assert_valid_twiml(body)
    assert [row["to_number"] for row in rows(store)] == [MOBILE]


def test_the_daily_cap_per_calling_number(store: Store, content: Content) -> None:
    client = app_with(store, content, sms_daily_per_caller=2)
    mobiles = ["07400123456", "07400123457", "07400123458"]
    bodies = [ask_for_text(client, mobile) for mobile in mobiles]
    assert ["on its way" in body for body in bodies] == [True, True, False]
    assert "cannot send any more texts today" in bodies[2]
    assert "on its way" in ask_for_text(client, "07400123459", caller="+441522000111")
    assert len(rows(store)) == 3


def test_the_daily_cap_in_all(store: Store, content: Content) -> None:
    client = app_with(store, content, sms_daily_total=1)
    assert "on its way" in ask_for_text(client, "07400123456", caller="+441522000111")
    body = ask_for_text(client, "07400123457", caller="+441522000222")
    assert "cannot send any more texts today" in body and len(rows(store)) == 1


def test_escalation_notices_are_not_counted_against_the_caps(store: Store, content: Content) -> None:
    """Even with the day's texts used up, the care association hears of the ticket."""
    client = app_with(store, content, sms_daily_total=1, escalation_contact="07400 999888")
    assert "on its way" in ask_for_text(client)  # the day's one text
    simulator = simulate(client, "4 1 4455667# 1 1 1 07400111222# 1")  # escalate; ask for the receipt too
    assert "passed the ticket number to your care association" in " ".join(h.text for h in simulator.heard)
    assert "cannot send any more texts today" in " ".join(h.text for h in simulator.heard[-8:])
    by_purpose = {row["purpose"]: row for row in rows(store)}
    assert by_purpose["escalation_notice"]["to_number"] == "+447400999888"
    assert "escalation_receipt" not in by_purpose  # the caller's own receipt is capped, and refused


@pytest.mark.parametrize(
    ("keyed", "why"),
    [
        ("01522123456", "a landline"),
        ("07012345678", "070 personal numbering"),
        ("07640123456", "076 pager"),
        ("09012345678", "premium rate"),
        ("03001234567", "non-geographic"),
        ("0740012345", "too short"),
        ("0033612345678", "a French mobile"),
        ("07624123456", "an Isle of Man mobile, with the setting off"),
    ],
)
def test_numbers_that_are_not_uk_mobiles_are_explained_and_asked_again(
    store: Store, content: Content, keyed: str, why: str
) -> None:
    client = app_with(store, content)
    simulator = simulate(client, f"5 {keyed}#")  # what the caller hears straight after keying the number
    heard = after_last_press(simulator)
    assert heard.startswith("That does not look like a U K mobile number."), (why, heard)
    assert "Please key in your mobile number" in heard and "I heard" not in heard, why
    assert rows(store) == [], why


def test_crown_dependency_mobiles_are_a_setting(store: Store, content: Content) -> None:
    client = app_with(store, content, crown_dependency_mobiles=True)
    assert "on its way" in ask_for_text(client, "07624123456")
    assert [row["to_number"] for row in rows(store)] == ["+447624123456"]


def test_keywords_from_numbers_we_may_not_text_get_nothing(store: Store, content: Content) -> None:
    client = app_with(store, content)
    for index, sender in enumerate(["+12025550123", "+441522123456", "+447624123456"]):
        params = {"From": sender, "To": "+443300000000", "Body": "checklist", "MessageSid": f"SMx{index}"}
        status, reply = post(client, "/sms", params)
        assert status == 200 and "<Message" not in reply, sender
    assert rows(store) == []


def test_keyword_texts_keep_to_the_daily_caps(store: Store, content: Content) -> None:
    client = app_with(store, content, sms_daily_total=1)
    inbound(client, "checklist", "SM1")
    inbound(client, "2", "SM2")
    assert [row["purpose"] for row in rows(store)] == ["checklist"]


def test_inbound_texts_must_be_signed(store: Store, content: Content) -> None:
    client = app_with(store, content)
    params = {"From": MOBILE, "To": "+443300000000", "Body": "checklist", "MessageSid": "SM9"}
    reply = client.post("/sms", data=params, headers={"X-Twilio-Signature": sign("http://localhost/sms", params, "x")})
    assert reply.status_code == 403 and rows(store) == []


def test_the_status_callback_is_asked_for_only_with_a_public_url(store: Store) -> None:
    credentials = {"twilio_account_sid": ACCOUNT, "twilio_auth_token": "token", "twilio_from_number": "+441234567890",
                   "secret_key": "a-secret"}  # fmt: skip
    with_url = worker_for(Settings(database_url=store.url, public_base_url="https://ivr.example.org/", **credentials),
                          store)  # fmt: skip
    assert with_url.settings.status_callback == "https://ivr.example.org/sms/status"
    assert isinstance(with_url.sender, TwilioSender)
    without = worker_for(Settings(database_url=store.url, **credentials), store)
    assert without.settings.status_callback is None
    assert isinstance(worker_for(Settings(database_url=store.url), store).sender, ConsoleSender)  # no credentials
