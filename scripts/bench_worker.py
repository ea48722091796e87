"""Measure the outbox worker's sending rate: N texts queued in a scratch SQLite database, sent through
the real twilio SDK to a stand-in HTTP client that answers as Twilio does, at the configured rate and
with no rate limit at all (what the worker itself can do), and with several workers at once sharing the
rate (which they must keep between them, not each).

    .venv/bin/python scripts/bench_worker.py [--texts 200] [--rate 10] [--workers 3]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from twilio.http import HttpClient
from twilio.http.response import Response

from ivr.store.database import Store
from ivr.texts.sending import TwilioSender, Worker, WorkerSettings


class AcceptingHttpClient(HttpClient):
    """Answers every create as Twilio would, at once: the measure is the worker, not the network."""

    def __init__(self) -> None:
        super().__init__(logger=None, is_async=False, timeout=None)  # type: ignore[arg-type]
        self.count = 0

    def request(self, method: str, uri: str, params: Any = None, data: Any = None, headers: Any = None,
                auth: Any = None, timeout: Any = None, allow_redirects: bool = False) -> Response:  # fmt: skip
        self.count += 1
        return Response(201, json.dumps({"sid": f"SM{self.count:032d}", "status": "queued"}))


def measure(texts: int, rate: float, workers: int = 1) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        store = Store(f"sqlite:///{Path(scratch) / 'bench.sqlite3'}")
        store.upgrade()
        with store.transaction() as tx:
            for index in range(texts):
                tx.enqueue_text(key=f"bench:{index}", call_sid=None, purpose="checklist", to="+447400123456",
                                body=f"text {index}")  # fmt: skip
        sender = TwilioSender("AC" + "0" * 32, "token", from_number="+441234567890", http_client=AcceptingHttpClient())
        batch = 50 if workers == 1 else 2  # small batches, so that the workers really share the texts
        runners = [Worker(store, sender, WorkerSettings(per_second=rate, batch=batch)) for _ in range(workers)]

        def drain(worker: Worker) -> None:
            while worker.run_once():
                pass

        threads = [threading.Thread(target=drain, args=(runner,)) for runner in runners]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return texts / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    paced = measure(min(args.texts, int(args.rate * 10)), args.rate)
    print(f"worker at a configured {args.rate:g} texts/s: measured {paced:.2f} texts/s")
    unpaced = measure(args.texts, 1_000_000)
    print(f"worker with no rate limit ({args.texts} texts): {unpaced:,.0f} texts/s (its own ceiling)")
    shared = measure(min(args.texts, int(args.rate * 10)), args.rate, workers=args.workers)
    print(f"{args.workers} workers at once, configured {args.rate:g} texts/s: measured {shared:.2f} texts/s together")


if __name__ == "__main__":
    main()
