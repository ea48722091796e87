"""Put me through: offered where it can work, the dial as Twilio runs it, every way it can end, and counted."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from ivr import speech
from ivr.app import create_app
from ivr.cli.main import main
from ivr.content.loader import ContentError, load
from ivr.content.model import Content
from ivr.engine import flow
from ivr.engine.put_through import DIAL_OUTCOMES
from ivr.engine.turn import Dial, Digits, Milestone, SendSms, Turn, words
from ivr.homes.directory import Home, InMemoryDirectory
from ivr.phone import line_kind
from ivr.phone_line.tokens import Sealer
from ivr.rehearsal.session import Rehearsal, ScriptedKeypad
from ivr.settings import Settings
from ivr.store import usage_report
from ivr.store.database import Store, escalations, milestones, outbox
from tests.conftest import PROMPTS
from tests.console_support import live_server
from tests.web_support import (
    LANDLINE,
    REAL_LINE,
    TOKEN,
    Caller,
    add_home,
    assert_valid_twiml,
    simulate,
    write_counts,
)

# A geographic landline no home has registered, and numbers that are not landlines at all.
OTHER_LANDLINE = "+441522999888"
MOBILE = "+447400123456"
HOME_WITH_MOBILE = Home(ods="VL15A", name="Lindum House", landlines=(LANDLINE,), mobile=MOBILE)
# From the main menu: the shortcut, scenario two, every step, then the wrap-up's "put me through".
SCENARIO_2_TO_WRAP_UP = ["2", "2", *["1"] * 12]


# --- which callers can be put through ------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("+441522123456", "landline"),  # Lincoln
        ("+442079460123", "landline"),  # London
        ("+447400123456", "mobile"),
        (None, "withheld"),
        ("+33142685300", "abroad"),
        ("+441481256789", "abroad"),  # Guernsey: +44, but not a UK landline to the helpdesk
        ("+443332001133", "other"),  # an 03 number
        ("+448001111111", "other"),  # freephone
        ("+4412", "other"),  # not a whole number
    ],
)
def test_only_a_uk_geographic_number_is_a_landline(number: str | None, kind: str) -> None:
    assert line_kind(number) == kind


def _to_wrap_up(content: Content, directory: InMemoryDirectory, caller: str | None) -> flow.CallState:
    _, state = flow.start(content, directory, caller=caller)
    if state.node == "unknown_caller":
        _, state = flow.advance(content, directory, state, Digits("2"))
    for key in SCENARIO_2_TO_WRAP_UP:
        _, state = flow.advance(content, directory, state, Digits(key))
    assert state.node == "wrap_up" and state.scenario == 2
    return state


def _put_through(content: Content, caller: str | None, directory: InMemoryDirectory | None = None) -> Turn:
    directory = directory or InMemoryDirectory([HOME_WITH_MOBILE])
    state = _to_wrap_up(content, directory, caller)
    turn, state = flow.advance(content, directory, state, Digits("5"))
    if content.put_through and state.node == content.put_through.text_offer:
        # The home's registered mobile is never used unasked: 1 to have the script texted, 1 to that mobile.
        for key in ("1", "1"):
            turn, state = flow.advance(content, directory, state, Digits(key))
    return turn


def test_a_registered_landline_is_put_through_with_the_script_texted_first(content: Content) -> None:
    turn = _put_through(content, LANDLINE)
    dial = turn[-1]
    assert isinstance(dial, Dial) and dial.number == "+443332001133"
    assert dial.ring_timeout == 30 and dial.time_limit >= 7200 and dial.send_digits is None
    texts = [step for step in turn if isinstance(step, SendSms)]
    assert [(t.purpose, t.to) for t in texts] == [("scenario_2", MOBILE), ("answers_2", MOBILE)]
    said = words(turn)
    assert "listed for the home by the C Q C" not in said  # the best case: no reminder
    assert "Say nobody at the home can open the shared mailbox any more." in said  # its three things first
    assert "press star at any time to come back to me" in said
    assert "When asked to choose, press 1, then 1 again." in said  # the options, said since not pressed
    assert Milestone("put_through", "2") in turn


def test_the_home_s_registered_mobile_is_offered_never_used_unasked(content: Content) -> None:
    directory = InMemoryDirectory([HOME_WITH_MOBILE])
    turn, state = flow.advance(content, directory, _to_wrap_up(content, directory, LANDLINE), Digits("5"))
    assert not any(isinstance(step, SendSms | Dial) for step in turn) and state.node == "put_through_text_offer"
    turn, state = flow.advance(content, directory, state, Digits("1"))
    assert "the one ending 4, 5, 6" in words(turn)  # it may be a former manager's: the caller chooses


def test_an_unknown_landline_hears_the_reminder_and_is_offered_the_script(content: Content) -> None:
    directory = InMemoryDirectory([HOME_WITH_MOBILE])
    state = _to_wrap_up(content, directory, OTHER_LANDLINE)
    turn, state = flow.advance(content, directory, state, Digits("5"))
    assert "The landline listed for the home by the C Q C is the one they know." in words(turn)
    assert state.node == "put_through_text_offer" and not any(isinstance(s, Dial) for s in turn)
    # 1: the script by text to a mobile keyed now, then straight on to the helpdesk.
    for key in ("1", "07400123456#", "1"):
        turn, state = flow.advance(content, directory, state, Digits(key))
    assert [s.purpose for s in turn if isinstance(s, SendSms)] == ["scenario_2", "answers_2"]
    assert isinstance(turn[-1], Dial)


@pytest.mark.parametrize(
    ("caller", "why"),
    [
        (MOBILE, "You are calling from a mobile"),
        (None, "Your number is withheld"),
        ("+33142685300", "I can only put through calls from a U K landline"),
        ("+443332001234", "an ordinary U K landline"),
    ],
)
def test_a_caller_who_cannot_be_put_through_is_told_why_and_the_number(
    content: Content, caller: str | None, why: str
) -> None:
    directory = InMemoryDirectory([HOME_WITH_MOBILE])
    state = _to_wrap_up(content, directory, caller)
    turn, state = flow.advance(content, directory, state, Digits("5"))
    assert not any(isinstance(step, Dial | SendSms) for step in turn)
    said = words(turn)
    assert why in said
    assert "ring the N H S mail Helpdesk yourself, from the home's main landline" in said
    assert "The number is oh three three three, two oh oh, one one three three." in said
    assert state.node == "put_through_refused"


def test_turned_off_the_option_is_neither_offered_nor_taken(content: Content) -> None:
    directory = InMemoryDirectory([HOME_WITH_MOBILE])
    repeated, _ = flow.advance(content, directory, _to_wrap_up(content, directory, LANDLINE), Digits("*"))
    assert "To be put through to the helpdesk now, from this line, press 5." in words(repeated)
    off = content.with_line(put_through=False, press_options=False)
    repeated, _ = flow.advance(off, directory, _to_wrap_up(off, directory, LANDLINE), Digits("*"))
    assert "put through" not in words(repeated)
    turn, state = flow.advance(off, directory, _to_wrap_up(off, directory, LANDLINE), Digits("5"))
    assert "5 is not one of the choices" in words(turn) and state.node == "wrap_up"
    assert "Press 1, 2, 3 or 4, or star" in words(turn)  # the re-prompt names only the keys offered


def test_the_helpdesk_options_are_pressed_only_when_the_line_says_so(content: Content) -> None:
    pressed = content.with_line(put_through=True, press_options=True)
    turn = _put_through(pressed, LANDLINE)
    dial = turn[-1]
    assert isinstance(dial, Dial) and dial.send_digits == content.put_through.send_digits  # type: ignore[union-attr]
    assert "I will press 1, then 1 again, for you." in words(turn)
    unpressed = _put_through(content, LANDLINE)[-1]
    assert isinstance(unpressed, Dial) and unpressed.send_digits is None


# --- the dial as Twilio runs it, over HTTP -----------------------------------------------------------


def _app(tmp_path: Path, content: Content, **settings: object) -> tuple[Flask, Store]:
    config = Settings(database_url=f"sqlite:///{tmp_path / 'ivr.sqlite3'}", **REAL_LINE, **settings)  # type: ignore[arg-type]
    store = Store(config.database_url)
    store.upgrade()
    add_home(store, HOME_WITH_MOBILE)
    return create_app(config, content=content, store=store), store


@pytest.fixture()
def line(tmp_path: Path, content: Content) -> tuple[Flask, Store]:
    return _app(tmp_path, content)


def _dial_element(body: str) -> etree._Element:
    document = assert_valid_twiml(body)
    dial = document.find("Dial")
    assert dial is not None, body
    return dial


def _to_the_dial(client: FlaskClient, caller: str, sid: str = "CA" + "7" * 32) -> Caller:
    call = Caller(client, {"CallSid": sid, "From": caller, "To": "+443300000000", "CallStatus": "in-progress"})
    call.start()
    if caller != LANDLINE:
        call.press("2")
    for key in [*SCENARIO_2_TO_WRAP_UP, "5"]:
        call.press(key)
    if "<Dial" not in call.body:  # offered the script by text first: straight through
        call.press("2")
    return call


@pytest.mark.parametrize("caller", [LANDLINE, OTHER_LANDLINE])
def test_the_dial_shows_exactly_the_callers_number_and_is_never_recorded(
    line: tuple[Flask, Store], caller: str
) -> None:
    app, _ = line
    call = _to_the_dial(app.test_client(), caller)
    dial = _dial_element(call.body)
    assert dial.get("callerId") == call.params["From"] == caller
    assert dial.get("record") == "do-not-record" and dial.get("hangupOnStar") == "true"
    assert dial.get("timeout") == "30" and int(dial.get("timeLimit", "0")) >= 7200
    assert urlsplit(dial.get("action", "")).path.startswith("/voice/dialled/") and dial.get("method") == "POST"
    number = dial.find("Number")
    assert number is not None and number.text == "+443332001133" and number.get("sendDigits") is None


def test_the_options_are_sent_only_when_configured(tmp_path: Path, content: Content) -> None:
    app, _ = _app(tmp_path, content, put_through_press_options=True)
    number = _dial_element(_to_the_dial(app.test_client(), LANDLINE).body).find("Number")
    assert number is not None and number.get("sendDigits") == content.put_through.send_digits  # type: ignore[union-attr]


@pytest.mark.parametrize("caller", [MOBILE, "anonymous", "+33142685300"])
def test_no_dial_for_a_withheld_mobile_or_foreign_caller(line: tuple[Flask, Store], caller: str) -> None:
    app, _ = line
    simulator = simulate(app.test_client(), " ".join(["2", *SCENARIO_2_TO_WRAP_UP, "5"]), caller=caller)
    assert not any("<Dial" in body for body in simulator.bodies)
    assert any("The number is oh three three three, two oh oh, one one three three" in h.text for h in simulator.heard)


def test_turned_off_no_caller_is_offered_it(tmp_path: Path, content: Content) -> None:
    app, _ = _app(tmp_path, content, put_through=False)
    simulator = simulate(app.test_client(), " ".join([*SCENARIO_2_TO_WRAP_UP, "5"]))
    assert not any("<Dial" in body for body in simulator.bodies)
    assert not any("put through" in h.text for h in simulator.heard)


SAID_AFTER = {
    "completed": "How did the helpdesk call go?",
    "answered": "How did the helpdesk call go?",
    "busy": "The helpdesk line was busy",
    "no-answer": "Nobody answered the helpdesk line",
    "failed": "the call to the helpdesk did not go through",
    "canceled": "the call to the helpdesk did not go through",
}


@pytest.mark.parametrize("status", sorted(DIAL_OUTCOMES))
def test_every_dial_call_status_twilio_documents(line: tuple[Flask, Store], status: str) -> None:
    app, store = line
    call = _to_the_dial(app.test_client(), LANDLINE)
    action = urlsplit(_dial_element(call.body).get("action", "")).path
    _, body = call.post(action, DialCallStatus=status, DialCallSid="CA" + "d" * 32,
                        DialCallDuration="600" if status in ("completed", "answered") else "0")  # fmt: skip
    assert_valid_twiml(body)
    assert SAID_AFTER[status] in body
    write_counts(app)
    with store.transaction() as tx:
        counted = {(row["kind"], row["detail"]) for row in tx.rows(milestones)}
    assert ("put_through", "2") in counted and ("outcome", f"{DIAL_OUTCOMES[status]}.2") in counted
    if status not in ("completed", "answered"):
        assert "To try again, press 1." in body


def test_a_dial_that_never_started_and_a_caller_who_hung_up(line: tuple[Flask, Store]) -> None:
    app, _ = line
    call = _to_the_dial(app.test_client(), LANDLINE)
    document = assert_valid_twiml(call.body)
    redirect = document.find("Redirect")
    assert redirect is not None and redirect.text == _dial_element(call.body).get("action")
    # The <Redirect> after the <Dial>: reached only if the <Dial> did not run, so no DialCallStatus.
    _, body = call.post(urlsplit(redirect.text or "").path)
    assert "did not go through" in body and "To try again, press 1." in body
    # The caller hung up during the helpdesk call: Twilio still asks, and nobody is there to hear.
    _, gone = call.post(urlsplit(redirect.text or "").path, DialCallStatus="completed", CallStatus="completed")
    assert etree.fromstring(gone.encode()).find("Hangup") is not None and "<Say" not in gone


def test_the_token_in_the_dial_action_survives_a_deploy_made_meanwhile(
    tmp_path: Path, content: Content, prompts_copy: Path
) -> None:
    app, store = _app(tmp_path, content)
    call = _to_the_dial(app.test_client(), LANDLINE)
    action = urlsplit(_dial_element(call.body).get("action", "")).path
    # Hours later, a new release: reworded prompts, a new app process, the same secret.
    wording = prompts_copy / "put_through.toml"
    wording.write_text(wording.read_text().replace("Welcome back.", "Hello again."))
    deployed = create_app(Settings(database_url=str(store.engine.url), **REAL_LINE), content=load(prompts_copy),
                          store=store)  # fmt: skip
    call.transport.client = deployed.test_client()
    _, body = call.post(action, DialCallStatus="completed")
    assert "Hello again. How did the helpdesk call go?" in body


def test_a_call_under_way_when_put_throughs_arrive_is_classified_by_its_number(line: tuple[Flask, Store]) -> None:
    """A token sealed by the release before has no line: the calling number, in every request, decides."""
    app, _ = line
    sid = "CA" + "8" * 32
    before = flow.CallState(node="wrap_up", scenario=2, texted=("scenario_2",))
    token = Sealer(REAL_LINE["secret_key"]).seal(before, sid)
    for caller, dialled in ((OTHER_LANDLINE, True), (MOBILE, False)):
        call = Caller(app.test_client(), {"CallSid": sid, "From": caller, "CallStatus": "in-progress"})
        _, body = call.post(f"/voice/turn/{token}", Digits="5")
        assert ("<Dial" in body) is dialled, body


def test_the_after_call_flow_over_http_a_ticket_goes_to_the_escalation_path(line: tuple[Flask, Store]) -> None:
    app, store = line
    keys = [*SCENARIO_2_TO_WRAP_UP, "5", "1", "1", "dial:busy", "1", "dial:completed", "2", "12345678#", "1", "1"]
    simulator = simulate(app.test_client(), " ".join(keys))
    said = [h.text for h in simulator.heard]
    assert any(h.who == "dial" and "showing +441522123456" in h.text and "busy" in h.text for h in simulator.heard)
    assert "The helpdesk line was busy, so the call did not go through." in said
    assert "Welcome back. How did the helpdesk call go?" in said
    write_counts(app)
    with store.transaction() as tx:
        tickets = [(row["ticket"], row["ods"], row["callback"]) for row in tx.rows(escalations)]
        counted = sorted(row["detail"] for row in tx.rows(milestones) if row["kind"] == "outcome")
        texts = sorted(row["purpose"] for row in tx.rows(outbox))
    assert tickets == [("12345678", "VL15A", LANDLINE)]
    assert counted == ["busy.2", "connected.2", "ticket_given.2"]
    assert texts == ["answers_2", "scenario_2"]  # the script went once, before the first ring


def test_sorted_and_not_sorted_are_counted_per_scenario(line: tuple[Flask, Store]) -> None:
    app, store = line
    simulate(app.test_client(), " ".join([*SCENARIO_2_TO_WRAP_UP, "5", "1", "1", "dial:completed", "1"]))
    scenario_1 = ["2", "1", *["1"] * 8, "5", "1", "1", "dial:answered", "3"]
    not_sorted = simulate(app.test_client(), " ".join(scenario_1))
    assert any("ask for one" in h.text for h in not_sorted.heard)
    write_counts(app)
    with store.transaction() as tx:
        counted = sorted((row["kind"], row["detail"]) for row in tx.rows(milestones)
                         if row["kind"] in ("put_through", "outcome"))  # fmt: skip
    assert counted == [("outcome", "connected.1"), ("outcome", "connected.2"), ("outcome", "not_sorted.1"),
                       ("outcome", "sorted.2"), ("put_through", "1"), ("put_through", "2")]  # fmt: skip
    today = usage_report.report(store, today=date.today()).days[-1]
    assert today.put_through == 2 and (today.outcomes["sorted"], today.outcomes["connected"]) == (1, 2)


def test_ivr_call_simulates_the_dial_outcome_over_a_real_server(line: tuple[Flask, Store]) -> None:
    app, store = line
    with live_server(app) as url:
        keys = " ".join([*SCENARIO_2_TO_WRAP_UP, "5", "1", "1", "dial:no-answer", "1", "1"])
        result = CliRunner().invoke(main, ["call", url, "--keys", keys, "--from", LANDLINE, "--token", TOKEN,
                                           "--dial-status", "completed"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Twilio: Put through to +443332001133, showing +441522123456" in result.output
    assert "Nobody answered the helpdesk line" in result.output
    assert "I am glad it is sorted." in result.output  # the second try took --dial-status: completed
    write_counts(app)
    with store.transaction() as tx:
        counted = sorted(row["detail"] for row in tx.rows(milestones) if row["kind"] == "outcome")
    assert counted == ["connected.2", "no_answer.2", "sorted.2"]


# --- rehearsed ------------------------------------------------------------------------------------------


def test_the_rehearsal_plays_the_roleplay_in_place_of_the_call_then_the_same_questions(
    line: tuple[Flask, Store], content: Content
) -> None:
    app, _ = line
    keys = ["2", *SCENARIO_2_TO_WRAP_UP, "5", "2"]  # as from a landline no home has: straight through
    answers = ["t"] * 9  # scenario two's role-play: a turn to answer each of the helpdesk's nine lines
    lines = Rehearsal(content, InMemoryDirectory()).run(ScriptedKeypad(" ".join([*keys, *answers, "3", "3"])))
    helpdesk = [line.text for line in lines if line.who == "helpdesk"]
    assert helpdesk[0] == "N H S mail Helpdesk. How can I help you today?" and len(helpdesk) == 9
    rehearsed = [" ".join(line.text.split()) for line in lines if line.who == "companion"]
    phone = simulate(app.test_client(), " ".join([*keys, "dial:completed", "3", "3"]), caller=OTHER_LANDLINE)
    heard = [h.text for h in phone.heard if h.who == "companion"]
    back = "Welcome back. How did the helpdesk call go?"
    assert rehearsed[rehearsed.index(back):] == heard[heard.index(back):]
    assert rehearsed[-1].startswith("Thank you for calling.")


# --- the content's own checks ------------------------------------------------------------------------


def test_the_briefing_before_the_ring_is_under_15_seconds(content: Content) -> None:
    section = content.put_through
    assert section is not None
    for _, scenario in content.scenarios():
        first, second, third = scenario.say_first
        assert speech.seconds(section.words.start_with.format(first=first, second=second, third=third)) < 15


def test_content_that_breaks_the_put_through_rules_is_refused(prompts_copy: Path) -> None:
    put = prompts_copy / "put_through.toml"
    text = put.read_text()
    put.write_text(text.replace("ring_timeout_seconds = 30", "ring_timeout_seconds = 30\npress_options = true")
                   .replace('start_with = "Start with: {first} {second} {third}"',
                            'start_with = "When a person answers the phone, please start with three things. '
                            'One: {first} Two: {second} Three: {third}"'))  # fmt: skip
    with pytest.raises(ContentError) as raised:
        load(prompts_copy)
    problems = "\n".join(raised.value.problems)
    assert "field 'press_options': set by the line's settings" in problems
    assert "with scenario 3's things to say first it takes about" in problems


def test_without_the_section_the_stages_are_reported_and_nothing_else_changes(tmp_path: Path) -> None:
    copy = tmp_path / "prompts"
    shutil.copytree(PROMPTS, copy)
    (copy / "put_through.toml").unlink()
    with pytest.raises(ContentError):  # the wrap-up's option leads nowhere
        load(copy)
    call = copy / "call.toml"
    call.write_text("\n".join(line for line in call.read_text().splitlines() if 'goto = "put_through"' not in line))
    assert load(copy).put_through is None
