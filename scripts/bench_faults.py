"""The faults of issue #13 against the real server (the Procfile's gunicorn line), with figures.

Callers ring the app over HTTP, signed as Twilio signs, each call asking for the checklist by text
(a write) and ending with the status callback; beside them, probes post to /voice/fallback, /sms,
/sms/status and /voice/status and get /healthz and /readyz every half second. Each fault is a few
seconds of that before, the fault itself, and a while after it is lifted:

  PostgreSQL (a throwaway cluster, tests/pg_cluster.py): stopped (pg_ctl stop -m immediate), hung
  (SIGSTOP to the postmaster and its backends);
  SQLite: the write lock held by another connection, the file deleted (its name unlinked; put back
  afterwards), the file made read-only (chmod), the file made immutable (chattr +i, where allowed).

Printed for each: per webhook, the requests, answer times (p50, p99, max), 5xx answers and answers
slower than 3 s; the texts promised ("on its way"), said not sendable, and written in vain (a row for a
call told it could not be sent); how long after the fault was lifted a text was promised again and
/readyz said ready. At the end, on each database, the outbox is drained by the real worker through the
twilio SDK to a recording stand-in for Twilio: texts lost (promised, never sent) and doubled (sent twice).

    .venv/bin/python scripts/bench_faults.py [--callers 20] [--before 4] [--during 10] [--after 14]
        [--deadline 2] [--threads 8] [--only postgres|sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench_web import HOST, LANDLINE, LINE_NUMBER, REAL_LINE, TOKEN, base_env, prepare, server
from sqlalchemy import select
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

from ivr.settings import Settings
from ivr.store.database import Store, outbox
from ivr.texts.sending import TwilioSender, Worker, WorkerSettings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests import pg_cluster  # noqa: E402  (the same throwaway cluster the tests make)

PATIENCE = 3.0  # seconds: what every webhook must answer within while the database is down
TIMEOUT = 30.0  # seconds: past this the client gives up on a request (counted as an error)
GATHER = re.compile(r'<Gather\b[^>]*?\baction="([^"]*)"')
MOBILE = "07400123456"
SIGNER = RequestValidator(TOKEN)
DEADLINE = Settings.model_fields["database_deadline_seconds"].default
THREADS = 8  # gunicorn_conf.py's default
CAPS = {"IVR_SMS_DAILY_PER_MOBILE": "1000000", "IVR_SMS_DAILY_PER_CALLER": "1000000", "IVR_SMS_DAILY_TOTAL": "1000000"}


# --- the client ---


async def post(port: int, path: str, params: dict[str, str] | None, method: str = "POST") -> tuple[int, str, float]:
    """One request on a connection of its own; (status, body, seconds). Status 0: no answer in TIMEOUT."""
    body = urlencode(params or {}).encode()
    signature = SIGNER.compute_signature(f"http://{HOST}:{port}{path}", params or {})
    began = time.perf_counter()
    try:
        return await asyncio.wait_for(_exchange(port, path, body, signature, method), TIMEOUT)
    except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
        return 0, "", time.perf_counter() - began


async def _exchange(port: int, path: str, body: bytes, signature: str, method: str) -> tuple[int, str, float]:
    began = time.perf_counter()
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nX-Twilio-Signature: {signature}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n".encode() + body
        )
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        text = (await reader.readexactly(length)).decode()
        return status, text, time.perf_counter() - began
    finally:
        writer.close()


# --- what is measured ---


@dataclass
class Tally:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # 5xx, or no answer at all
    bad_twiml: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    promised: set[str] = field(default_factory=set)  # CallSids told "The text is on its way"
    refused: set[str] = field(default_factory=set)  # CallSids told "I cannot send texts just now"
    not_ready: int = 0  # /readyz's 503s
    first_promise_after: float | None = None
    first_ready_after: float | None = None

    def note(self, webhook: str, status: int, seconds: float, body: str = "", twiml: bool = False) -> None:
        self.times[webhook].append(seconds)
        if webhook == "/readyz" and status == 503:  # its proper answer while the database is down
            self.not_ready += 1
        elif status == 0 or status >= 500:
            self.errors[webhook] += 1
        if twiml and not (body.startswith("<?xml") and "<Response>" in body and body.rstrip().endswith("</Response>")):
            self.bad_twiml[webhook] += 1


class Phases:
    """Which tally a request started in counts for: before, during or after the fault."""

    def __init__(self) -> None:
        self.name = "before"
        self.tallies = {name: Tally() for name in ("before", "during", "after")}
        self.lifted_at = 0.0

    @property
    def tally(self) -> Tally:
        return self.tallies[self.name]


async def one_call(port: int, phases: Phases) -> None:
    """A call asking for the checklist by text, then Twilio's status callback for it."""
    sid = "CA" + uuid.uuid4().hex
    params = {"AccountSid": REAL_LINE["TWILIO_ACCOUNT_SID"], "CallSid": sid, "From": LANDLINE, "To": LINE_NUMBER,
              "CallStatus": "in-progress", "Direction": "inbound", "ApiVersion": "2010-04-01"}  # fmt: skip
    tally = phases.tally
    status, body, seconds = await post(port, "/voice", params)
    tally.note("/voice", status, seconds, body, twiml=True)
    # Not recognised (the directory could not be read): 2 for the main menu first.
    keys = ["2", "5", MOBILE, "1"] if "registered landline" in body else ["5", MOBILE, "1"]
    for index, key in enumerate(keys):
        action = GATHER.search(body)
        if status != 200 or action is None:
            return
        await asyncio.sleep(random.uniform(0.1, 0.4))
        tally = phases.tally
        path = urlsplit(html.unescape(action.group(1))).path
        name = "turn asking for a text" if index == len(keys) - 1 else "turn, menu or entry"
        status, body, seconds = await post(port, path, {**params, "Digits": key})
        tally.note(name, status, seconds, body, twiml=True)
    if "The text is on its way" in body:
        tally.promised.add(sid)
        if phases.name == "after" and tally.first_promise_after is None:
            tally.first_promise_after = time.monotonic() - phases.lifted_at
    elif "cannot send texts just now" in body:
        tally.refused.add(sid)
    tally = phases.tally
    status, _, seconds = await post(port, "/voice/status", {**params, "CallStatus": "completed", "CallDuration": "42"})
    tally.note("/voice/status", status, seconds)


