"""Benchmark the phone app under the Procfile's gunicorn line, beside a constant-TwiML floor.

Both servers run on 127.0.0.1 (the Procfile's line, with --bind for loopback) for the whole run.
The calls are walks taken from the content: for each scenario, every way through the menus from
the main menu to it, a key for each of its steps and push-backs, then the wrap-up's goodbye. The
caller rings from the registered landline of a known home (added with `ivr homes add`), so the
greeting leads straight to the main menu. Each request is signed as Twilio signs it, and the next
is POSTed to the <Gather action> of the reply, token and all; a walk ends when a reply has no
<Gather>. Each walk is checked once before any load: every key asked for, the call ended.

The client is one asyncio loop over raw HTTP/1.1 streams, adding no threads or jitter of its own
(its loop lag is printed so that can be checked). Measured, in one run:
  - the floor, paced, for reference: the same callers against the constant app;
  - closed loop: 50 connections walking back to back, kept alive; requests/s and the ratio to
    the floor's, in slices alternating between the floor and the app, so that a change in the
    machine's other load falls on both (target: at least 0.6); and each server's CPU a request
    (its master and workers, from /proc), which that other load hardly moves;
  - paced: N callers pausing 2-8 s between keys, a new connection per request as Twilio's would
    be after gunicorn's 5 s keep-alive; latency p50/p95/p99 (target: p99 under 10 ms). A call
    lasts over a minute, so a short run is mostly calls' first requests, which write: those are
    also given apart;
on SQLite always, and on PostgreSQL too when BENCH_DATABASE_URL names one (its tables are
migrated and a home added; the data stays). Everything is bounded by --seconds and stops by itself.

    .venv/bin/python scripts/bench_web.py [--callers 1000] [--seconds 20] [--load closed|paced]
        [--databases SQLite|PostgreSQL]

scripts/bench_turn.py says where the time of one request goes inside the app.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import itertools
import os
import random
import re
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

from ivr.content.loader import load
from ivr.content.model import Content, Menu, Message

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
TOKEN = "benchmark-auth-token"
ODS, HOME, LANDLINE = "VL15A", "Lindum House", "+441522123456"
LINE_NUMBER = "+447400000001"
REAL_LINE = {  # every setting a real line needs (ivr/line.py), or the app will not start
    "TWILIO_ACCOUNT_SID": "AC" + "b" * 32, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM_NUMBER": LINE_NUMBER,
    "IVR_SECRET_KEY": "benchmark-secret-key",
}  # fmt: skip
GATHER = re.compile(r'<Gather\b[^>]*?\baction="([^"]*)"')
PAUSE = (2.0, 8.0)  # seconds a paced caller takes between keys
TIMEOUT = 15.0  # seconds for any one request: past this the run is broken, not slow
SLICES = 3  # closed-loop slices each for the floor and the app, alternating


# --- the walks, from the content ---


@dataclass(frozen=True)
class Walk:
    name: str
    keys: tuple[str, ...]


def walks(content: Content) -> list[Walk]:
    """For each scenario, each way to it through the menus, its steps, and the goodbye after it."""
    found = []
    for node_id, steps in content.scenarios():
        goodbye = _keys_to_hangup(content, steps.then)
        for path in _menu_paths(content, content.meta.main_menu, node_id, frozenset()):
            # A key for each step; the push-backs are steps of their own, beside the step they answer.
            keys = (*path, *[content.keys.next] * len(steps.steps), *goodbye)
            found.append(Walk(f"scenario {steps.scenario} by {' '.join(path)}", keys))
    if not found:
        raise SystemExit("the content has no scenario to walk")
    return found


def _menu_paths(content: Content, at: str, target: str, seen: frozenset[str]) -> Iterator[tuple[str, ...]]:
    node = content.nodes[at]
    if not isinstance(node, Menu):
        return
    for option in node.options:
        if option.goto == target:
            yield (option.key,)
        elif option.goto not in seen and option.goto != at:
            for rest in _menu_paths(content, option.goto, target, seen | {at}):
                yield (option.key, *rest)


def _keys_to_hangup(content: Content, at: str) -> tuple[str, ...]:
    """The fewest menu keys from `at` to a message that ends the call."""
    queue: list[tuple[str, tuple[str, ...]]] = [(at, ())]
    seen = {at}
    for node_id, keys in queue:
        node = content.nodes[node_id]
        if isinstance(node, Message) and node.hangup:
            return keys
        if isinstance(node, Menu):
            for option in node.options:
                if option.goto not in seen:
                    seen.add(option.goto)
                    queue.append((option.goto, (*keys, option.key)))
    raise SystemExit(f"no way from {at} to the end of a call")


# --- the client: raw HTTP/1.1 over asyncio streams ---


class Refused(RuntimeError):
    pass


class Connection:
    """One HTTP/1.1 connection, kept alive unless the server or the caller ends it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, body: bytes, signature: str, keep_alive: bool = True) -> str:
        for attempt in (1, 2):
            reused = self.streams is not None
            if self.streams is None:
                self.streams = await asyncio.open_connection(HOST, self.port)
            reader, writer = self.streams
            closing = "" if keep_alive else "Connection: close\r\n"
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\nX-Twilio-Signature: {signature}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n{closing}\r\n"
            )
            writer.write(head.encode() + body)
            status = await reader.readline()
            if not status and reused and attempt == 1:  # the server let a kept-alive connection go: once more
                self.close()
                continue
            length, ends = 0, not keep_alive
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "connection" and value.strip().lower() == "close":
                    ends = True
            text = (await reader.readexactly(length)).decode()
            if ends:
                self.close()
            if not status.startswith(b"HTTP/1.1 200"):
                raise Refused(f"{status.decode().strip()} for {path}")
            return text
        raise Refused(f"no answer for {path}")

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


