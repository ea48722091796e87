"""Texts composed from the templates: the home's details filled in, always GSM-7, within budget."""

from __future__ import annotations

from ivr import gsm7
from ivr.content.model import Content
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
