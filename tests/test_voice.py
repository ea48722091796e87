"""Synthesis through the real pyttsx3 (CI's set-up provides espeak-ng), cached, and bounded in time."""

from __future__ import annotations

import sys
import time
import wave
from pathlib import Path

import pytest

from ivr import speech
from ivr.content.model import Content, Menu, Message
from ivr.rehearsal.synthesis import RehearsalVoice, SynthesisFailed, Synthesizer, wav_seconds
from tests.conftest import ROOT

VOICE = RehearsalVoice("en-gb", 150)


def fake_worker(engine: str) -> list[str]:
    return [sys.executable, str(ROOT / "tests" / "fake_engines.py"), engine]


def test_real_prompts_become_wavs_of_plausible_length(content: Content, tmp_path: Path) -> None:
    welcome = content.nodes["welcome"]
    goodbye = content.nodes["goodbye"]
    assert isinstance(welcome, Message) and isinstance(goodbye, Message)
    values = speech.Placeholders(content.keys.step_keys(), content.meta.helpdesk_number).all()
    with Synthesizer(tmp_path, timeout=20) as synthesizer:
        for text in (welcome.say.format(**values), goodbye.say.format(**values)):
            path = synthesizer.render(text, VOICE)
            with wave.open(str(path), "rb") as audio:  # what pyttsx3 writes on Linux, whatever the name
                assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (1, 2, 22050)
            estimate = speech.seconds(text)  # 150 words a minute
            assert 0.5 * estimate < wav_seconds(path) < 2 * estimate + 1, (text, wav_seconds(path))


def test_a_slower_rate_makes_a_longer_file_and_a_cache_entry_of_its_own(tmp_path: Path) -> None:
    text = "Press 1 for the next step, or star to hear this one again."
    with Synthesizer(tmp_path, timeout=20) as synthesizer:
        normal = synthesizer.render(text, VOICE)
        slow = synthesizer.render(text, RehearsalVoice("en-gb", 100))
        assert normal != slow and wav_seconds(slow) > 1.2 * wav_seconds(normal)
        assert synthesizer.render(text, VOICE) == normal
        assert synthesizer.rendered == 2  # the third was the cache's


def test_the_helpdesk_voice_is_another_voice(content: Content, tmp_path: Path) -> None:
    menu = content.nodes["main"]
    assert isinstance(menu, Menu)
    with Synthesizer(tmp_path, timeout=20) as synthesizer:
        ours = synthesizer.render(menu.say, VOICE).read_bytes()
        theirs = synthesizer.render(menu.say, RehearsalVoice("en-gb+f3", 150)).read_bytes()
    assert ours != theirs


def test_a_language_with_no_voice_fails_with_a_reason(tmp_path: Path) -> None:
    with Synthesizer(tmp_path, timeout=20) as synthesizer, pytest.raises(SynthesisFailed, match="no xx voice"):
        synthesizer.render("Hello.", RehearsalVoice("xx", 150))
    assert not list(tmp_path.glob("*"))  # nothing half-made left in the cache


def test_a_hanging_engine_is_cut_off_within_its_bound(tmp_path: Path) -> None:
    with Synthesizer(tmp_path, timeout=1.0, command=fake_worker("hanging")) as synthesizer:
        began = time.monotonic()
        with pytest.raises(SynthesisFailed, match="longer than 1 s"):
            synthesizer.render("Hello.", VOICE)
        assert time.monotonic() - began < 3
        assert not synthesizer._workers  # killed, not left running


def test_an_engine_that_cannot_start_is_reported(tmp_path: Path) -> None:
    stopped = "the speech worker stopped: the engine could not start"
    with Synthesizer(tmp_path, timeout=5, command=fake_worker("crashing")) as synthesizer, pytest.raises(
        SynthesisFailed, match=stopped
    ):
        synthesizer.render("Hello.", VOICE)
