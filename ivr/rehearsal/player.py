"""Playing a rendered prompt in a process that can be stopped: what makes barge-in possible.

pyttsx3's own `say()` on Linux plays through a blocking `os.system("aplay ...")` that no
key can interrupt; here the player is a child process we watch and kill.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol


class Playback(Protocol):
    """Something being heard: a prompt playing, or a pause."""

    def finished(self) -> bool: ...

    def stop(self) -> None: ...


class Quiet:
    """A pause of so many seconds: heard as silence, and a key ends it as it would a prompt."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds

    def finished(self) -> bool:
        return time.monotonic() >= self.ends

    def stop(self) -> None:
        self.ends = time.monotonic()


class Playing:
    """One player process on one file."""

    def __init__(self, command: Sequence[str], path: Path) -> None:
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 -- lives as long as the player; closed in close()
        self.process = subprocess.Popen(
            [*command, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._errors
        )
        self.stopped = False

    def finished(self) -> bool:
        return self.process.poll() is not None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.stopped = True
            self.process.terminate()
        self.process.wait()

    def failure(self) -> str | None:
        """Why the player gave up (no sound device, say), once it has ended; None if it played or was stopped."""
        code = self.process.wait()
        if code == 0 or self.stopped:
            return None
        self._errors.seek(0)
        lines = [line.strip() for line in self._errors.read().decode(errors="replace").splitlines() if line.strip()]
        return lines[-1] if lines else f"the player exited with status {code}"

    def close(self) -> None:
        self.stop()
        self._errors.close()


class Player:
    """Starts the configured player command (IVR_AUDIO_PLAYER, 'aplay -q' by default) on a WAV file."""

    def __init__(self, command: str | Sequence[str]) -> None:
        self.command = shlex.split(command) if isinstance(command, str) else list(command)

    def missing(self) -> str | None:
        """Why this player cannot run here, or None when its program is installed."""
        if not self.command or shutil.which(self.command[0]) is None:
            program = self.command[0] if self.command else "(none)"
            return f"no audio player {program!r} (Debian: alsa-utils)"
        return None

    def start(self, path: Path) -> Playing:
        return Playing(self.command, path)
