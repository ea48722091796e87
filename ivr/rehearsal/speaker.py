"""What the rehearsal speaks through: a prompt rendered, then played while the keypad listens.

It never stops a rehearsal: when synthesis fails or times out, or the player finds no
sound device, it says why once and goes quiet, and the rehearsal carries on as text.
"""

from __future__ import annotations

from collections.abc import Callable

from ivr.rehearsal.player import Playback, Player, Playing
from ivr.rehearsal.synthesis import RehearsalVoice, SynthesisFailed, Synthesizer

# Waits for a playback to end, or returns the key pressed first (having stopped the playback).
Listen = Callable[[Playback], str | None]


class Speaker:
    def __init__(self, synthesizer: Synthesizer, player: Player, notice: Callable[[str], None]) -> None:
        self.synthesizer = synthesizer
        self.player = player
        self.notice = notice
        self.active = True
        missing = player.missing()
        if missing:
            self._go_quiet(missing)

    def say(self, text: str, voice: RehearsalVoice, listen: Listen) -> str | None:
        """Speak `text`; the key that interrupted it, or None when it was heard to the end (or not at all)."""
        playing = self._start(text, voice)
        if playing is None:
            return None
        try:
            return listen(playing)
        finally:
            failure = playing.failure()
            playing.close()
            if failure:
                self._go_quiet(f"no sound ({failure})")

    def _start(self, text: str, voice: RehearsalVoice) -> Playing | None:
        if not self.active:
            return None
        try:
            path = self.synthesizer.render(text, voice)
            return self.player.start(path)
        except SynthesisFailed as error:
            self._go_quiet(str(error))
        except OSError as error:
            self._go_quiet(f"the audio player could not start ({error})")
        return None

    def _go_quiet(self, reason: str) -> None:
        if self.active:
            self.active = False
            self.synthesizer.close()
            self.notice(f"Speech is off: {reason}. Carrying on as text.")

    def close(self) -> None:
        self.synthesizer.close()
