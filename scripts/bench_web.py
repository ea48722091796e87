"""Benchmark the phone app under the Procfile's gunicorn settings, beside a constant-TwiML floor.

Starts each server on loopback, then runs two loads and prints the figures:
  1. callers as on a phone: N callers at once, each waiting 2-8 s between key presses,
     walking a whole scenario; latency p50/p95/p99 (target: p99 under 50 ms);
  2. back to back: 50 connections sending walks with no pause; requests per second,
     and the ratio to the floor's (target: at least half).
On SQLite always, and on PostgreSQL too when BENCH_DATABASE_URL names one.

    .venv/bin/python scripts/bench_web.py [--callers 500] [--seconds 20]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TOKEN = "benchmark-token"
# The shortcut to scenario three and through all its steps: a long, realistic walk.
WALK = ["2", "3"] + ["1"] * 14


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(app: str, env_extra: dict[str, str], cwd: Path) -> Iterator[int]:
    port = free_port()
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PORT": str(port), **env_extra}
    web = (ROOT / "Procfile").read_text().split("web: ", 1)[1].splitlines()[0]
    command = [*shlex.split(web)[:-1], app]  # the Procfile's own settings, another app for the floor
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{app} did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=15)


class Caller:
    """One simulated call over a kept-alive connection: signed requests, Twilio's parameters."""

    validator = RequestValidator(TOKEN)

    def __init__(self, port: int, keep_alive: bool = True) -> None:
        self.port = port
        self.keep_alive = keep_alive
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        self.params = {"CallSid": "CA" + uuid.uuid4().hex, "From": "+441522123456", "To": "+443300000000",
                       "AccountSid": "AC" + "0" * 32, "CallStatus": "in-progress"}  # fmt: skip

    def post(self, path: str, extra: dict[str, str]) -> float:
        params = {**self.params, **extra}
        url = f"http://127.0.0.1:{self.port}{path}"
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, params),
                   "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
        if not self.keep_alive:  # a caller pausing for seconds outlives gunicorn's keep-alive, as Twilio's would
            self.connection.close()
        began = time.perf_counter()
        self.connection.request("POST", path, body=urlencode(params), headers=headers)
        reply = self.connection.getresponse()
        reply.read()
        elapsed = time.perf_counter() - began
        if reply.status != 200:
            raise RuntimeError(f"HTTP {reply.status} for {path}")
        return elapsed

    def walk(self, pause: tuple[float, float] | None, latencies: list[float], stop: float) -> int:
        sent = 0
        latencies.append(self.post("/voice", {}))
        sent += 1
        for turn, key in enumerate(WALK):
            if pause:
                time.sleep(random.uniform(*pause))
            if time.monotonic() > stop:
                break
            latencies.append(self.post(f"/voice/turn/{turn}", {"Digits": key}))
            sent += 1
        return sent


def phone_load(port: int, callers: int) -> list[float]:
    latencies: list[float] = []
    stop = time.monotonic() + 600
    threads = []
    for _ in range(callers):
        caller = Caller(port, keep_alive=False)
        thread = threading.Thread(target=caller.walk, args=((2.0, 8.0), latencies, stop), daemon=True)
        threads.append(thread)
    for thread in threads:
        thread.start()
        time.sleep(0.01)  # calls arrive over five seconds, not in one instant
    for thread in threads:
        thread.join()
    return latencies


def back_to_back(port: int, connections: int, seconds: float) -> float:
    counts = [0] * connections
    stop = time.monotonic() + seconds

    def run(index: int) -> None:
        while time.monotonic() < stop:
            caller = Caller(port)
            counts[index] += caller.walk(None, [], stop)
            caller.connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(connections)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - began)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--callers", type=int, default=500)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    databases = {"SQLite": None}
    if os.environ.get("BENCH_DATABASE_URL"):
        databases["PostgreSQL"] = os.environ["BENCH_DATABASE_URL"]
    with tempfile.TemporaryDirectory() as scratch, server("bench_floor:app", {}, ROOT / "scripts") as floor:
        floor_rps = back_to_back(floor, args.connections, args.seconds)
        print(f"floor (constant TwiML, same gunicorn settings): {floor_rps:,.0f} requests/s back to back")
        for name, url in databases.items():
            database = url or f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
            env = {"TWILIO_AUTH_TOKEN": TOKEN, "DATABASE_URL": database}
            subprocess.run([str(BIN / "ivr"), "db", "upgrade"], env={**os.environ, **env}, check=True,
                           capture_output=True)  # fmt: skip
            with server("ivr.app:create_app()", env, Path(scratch)) as port:
                latencies = phone_load(port, args.callers)
                print(f"{name}: {args.callers} callers as on a phone, {len(latencies)} requests: "
                      f"p50 {percentile(latencies, 0.50):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms, "
                      f"p99 {percentile(latencies, 0.99):.1f} ms, max {max(latencies) * 1000:.1f} ms "
                      f"(target p99 < 50 ms)")  # fmt: skip
                rps = back_to_back(port, args.connections, args.seconds)
                print(f"{name}: back to back from {args.connections} connections: {rps:,.0f} requests/s, "
                      f"{rps / floor_rps:.2f} of the floor (target >= 0.50)")  # fmt: skip


if __name__ == "__main__":
    main()