async def probes(port: int, phases: Phases) -> None:
    """The other webhooks and the probes, once each."""
    tally = phases.tally
    call = {"CallSid": "CA" + uuid.uuid4().hex, "From": LANDLINE, "To": LINE_NUMBER}
    text = {"From": "+447400654321", "To": LINE_NUMBER, "MessageSid": "SM" + uuid.uuid4().hex}
    checks: list[tuple[str, str, dict[str, str] | None, str, bool]] = [
        ("/voice/fallback", "/voice/fallback", {**call, "ErrorCode": "11200"}, "POST", True),
        ("/sms", "/sms", {**text, "Body": "HELP"}, "POST", False),
        ("/sms/status", "/sms/status", {**text, "MessageStatus": "delivered"}, "POST", False),
        ("/healthz", "/healthz", None, "GET", False),
        ("/readyz", "/readyz", None, "GET", False),
    ]
    results = await asyncio.gather(*(post(port, path, params, method) for _, path, params, method, _ in checks))
    for (name, _, _, _, twiml), (status, body, seconds) in zip(checks, results, strict=True):
        tally.note(name, status, seconds, body, twiml)
        if name == "/readyz" and status == 200 and phases.name == "after" and tally.first_ready_after is None:
            tally.first_ready_after = time.monotonic() - phases.lifted_at


# --- the faults ---


@dataclass
class Fault:
    name: str
    begin: Callable[[], None]
    end: Callable[[], None]


def held_lock(path: Path) -> Fault:
    release = threading.Event()
    taken = threading.Event()
    holder: list[threading.Thread] = []

    def hold() -> None:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        taken.set()
        release.wait(300)
        connection.execute("ROLLBACK")
        connection.close()

    def begin() -> None:
        release.clear()
        taken.clear()
        holder[:] = [threading.Thread(target=hold)]
        holder[0].start()
        taken.wait(10)

    def end() -> None:
        release.set()
        holder[0].join()

    return Fault("SQLite write lock held", begin, end)


def deleted(path: Path) -> Fault:
    kept = path.with_name("kept-" + path.name)

    def begin() -> None:
        os.link(path, kept)  # a second name, so the file can be put back as it was
        path.unlink()

    def end() -> None:
        os.rename(kept, path)

    return Fault("SQLite file deleted", begin, end)


def chmodded(path: Path) -> Fault:
    return Fault("SQLite file read-only (chmod 444)", lambda: path.chmod(0o444), lambda: path.chmod(0o644))


def immutable(path: Path) -> Fault:
    def flag(sign: str) -> Callable[[], None]:
        return lambda: subprocess.run(["chattr", f"{sign}i", str(path)], check=True, capture_output=True)

    return Fault("SQLite file immutable (chattr +i)", flag("+"), flag("-"))


