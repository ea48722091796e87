"""Where the time of one webhook goes, inside the server process: the app as gunicorn calls it, no network.

The walks of scripts/bench_web.py, driven straight through the WSGI app that `ivr.app:create_app()`
builds (the environ a gunicorn worker hands it, signed as Twilio signs), one request after another
on one thread. Printed:
  - the time of a request per kind (a call's first request, which writes, and a turn), median and p99;
  - the pieces of it, timed by wrapping each (signature, form, opening the token, the engine,
    the writes, sealing, TwiML, the deadline's hand-off, logging) and the rest, which is Flask's and
    Werkzeug's, in tenths of a millisecond;
  - the SQL statements and pool check-outs per kind (a plain turn must run none);
  - with --profile, cProfile's top functions over the same requests.
And the cost of one access-log line as gunicorn writes it under the logging the Procfile's line sets up.

    .venv/bin/python scripts/bench_turn.py [--calls 300] [--database postgresql://...] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import html
import io
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import event
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_web  # the walks, the line's settings and the database set-up are shared

from ivr.content.loader import load

HOST = "127.0.0.1:8000"


class Timer:
    """Accumulated wall time per named piece, nested pieces counted once, in the outermost."""

    def __init__(self) -> None:
        self.spent: dict[str, int] = defaultdict(int)
        self.depth = 0

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)
        timer = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            if timer.depth:
                return original(*args, **kwargs)
            timer.depth += 1
            began = time.perf_counter_ns()
            try:
                return original(*args, **kwargs)
            finally:
                timer.spent[label] += time.perf_counter_ns() - began
                timer.depth -= 1

        setattr(owner, name, timed if not isinstance(original, staticmethod) else staticmethod(timed))


class Driver:
    """Twilio, as a gunicorn worker hands its requests to the app."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.validator = RequestValidator(bench_web.TOKEN)

    def environ(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        body = urlencode(params).encode()
        signature = self.validator.compute_signature(f"http://{HOST}{path}", params)
        return {
            "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": "", "RAW_URI": path,
            "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
            "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "50000", "HTTP_HOST": HOST,
            "HTTP_X_TWILIO_SIGNATURE": signature, "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0), "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
            "wsgi.url_scheme": "http",
        }  # fmt: skip

    def post(self, environ: dict[str, Any]) -> tuple[str, int]:
        """The body and the nanoseconds the app took, from the call to the last byte of the body."""
        status: list[str] = []
        began = time.perf_counter_ns()
        chunks = self.app(environ, lambda s, _headers, _exc=None: status.append(s))
        body = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        took = time.perf_counter_ns() - began
        if not status[0].startswith("200"):
            raise SystemExit(f"{status[0]} for {environ['PATH_INFO']}")
        return body.decode(), took

    def call(self, walk: bench_web.Walk, each: Callable[[str, int], None]) -> None:
        params = {"AccountSid": bench_web.REAL_LINE["TWILIO_ACCOUNT_SID"], "CallSid": "CA" + uuid.uuid4().hex,
                  "From": bench_web.LANDLINE, "To": bench_web.LINE_NUMBER, "CallStatus": "in-progress",
                  "Direction": "inbound", "ApiVersion": "2010-04-01"}  # fmt: skip
        reply, took = self.post(self.environ("/voice", params))
        each("incoming", took)
        for key in walk.keys:
            action = bench_web.GATHER.search(reply)
            if action is None:
                raise SystemExit(f"{walk.name}: the call ended before its keys did")
            path = urlsplit(html.unescape(action.group(1))).path
            reply, took = self.post(self.environ(path, {**params, "Digits": key}))
            each("turn", took)
        if bench_web.GATHER.search(reply):
            raise SystemExit(f"{walk.name}: the call did not end")


@contextmanager
def counting_sql(engine: Any, counts: dict[str, int]) -> Iterator[None]:
    def statement(*_args: Any) -> None:
        counts["statements"] += 1

    def checkout(*_args: Any) -> None:
        counts["checkouts"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine.pool, "checkout", checkout)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine.pool, "checkout", checkout)


def instrument(timer: Timer) -> None:
    """Wrap the pieces of a request, by where the app calls them from."""
    from flask import wrappers
    from werkzeug import formparser

    from ivr.engine import flow
    from ivr.phone_line import calls, fast_turns, twiml, web
    from ivr.phone_line.tokens import Sealer
    from ivr.store import deadline

    timer.wrap(web, "signed", "signature (incl. reading the form)")  # under Flask: a call's first request
    timer.wrap(fast_turns, "signed", "signature (incl. reading the form)")  # the turns, before Flask
    timer.wrap(formparser.FormDataParser, "parse", "form parsing (outside the signature)")
    timer.wrap(wrappers.Request, "_load_form_data", "form parsing (outside the signature)")
    timer.wrap(Sealer, "open", "token open")
    timer.wrap(Sealer, "seal", "token seal")
    timer.wrap(calls.flow, "advance", "engine")
    timer.wrap(calls.flow, "start", "engine start (directory look-up incl.)")
    timer.wrap(calls.flow, "settle", "engine settle")
    timer.wrap(calls.Calls, "write", "writes (deadline incl.)")
    timer.wrap(calls.notice, "current", "notice look-up")
    timer.wrap(calls.twiml, "render", "TwiML")
    timer.wrap(deadline.Deadline, "run", "deadline hand-off and database")
    timer.wrap(logging.Logger, "handle", "logging")
    del flow, twiml