@dataclass
class Tally:
    requests: int = 0
    calls: int = 0
    errors: int = 0
    apologies: int = 0  # answered, but with the line's apology: a failure the caller hears
    latencies: list[float] = field(default_factory=list)
    incoming: list[float] = field(default_factory=list)  # the calls' first requests alone: they write


class Caller:
    """One call at a time: Twilio's parameters, signed; the next URL is the last reply's <Gather action>."""

    validator = RequestValidator(TOKEN)

    def __init__(self, port: int, tally: Tally, apologies: tuple[str, ...]) -> None:
        self.port = port
        self.tally = tally
        self.apologies = apologies
        self.connection = Connection(port)

    async def request(self, path: str, params: dict[str, str], keep_alive: bool) -> str:
        signature = self.validator.compute_signature(f"http://{HOST}:{self.port}{path}", params)
        began = time.perf_counter()
        try:
            text = await asyncio.wait_for(
                self.connection.post(path, urlencode(params).encode(), signature, keep_alive), TIMEOUT
            )
        except (OSError, asyncio.IncompleteReadError, TimeoutError, Refused) as error:
            self.connection.close()
            self.tally.errors += 1
            if self.tally.errors <= 3:
                print(f"  error: {error!r}", file=sys.stderr)
            raise
        elapsed = time.perf_counter() - began
        self.tally.latencies.append(elapsed)
        if path == "/voice":
            self.tally.incoming.append(elapsed)
        self.tally.requests += 1
        if any(words in text for words in self.apologies):
            self.tally.apologies += 1
        return text

    async def call(self, walk: Walk, stop: float, pause: tuple[float, float] | None) -> list[str]:
        """One call along `walk` until its reply has no <Gather>, its keys run out, or `stop`; the replies."""
        params = {"AccountSid": REAL_LINE["TWILIO_ACCOUNT_SID"], "CallSid": "CA" + uuid.uuid4().hex,
                  "From": LANDLINE, "To": LINE_NUMBER, "CallStatus": "in-progress", "Direction": "inbound",
                  "ApiVersion": "2010-04-01"}  # fmt: skip
        keep_alive = pause is None  # a paced caller's pause outlives gunicorn's keep-alive
        replies = [await self.request("/voice", params, keep_alive)]
        self.tally.calls += 1
        for key in walk.keys:
            action = GATHER.search(replies[-1])
            if action is None:
                break
            if pause:
                await asyncio.sleep(random.uniform(*pause))
            if time.monotonic() >= stop:
                break
            path = urlsplit(html.unescape(action.group(1))).path
            replies.append(await self.request(path, {**params, "Digits": key}, keep_alive))
        return replies


