"""The role-play of the helpdesk call: every push-back is heard, each followed by the caller's turn and an answer."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli.main import main
from ivr.content import roleplay
from ivr.content.model import Content
from ivr.homes import directory_store
from ivr.homes.directory import Home
from ivr.rehearsal import session
from ivr.rehearsal.player import Player
from ivr.rehearsal.session import RolePlay, ScriptedKeypad, transcript
from ivr.rehearsal.speaker import Speaker
from ivr.rehearsal.synthesis import Synthesizer
from ivr.store.database import Store
from tests.test_speaker import VOICES

YOUR_TURN = "You: Your turn. Answer out loud, then press any key."


@pytest.mark.parametrize("number", [1, 2, 3])
def test_each_push_back_is_heard_with_a_turn_and_its_answer(content: Content, number: int) -> None:
    result = CliRunner().invoke(main, ["rehearse", "--roleplay", str(number), "--keys", ""])
    assert result.exit_code == 0, result.output
    said = result.output
    node = roleplay.scenario(content, number)
    assert node.pushbacks and node.opening and node.closing
    for exchange in (*node.opening, *node.pushbacks, *node.closing):
        expected = f"Helpdesk: {exchange.helpdesk}\n{YOUR_TURN}\nSuggested answer: {exchange.reply}\n"
        assert expected in said
    assert said.startswith("Companion: Let us practise the call.")
    assert f"Companion: {node.title}" in said
    assert "N H S mail Helpdesk is on oh three three three, two oh oh, one one three three" in said.splitlines()[-1]


def test_push_backs_come_in_the_order_of_the_call(content: Content) -> None:
    beats = roleplay.script(content, 3)
    helpdesk = [beat.text for beat in beats if isinstance(beat, roleplay.Cue) and beat.who == "helpdesk"]
    node = roleplay.scenario(content, 3)
    assert helpdesk == [e.helpdesk for e in (*node.opening, *node.pushbacks, *node.closing)]


def test_q_ends_the_role_play(content: Content) -> None:
    lines = RolePlay(roleplay.script(content, 1)).run(ScriptedKeypad("1 q"))
    assert sum(line.who == "you" for line in lines) == 2 and lines[-1].who == "you"


def test_the_helpdesk_speaks_in_its_own_voice(content: Content, tmp_path: Path) -> None:
    player = Player([sys.executable, "-c", "pass"])
    with Synthesizer(tmp_path, timeout=20) as synthesizer:
        speaker = Speaker(synthesizer, player, lambda notice: None)
        began = time.monotonic()
        RolePlay(roleplay.script(content, 1), speaker=speaker, voices=VOICES).run(ScriptedKeypad(""))
        assert time.monotonic() - began < 30
        line = roleplay.scenario(content, 1).opening[0].helpdesk
        assert synthesizer.path(line, VOICES.helpdesk).exists()
        assert not synthesizer.path(line, VOICES.companion).exists()


def test_an_unknown_scenario_is_refused() -> None:
    result = CliRunner().invoke(main, ["rehearse", "--roleplay", "9", "--keys", ""])
    assert result.exit_code == 2 and "there is no scenario 9 (the scenarios are 1, 2, 3)" in result.output


def test_transcript_labels(content: Content) -> None:
    said = transcript(RolePlay(roleplay.script(content, 2)).run(ScriptedKeypad("")))
    labels = {line.split(":", 1)[0] for line in said.splitlines()}
    assert labels == {"Companion", "Helpdesk", "You", "Suggested answer"}  # said once, not "Suggested: Suggested"


def test_ods_personalises_the_answers_and_scenario_two_names_the_home(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    store.upgrade()
    directory_store.add(store, Home(ods="VL15A", name="Lindum House", landlines=("+441522123456",)))
    result = CliRunner().invoke(main, ["rehearse", "--roleplay", "2", "--ods", "VL15A", "--keys", ""],
                                env={"DATABASE_URL": store.url})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Helpdesk: Which care home is that?\nYou: Your turn. Answer out loud, then press any key.\n" \
           "Suggested answer: Lindum House." in result.output  # fmt: skip
    assert "Suggested answer: It is V, L, 1, 5, A." in result.output
    unnamed = CliRunner().invoke(main, ["rehearse", "--roleplay", "2", "--keys", ""]).output
    assert "Suggested answer: Give the name of your care home." in unnamed


@pytest.mark.parametrize("typed", ["\n", " ", "x", "5"])
def test_any_key_ends_the_callers_turn_at_a_terminal(monkeypatch: pytest.MonkeyPatch, typed: str) -> None:
    @contextmanager
    def no_terminal() -> Iterator[int]:
        yield -1

    monkeypatch.setattr(session, "_cbreak", no_terminal)
    monkeypatch.setattr(session, "_poll_char", lambda fd, timeout: typed)
    began = time.monotonic()
    pressed = session.TerminalKeypad(lambda text: None).answer(15)
    assert pressed not in (None, "q") and time.monotonic() - began < 1


def test_q_still_stops_at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session, "_poll_char", lambda fd, timeout: "q")
    monkeypatch.setattr(session, "_cbreak", lambda: nullcontext(-1))
    assert session.TerminalKeypad(lambda text: None).answer(15) == "q"
