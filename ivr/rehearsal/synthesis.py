"""Prompts rendered to WAV files through the speech worker, cached by text, voice and rate, bounded in time.

The cache is what makes barge-in and the audio export cheap: a prompt heard once is
never synthesised again, and a playable file can be stopped mid-word, which pyttsx3's
own `say()` cannot. Every synthesis has a deadline; past it the worker is killed and
the caller gets `SynthesisFailed`, never a hang.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

# Bump when the way files are rendered changes, so old cached files are not reused.
CACHE_FORMAT = 1
WORKER_COMMAND = (sys.executable, "-m", "ivr.rehearsal.speech_worker")


class SynthesisFailed(Exception):
    """A prompt could not be rendered in time; the message says why, for a person."""


@dataclass(frozen=True)
class RehearsalVoice:
    """Who speaks and how fast: `name` is a language, optionally +variant ('en-gb', 'en-gb+f3')."""

    name: str
    rate: int  # words a minute


def cache_key(text: str, voice: RehearsalVoice) -> str:
    blob = json.dumps([CACHE_FORMAT, voice.name, voice.rate, text], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as audio:
        return audio.getnframes() / audio.getframerate()


class Synthesizer:
    """Renders text to cached WAV files: one worker process per voice, restarted after any failure."""

    def __init__(self, cache_dir: Path, timeout: float, command: Sequence[str] = WORKER_COMMAND) -> None:
        self.cache_dir = cache_dir
        self.timeout = timeout
        self.command = list(command)
        self.rendered = 0  # cache misses: what the export reports and the tests count
        self._workers: dict[RehearsalVoice, _Worker] = {}

    def path(self, text: str, voice: RehearsalVoice) -> Path:
        return self.cache_dir / f"{cache_key(text, voice)}.wav"

    def render(self, text: str, voice: RehearsalVoice) -> Path:
        """The WAV file for `text` in `voice`, from the cache or rendered now within the timeout."""
        target = self.path(text, voice)
        if target.exists():
            return target
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        # Rendered under a name of its own, then renamed: a half-written file is never in the cache.
        part = target.with_name(f"{target.stem}.{os.getpid()}.part")
        worker = self._workers.get(voice)
        if worker is None:
            worker = self._workers[voice] = _Worker([*self.command, voice.name, str(voice.rate)])
        try:
            reply = worker.ask({"text": text, "path": str(part)}, self.timeout)
        except SynthesisFailed:
            del self._workers[voice]  # killed; the next request starts a fresh one
            part.unlink(missing_ok=True)
            raise
        if not reply.get("ok"):
            part.unlink(missing_ok=True)
            raise SynthesisFailed(f"speech could not be made: {reply.get('error', 'no reason given')}")
        os.replace(part, target)
        self.rendered += 1
        return target

    def close(self) -> None:
        for worker in self._workers.values():
            worker.close()
        self._workers.clear()

    def __enter__(self) -> Synthesizer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class _Worker:
    """One `ivr.rehearsal.speech_worker` process, asked one request at a time, each with a deadline."""

    def __init__(self, command: list[str]) -> None:
        self._errors: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 -- lives as long as the worker
        self._buffer = b""
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._errors,
                start_new_session=True,  # Ctrl-C reaches the rehearsal, which closes the worker itself
            )
        except OSError as error:
            self._errors.close()
            raise SynthesisFailed(f"the speech worker could not start: {error}") from None

    def ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write((json.dumps(request) + "\n").encode("utf-8"))
            stdin.flush()
        except OSError:
            raise self._fail("the speech worker stopped") from None
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._fail(f"speech took longer than {timeout:g} s")
            ready, _, _ = select.select([stdout], [], [], left)
            if ready:
                chunk = os.read(stdout.fileno(), 65536)
                if not chunk:
                    raise self._fail("the speech worker stopped")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            reply: dict[str, Any] = json.loads(line)
        except ValueError:
            raise self._fail("the speech worker answered nonsense") from None
        return reply

    def _fail(self, reason: str) -> SynthesisFailed:
        """Kill the worker (it may be stuck in runAndWait) and explain, with its last error line."""
        self.close()
        detail = self._last_error_line
        return SynthesisFailed(f"{reason}: {detail}" if detail else reason)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()
        if not self._errors.closed:
            self._errors.seek(0)
            text = self._errors.read().decode(errors="replace")
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            self._last_error_line = lines[-1] if lines else ""
            self._errors.close()

    _last_error_line = ""


@dataclass(frozen=True)
class Voices:
    """The rehearsal's cast: the companion at normal and slow speed, and the helpdesk in the role-play."""

    companion: RehearsalVoice
    slow: RehearsalVoice
    helpdesk: RehearsalVoice
