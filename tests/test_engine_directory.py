"""The engine with a directory: greeting a known home, ODS codes keyed or said, the registered mobile, escalations."""

from __future__ import annotations

from ivr.content.model import Content, Steps
from ivr.engine import flow
from ivr.engine.flow import CallState
from ivr.engine.turn import Digits, Escalate, Input, SendSms, Silence, Speech, Turn, words
from ivr.homes.directory import Home, InMemoryDirectory
from tests.test_engine import HOMES, LANDLINE, advance

UNKNOWN = "+441522999999"


def call(content: Content, keys: list[Input], *, caller: str | None = UNKNOWN, notice: str | None = None,
         crown: bool = False) -> tuple[list[Turn], CallState]:  # fmt: skip
    directory = InMemoryDirectory(HOMES)
    turn, state = flow.start(content, directory, caller=caller, notice=notice)
    turns = [turn]
    for given in keys:
        turn, state = advance(content, directory, state, given, crown_dependency_mobiles=crown)
        turns.append(turn)
    return turns, state


def test_a_known_landline_is_greeted_by_name_and_its_details_read_back(content: Content) -> None:
    turns, state = call(content, [Digits("3"), Digits("1"), Digits("1")], caller=LANDLINE)
    assert words(turns[0]).startswith("Hello, Lindum House.") and "Main menu." in words(turns[0])
    assert "I do not know this number" not in words(turns[0])
    assert "Yours is V, L, 1, 5, A." in words(turns[2])
    assert "It should be care dot, V, L, 1, 5, A, at, N H S dot net." in words(turns[3])
    assert state.ods == "VL15A" and state.home_mobile == "+447400123456"


def test_an_unknown_number_is_told_once_and_offered_the_ods_code(content: Content) -> None:
    turns, _state = call(content, [Silence()])
    first = words(turns[0])
    assert first.startswith("Hello. This line gets you ready") and first.count("I do not know this number") == 1
    assert "To key in your home's code, press 1." in first
    # Silence here is no failure: the caller simply goes on to the main menu, without hearing it again.
    assert "Main menu." in words(turns[1]) and "I do not know this number" not in words(turns[1])


def test_ambiguous_keys_are_read_back_one_at_a_time_with_nato_words(content: Content) -> None:
    # 5 1 5 2 types both VJ15B and VL15A: each is offered in turn, by code and name.
    turns, state = call(content, [Digits("1"), Digits("5152"), Digits("2"), Digits("1"), Digits("3"), Digits("1")])
    assert "J for Juliett, the number 1, the number 5, B for Bravo. That is Jasmine Court." in words(turns[2])
    assert "If that is right, press 1. If not, press 2." in words(turns[2])
    assert "L for Lima, the number 1, the number 5, A for Alpha. That is Lindum House." in words(turns[3])
    assert words(turns[4]).startswith("Thank you. I will use that code") and "Main menu." in words(turns[4])
    assert state.ods == "VL15A" and state.candidates == ()
    assert "Yours is V, L, 1, 5, A." in words(turns[6])
    # A keyed code brings the home's details, never its registered mobile.
    assert state.home_mobile is None


def test_keys_that_match_no_home_lead_to_the_unambiguous_entry(content: Content) -> None:
    # Not in the directory: each character is its key then its place, 0 for a digit: 6 1 is M, 9 2 is X.
    turns, state = call(content, [Digits("1"), Digits("6219"), Digits("61209290"), Digits("1")])
    assert words(turns[2]).startswith("I cannot find a home with those keys")
    assert "For each of the four letters or numbers after the V, press two keys." in words(turns[2])
    assert "M for Mike, the number 2, X for X-ray, the number 9." in words(turns[3])
    assert "That is" not in words(turns[3])  # no name: the directory does not know it
    assert state.ods == "VM2X9" and state.mailbox_address() == "care.vm2x9@nhs.net"


def test_refusing_every_candidate_falls_back_to_the_unambiguous_entry(content: Content) -> None:
    turns, state = call(content, [Digits("1"), Digits("5152"), Digits("2"), Digits("2")])
    assert "press two keys" in words(turns[4]) and state.node == "ods_exact" and state.ods is None


