"""The call heard as a caller hears it: keys pressed, the words that come back, their order and length."""

from __future__ import annotations

import re

from ivr import speech
from ivr.content.model import Content
from ivr.engine import flow
from ivr.engine.state import HISTORY_LIMIT, CallState
from ivr.engine.turn import Ask, Digits, Input, Silence, words
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
    heard, state = call(content, "2 3 1 1 1 9")
    assert "Step 3 of" in heard[5] and "Step 2 of" in heard[6] and state.step == 1


def test_back_from_a_menu_returns_to_the_menu_last_heard_by_any_path(content: Content) -> None:
    heard, _ = call(content, "2 2 0 9")  # the shortcut menu, the main menu by 0, then back
    assert heard[4].startswith("Which of these fits you best?")


def test_back_at_the_wrap_up_is_the_menu_before_the_steps_not_the_steps(content: Content) -> None:
    steps = len(content.nodes["checklist"].steps)  # type: ignore[union-attr]
    heard, state = call(content, "2 3 1 " + "1 " * steps + "9")
    assert state.node == "prepare" and heard[-1].startswith("Getting ready")


def test_back_from_a_text_asked_for_mid_steps_is_that_step(content: Content) -> None:
    heard, state = call(content, "2 3 1 1 5 #")
    assert state.node == "checklist" and state.step == 1 and "Step 2 of" in heard[-1]


def test_the_menus_remembered_are_few(content: Content) -> None:
    _, state = call(content, "2 " + "2 0 " * 8)
    assert 0 < len(state.history) <= HISTORY_LIMIT


# --- to the point ---------------------------------------------------------------------------

SECONDS_TO_TRIAGE = 25


def test_an_unknown_caller_hears_the_first_triage_question_within_25_seconds(content: Content) -> None:
    # Every word from the greeting to the end of the first yes or no question, heard in full:
    # the unknown caller's menu (2 for the main menu), the main menu up to its first choice (1).
    heard, _ = call(content, "2 1")
    main_menu = heard[1]
    up_to_triage_choice = main_menu[: main_menu.index("press 1.") + len("press 1.")]
    question = heard[2].split("?")[0] + "?"
    assert question.startswith("Can you log in")
    spoken = " ".join([heard[0], up_to_triage_choice, question])
    seconds = speech.word_count(spoken) / speech.WORDS_PER_SECOND  # 150 words a minute
    assert seconds <= SECONDS_TO_TRIAGE, f"{seconds:.0f} s before the first triage question: {spoken}"


def test_the_main_menu_offers_at_most_five_choices(content: Content) -> None:
    heard, _ = call(content, "2")
    assert len(re.findall(r", press \d\.", heard[1])) <= 5
    assert len(content.nodes[content.meta.main_menu].options) <= 5  # type: ignore[union-attr]


def test_a_wrong_key_gets_a_short_reprompt_not_the_whole_menu(content: Content) -> None:
    heard, _ = call(content, "2 7")
    assert heard[2] == "Sorry, 7 is not one of the choices. Press 1, 2, 3, 4 or 5, or star to hear the choices again."
    heard, _ = call(content, "2 7 7")  # a second miss: the whole menu, and the keys every menu takes
    assert "Here are the choices again." in heard[3] and "To find out which problem you have, press 1." in heard[3]


def test_the_menu_keys_are_told_once_after_the_main_menus_choices(content: Content) -> None:
    heard, _ = call(content, "2 0 0")
    keys_help = "At any menu, press star to hear it again, or 9 to go back."
    assert keys_help in heard[1] and heard[1].index(keys_help) > heard[1].index("press 5.")
    assert keys_help not in heard[2] and keys_help not in heard[3]


# --- never hung up on mid-script --------------------------------------------------------------


