"""Texts composed from the templates: the home's details filled in, always GSM-7, within budget."""

from __future__ import annotations

from ivr import gsm7
from ivr.content.model import Content
from ivr.homes.directory import Association
from ivr.texts.compose import compose


def test_a_home_name_with_typography_keeps_the_text_in_gsm7(content: Content) -> None:
    body = compose(content, "escalation_notice", ods="VL15A", ticket="4455667", reason="refused",
                   home="St Mary\u2019s \u2013 Residential")  # fmt: skip
    assert "Home: St Mary's - Residential, VL15A." in body
    counted = gsm7.count(body)
    assert counted.encoding == "GSM-7" and counted.segments <= content.sms["escalation_notice"].max_segments


def test_the_longest_mailbox_a_home_may_have_fits_every_text(content: Content) -> None:
    mailbox = "care." + "x" * 27 + "@nhs.net"  # 40 characters: the most a home's record accepts
    for purpose, template in content.sms.items():
        body = compose(content, purpose, ods="VXXXX", mailbox=mailbox, ticket="9" * 15, reason="leaver",
                       home="X" * 200)  # fmt: skip
        assert gsm7.count(body).segments <= template.max_segments, purpose


def test_each_scenarios_texts_carry_the_whole_call(content: Content) -> None:
    """What to press, the number, the own-account warning, the recorded messages, the answers, and no ticket."""
    association = Association("LinCA Digital", "01522 500500", "digital.team@nhs.net")
    for _, node in content.scenarios():
        first = content.sms[node.sms]
        assert first.follow_up is not None, node.sms
        pair = " ".join(compose(content, name, ods="VL15A", association=association)
                        for name in (node.sms, first.follow_up))  # fmt: skip
        for fact in ("0333 200 1133", "press 1, then 1 again", "own account", "shared log-in",
                     "Reasonable Use Policy", "Ignore the recorded messages", "push-backs", "ticket number",
                     "Ring again", "LinCA Digital (01522 500500, digital.team@nhs.net)", "ODS code"):  # fmt: skip
            assert fact in pair, (node.sms, fact)
    moved = compose(content, "scenario_3", ods=None)
    assert "old employer's, the password goes there" in moved
    new_manager = compose(content, "scenario_2", ods=None) + compose(content, "answers_2", ods=None)
    assert "Then log in, change the password" in new_manager and "an email only you read" in new_manager
