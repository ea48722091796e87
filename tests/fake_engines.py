"""Stand-in pyttsx3 engines, run inside the real speech worker: `python tests/fake_engines.py hanging VOICE RATE`.

They let the tests show what the rehearsal does when the engine misbehaves, which the
real engine does only now and then.
"""

from __future__ import annotations

import sys
import time
from types import SimpleNamespace
from typing import Any

from ivr.rehearsal import speech_worker


class HangingEngine:
    """Hangs in runAndWait, as pyttsx3 sometimes does."""

    def getProperty(self, name: str) -> Any:
        return [SimpleNamespace(id="fake/en", languages=["en-gb"])]

    def setProperty(self, name: str, value: Any) -> None:
        pass

    def save_to_file(self, text: str, path: str) -> None:
        pass

    def runAndWait(self) -> None:
        time.sleep(3600)


def crash() -> Any:
    raise SystemExit("the engine could not start")


ENGINES = {"hanging": HangingEngine, "crashing": crash}

if __name__ == "__main__":
    speech_worker.main(ENGINES[sys.argv[1]], sys.argv[2:4])