def test_a_wrong_entry_is_explained_and_asked_again(content: Content) -> None:
    turns, state = call(content, [Digits("1"), Digits("51"), Digits("6219"), Digits("99999999")])
    assert words(turns[2]).startswith("Sorry, I need four keys")
    assert words(turns[4]).startswith("Sorry, that did not make a code.") and state.node == "ods_exact"


def test_a_spoken_code_is_confirmed_on_the_keypad(content: Content) -> None:
    turns, state = call(content, [Digits("1"), Speech("Victor, Lima one five, alpha."), Digits("1")])
    assert "L for Lima, the number 1, the number 5, A for Alpha. That is Lindum House." in words(turns[2])
    assert state.ods == "VL15A"
    turns, state = call(content, [Digits("1"), Speech("M for Mike 2 X-ray 9")])
    assert "M for Mike, the number 2, X for X-ray, the number 9." in words(turns[2])
    turns, state = call(content, [Digits("1"), Speech("I don't know it")])
    assert words(turns[2]).startswith("Sorry, I did not catch a whole code.") and state.node == "ods_keys"


def test_the_ods_entry_asks_for_speech_too(content: Content) -> None:
    turns, _ = call(content, [Digits("1")])
    ask = turns[1][-1]
    assert getattr(ask, "speech", False) and getattr(ask, "mode", None) == "entry"


def test_the_registered_mobile_is_offered_masked_on_a_call_from_the_homes_landline(content: Content) -> None:
    turns, _ = call(content, [Digits("5"), Digits("1")], caller=LANDLINE)
    offer = words(turns[1])
    assert "the mobile registered for your home, the one ending 4, 5, 6." in offer
    assert "07400" not in offer and "1 2 3" not in offer
    sent = [step for step in turns[2] if isinstance(step, SendSms)]
    assert [(step.purpose, step.to, step.ods) for step in sent] == [("checklist", "+447400123456", "VL15A")]
    # Or another: the caller keys a different mobile, which is read back as usual.
    turns, _state = call(content, [Digits("5"), Digits("2"), Digits("07400123457#"), Digits("1")], caller=LANDLINE)
    assert words(turns[2]).startswith("Please key in your mobile number")
    assert [s.to for s in turns[4] if isinstance(s, SendSms)] == ["+447400123457"]


def test_without_a_registered_mobile_the_caller_is_asked_for_one(content: Content) -> None:
    turns, _ = call(content, [Digits("2"), Digits("5")])
    assert words(turns[2]).startswith("Please key in your mobile number")


def test_crown_dependency_mobiles_only_when_the_setting_allows(content: Content) -> None:
    guernsey = "07781123456#"
    turns, state = call(content, [Digits("2"), Digits("5"), Digits(guernsey)])
    assert words(turns[3]).startswith("That does not look like a U K mobile number.") and state.mobile is None
    turns, state = call(content, [Digits("2"), Digits("5"), Digits(guernsey)], crown=True)
    assert words(turns[3]).startswith("I heard oh seven seven eight one") and state.mobile == "+447781123456"


def test_an_escalation_is_taken_read_back_and_recorded(content: Content) -> None:
    keys: list[Input] = [Digits("4"), Digits("1"), Digits("12*4455667#"), Digits("2"), Digits("1")]
    turns, _ = call(content, keys, caller=LANDLINE)
    assert words(turns[3]).startswith("What happened on the call?")  # star started the entry again
    assert "Ticket number 4, 4, 5, 5, 6, 6, 7, for V, L, 1, 5, A." in words(turns[4])
    assert "Waiting for the leaver process" in words(turns[4])
    escalated = [step for step in turns[5] if isinstance(step, Escalate)]
    assert escalated == [Escalate(ticket="4455667", reason="leaver", ods="VL15A", callback=LANDLINE)]
    assert "passed the ticket number to your care association's digital team" in words(turns[5])
    # The receipt by text carries the ticket, to the registered mobile offered.
    turns, _state = call(content, [*keys, Digits("1"), Digits("1")], caller=LANDLINE)
    sent = [step for step in turns[7] if isinstance(step, SendSms)]
    assert [(step.purpose, step.to, step.ods, step.ticket, step.reason) for step in sent] == [
        ("escalation_receipt", "+447400123456", "VL15A", "4455667", "leaver")
    ]