def test_silence_inside_steps_is_time_to_write_not_a_way_out(content: Content) -> None:
    meta = content.meta
    directory = InMemoryDirectory()
    _, state = flow.start(content, directory)
    for key in ("2", "2", "2"):  # the main menu, the shortcut, scenario two
        _, state = flow.advance(content, directory, state, Digits(key))
    waited = 0
    turns = []
    while state.node == "scenario_new_manager":
        turn, state = flow.advance(content, directory, state, Silence())
        turns.append(turn)
        ask = turn[-1]
        if isinstance(ask, Ask):
            waited += ask.timeout
    assert words(turns[0]).startswith("Take your time.")
    assert waited >= 150, "only minutes of silence end the call"  # and 7 seconds before the first
    goodbye = words(turns[-1])
    assert goodbye.count("oh three three three, two oh oh, one one three three") == 2
    assert "the steps you were hearing" in goodbye
    turn, state = flow.advance(content, directory, state, Digits("1"))
    assert state.topic == "scenario_2"  # the text offered is the scenario the caller was in
    assert len(turns) == meta.steps_waits


def test_a_wrong_key_in_the_steps_says_which_keys_work(content: Content) -> None:
    heard, state = call(content, "2 2 1 7")
    assert heard[-1].startswith("Sorry, 7 is not one of the choices. Press 1 for the next step")
    assert state.node == "scenario_password" and state.step == 0


# --- keys said when they help ---------------------------------------------------------------


def test_spell_and_text_keys_are_said_once_as_a_scenario_starts(content: Content) -> None:
    heard, _ = call(content, "2 1 1 1", ods="VL15A")
    # with a code known the main menu comes first, without the unknown caller's menu
    start = heard[2]
    assert start.startswith("Scenario one.")
    assert "Press 5 at any time to get these steps by text." in start
    assert "Press 4 to hear your O D S code spelled out." in start
    for later in heard[3:]:
        assert "press 4" not in later.lower() and "press 5" not in later.lower()
        assert later.endswith("Press 1 to go on.")
    heard, _ = call(content, "2 2 1")
    assert "Press 4" not in heard[3]  # no code known: spelling it would not help


# --- the guide's order and nothing more ---------------------------------------------------------


def test_each_push_back_is_beside_the_step_it_answers(content: Content) -> None:
    steps = content.nodes["scenario_password"].steps  # type: ignore[union-attr]
    said = [step.say or f"PUSHBACK {step.helpdesk}" for step in steps]
    ask = next(i for i, s in enumerate(said) if "password reset" in s)
    assert said[ask + 1] == "PUSHBACK You can reset your password yourself online."
    moved = [step.say or f"PUSHBACK {step.helpdesk}" for step in content.nodes["scenario_moved"].steps]  # type: ignore[union-attr]
    warning = next(i for i, s in enumerate(moved) if s.startswith("A warning"))
    texted = next(i for i, s in enumerate(moved) if "password is then texted" in s)
    assert warning < texted
    assert moved[-1].startswith("PUSHBACK We have a new process")  # the guide's last word on it


def test_jargon_is_explained_once_the_first_time_it_is_heard(content: Content) -> None:
    heard, _ = call(content, "2 2 2" + " 1" * 12)
    whole = " ".join(heard)
    for term in content.terms.values():
        assert whole.count(term.explain) <= 1
    for first, explain in (
        ("National Administration Service", content.terms["nas"].explain),
        ("integrated care board", content.terms["icb"].explain),
        ("O D S code", content.terms["ods"].explain),
        ("Reasonable Use Policy", content.terms["rup"].explain),
    ):
        assert whole.index(first) < whole.index(explain), first


def test_no_sentence_heard_is_over_twenty_words(content: Content) -> None:
    for keys in ("2 2 1" + " 1" * 9, "2 2 2" + " 1" * 13, "2 2 3" + " 1" * 15, "2 3 1" + " 1" * 5):
        for ods in (None, "VL15A"):
            heard, _ = call(content, keys if ods is None else keys[2:], ods=ods)
            for sentence in speech.sentences(" ".join(heard)):
                assert speech.word_count(sentence) <= 20, sentence


def test_nhsmail_is_said_as_letters_then_mail(content: Content) -> None:
    heard, _ = call(content, "2 1")
    assert "N H S mail" in heard[0] and "NHSmail" not in " ".join(heard)