# --- the loads ---


async def closed_loop(port: int, walks_: list[Walk], connections: int, seconds: float, tally: Tally,
                      apologies: tuple[str, ...]) -> float:  # fmt: skip
    """`connections` callers walking back to back for `seconds`; the time taken."""
    stop = time.monotonic() + seconds

    async def run(index: int) -> None:
        caller = Caller(port, tally, apologies)
        for walk in itertools.islice(itertools.cycle(walks_), index % len(walks_), None):
            if time.monotonic() >= stop:
                break
            try:
                await caller.call(walk, stop, None)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, Refused):
                await asyncio.sleep(0.1)
        caller.connection.close()

    began = time.monotonic()
    await asyncio.gather(*(run(index) for index in range(connections)))
    return time.monotonic() - began


async def paced(port: int, walks_: list[Walk], callers: int, seconds: float, apologies: tuple[str, ...]) -> Tally:
    """`callers` callers, each ringing again when a call ends, pausing between keys, for `seconds`."""
    tally = Tally()
    stop = time.monotonic() + seconds
    ramp = min(PAUSE[1], seconds / 2)  # calls begin over the first seconds, not in one instant

    async def run() -> None:
        await asyncio.sleep(random.uniform(0, ramp))
        caller = Caller(port, tally, apologies)
        while time.monotonic() < stop:
            try:
                await caller.call(random.choice(walks_), stop, PAUSE)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, Refused):
                await asyncio.sleep(random.uniform(*PAUSE))

    await asyncio.gather(*(run() for _ in range(callers)))
    return tally


@contextmanager
def loop_lag(lags: list[float]) -> Iterator[None]:
    """How late the client's own loop wakes from a 10 ms sleep: the jitter it adds to what it times."""

    async def tick() -> None:
        while True:
            began = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - began - 0.01)

    task = asyncio.get_running_loop().create_task(tick())
    try:
        yield
    finally:
        task.cancel()


async def check_walks(port: int, walks_: list[Walk], apologies: tuple[str, ...]) -> None:
    """Each walk once, before any load: every key is asked for, the last reply ends the call, no apology."""
    for walk in walks_:
        tally = Tally()
        replies = await Caller(port, tally, apologies).call(walk, time.monotonic() + 60, None)
        if len(replies) != len(walk.keys) + 1 or GATHER.search(replies[-1]) or "<Hangup" not in replies[-1]:
            raise SystemExit(f"{walk.name}: {len(replies)} replies for {len(walk.keys)} keys, the last: {replies[-1]}")
        if tally.apologies:
            raise SystemExit(f"{walk.name}: the line apologised: {replies}")


# --- the servers ---


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def base_env(**settings: str) -> dict[str, str]:
    """This environment without the companion's own settings, then `settings`."""
    ours = ("IVR_", "TWILIO_", "DATABASE_URL", "WEB_CONCURRENCY", "PUBLIC_BASE_URL")
    env = {key: value for key, value in os.environ.items() if not key.startswith(ours)}
    return {**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}", **settings}


@contextmanager
def server(app: str, env: dict[str, str], cwd: Path) -> Iterator[int]:
    """The Procfile's web line, with `app` in place of its own for the floor, on loopback."""
    port = free_port()
    web = (ROOT / "Procfile").read_text().split("web: ", 1)[1].splitlines()[0]
    command = [*shlex.split(web)[:-1], "--bind", f"{HOST}:{port}", app]
    # The log to a file, not a pipe: a pipe no one reads fills, and the workers stop at their next log line.
    log = (Path(env["IVR_DATA_DIR"]) / f"{app.split(':')[0]}-{port}.log").open("wb")
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=log)
    SERVERS[port] = process.pid
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://{HOST}:{port}/readyz", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    process.wait()
                    raise SystemExit(f"{app} did not start: {Path(log.name).read_text()[-2000:]}") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


