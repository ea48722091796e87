"""A known home, an unknown caller, an escalation and the notice, over the webhooks with signed requests."""

from __future__ import annotations

import csv
import io
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from lxml import etree

from ivr.app import create_app
from ivr.cli.main import main
from ivr.content.model import Content, Steps
from ivr.homes import notice
from ivr.homes.directory import Home
from ivr.phone_line.callsim import CallSimulator
from ivr.settings import Settings
from ivr.store.database import Store, outbox
from ivr.store.database import escalations as escalations_table
from tests.web_support import LANDLINE, REAL_LINE, add_home, assert_valid_twiml, simulate

UNKNOWN = "+441522999999"
CONTACT = "+447400999888"  # the care association's digital officer


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    store.upgrade()
    add_home(store, Home(ods="VL15A", name="Lindum House", landlines=(LANDLINE,), mobile="+447400123456"))
    add_home(store, Home(ods="VJ15B", name="Jasmine Court", landlines=("+441522654321",)))
    return store


@pytest.fixture()
def client(store: Store, content: Content) -> FlaskClient:
    settings = Settings(database_url=store.url, **REAL_LINE, escalation_contact="07400 999888")
    return create_app(settings, content=content, store=store).test_client()



def said(simulator: CallSimulator) -> str:
    return " ".join(h.text for h in simulator.heard if h.who == "companion")


def test_a_known_landline_is_greeted_by_name_and_hears_its_own_details(client: FlaskClient) -> None:
    simulator = simulate(client, "3 1 1")
    heard = said(simulator)
    assert heard.startswith("Hello, Lindum House.") and "I do not know this number" not in heard
    assert "Yours is V, L, 1, 5, A." in heard and "It should be care dot, V, L, 1, 5, A, at, N H S dot net." in heard
    assert all("VL15A" not in body and "1522" not in body for body in simulator.bodies)  # nothing personal in URLs


def test_an_unknown_caller_keys_an_ambiguous_code_and_confirms_it(client: FlaskClient) -> None:
    simulator = simulate(client, "1 5152# 2 1 3 1", caller=UNKNOWN)
    heard = said(simulator)
    assert heard.count("I do not know this number") == 1
    assert "J for Juliett, the number 1, the number 5, B for Bravo. That is Jasmine Court." in heard
    assert "L for Lima, the number 1, the number 5, A for Alpha. That is Lindum House." in heard
    assert "Yours is V, L, 1, 5, A." in heard


def test_an_unknown_caller_may_say_the_code_and_confirms_it_on_the_keypad(client: FlaskClient) -> None:
    simulator = simulate(client, "1 say:victor_lima_one_five_alpha 1 3 1", caller=UNKNOWN)
    entry = next(body for body in simulator.bodies if "after the V" in body)
    gather = etree.fromstring(entry.encode()).find("Gather")
    assert gather is not None and gather.get("input") == "dtmf speech" and gather.get("language") == "en-GB"
    assert "lima" in (gather.get("hints") or "") and gather.get("speechTimeout") == "auto"
    heard = said(simulator)
    assert "Is this your O D S code? V for Victor, L for Lima, the number 1, the number 5, A for Alpha." in heard
    assert "Yours is V, L, 1, 5, A." in heard


def test_a_keyed_code_never_texts_the_homes_registered_mobile(client: FlaskClient, store: Store) -> None:
    simulator = simulate(client, "1 5152# 2 1 5", caller=UNKNOWN)
    assert "Please key in your mobile number" in said(simulator).rsplit("Thank you.", 1)[1]
    assert "ending 4, 5, 6" not in said(simulator)
    simulator = simulate(client, "5 1")
    assert "the one ending 4, 5, 6." in said(simulator)
    with store.transaction() as tx:
        (text,) = tx.rows(outbox)
    assert text["to_number"] == "+447400123456"
    # The text carries the calling home's own code and mailbox, not the placeholders a stranger would get.
    assert "ODS code VL15A" in text["body"] and "care.vl15a@nhs.net" in text["body"]


