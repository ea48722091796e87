"""What a caller sends is cleaned and bounded before the engine or a log line sees it (no Flask here)."""

from __future__ import annotations

import pytest

from ivr.engine.turn import Digits, Silence, Speech
from ivr.phone_line import form


@pytest.mark.parametrize("keys", ["1", "07400123456#", "*", "12*07400123456#", "#", "", "9" * form.MAX_DIGITS])
def test_keypad_keys_pass_as_pressed(keys: str) -> None:
    assert form.caller_input({"Digits": keys}) == Digits(keys)


@pytest.mark.parametrize("keys", ["1\x00", "1\x1b[2J", "12<3", "\u0663", "A", "1 2", "9" * (form.MAX_DIGITS + 1),
                                  "1" * 100_000])  # fmt: skip
def test_anything_a_keypad_cannot_send_is_a_wrong_entry_never_echoed(keys: str) -> None:
    assert form.caller_input({"Digits": keys}) == Digits(form.WRONG_KEYS)


def test_digits_come_before_speech_and_nothing_is_silence() -> None:
    assert form.caller_input({"Digits": "1", "SpeechResult": "two"}) == Digits("1")
    assert form.caller_input({"SpeechResult": "Victor Lima one five alpha"}) == Speech("Victor Lima one five alpha")
    assert form.caller_input({}) == Silence()
    assert form.caller_input({"SpeechResult": ""}) == Silence()
    assert form.caller_input({"SpeechResult": "\x00\x07 \t"}) == Silence()


def test_speech_loses_its_control_characters_and_is_bounded() -> None:
    assert form.speech("Victor\x00 Lima\r\none\x1b five\ufffe") == "Victor Lima one five"
    assert form.speech("zero-width\u200bjoin") == "zero-width join"  # a format character, not a word
    long = form.speech("one " * 10_000)
    assert len(long) <= form.MAX_SPEECH and long.startswith("one one")
    assert form.speech("Café, s'il vous plaît") == "Café, s'il vous plaît"  # letters are kept


@pytest.mark.parametrize(
    ("given", "seconds"),
    [("93", 93), ("0", 0), (" 12 ", 12), ("-5", 0), ("172800", 172800), ("172801", 172800),
     ("9223372036854775808", 172800), ("1" * 100_000, 172800), ("-" + "9" * 50, 0),
     ("", None), (None, None), ("abc", None), ("1.5", None), ("\u0663", None), ("1e9", None)],
)  # fmt: skip
def test_a_call_duration_is_a_whole_number_held_in_range(given: str | None, seconds: int | None) -> None:
    assert form.duration(given) == seconds


def test_a_logged_value_has_no_control_characters_and_is_bounded() -> None:
    assert form.logged("CA123\r\n2026-01-01 INFO forged line") == "CA123??2026-01-01 INFO forged line"
    assert form.logged("x" * 10_000) == "x" * form.MAX_LOGGED + "..."
    assert form.logged(None) == "None"
