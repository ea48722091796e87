"""The call heard as a caller hears it: keys pressed, the words that come back, their order and length."""

from __future__ import annotations

from ivr.content.model import Content
from ivr.engine import flow
from ivr.engine.state import HISTORY_LIMIT, CallState
from ivr.engine.turn import Digits, Input, Silence, words
from ivr.homes.directory import InMemoryDirectory


def call(content: Content, keys: str, *, ods: str | None = None) -> tuple[list[str], CallState]:
    """A call from a number the companion does not know: what is heard at the start and after each answer.

    `keys` as in `ivr rehearse --keys`: space-separated answers, `t` for silence.
    """
    directory = InMemoryDirectory()
    turn, state = flow.start(content, directory, ods=ods)
    heard = [words(turn)]
    for item in keys.split():
        given: Input = Silence() if item == "t" else Digits(item)
        turn, state = flow.advance(content, directory, state, given)
        heard.append(words(turn))
    return heard, state


# --- back means back --------------------------------------------------------------------------


def test_back_from_a_scenarios_first_step_is_the_question_before_it(content: Content) -> None:
    # Unknown caller: 2 for the main menu; 1 the questions; no, no: scenario two.
    heard, _ = call(content, "2 1 2 2 9 9 9")
    assert heard[4].startswith("Scenario two.")
    assert heard[5].startswith("Do you already have")  # the question that led there
    assert heard[6].startswith("Can you log in")
    assert heard[7].startswith("Main menu.")


def test_back_goes_to_the_menu_heard_not_to_one_never_heard(content: Content) -> None:
    heard, _ = call(content, "2 1 2 1 2 2 9")  # through the questions to scenario one
    assert heard[6].startswith("Scenario one.")
    assert "Which of these fits you best?" not in heard[7]
    assert heard[7].startswith("When you first logged in")


def test_back_in_the_steps_is_the_step_before(content: Content) -> None:
    heard, state = call(content, "2 3 1 1 9")
    assert "Step 3 of" in heard[4] and "Step 2 of" in heard[5] and state.step == 1


def test_back_from_a_menu_returns_to_the_menu_last_heard_by_any_path(content: Content) -> None:
    heard, _ = call(content, "2 2 0 9")  # the shortcut menu, the main menu by 0, then back
    assert heard[4].startswith("Which of these fits you best?")


def test_back_at_the_wrap_up_is_the_menu_before_the_steps_not_the_steps(content: Content) -> None:
    steps = len(content.nodes["checklist"].steps)  # type: ignore[union-attr]
    heard, state = call(content, "2 3 " + "1 " * steps + "9")
    assert state.node == "main" and heard[-1].startswith("Main menu.")


def test_back_from_a_text_asked_for_mid_steps_is_that_step(content: Content) -> None:
    heard, state = call(content, "2 3 1 5 #")
    assert state.node == "checklist" and state.step == 1 and "Step 2 of" in heard[-1]


def test_the_menus_remembered_are_few(content: Content) -> None:
    _, state = call(content, "2 " + "2 0 " * 8)
    assert 0 < len(state.history) <= HISTORY_LIMIT
