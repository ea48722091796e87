"""Speech in the rehearsal: barge-in stops the player at once, and any failure leaves the rehearsal as text."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ivr.content.model import Content
from ivr.homes.directory import InMemoryDirectory
from ivr.rehearsal.player import Playback, Player, Playing
from ivr.rehearsal.session import Rehearsal, ScriptedKeypad, transcript
from ivr.rehearsal.speaker import Speaker
from ivr.rehearsal.synthesis import RehearsalVoice, Synthesizer, Voices
from tests.test_voice import fake_worker

VOICES = Voices(
    companion=RehearsalVoice("en-gb", 150), slow=RehearsalVoice("en-gb", 110), helpdesk=RehearsalVoice("en-gb+f3", 150)
)
# Stands in for aplay: plays "for" half a minute unless stopped. Sound devices are not needed.
LONG_PLAYER = [sys.executable, "-c", "import time; time.sleep(30)"]
NO_SOUND_PLAYER = [sys.executable, "-c", "import sys; sys.exit('aplay: main:831: audio open error: no soundcards')"]


class BargingKeypad(ScriptedKeypad):
    """Presses keys while prompts play: each `listen` waits a moment into the playback, then presses the next key."""

    def __init__(self, presses: list[str]) -> None:
        super().__init__("")
        self.presses = presses
        self.heard: list[tuple[Playing, float]] = []  # each playback and how long it ran

    def listen(self, playback: Playback) -> str | None:
        assert isinstance(playback, Playing)
        began = time.monotonic()
        time.sleep(0.2)
        assert not playback.finished()  # still "speaking" when the key goes in
        key = self.presses.pop(0)
        playback.stop()
        self.heard.append((playback, time.monotonic() - began))
        return key


def text_only(content: Content, keys: str) -> str:
    return transcript(Rehearsal(content, InMemoryDirectory()).run(ScriptedKeypad(keys)))


def test_a_key_during_a_prompt_stops_the_player_and_acts_at_once(content: Content, tmp_path: Path) -> None:
    notices: list[str] = []
    with Synthesizer(tmp_path, timeout=20) as synthesizer:
        speaker = Speaker(synthesizer, Player(LONG_PLAYER), notices.append)
        keypad = BargingKeypad(["2", "q"])
        lines = Rehearsal(content, InMemoryDirectory(), ods="VL15A", speaker=speaker, voices=VOICES).run(keypad)
    said = transcript(lines)
    # The greeting was cut short by 2: the main menu was never said, the shortcut menu came next.
    assert "Main menu." not in said
    assert "Caller: presses 2" in said
    shortcut = said.split("Caller: presses 2\n", 1)[1].splitlines()[0]
    assert shortcut.startswith("Companion: ")
    (first, first_ran), (second, _) = keypad.heard
    assert first.process.returncode is not None and first.process.returncode < 0  # stopped, not played out
    assert first_ran < 2
    assert second.process.args[-1] == str(synthesizer.path(shortcut.removeprefix("Companion: "), VOICES.companion))
    assert notices == []


def test_a_hanging_synthesis_is_cut_off_and_the_rehearsal_carries_on_as_text(content: Content, tmp_path: Path) -> None:
    notices: list[str] = []
    began = time.monotonic()
    with Synthesizer(tmp_path, timeout=1.0, command=fake_worker("hanging")) as synthesizer:
        speaker = Speaker(synthesizer, Player(LONG_PLAYER), notices.append)
        lines = Rehearsal(content, InMemoryDirectory(), speaker=speaker, voices=VOICES).run(ScriptedKeypad("2 2 1 1"))
    assert time.monotonic() - began < 4  # one bound, once: later prompts do not wait again
    assert len(notices) == 1 and "speech took longer than 1 s" in notices[0] and "as text" in notices[0]
    assert transcript(lines) == text_only(content, "2 2 1 1")


def test_with_no_sound_device_it_says_so_once_and_shows_text(content: Content, tmp_path: Path) -> None:
    notices: list[str] = []
    with Synthesizer(tmp_path, timeout=20) as synthesizer:
        speaker = Speaker(synthesizer, Player(NO_SOUND_PLAYER), notices.append)
        lines = Rehearsal(content, InMemoryDirectory(), speaker=speaker, voices=VOICES).run(ScriptedKeypad("2 3 1"))
    reason = "no sound (aplay: main:831: audio open error: no soundcards)"
    assert notices == [f"Speech is off: {reason}. Carrying on as text."]
    assert transcript(lines) == text_only(content, "2 3 1")


def test_a_missing_player_program_is_named(content: Content, tmp_path: Path) -> None:
    notices: list[str] = []
    with Synthesizer(tmp_path, timeout=20) as synthesizer:
        Speaker(synthesizer, Player("no-such-player -q"), notices.append)
    assert notices == ["Speech is off: no audio player 'no-such-player' (Debian: alsa-utils). Carrying on as text."]