SERVERS: dict[int, int] = {}  # port: the gunicorn master's process id


def server_cpu(port: int) -> float:
    """CPU seconds the server on `port` has used so far, its master and its live workers (Linux's /proc; else 0).

    Unlike requests/s, this hardly moves with the machine's other load: the work each request costs."""
    master = SERVERS[port]
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        total = 0
        for pid in (master, *map(int, children)):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime and stime, in clock ticks
        return total / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def prepare(env: dict[str, str], cwd: Path) -> None:
    """Migrate the database and add the home whose landline the callers ring from."""
    for command in (["db", "upgrade"], ["homes", "add", ODS, HOME, "--landline", LANDLINE]):
        subprocess.run([sys.executable, "-m", "ivr", *command], env=env, cwd=cwd, check=True, capture_output=True)


# --- the figures ---


def ms(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else float("nan")


def latency_line(tally: Tally) -> str:
    values = tally.latencies
    return (f"{tally.requests:,} requests in {tally.calls:,} calls: p50 {ms(values, 0.50):.1f} ms, "
            f"p95 {ms(values, 0.95):.1f} ms, p99 {ms(values, 0.99):.1f} ms, max {ms(values, 1.0):.1f} ms "
            f"(the {len(tally.incoming)} incoming alone: p50 {ms(tally.incoming, 0.50):.1f} ms, "
            f"p99 {ms(tally.incoming, 0.99):.1f} ms); errors {tally.errors}, apologies {tally.apologies}")  # fmt: skip


async def bench(name: str, app: int, floor: int, walks_: list[Walk], args: argparse.Namespace,
                apologies: tuple[str, ...]) -> None:  # fmt: skip
    await check_walks(app, walks_, apologies)
    if args.load != "paced":
        await closed(name, app, floor, walks_, args, apologies)
    if args.load != "closed":
        lags: list[float] = []
        with loop_lag(lags):
            tally = await paced(app, walks_, args.callers, args.seconds, apologies)
        print(f"{name}, paced, {args.callers} callers pausing {PAUSE[0]:.0f}-{PAUSE[1]:.0f} s, {args.seconds:.0f} s: "
              f"{latency_line(tally)} (target p99 < 10 ms); client loop lag p99 {ms(lags, 0.99):.1f} ms")  # fmt: skip


async def closed(name: str, app: int, floor: int, walks_: list[Walk], args: argparse.Namespace,
                 apologies: tuple[str, ...]) -> None:  # fmt: skip
    rates: dict[str, list[float]] = {"floor": [], "app": []}
    cpu: dict[str, list[float]] = {"floor": [], "app": []}  # server CPU ms a request, each slice
    tallies = {"floor": Tally(), "app": Tally()}
    lags: list[float] = []
    slice_seconds = args.seconds / SLICES
    with loop_lag(lags):
        for _ in range(SLICES):  # alternating, so a change in the machine's other load falls on both
            for side, port in (("floor", floor), ("app", app)):
                before, used = tallies[side].requests, server_cpu(port)
                took = await closed_loop(port, walks_, args.connections, slice_seconds, tallies[side], apologies)
                done = tallies[side].requests - before
                rates[side].append(done / took)
                cpu[side].append((server_cpu(port) - used) * 1000 / max(done, 1))
    floor_rps, app_rps = statistics.fmean(rates["floor"]), statistics.fmean(rates["app"])
    ratios = [a / f for a, f in zip(rates["app"], rates["floor"], strict=True)]
    print(f"{name}, closed loop, {args.connections} connections, {SLICES} slices of {slice_seconds:.0f} s each:")
    print(f"  floor {floor_rps:,.0f} requests/s (slices {', '.join(f'{r:,.0f}' for r in rates['floor'])}); "
          f"errors {tallies['floor'].errors}")  # fmt: skip
    print(f"  app   {app_rps:,.0f} requests/s (slices {', '.join(f'{r:,.0f}' for r in rates['app'])}); "
          f"errors {tallies['app'].errors}, apologies {tallies['app'].apologies}")  # fmt: skip
    print(f"  ratio {app_rps / floor_rps:.2f} of the floor (slices {', '.join(f'{r:.2f}' for r in ratios)}; "
          f"target >= 0.60); app p50 {ms(tallies['app'].latencies, 0.5):.1f} ms, "
          f"p99 {ms(tallies['app'].latencies, 0.99):.1f} ms; client loop lag p99 {ms(lags, 0.99):.1f} ms")  # fmt: skip
    print(f"  server CPU a request: floor {statistics.fmean(cpu['floor']):.2f} ms "
          f"(slices {', '.join(f'{c:.2f}' for c in cpu['floor'])}), app {statistics.fmean(cpu['app']):.2f} ms "
          f"(slices {', '.join(f'{c:.2f}' for c in cpu['app'])})")  # fmt: skip


async def paced_floor(floor: int, walks_: list[Walk], args: argparse.Namespace) -> None:
    lags: list[float] = []
    with loop_lag(lags):
        tally = await paced(floor, walks_, args.callers, args.seconds, ())
    print(f"floor, paced, {args.callers} callers, {args.seconds:.0f} s: {latency_line(tally)}; "
          f"client loop lag p99 {ms(lags, 0.99):.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--callers", type=int, default=1000, help="paced callers (default 1000)")
    parser.add_argument("--connections", type=int, default=50, help="closed-loop connections (default 50)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each load (default 20)")
    parser.add_argument(
        "--load", choices=("both", "closed", "paced"), default="both", help="which loads to run (default both)"
    )
    parser.add_argument(
        "--databases",
        default="SQLite,PostgreSQL",
        help="which of SQLite and PostgreSQL (when BENCH_DATABASE_URL is set) to run",
    )
    args = parser.parse_args()
    if not (1 <= args.callers <= 5000 and 1 <= args.connections <= 500 and 3 <= args.seconds <= 300):
        parser.error("keep it bounded: 1-5000 callers, 1-500 connections, 3-300 seconds")
    content = load(ROOT / "prompts")
    walks_ = walks(content)
    apologies = (content.phrases.trouble_sorry, content.phrases.restart_apology)
    print(f"{len(walks_)} walks from the content, {min(len(w.keys) for w in walks_) + 1}-"
          f"{max(len(w.keys) for w in walks_) + 1} requests each, from {HOME}'s landline:")  # fmt: skip
    for walk in walks_:
        print(f"  {walk.name}: {' '.join(walk.keys)}")
    databases = {"SQLite": ""} if "SQLite" in args.databases else {}
    if os.environ.get("BENCH_DATABASE_URL") and "PostgreSQL" in args.databases:
        databases["PostgreSQL"] = os.environ["BENCH_DATABASE_URL"]
    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        # The floor passes the same start-up checks (gunicorn_conf's), so it is given a line of its own too.
        floor_env = base_env(**REAL_LINE, IVR_DATA_DIR=scratch, DATABASE_URL=f"sqlite:///{scratch}/floor.sqlite3")
        floor = stack.enter_context(server("bench_floor:app", floor_env, ROOT / "scripts"))
        if args.load != "closed":
            asyncio.run(paced_floor(floor, walks_, args))
        for name, url in databases.items():
            data = Path(scratch) / name
            data.mkdir()
            env = base_env(**REAL_LINE, IVR_DATA_DIR=str(data),
                           DATABASE_URL=url or f"sqlite:///{data / 'bench.sqlite3'}")  # fmt: skip
            prepare(env, Path(scratch))
            with server("ivr.app:create_app()", env, Path(scratch)) as app:
                asyncio.run(bench(name, app, floor, walks_, args, apologies))


if __name__ == "__main__":
    main()
