"""The speech worker: a process of its own holding one pyttsx3 engine in one voice, one file per request.

Why a separate process: pyttsx3 2.99 can hang in `runAndWait`, and a second engine in one
process breaks the first. Here the rehearsal can bound every request with a timeout and
kill a stuck worker; the next worker starts with a clean engine. Why one voice and rate
per worker: on espeak, `runAndWait` returns while espeak's own thread is still writing,
and a rate or voice changed between files is then, under load, often not the one used
(a quarter of files in our trials); set once before the first file, it always is.
This is the only module that imports pyttsx3; the parent is `ivr.rehearsal.synthesis.Synthesizer`.

Run as `python -m ivr.rehearsal.speech_worker VOICE RATE`. Protocol, one JSON object a line: requests
`{"text", "path"}` on stdin, replies `{"ok": true, "voice": id}` or `{"ok": false,
"error": why}` on the original stdout.
"""

from __future__ import annotations

import json
import os
import sys
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

# espeak's thread writes the file a moment after runAndWait returns, and now and then
# (pyttsx3's endLoop cancelling espeak) not at all: wait for it, then ask again a few times.
# The parent bounds the whole request.
FILE_WAIT_SECONDS = 1.0
ATTEMPTS = 4


class WorkerError(Exception):
    pass


def choose_voice(voices: list[Any], spec: str) -> str:
    """An engine voice id for 'en-gb' or 'en-gb+f3': by language, since ids differ between espeak-ng versions."""
    language, _, variant = spec.lower().partition("+")

    def languages(voice: Any) -> list[str]:
        return [str(lang).lower() for lang in (voice.languages or [])]

    exact = [v for v in voices if language in languages(v)]
    by_id = [v for v in voices if str(v.id).lower().rsplit("/", 1)[-1] == language]
    by_prefix = [v for v in voices if any(lang.startswith(language) for lang in languages(v))]
    for found in (exact, by_id, by_prefix):
        if found:
            return str(found[0].id) + (f"+{variant}" if variant else "")
    raise WorkerError(f"no {language} voice is installed (Debian: espeak-ng-data)")


def wait_for_wav(path: Path, seconds: float) -> None:
    """Until `path` is a complete WAV with sound in it: its header's length matches its size."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with wave.open(str(path), "rb") as audio:
                expected = audio.getnframes() * audio.getsampwidth() * audio.getnchannels()
            if expected > 0 and path.stat().st_size >= expected:
                return
        except (OSError, EOFError, wave.Error):
            pass  # not there yet, or half written
        time.sleep(0.01)
    raise WorkerError(f"the engine wrote no sound to {path.name}")


def render(engine: Any, text: str, path: Path) -> None:
    for attempt in range(1, ATTEMPTS + 1):
        # One file per runAndWait: of several queued save_to_file calls only the last may be written.
        engine.save_to_file(text, str(path))
        engine.runAndWait()
        try:
            wait_for_wav(path, FILE_WAIT_SECONDS)
            return
        except WorkerError:
            if attempt == ATTEMPTS:
                raise
            path.unlink(missing_ok=True)


def serve(make_engine: Callable[[], Any], spec: str, rate: int, requests: TextIO, replies: TextIO) -> None:
    engine = make_engine()  # one engine for the life of this process
    voice, problem = None, None
    try:
        voice = choose_voice(engine.getProperty("voices"), spec)
        engine.setProperty("voice", voice)
        engine.setProperty("rate", rate)
    except Exception as error:  # reported with each request, so the parent can say why
        problem = f"{type(error).__name__}: {error}"
    for line in requests:
        try:
            if problem:
                raise WorkerError(problem)
            request = json.loads(line)
            path = Path(request["path"])
            path.unlink(missing_ok=True)
            render(engine, request["text"], path)
            reply: dict[str, Any] = {"ok": True, "voice": voice}
        except Exception as error:  # any failure is the parent's to report; the worker stays up
            reply = {"ok": False, "error": str(error) if isinstance(error, WorkerError) else repr(error)}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main(make_engine: Callable[[], Any] | None = None, argv: list[str] | None = None) -> None:
    spec, rate = argv or sys.argv[1:3]
    # pyttsx3 prints "Audio saved to ..." on stdout: keep the real stdout for replies only.
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = sys.stderr
    if make_engine is None:
        import pyttsx3

        make_engine = pyttsx3.init
    serve(make_engine, spec, int(rate), sys.stdin, replies)


if __name__ == "__main__":
    main()