def access_line_cost(rounds: int = 2000) -> tuple[float, float]:
    """Microseconds to write one access-log line as gunicorn does, with and without our logging set up."""
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    from ivr import gunicorn_conf

    config = Config()
    for name in ("accesslog", "errorlog", "access_log_format"):
        config.set(name, getattr(gunicorn_conf, name))
    log = Logger(config)
    sink = io.StringIO()
    for handler in log.access_log.handlers:
        handler.stream = sink  # type: ignore[attr-defined]

    class Response:
        status, status_code, sent, response_length, headers = "200 OK", 200, 1210, 1210, (("Content-Type", "text/xml"),)

    class Request:
        headers = (("HOST", "127.0.0.1:8000"), ("CONTENT-TYPE", "application/x-www-form-urlencoded"))

    path = "/voice/turn/AWq0x" + "Yx3Q" * 27
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": path, "PATH_INFO": path, "QUERY_STRING": "",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.3.17"}  # fmt: skip
    figures = []
    for set_up in (False, True):
        if set_up:
            gunicorn_conf.post_worker_init(None)  # what each worker does once it has booted
        began = time.perf_counter_ns()
        for _ in range(rounds):
            log.access(Response, Request, environ, __import__("datetime").timedelta(microseconds=12_400))
        figures.append((time.perf_counter_ns() - began) / rounds / 1000)
    print(f"one access-log line as written: {sink.getvalue().splitlines()[-1]!r}")
    return figures[0], figures[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300, help="calls timed, after one of each walk (default 300)")
    parser.add_argument("--database", default="", help="a PostgreSQL URL (default: a scratch SQLite file)")
    parser.add_argument("--profile", action="store_true", help="also run cProfile over the same requests")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        env = bench_web.base_env(**bench_web.REAL_LINE, IVR_DATA_DIR=scratch,
                                 DATABASE_URL=args.database or f"sqlite:///{scratch}/turn.sqlite3")  # fmt: skip
        bench_web.prepare(env, Path(scratch))
        bare, ours = access_line_cost()  # before the app is built: building it sets up the logging too
        os.environ.clear()
        os.environ.update(env)
        logging.basicConfig(level=logging.INFO, stream=io.StringIO())  # the log lines are made, then dropped
        from ivr.app import STORE, create_app

        app = create_app()
        walks = bench_web.walks(load(bench_web.ROOT / "prompts"))
        driver = Driver(app)
        for walk in walks:  # warm: every node's code path and the pool's connections
            driver.call(walk, lambda _kind, _took: None)

        store = app.extensions[STORE]
        sql: dict[str, dict[str, int]] = {"incoming": defaultdict(int), "turn": defaultdict(int)}
        times: dict[str, list[int]] = {"incoming": [], "turn": []}
        counts: dict[str, int] = defaultdict(int)
        pieces: dict[str, dict[str, int]] = {"incoming": defaultdict(int), "turn": defaultdict(int)}

        timer = Timer()
        instrument(timer)
        with counting_sql(store.engine, counts):
            for index in range(args.calls):

                def each(kind: str, took: int) -> None:
                    times[kind].append(took)
                    for name, value in counts.items():
                        sql[kind][name] += value
                    counts.clear()
                    for label, spent in timer.spent.items():
                        pieces[kind][label] += spent
                    timer.spent.clear()

                driver.call(walks[index % len(walks)], each)

        print(f"{args.calls} calls ({sum(map(len, times.values())):,} requests) on "
              f"{'PostgreSQL' if args.database else 'SQLite'}, straight through the WSGI app, one thread:")  # fmt: skip
        for kind, values in times.items():
            n = len(values)
            ordered = sorted(values)
            print(f"\n{kind}: {n:,} requests, median {statistics.median(values) / 1e6:.2f} ms, "
                  f"mean {statistics.fmean(values) / 1e6:.2f} ms, p99 {ordered[int(0.99 * n)] / 1e6:.2f} ms; "
                  f"SQL statements {sql[kind]['statements'] / n:.2f} and pool check-outs "
                  f"{sql[kind]['checkouts'] / n:.2f} a request")  # fmt: skip
            accounted = 0.0
            for label, spent in sorted(pieces[kind].items(), key=lambda item: -item[1]):
                mean = spent / n / 1e6
                accounted += mean
                print(f"  {mean:5.2f} ms  {label}")
            print(f"  {statistics.fmean(values) / 1e6 - accounted:5.2f} ms  the rest: WSGI, Flask, the view")

        print(f"\nan access-log line: {bare:.0f} µs as gunicorn writes it, {ours:.0f} µs with our masking installed")

        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for index in range(args.calls):
                driver.call(walks[index % len(walks)], lambda _kind, _took: None)
            profile.disable()
            stats = pstats.Stats(profile, stream=sys.stdout)
            stats.sort_stats("tottime").print_stats(30)
            stats.sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