def can_chattr(folder: Path) -> bool:
    probe = folder / "chattr-probe"
    probe.touch()
    try:
        made = subprocess.run(["chattr", "+i", str(probe)], capture_output=True, check=False)
        subprocess.run(["chattr", "-i", str(probe)], capture_output=True, check=False)
        return made.returncode == 0
    except FileNotFoundError:
        return False
    finally:
        probe.unlink(missing_ok=True)


# --- a run ---


async def run_fault(port: int, fault: Fault, args: argparse.Namespace) -> Phases:
    phases = Phases()
    stop = time.monotonic() + args.before + args.during + args.after

    async def caller() -> None:
        await asyncio.sleep(random.uniform(0, 1))
        while time.monotonic() < stop:
            await one_call(port, phases)

    async def prober() -> None:
        while time.monotonic() < stop:
            await probes(port, phases)
            await asyncio.sleep(0.5)

    async def driver() -> None:
        await asyncio.sleep(args.before)
        await asyncio.to_thread(fault.begin)
        phases.name = "during"
        try:
            await asyncio.sleep(args.during)
        finally:
            await asyncio.to_thread(fault.end)
        phases.lifted_at = time.monotonic()
        phases.name = "after"

    await asyncio.gather(driver(), prober(), *(caller() for _ in range(args.callers)))
    return phases


def ms(values: list[float], share: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000:,.0f}"


ORDER = ("/voice", "turn, menu or entry", "turn asking for a text", "/voice/status", "/voice/fallback", "/sms",
         "/sms/status", "/healthz", "/readyz")  # fmt: skip


def report(fault: Fault, phases: Phases, rows_for: Callable[[set[str]], int], args: argparse.Namespace) -> None:
    during, after = phases.tallies["during"], phases.tallies["after"]
    print(f"\n{fault.name}, {args.during:g} s (then {args.after:g} s after it was lifted):")
    print(f"  {'while down':<24}{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'5xx/none':>10}"
          f"{'> 3 s':>7}{'bad TwiML':>10}")  # fmt: skip
    for name in ORDER:
        times = during.times.get(name, [])
        slow = sum(1 for value in times if value > PATIENCE)
        print(f"  {name:<24}{len(times):>9}{ms(times, 0.5):>9}{ms(times, 0.99):>9}{ms(times, 1.0):>9}"
              f"{during.errors.get(name, 0):>10}{slow:>7}{during.bad_twiml.get(name, 0):>10}")  # fmt: skip
    everything = [t for tally in phases.tallies.values() for times in tally.times.values() for t in times]
    errors = sum(sum(tally.errors.values()) for tally in phases.tallies.values())
    print(f"  /readyz said not ready {during.not_ready} of {len(during.times.get('/readyz', []))} times while down")
    print(f"  whole run: {len(everything)} requests, 5xx or no answer {errors} (/readyz's 503 apart), "
          f"max {ms(everything, 1.0)} ms")  # fmt: skip
    promised = set().union(*(tally.promised for tally in phases.tallies.values()))
    refused = set().union(*(tally.refused for tally in phases.tallies.values()))
    print(f"  texts asked for while down: {len(during.promised)} promised (as it was lifted),"
          f" {len(during.refused)} said not sendable; "
          f"{len(promised)} promised in the run, {rows_for(promised)} of them in the outbox; "
          f"written in vain (a row for a call told no): {rows_for(refused)}")  # fmt: skip
    ready = f"{after.first_ready_after:.1f} s" if after.first_ready_after is not None else "never"
    text = f"{after.first_promise_after:.1f} s" if after.first_promise_after is not None else "never"
    print(f"  after it was lifted: /readyz ready in {ready}, a text promised again in {text}")


class RecordingTwilio(HttpClient):
    """Twilio's Messages API as far as the worker needs it: every create accepted and recorded."""

    def __init__(self) -> None:
        super().__init__(logger=None, is_async=False, timeout=None)  # type: ignore[arg-type]
        self.created: list[dict[str, Any]] = []

    def request(self, method: str, uri: str, params: Any = None, data: Any = None, headers: Any = None,
                auth: Any = None, timeout: Any = None, allow_redirects: bool = False) -> Response:  # fmt: skip
        self.created.append(dict(data or {}))
        return Response(201, json.dumps({"sid": f"SM{len(self.created):032d}", "status": "queued"}))