def test_an_escalation_reaches_the_outbox_for_the_contact_and_the_listing(
    client: FlaskClient, store: Store, tmp_path: Path
) -> None:
    simulator = simulate(client, "4 1 4455667# 1 1 1 1")
    assert "passed the ticket number to your care association's digital team" in said(simulator)
    with store.transaction() as tx:
        texts = {row["purpose"]: row for row in tx.rows(outbox)}
        rows = tx.rows(escalations_table)
    notice_text = texts["escalation_notice"]
    assert notice_text["to_number"] == CONTACT and notice_text["capped"] is False
    assert "4455667" in notice_text["body"] and "Lindum House, VL15A" in notice_text["body"]
    assert "The helpdesk would not help." in notice_text["body"]
    receipt = texts["escalation_receipt"]
    assert receipt["to_number"] == "+447400123456" and "4455667" in receipt["body"] and receipt["capped"] is True
    assert len(rows) == 1 and rows[0]["status"] == "open" and rows[0]["call_sid"] == simulator.call_sid
    assert rows[0]["callback"] == LANDLINE  # a known landline is the number to ring back on
    result = CliRunner().invoke(main, ["escalations", "list", "--open", "--csv"], env={"DATABASE_URL": store.url})
    assert result.exit_code == 0, result.output
    listed = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["ods_code"], r["home"], r["ticket"], r["reason"]) for r in listed] == [
        ("VL15A", "Lindum House", "4455667", "refused")
    ]


def test_an_escalation_from_an_unknown_number_asks_for_the_home_and_a_number_to_ring_back(
    client: FlaskClient, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    # The ticket, what happened, send; then the code's keys (two homes: the second is right), and a landline.
    with caplog.at_level(logging.INFO):
        simulator = simulate(client, "2 4 1 4455667# 3 1 5152# 2 1 01522500500# 1", caller=UNKNOWN)
    heard = said(simulator)
    assert "I need two things. Which home it is for, and a number to ring you back on." in heard
    assert "I heard oh one five two two, five oh oh, five oh oh." in heard
    assert "passed the ticket number to your care association's digital team" in heard
    with store.transaction() as tx:
        body = next(row["body"] for row in tx.rows(outbox) if row["purpose"] == "escalation_notice")
        (row,) = tx.rows(escalations_table)
    assert "Home: Lindum House, VL15A." in body and "Ring back on: 01522500500." in body
    assert "Something else went wrong." in body
    assert (row["ods"], row["home_name"], row["callback"]) == ("VL15A", "Lindum House", "+441522500500")
    assert "1522500500" not in caplog.text and "********500" in caplog.text
    listed = CliRunner().invoke(main, ["escalations", "list", "--csv"], env={"DATABASE_URL": store.url}).output
    assert next(csv.DictReader(io.StringIO(listed)))["callback"] == "+441522500500"


def test_an_unknown_caller_who_gave_a_code_earlier_is_asked_only_for_a_number(client: FlaskClient) -> None:
    heard = said(simulate(client, "1 5152# 2 1 4 1 4455667# 3 1 07400111222# 1", caller=UNKNOWN))
    assert "First, your home's O D S code" not in heard
    assert "I heard oh seven four oh oh, one one one, two two two." in heard


def test_the_operators_notice_is_said_after_the_greeting_until_its_last_day(client: FlaskClient, store: Store) -> None:
    notice.set_notice(store, "NHSmail is down until noon.", until=notice.today())
    heard = said(simulate(client, ""))
    assert "Hello, Lindum House." in heard and "A message from your care association. NHSmail is down" in heard
    assert heard.index("A message") < heard.index("Main menu.")
    notice.set_notice(store, "Yesterday's news.", until=notice.today() - timedelta(days=1))
    assert "A message from your care association" not in said(simulate(client, ""))
    notice.clear(store)
    assert "A message from your care association" not in said(simulate(client, ""))


def test_a_caller_can_practise_the_call_on_the_phone_in_two_voices(client: FlaskClient, content: Content) -> None:
    node = content.nodes["scenario_password"]
    assert isinstance(node, Steps)
    through = " ".join(["1"] * len(node.steps))  # push-backs are steps of their own
    simulator = simulate(client, f"2 1 {through} 4")  # the shortcut to scenario one, its steps, then practise
    body = simulator.bodies[-1]
    response = assert_valid_twiml(body)
    says = response.findall(".//Say")
    helpdesk = [say.text for say in says if say.get("voice") == "Polly.Brian-Neural"]
    assert helpdesk == [exchange.helpdesk for exchange in (*node.opening, *node.pushbacks, *node.closing)]
    assert all(say.get("voice") == "Polly.Amy-Neural" for say in says if say.text not in helpdesk)
    pauses = response.findall(".//Gather/Pause")
    assert len(pauses) == len(helpdesk) and all(int(pause.get("length") or 0) >= 5 for pause in pauses)
    assert "Suggested answer: It is V, L, 1, 5, A." not in body  # scenario one's answer to the code:
    assert "Suggested answer: Yes. It is V, L, 1, 5, A." in body  # the calling home's own
    assert "press star" in body and "What would you like to do now?" in body
