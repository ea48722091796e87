"""The care association callers are told to contact: a setting, spoken and texted where the caller needs it."""

from __future__ import annotations

import pytest

from ivr import gsm7
from ivr.content import checks
from ivr.content.model import Content
from ivr.engine import flow
from ivr.engine.turn import Digits, words
from ivr.homes.directory import Association, InMemoryDirectory
from ivr.settings import ASSOCIATION_EMAIL_LIMIT, ASSOCIATION_NAME_LIMIT, Settings, SettingsError, load_settings
from ivr.texts.compose import compose

LINCA = Association("LinCA Digital", "01522 500500", "digital.team@nhs.net")


def test_the_settings_are_checked_and_written_as_a_person_writes_them() -> None:
    settings = Settings(association_name="  LinCA   Digital ", association_phone="+441522500500",
                        association_email="digital.team@nhs.net")  # fmt: skip
    assert settings.association_name == "LinCA Digital"
    assert settings.association_phone == "01522 500500"
    assert Settings().association_name is None and Settings(association_phone=" ").association_phone is None


@pytest.mark.parametrize(
    ("field", "value", "variable"),
    [
        ("association_name", "Caf\u00e9 \u201cDigital\u201d", "IVR_ASSOCIATION_NAME"),
        ("association_name", "X" * (ASSOCIATION_NAME_LIMIT + 1), "IVR_ASSOCIATION_NAME"),
        ("association_phone", "09065 123456", "IVR_ASSOCIATION_PHONE"),  # premium rate
        ("association_phone", "12345", "IVR_ASSOCIATION_PHONE"),
        ("association_email", "not an address", "IVR_ASSOCIATION_EMAIL"),
        ("association_email", "a" * ASSOCIATION_EMAIL_LIMIT + "@nhs.net", "IVR_ASSOCIATION_EMAIL"),
    ],
)
def test_a_bad_setting_is_one_line_naming_its_variable(field: str, value: str, variable: str) -> None:
    with pytest.raises(SettingsError, match=f"^bad setting: {variable}: "):
        load_settings(**{field: value})


def test_the_texts_budgets_allow_for_the_longest_settings() -> None:
    assert (checks.ASSOCIATION_NAME_LIMIT, checks.ASSOCIATION_EMAIL_LIMIT) == (
        ASSOCIATION_NAME_LIMIT, ASSOCIATION_EMAIL_LIMIT,
    )  # fmt: skip


def _escalation_advice(content: Content, association: Association | None) -> str:
    directory = InMemoryDirectory()
    turn, state = flow.start(content, directory, association=association)
    said = []
    for key in ["2", "4", "2", "1", "1"]:  # the main menu, pass a ticket on, no ticket: its steps
        turn, state = flow.advance(content, directory, state, Digits(key), association=association)
        said.append(words(turn))
    return " ".join(said)


def test_the_no_ticket_steps_say_to_ring_again_and_whom_to_send_it_to(content: Content) -> None:
    said = _escalation_advice(content, LINCA)
    assert "ring the helpdesk again. The number is oh three three three, two oh oh, one one three three." in said
    assert "ask for a ticket number" in said
    assert "pass it to LinCA Digital" in said
    assert "Their number is oh one five two two, five oh oh five oh oh." in said
    assert "Their email address is digital dot team, at, N H S dot net." in said


def test_without_the_settings_the_steps_name_the_digital_team_and_leave_no_gap(content: Content) -> None:
    said = _escalation_advice(content, None)
    assert "pass it to your care association's digital team, with a few words about what went wrong." in said
    assert "  " not in said and "Their number" not in said


def test_texts_carry_the_contact(content: Content) -> None:
    body = compose(content, "escalation", ods=None, association=LINCA)
    assert "LinCA Digital (01522 500500, digital.team@nhs.net)" in body
    assert compose(content, "escalation", ods=None).count("your care association's digital team") == 1
    assert gsm7.count(body).segments <= content.sms["escalation"].max_segments
