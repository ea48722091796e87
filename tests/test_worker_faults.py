"""The worker under faults: a crashed worker's texts are taken over quickly, a live one keeps its own,
and a worker told to stop (SIGTERM) finishes its send and lets the rest go; each text is sent once."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from twilio.http.response import Response

from ivr.store.database import Store
from ivr.texts import outbox
from ivr.texts.sending import Worker, WorkerSettings
from tests.test_procfile import BIN, clean_env
from tests.test_sms import RecordingHttpClient, queue, rows, worker


@pytest.fixture()
def store(upgraded: Store) -> Store:
    return upgraded


def quick(store: Store, client: RecordingHttpClient, lease: float) -> Worker:
    runner = worker(store, client)
    runner.settings = WorkerSettings(per_second=1000, lease=timedelta(seconds=lease))
    return runner


def sent_bodies(client: RecordingHttpClient) -> list[str]:
    return sorted(data["Body"] for data in client.created)


def test_the_lease_lets_a_crashed_workers_texts_be_taken_over_within_half_a_minute() -> None:
    assert WorkerSettings().lease <= timedelta(seconds=20)


def test_a_crashed_workers_claims_are_sent_by_another_worker_once_its_lease_runs_out(store: Store) -> None:
    queue(store, 3)
    client = RecordingHttpClient()
    lease = 0.5
    crashed = quick(store, client, lease)
    held = outbox.claim(store, crashed.name, batch=3, lease=crashed.settings.lease)
    crashed.deliver(held[0])  # sent; then the process dies holding the other two claims
    client.created.append({"To": held[1].to, "From": "+441234567890", "Body": "body 1"})  # sent, never recorded
    other = quick(store, client, lease)
    assert other.run_once() == 0  # the claims are still the crashed worker's
    started = time.monotonic()
    while other.run_once() == 0:
        assert time.monotonic() - started < 5 * lease, "the crashed worker's texts were never taken over"
        time.sleep(0.05)
    assert time.monotonic() - started < 2 * lease
    assert [row["status"] for row in rows(store)] == ["sent", "sent", "sent"]
    assert [row["claimed_by"] for row in rows(store)][1:] == [other.name, other.name]
    assert sent_bodies(client) == ["body 0", "body 1", "body 2"]  # body 1 found by the lookup, not sent again


def test_a_live_worker_renews_its_claims_so_no_other_takes_them(store: Store) -> None:
    """Four sends of a quarter second each outlast a lease of 0.6 s: renewing keeps them the worker's own."""
    queue(store, 4)
    lock = threading.Lock()
    client = RecordingHttpClient()
    claimed = threading.Event()

    class Slow(RecordingHttpClient):
        def request(self, *args: Any, **kwargs: Any) -> Response:
            claimed.set()  # the batch was claimed before its first send
            time.sleep(0.25)
            with lock:
                return client.request(*args, **kwargs)

    slow, other = quick(store, Slow(), 0.6), quick(store, Slow(), 0.6)
    working = threading.Thread(target=slow.run_once, daemon=True)
    working.start()
    assert claimed.wait(5)
    while working.is_alive():
        other.run_once()
        time.sleep(0.05)
    assert [row["claimed_by"] for row in rows(store)] == [slow.name] * 4
    assert [row["status"] for row in rows(store)] == ["sent"] * 4
    assert sent_bodies(client) == ["body 0", "body 1", "body 2", "body 3"]
    assert [r["method"] for r in client.requests] == ["POST"] * 4  # no takeover, so no lookups


def test_sigterm_finishes_the_current_send_and_lets_the_other_claims_go(store: Store) -> None:
    queue(store, 5)
    client = RecordingHttpClient()
    sending, go_on = threading.Event(), threading.Event()

    class Held(RecordingHttpClient):
        def request(self, *args: Any, **kwargs: Any) -> Response:
            sending.set()
            go_on.wait(5)
            return client.request(*args, **kwargs)

    runner = quick(store, Held(), 20)
    working = threading.Thread(target=runner.run, kwargs={"poll": 0.01}, daemon=True)
    working.start()
    assert sending.wait(5)
    runner.request_stop(signal.SIGTERM, None)  # what the handler `ivr worker` installs is called with
    go_on.set()
    working.join(5)
    assert not working.is_alive(), "the worker did not stop"
    statuses = [(row["status"], row["claimed_by"]) for row in rows(store)]
    assert statuses == [("sent", runner.name)] + [("pending", None)] * 4
    # Let go, not left to run out: another worker sends them at once, without looking first.
    other = quick(store, client, 20)
    assert other.run_once() == 4
    assert sent_bodies(client) == [f"body {index}" for index in range(5)]
    assert [r["method"] for r in client.requests] == ["POST"] * 5


def test_a_claim_taken_over_from_a_dead_worker_is_let_go_as_one_to_look_up_first(store: Store) -> None:
    queue(store, 1)
    client = RecordingHttpClient()
    outbox.claim(store, "dead", batch=1, lease=timedelta(seconds=-1))  # a claim that has run out
    stopping = quick(store, client, 20)
    (text,) = outbox.claim(store, stopping.name, batch=1, lease=stopping.settings.lease)
    assert text.reclaimed
    assert outbox.release(store, [text], stopping.name) == 1
    (again,) = outbox.claim(store, "next", batch=1, lease=stopping.settings.lease)
    assert again.reclaimed  # the dead worker may have sent it: whoever sends it looks first


def test_ivr_worker_stops_cleanly_on_sigterm(tmp_path: Path, store: Store) -> None:
    """The real process: SIGTERM mid-batch, the text in hand is printed and recorded, the rest are let go."""
    queue(store, 6)
    env = clean_env(DATABASE_URL=store.url, IVR_SMS_PER_SECOND="2")
    process = subprocess.Popen([str(BIN / "ivr"), "worker"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
    output = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if line.startswith("--- text to"):
                break
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    text = "".join(output) + rest
    assert process.returncode == 0, text
    assert "Traceback" not in text and "stopped" in text, text
    statuses = [(row["status"], row["claimed_by"] is None) for row in rows(store)]
    sent = statuses.count(("sent", False))
    assert sent >= 1 and statuses == [("sent", False)] * sent + [("pending", True)] * (6 - sent), statuses
    assert text.count("--- text to") == sent