def test_a_short_ticket_number_is_asked_again(content: Content) -> None:
    turns, state = call(content, [Digits("2"), Digits("4"), Digits("1"), Digits("123#")])
    assert words(turns[4]).startswith("Sorry, that is not a ticket number") and state.node == "escalate_ticket"


def test_no_ticket_number_gets_the_advice_to_ring_again_and_ask_for_one(content: Content) -> None:
    turns, _ = call(content, [Digits("2"), Digits("4"), Digits("2")])
    assert "ring the helpdesk again" in words(turns[3]) and "ask for a ticket number" in words(turns[3])


def test_the_operators_notice_follows_the_greeting(content: Content) -> None:
    notice = "NHSmail is down until noon {today}."  # braces are the operator's words, not placeholders
    turns, _ = call(content, [], caller=LANDLINE, notice=notice)
    said = words(turns[0])
    assert f"A message from your care association. {notice}" in said
    assert said.index("Hello, Lindum House.") < said.index("A message") < said.index("Main menu.")
    turns, _ = call(content, [], caller=LANDLINE)
    assert "A message from your care association" not in words(turns[0])


def test_the_scenarios_heard_are_counted_once_each(content: Content) -> None:
    _, state = call(content, [Digits("2"), Digits("2"), Digits("1"), Digits("0"), Digits("2"), Digits("1"), Digits("0"),
                              Digits("2"), Digits("3")])  # fmt: skip
    assert state.scenarios == (1, 3)


def test_keys_that_match_many_homes_go_to_the_unambiguous_entry(content: Content) -> None:
    # Five homes typed 5 1 5 2 (J, K or L, then 1 5, then A, B or C): more than a caller can hear one by one.
    many = [Home(ods=code, name=f"Home {code}") for code in ("VJ15A", "VJ15B", "VK15A", "VK15C", "VL15B")]
    directory = InMemoryDirectory([*HOMES, *many])
    turn, state = flow.start(content, directory, caller=UNKNOWN)
    for given in (Digits("1"), Digits("5152")):
        turn, state = advance(content, directory, state, given)
    assert words(turn).startswith("Those keys match too many homes to read out.")
    assert "press two keys" in words(turn) and state.candidates == ()
    turn, state = advance(content, directory, state, Digits("53105022"))  # L 1 5 B
    assert "L for Lima, the number 1, the number 5, B for Bravo. That is Home VL15B." in words(turn)



def test_four_matching_homes_are_still_read_back(content: Content) -> None:
    two_more = [Home(ods=code, name=f"Home {code}") for code in ("VJ15A", "VK15C")]
    directory = InMemoryDirectory([*HOMES, *two_more])  # with VL15A and VJ15B, four homes typed 5 1 5 2
    matches = sorted(home.ods for home in directory.homes_for_keys("5152"))
    assert len(matches) == 4, matches
    turn, state = flow.start(content, directory, caller=UNKNOWN)
    for given in (Digits("1"), Digits("5152")):
        turn, state = advance(content, directory, state, given)
    assert words(turn).startswith("Is this your O D S code?") and len(state.candidates) == 4


def test_the_wrap_up_says_the_three_things_to_say_first_of_the_scenario_heard(content: Content) -> None:
    # The shortcut to scenario two, through its steps to the wrap-up.
    node = content.nodes["scenario_new_manager"]
    assert isinstance(node, Steps)
    keys = [Digits("2"), Digits("2"), Digits("2"), *[Digits("1")] * len(node.steps)]
    turns, state = call(content, keys)
    said = words(turns[-1])
    assert state.node == "wrap_up" and "start with three things. One: " + node.say_first[0] in said
    assert said.index("The N H S mail Helpdesk is on") < said.index("three things") < said.index("press 1")
    checklist = content.nodes["checklist"]
    assert isinstance(checklist, Steps)
    turns, state = call(content, [Digits("2"), Digits("3"), Digits("1"), *[Digits("1")] * len(checklist.steps)])
    assert state.node == "wrap_up"
    assert "three things" not in " ".join(words(turn) for turn in turns)  # no scenario heard: nothing to say
