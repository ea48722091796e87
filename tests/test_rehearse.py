"""Scripted rehearsals: the words a caller hears carry the guide's facts, and triage lands right."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli.main import main
from ivr.content.model import Content, Steps
from ivr.homes import directory_store, notice
from ivr.homes.directory import Home, InMemoryDirectory
from ivr.rehearsal.session import Rehearsal, ScriptedKeypad, transcript
from ivr.store.database import Store

HELPDESK_SPOKEN = "oh three three three, two oh oh, one one three three"


def rehearse(content: Content, keys: str, ods: str | None = None) -> str:
    """The transcript of a rehearsal driven by `keys` from the main menu on.

    With no ODS code the rehearsal is a call from an unknown number: 2 at the first menu
    skips giving a code and goes straight to the main menu.
    """
    keys = keys if ods else f"2 {keys}"
    lines = Rehearsal(content, InMemoryDirectory(), ods=ods).run(ScriptedKeypad(keys))
    return transcript(lines)


def whole_scenario(content: Content, number: int) -> str:
    """Keys for the shortcut to scenario `number`, then every step to the end."""
    node = next(node for _, node in content.scenarios() if node.scenario == number)
    return f"2 {number} " + " ".join("1" * len(node.steps))


FACTS = {
    1: [
        "National Administration Service", "password reset", "temporary password", "O D S code",
        "a V, then four letters or numbers", "security questions", "Reasonable Use Policy",
        "You can reset your password yourself online.", "I never set up my security questions",
    ],
    2: [
        "new manager", "Nobody at the home can open the shared mailbox", "create an N H S mail account",
        "make you the Owner", "security checks", "main landline", "personal or work", "general address",
        "yours alone", "log in to the N H S mail portal. Change the password", "security questions",
        "Reasonable Use Policy", "integrated care board", "It replaced the C C G",
        "run by the National Administration Service", "new process",
    ],
    3: [
        "name the provider you were with before", "your own N H S mail address", "password reset",
        "mapped", "the Owner of the shared mailbox", "the mobile you used when your account was first set up",
        "was your old employer's", "do not remember the answers", "integrated care board",
        "need closing before we can help", "mark you as a leaver", "thirty days", "within days", "new process",
    ],
}  # fmt: skip


@pytest.mark.parametrize("number", [1, 2, 3])
def test_each_scenario_carries_the_guides_facts(content: Content, number: int) -> None:
    heard = rehearse(content, whole_scenario(content, number))
    for fact in FACTS[number]:
        assert fact in heard, f"scenario {number} never says {fact!r}"
    # After the last step: ring the helpdesk from the landline, or be put through from this line.
    assert "To be put through to the helpdesk now, from this line, press 5." in heard
    assert f"The N H S mail Helpdesk is on {HELPDESK_SPOKEN}. When you are ready, ring it from the home's main" in heard


def test_every_push_back_is_heard_with_its_answer(content: Content) -> None:
    for _, node in content.scenarios():
        heard = rehearse(content, whole_scenario(content, node.scenario or 0))
        for pushback in node.pushbacks:
            assert f"The helpdesk may say: {pushback.helpdesk} You can answer: {pushback.reply}" in heard


def test_checklist_on_the_call_and_glossary(content: Content) -> None:
    checklist = rehearse(content, "3 1 1 1 1 1 1")  # the six steps of the checklist
    for fact in ["V followed by four letters or numbers", "O D S portal", "care, dot, your O D S code",
                 "the mobile whose number is on it", "an email address that only you read",
                 "a mobile number that is yours alone", "main landline", "C Q C website",
                 "plan it into your day"]:  # fmt: skip
        assert fact in checklist, fact
    on_the_call = rehearse(content, "3 2 1 1 1 1")
    for fact in [HELPDESK_SPOKEN, "recorded messages", "Ignore them", "press 1. At the next choice, press 1 again",
                 "do not mention it", "Reasonable Use Policy", "ticket number"]:  # fmt: skip
        assert fact in on_the_call, fact
    glossary = rehearse(content, "3 3 1 1")
    assert all(term in glossary for term in ("Owner.", "User.", "Shared Mailbox."))
    escalation = rehearse(content, "4 2 1 1")
    assert "ticket number" in escalation and "digital team" in escalation


def test_a_personalised_checklist_reads_back_the_code_and_mailbox(content: Content) -> None:
    heard = rehearse(content, "3 1 1 4", ods="VL15A")
    assert "Yours is V, L, 1, 5, A." in heard
    assert "It should be care dot, V, L, 1, 5, A, at, N H S dot net." in heard
    assert "V for Victor, L for Lima, the number 1, the number 5, A for Alpha" in heard


@pytest.mark.parametrize(
    ("keys", "lands_on"),
    [
        ("1 1 2", "You can log in, but you cannot open the shared mailbox."),
        ("1 2 2", "Scenario two."),
        ("1 2 1 1", "Scenario three."),
        ("1 2 1 2 2", "Scenario one."),
        ("1 2 1 2 3", "Scenario one."),
        ("1 2 1 2 1", "reset the password yourself on the N H S mail portal"),
        ("1 1 1", "you may not need the helpdesk"),
        ("1 1 2 1 1 1 2", "nobody left at the home is an Owner of the shared mailbox"),
        ("1 1 2 1 1 1 1", "ask them to give you access to the shared mailbox"),
    ],
)
def test_triage_lands_on_the_right_scenario(content: Content, keys: str, lands_on: str) -> None:
    lines = Rehearsal(content, InMemoryDirectory()).run(ScriptedKeypad(f"2 {keys}"))
    last_turn = transcript(lines).rsplit("Caller: ", 1)[1]
    assert lands_on in last_turn


def test_greeting_says_nothing_is_recorded(content: Content) -> None:
    assert "The call is not recorded." in rehearse(content, "")


def test_a_text_in_rehearsal_shows_the_message(content: Content) -> None:
    heard = rehearse(content, "5 07400123456# 1", ods="VL15A")
    assert "Text: To *********456: NHSmail Helpdesk: 0333 200 1133." in heard
    assert "ODS code VL15A; shared mailbox care.vl15a@nhs.net" in heard


def test_a_second_text_of_a_kind_is_refused_as_on_the_phone(content: Content) -> None:
    heard = rehearse(content, "5 07400123456# 1 5", ods="VL15A")
    assert heard.count("Text: To ") == 1
    assert "That text is already on its way" in heard


def test_every_scenario_node_is_one_of_the_three(content: Content) -> None:
    assert sorted(n.scenario for n in content.nodes.values() if isinstance(n, Steps) and n.scenario) == [1, 2, 3]


def test_cli_scripted_rehearsal_prints_the_transcript() -> None:
    result = CliRunner().invoke(main, ["rehearse", "--keys", "1 t", "--ods", "vl15a"])
    assert result.exit_code == 0, result.output
    assert "Caller: presses 1" in result.output and "Caller: (silence)" in result.output
    assert "Sorry, I did not hear a key." in result.output


def test_cli_refuses_a_bad_ods_code() -> None:
    result = CliRunner().invoke(main, ["rehearse", "--keys", "1", "--ods", "X123"])
    assert result.exit_code == 2 and "is not an ODS code" in result.output


def test_cli_without_a_terminal_asks_for_keys() -> None:
    result = CliRunner().invoke(main, ["rehearse"])
    assert result.exit_code == 2 and "give --keys" in result.output


def test_the_rehearsal_uses_the_homes_and_notice_the_operator_set_up(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    store.upgrade()
    directory_store.add(store, Home(ods="VL15A", name="Lindum House", landlines=("+441522123456",)))
    notice.set_notice(store, "NHSmail is slow this morning.", until=None)
    result = CliRunner().invoke(main, ["rehearse", "--keys", "1 5152# 1"], env={"DATABASE_URL": store.url})
    assert result.exit_code == 0, result.output
    assert "A message from your care association. NHSmail is slow this morning." in result.output
    assert "That is Lindum House." in result.output


def test_without_a_database_the_rehearsal_has_an_empty_directory(tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'none.sqlite3'}"
    result = CliRunner().invoke(main, ["rehearse", "--keys", "1 5152#"], env={"DATABASE_URL": missing})
    assert result.exit_code == 0, result.output
    assert "I cannot find a home with those keys" in result.output and "A message from" not in result.output
    assert not (tmp_path / "none.sqlite3").exists()  # a rehearsal makes no database