def drain(url: str, promised: set[str], refused: set[str], name: str) -> None:
    """The real worker sends what is queued; then texts lost and doubled, counted against the promises."""
    store = Store(url)
    twilio = RecordingTwilio()
    sender = TwilioSender("AC" + "b" * 32, "token", from_number=LINE_NUMBER, http_client=twilio)
    worker = Worker(store, sender, WorkerSettings(per_second=1_000_000, batch=100))
    while worker.run_once():
        pass
    with store.engine.connect() as connection:
        rows = connection.execute(select(outbox.c.call_sid, outbox.c.status, outbox.c.purpose)).all()
    store.engine.dispose()
    sent_calls = [row.call_sid for row in rows if row.status == "sent" and row.purpose == "checklist"]
    lost = len(promised - set(sent_calls))
    doubled = len(twilio.created) - sum(1 for row in rows if row.status == "sent")
    print(f"\n{name}, the outbox drained by the worker: {len(promised)} texts promised, {len(rows)} rows, "
          f"{len(twilio.created)} sent to Twilio; lost {lost}, doubled {doubled}, "
          f"sent for a call never promised {len(set(sent_calls) - promised)} "
          f"(of them told it could not be sent: {len(set(sent_calls) & refused)})")  # fmt: skip


def bench(name: str, url: str, data: Path, faults: list[Fault], args: argparse.Namespace) -> None:
    tuning = {"IVR_DATABASE_DEADLINE_SECONDS": f"{args.deadline:g}", "IVR_WEB_THREADS": str(args.threads)}
    env = base_env(**REAL_LINE, **CAPS, **tuning, IVR_DATA_DIR=str(data), DATABASE_URL=url)
    prepare(env, data)
    promised: set[str] = set()
    refused: set[str] = set()
    store = Store(Settings(database_url=url).database_url)

    def rows_for(sids: set[str]) -> int:
        if not sids:
            return 0
        with store.engine.connect() as connection:
            found = connection.execute(select(outbox.c.call_sid).where(outbox.c.call_sid.in_(sids))).all()
        return len({row.call_sid for row in found})

    try:
        with server("ivr.app:create_app()", env, data) as port:
            print(f"\n== {name}: gunicorn (the Procfile's line) on port {port}, {args.callers} callers, "
                  f"database deadline {args.deadline:g} s, {args.threads} threads in each of gunicorn's workers")
            for fault in faults:
                phases = asyncio.run(run_fault(port, fault, args))
                report(fault, phases, rows_for, args)
                promised |= set().union(*(tally.promised for tally in phases.tallies.values()))
                refused |= set().union(*(tally.refused for tally in phases.tallies.values()))
                store.engine.dispose()  # this process's own connections start afresh after the fault too
    finally:
        store.engine.dispose()
    drain(Settings(database_url=url).database_url, promised, refused, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--callers", type=int, default=20, help="callers ringing again and again (default 20)")
    parser.add_argument("--before", type=float, default=4.0, help="seconds before each fault (default 4)")
    parser.add_argument("--during", type=float, default=10.0, help="seconds each fault lasts (default 10)")
    parser.add_argument("--after", type=float, default=14.0, help="seconds after it is lifted (default 14)")
    parser.add_argument("--deadline", type=float, default=DEADLINE,
                        help=f"IVR_DATABASE_DEADLINE_SECONDS (default {DEADLINE:g}, the setting's own)")
    parser.add_argument("--threads", type=int, default=THREADS, help=f"IVR_WEB_THREADS (default {THREADS})")
    parser.add_argument("--only", choices=["postgres", "sqlite"], help="one database only")
    args = parser.parse_args()
    if not (1 <= args.callers <= 200 and all(0 < value <= 120 for value in (args.before, args.during, args.after))):
        parser.error("keep it bounded: 1-200 callers, phases of at most 120 s")
    with tempfile.TemporaryDirectory() as scratch:
        if args.only != "sqlite":
            problem = pg_cluster.missing()
            if problem:
                print(f"PostgreSQL skipped: {problem}")
            else:
                with pg_cluster.cluster() as cluster:
                    faults = [Fault("PostgreSQL stopped (pg_ctl stop -m immediate)", cluster.stop, cluster.start),
                              Fault("PostgreSQL hung (SIGSTOP)", cluster.hang, cluster.resume)]  # fmt: skip
                    (Path(scratch) / "postgres").mkdir()
                    bench("PostgreSQL", cluster.url, Path(scratch) / "postgres", faults, args)
        if args.only != "postgres":
            data = Path(scratch) / "sqlite"
            data.mkdir()
            path = data / "ivr.sqlite3"
            faults = [held_lock(path), deleted(path), chmodded(path)]
            if can_chattr(data):
                faults.append(immutable(path))
            else:
                print("SQLite immutable skipped: chattr +i is not allowed here")
            bench("SQLite", f"sqlite:///{path}", data, faults, args)


if __name__ == "__main__":
    main()
