"""End to end: the Procfile's own release and web commands, real gunicorn on loopback, driven by `ivr call`."""

from __future__ import annotations

import os
import shlex
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

BIN = Path(sys.executable).parent
# A real line's settings (ivr/line.py); the web process will not start with only some of them.
REAL_LINE_ENV = {
    "TWILIO_ACCOUNT_SID": "AC" + "d" * 32, "TWILIO_AUTH_TOKEN": "procfile-test-token",
    "TWILIO_FROM_NUMBER": "+447400000002", "IVR_SECRET_KEY": "procfile-test-secret",
}  # fmt: skip


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any of the companion's settings, then `settings`."""
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("IVR_", "TWILIO_", "DATABASE_URL")) or key == "IVR_DATA_DIR"
    }
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", **settings)
    return env


def wait_until_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1) as reply:
                if reply.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise
            time.sleep(0.2)


@pytest.fixture()
def web(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    env = clean_env(
        PORT=str(port), DATABASE_URL=f"sqlite:///{tmp_path / 'ivr.sqlite3'}", **REAL_LINE_ENV
    )
    commands = procfile()
    subprocess.run(shlex.split(commands["release"]), env=env, cwd=tmp_path, check=True, capture_output=True)
    # As a platform would: bind all addresses on $PORT; the test talks to loopback only.
    server = subprocess.Popen(
        shlex.split(commands["web"]), env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, server)
        yield url, env
    finally:
        server.terminate()
        output = server.communicate(timeout=15)[0].decode()
        assert "Traceback" not in output, output
        assert "1522123456" not in output and "7400123456" not in output, "a phone number reached the log"
        # Written by the access log's own thread (gunicorn_conf.write_behind), and all of it as the worker exits.
        assert '"POST /voice HTTP/1.1"' in output, output


def test_a_whole_scenario_over_real_gunicorn(web: tuple[str, dict[str, str]]) -> None:
    url, env = web
    keys = "2 2 3 " + " ".join(["1"] * 3) + " 5 07400123456# 1 " + " ".join(["1"] * 11)
    result = subprocess.run(
        [str(BIN / "ivr"), "call", url, "--keys", keys], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    heard = result.stdout
    assert "Scenario three." in heard
    assert "Thank you. The text is on its way to your mobile." in heard
    assert "Your old employer needs to mark you as a leaver first." in heard
    assert "N H S mail Helpdesk is on oh three three three, two oh oh, one one three three" in heard
    assert "Error:" not in heard
    # Its counts, written behind the call by the worker's own thread (ivr/store/counts.py), within seconds.
    database = env["DATABASE_URL"].removeprefix("sqlite:///")

    def counted() -> set[tuple[str, str]]:
        with sqlite3.connect(database) as connection:
            return set(connection.execute("SELECT kind, detail FROM milestones"))

    deadline = time.monotonic() + 10
    while ("scenario_reached", "3") not in counted() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert {("call_started", ""), ("scenario_reached", "3"), ("text_queued", "scenario_3")} <= counted()


def test_requests_without_a_signature_are_refused(web: tuple[str, dict[str, str]]) -> None:
    url, _ = web
    request = urllib.request.Request(f"{url}/voice", data=b"CallSid=CA1&From=%2B441522123456", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    refused.value.close()
    assert refused.value.code == 403


def test_ivr_serve_with_no_settings_answers_calls_and_prints_the_text(tmp_path: Path) -> None:
    """The embedded default: no token, no Twilio account; the outbox is drained in-process to the console."""
    port = free_port()
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    server = subprocess.Popen(
        [str(BIN / "ivr"), "serve", "--port", str(port)], env=env, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, server)
        keys = "2 5 07400123456# 1"  # main menu, "text me the number and checklist", a mobile, confirm
        result = subprocess.run(
            [str(BIN / "ivr"), "call", url, "--keys", keys], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "The text is on its way" in result.stdout
        deadline = time.monotonic() + 15
        while outbox_statuses(tmp_path / "ivr.sqlite3") != ["sent"] and time.monotonic() < deadline:
            time.sleep(0.2)  # the in-process worker polls once a second
        assert outbox_statuses(tmp_path / "ivr.sqlite3") == ["sent"]
    finally:
        server.terminate()
        output = server.communicate(timeout=15)[0].decode()
    assert "Traceback" not in output, output
    assert "--- text to *********456 (GSM-7, " in output, output
    assert "0333 200 1133" in output
    assert "7400123456" not in output, "the mobile reached the console unmasked"


def outbox_statuses(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT status FROM outbox ORDER BY id")]


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        ({"IVR_REHEARSAL_RATE": "abc"}, "error: bad setting: IVR_REHEARSAL_RATE: "),
        ({"TWILIO_AUTH_TOKEN": "only-this"}, "error: a real line needs TWILIO_ACCOUNT_SID, "),
    ],
)
def test_the_web_process_stops_at_start_with_one_line(tmp_path: Path, settings: dict[str, str], said: str) -> None:
    """Checked in gunicorn's master: the operator sees what to fix, not "Worker failed to boot"."""
    env = clean_env(PORT=str(free_port()), DATABASE_URL=f"sqlite:///{tmp_path / 'ivr.sqlite3'}", **settings)
    result = subprocess.run(shlex.split(procfile()["web"]), env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(said), result.stderr
    assert "Traceback" not in result.stderr and "Worker failed to boot" not in result.stderr
