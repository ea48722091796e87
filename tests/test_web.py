"""The webhooks over HTTP (Flask's test client), with requests signed as Twilio signs them."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask, session
from flask.sessions import NullSession, SecureCookieSession
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import event

from ivr.app import create_app
from ivr.content.model import Content, Entry
from ivr.engine.flow import CallState
from ivr.engine.turn import Digits, Speech
from ivr.homes import directory_store
from ivr.homes.directory import InMemoryDirectory
from ivr.phone_line.tokens import Sealer
from ivr.phone_line.web import PhoneLine
from ivr.rehearsal.session import Rehearsal, ScriptedKeypad
from ivr.settings import ConfigurationError, Settings
from ivr.store.database import Store, calls, milestones, outbox
from tests.test_engine import ENTRY_INPUTS, HOMES, KEY_INPUTS, advance
from tests.web_support import (
    BASE,
    REAL_LINE,
    TOKEN,
    Caller,
    FlaskTransport,
    add_home,
    assert_valid_twiml,
    next_path,
    sign,
    simulate,
    write_counts,
)


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'ivr.sqlite3'}", **REAL_LINE)


@pytest.fixture()
def store(settings: Settings) -> Store:
    store = Store(settings.database_url)
    store.upgrade()
    add_home(store)  # calls come from this home's landline unless a test says otherwise
    return store


@pytest.fixture()
def app(settings: Settings, store: Store, content: Content) -> Flask:
    return create_app(settings, content=content, store=store)


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def post(client: FlaskClient, path: str, params: dict[str, str], token: str = TOKEN) -> tuple[int, str]:
    return FlaskTransport(client).post(BASE + path, params, sign(BASE + path, params, token))


def call_params(sid: str = "CA" + "1" * 32, **extra: str) -> dict[str, str]:
    return {"CallSid": sid, "From": "+441522123456", "To": "+443300000000", "CallStatus": "in-progress", **extra}



def test_a_call_is_answered_with_the_greeting(client: FlaskClient) -> None:
    status, body = post(client, "/voice", call_params())
    assert status == 200
    document = assert_valid_twiml(body)
    gather = document.find("Gather")
    assert gather is not None and gather.get("numDigits") == "1"
    action = gather.get("action", "")
    assert action.startswith("/voice/turn/") and len(action) < 600  # the state, sealed
    say = gather.find("Say")
    assert say is not None and say.get("voice") == "Polly.Amy-Neural" and say.get("language") == "en-GB"
    assert document.find("Redirect").text == f"{action}/silence"  # type: ignore[union-attr]
    assert "+44" not in body and "1522" not in body  # nothing personal in the TwiML or its URLs


def _sealer(app: Flask) -> Sealer:
    line = app.extensions["ivr.phone_line"]
    assert isinstance(line, PhoneLine)
    return line.calls.sealer


def _state_in(body: str, sealer: Sealer, sid: str) -> CallState | None:
    """The state sealed in an answer's next URL (a put-through's: its <Dial action>); None when the call ended."""
    dial = etree.fromstring(body.encode()).find("Dial")
    if dial is not None:
        return sealer.open(urlsplit(dial.get("action", "")).path.removeprefix("/voice/dialled/"), sid)
    path = next_path(body)
    if path is None:
        return None
    return sealer.open(path.removeprefix("/voice/turn/"), sid)


def _shape(state: CallState) -> tuple[object, ...]:
    """What decides which prompts a state can lead to; the values typed (which mobile) do not."""
    return (
        state.node, state.step, state.attempts, state.slow, state.ods is None, state.home_mobile is None,
        len(state.candidates), state.topic, state.resume_node, state.reason is None, state.ticket is None,
    )  # fmt: skip


def test_every_state_over_http_answers_valid_twiml(
    app: Flask, client: FlaskClient, store: Store, content: Content, reachable: dict[CallState, CallState]
) -> None:
    """Every shape of state the engine can reach, sealed in its URL and sent every input as a signed request.

    The answers must be valid TwiML under 600 characters of URL, and the state sealed in the next URL
    must be the one the engine gives with the in-memory directory: the store-backed directory answers
    the same. (Which texts were queued is left out: over HTTP the daily caps decide, and they have
    tests of their own.)
    """
    sealer = _sealer(app)
    for home in HOMES:
        directory_store.add(store, home)
    directory = InMemoryDirectory(HOMES)
    shapes: dict[tuple[object, ...], CallState] = {}
    for state in reachable.values():
        if not state.ended:
            shapes.setdefault(_shape(state), state)
    requests = 0
    for state in shapes.values():
        node = content.nodes[state.node]
        for given in ENTRY_INPUTS[node.check] if isinstance(node, Entry) else KEY_INPUTS:
            sid = f"CA{requests:032d}"
            requests += 1
            path = f"/voice/turn/{sealer.seal(state, sid)}"
            params = call_params(sid)
            if isinstance(given, Digits):
                params["Digits"] = given.digits.removesuffix("#") if isinstance(node, Entry) else given.digits
            elif isinstance(given, Speech):
                params["SpeechResult"] = given.text
            else:
                path += "/silence"
            status, body = post(client, path, params)
            assert status == 200, (state, given, body)
            assert_valid_twiml(body)
            given_over_phone = Digits(params["Digits"]) if "Digits" in params else given
            _, expected = advance(content, directory, state, given_over_phone)
            after = _state_in(body, sealer, sid)
            if after is None:
                assert expected.ended, (state, given)
                continue
            assert len(next_path(body) or "") < 600
            assert after.model_copy(update={"texted": ()}) == expected.model_copy(update={"texted": ()}), (state, given)
    print(f"\n{len(shapes)} shapes of state, {requests} signed requests")
    assert len(shapes) > 1000


def test_parity_with_the_rehearsal(client: FlaskClient, content: Content) -> None:
    walks = ["2 1 1 1 1 1 1 1 1 1 3", "1 2 1 1 t t t", "3 * 8 1 9 0 7 1 1 1 5 0740*07400123456# 2 07400123456# 1",
             "# # t", "6 1 1 1 3", "1 1 2 1 1 1 2 2 1"]  # fmt: skip
    for walk in walks:
        keys = f"2 {walk}"  # from a number the directory does not know, as a rehearsal is: then the main menu
        simulator = simulate(client, keys, caller="+441522999999")
        phone = [h.text for h in simulator.heard if h.who == "companion"]
        lines = Rehearsal(content, InMemoryDirectory()).run(ScriptedKeypad(keys))
        rehearsal = [" ".join(line.text.split()) for line in lines if line.who == "companion"]
        assert phone == rehearsal, keys


def test_a_retried_turn_gets_the_same_answer_and_changes_nothing(client: FlaskClient, store: Store) -> None:
    """Twilio retries a request it got no answer to: the same URL and input give the byte-identical body."""
    sid = "CA" + "2" * 32
    status, start = post(client, "/voice", call_params(sid))
    assert post(client, "/voice", call_params(sid)) == (status, start)  # the first request, retried
    path = next_path(start)
    assert path is not None
    first = post(client, path, call_params(sid, Digits="3"))
    assert post(client, path, call_params(sid, Digits="3")) == first
    write_counts(client.application)
    with store.transaction() as tx:
        assert len(tx.rows(calls)) == 1
        assert sorted(row["kind"] for row in tx.rows(milestones)) == ["call_started"]


def test_a_retried_confirmation_queues_one_text_and_says_the_same(client: FlaskClient, store: Store) -> None:
    sid = "CA" + "6" * 32
    caller = Caller(client, call_params(sid))
    caller.start()
    caller.press("5")
    caller.press("07400123456")
    path = next_path(caller.body)
    assert path is not None
    first = caller.post(path, Digits="1")
    assert "The text is on its way" in first[1]
    assert caller.post(path, Digits="1") == first  # byte for byte, and no second text
    write_counts(client.application)
    with store.transaction() as tx:
        assert len(tx.rows(outbox)) == 1
        kinds = sorted((row["kind"], row["detail"]) for row in tx.rows(milestones))
    assert kinds == [("call_started", ""), ("text_asked", "checklist"), ("text_queued", "checklist")]


def test_a_text_is_queued_once_in_the_same_transaction(client: FlaskClient, store: Store) -> None:
    simulator = simulate(client, "5 07400123456# 1 5 07400123456# 1")
    with store.transaction() as tx:
        texts = tx.rows(outbox)
    assert len(texts) == 1
    assert texts[0]["to_number"] == "+447400123456" and texts[0]["purpose"] == "checklist"
    assert texts[0]["idempotency_key"] == f"call:{simulator.call_sid}:checklist"
    assert "0333 200 1133" in texts[0]["body"]


def test_a_stale_state_restarts_at_the_main_menu(app: Flask, client: FlaskClient) -> None:
    """A token sealed before a deploy that renamed its node: the caller starts again, politely."""
    sid = "CA" + "3" * 32
    token = _sealer(app).seal(CallState(node="renamed_node", turn=3), sid)
    status, body = post(client, f"/voice/turn/{token}", call_params(sid, Digits="1"))
    assert status == 200 and "Sorry, something changed on our side." in body and "Main menu." in body
    assert_valid_twiml(body)


@pytest.mark.parametrize("case", ["another call's", "tampered", "not a token"])
def test_a_token_we_did_not_seal_for_this_call_restarts_at_the_main_menu(
    app: Flask, client: FlaskClient, case: str
) -> None:
    sid = "CA" + "4" * 32
    sealed_for = "CA" + "9" * 32 if case == "another call's" else sid
    token = _sealer(app).seal(CallState(node="scenario_moved", step=2), sealed_for)
    if case == "tampered":
        token = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    elif case == "not a token":
        token = "abc"
    status, body = post(client, f"/voice/turn/{token}", call_params(sid, Digits="1"))
    assert status == 200 and "Main menu." in body and "Step" not in body
    assert_valid_twiml(body)


def test_a_turn_runs_no_sql_unless_it_writes(client: FlaskClient, store: Store) -> None:
    """Menus and steps answer from the token alone; what a turn counts is written behind it, in a batch."""
    caller = Caller(client, call_params("CA" + "7" * 32))
    caller.start()
    statements: list[str] = []

    def record(_connection: object, _cursor: object, statement: str, *_args: object) -> None:
        if threading.current_thread().name != "counts":  # the counts' own thread may write meanwhile
            statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        for key in ("2", "3", "1", "1", "*", "9"):  # the shortcut menu, scenario three, its steps, and back
            status, _ = caller.press(key)
            assert status == 200
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    # The turn that reached scenario three counted it, but no turn waited for the database.
    assert statements == []
    write_counts(client.application)  # what its thread has not written yet
    with store.transaction() as tx:
        kinds = sorted((row["kind"], row["detail"]) for row in tx.rows(milestones))
    assert kinds == [("call_started", ""), ("scenario_reached", "3")]


def test_only_the_console_opens_a_session(app: Flask) -> None:
    """The webhooks never build the console's cookie signer: they get Flask's null session, never saved."""
    for path in ("/voice", "/voice/turn/AbC", "/sms", "/healthz", "/consoles"):
        with app.test_request_context(path, method="POST"):
            assert isinstance(session._get_current_object(), NullSession), path  # type: ignore[attr-defined]
    for path in ("/console", "/console/sign-in"):
        with app.test_request_context(path):
            assert isinstance(session._get_current_object(), SecureCookieSession), path  # type: ignore[attr-defined]


@pytest.mark.parametrize("caller", ["anonymous", "", "+266696687", "Restricted"])
def test_withheld_numbers_are_ordinary_callers(client: FlaskClient, caller: str) -> None:
    simulator = simulate(client, "2 3 1 1", caller=caller)
    assert any("Step 2 of 6" in h.text for h in simulator.heard)


def test_an_exception_still_answers_twiml(
    client: FlaskClient, store: Store, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the sealer fell over")

    status, start = post(client, "/voice", call_params())
    turn = next_path(start)
    assert status == 200 and turn is not None
    monkeypatch.setattr(Sealer, "seal", broken)  # on every turn's way, and not one the line expects to fail
    # The first request under Flask; a turn, and a silence, answered before it (ivr/phone_line/fast_turns.py).
    requests = [("/voice", call_params()), (turn, call_params(Digits="1")), (f"{turn}/silence", call_params())]
    for path, params in requests:
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            status, body = post(client, path, params)
        assert status == 200
        assert_valid_twiml(body)
        assert "oh three three three, two oh oh, one one three three" in body and "<Hangup" in body
        assert body.count("oh three three three") == 2
        assert "the sealer fell over" in caplog.text and "Traceback" in caplog.text


def test_fallback_url_apologises(client: FlaskClient) -> None:
    status, body = post(client, "/voice/fallback", call_params(ErrorCode="11200"))
    assert status == 200 and "Sorry, this line has a problem" in body
    assert_valid_twiml(body)


def test_a_missing_call_sid_still_gets_twiml(client: FlaskClient) -> None:
    status, body = post(client, "/voice", {"From": "+441522123456"})
    assert status == 200
    assert_valid_twiml(body)


def test_a_wrong_path_under_voice_is_still_twiml(client: FlaskClient) -> None:
    status, body = post(client, "/voice/turn/abc", call_params())  # a token we did not seal: the main menu
    assert status == 200 and "Main menu." in body
    assert_valid_twiml(body)
    # Not a turn, though they start as one (fast_turns.py passes them to Flask): the apology, as TwiML.
    for path in ("/voice/turn/abc/", "/voice/turn/abc/other", "/voice/turn/", "/voice/nowhere"):
        status, body = post(client, path, call_params())
        assert status == 200 and "oh three three three" in body and "Main menu." not in body, path
        assert_valid_twiml(body)


def test_status_callback_records_the_end(client: FlaskClient, store: Store) -> None:
    sid = "CA" + "5" * 32
    post(client, "/voice", call_params(sid))
    status, _ = post(client, "/voice/status", call_params(sid, CallStatus="completed", CallDuration="93"))
    assert status == 204
    with store.transaction() as tx:
        (row,) = tx.rows(calls)
    assert row["status"] == "completed" and row["duration_seconds"] == 93 and row["ended_at"] is not None


def test_health_and_readiness(client: FlaskClient, store: Store) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    store.close()
    broken = Store("sqlite:////nonexistent/dir/ivr.sqlite3")
    assert not broken.ping()


def test_settings_errors_are_clear(tmp_path: Path, content: Content) -> None:
    with pytest.raises(ConfigurationError, match="TWILIO_AUTH_TOKEN is not set"):
        create_app(Settings(database_url=f"sqlite:///{tmp_path}/x.sqlite3"), content=content)


def test_signature_check_can_be_turned_off_with_a_warning(
    tmp_path: Path, content: Content, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/x.sqlite3", validate_signature=False)
    store = Store(settings.database_url)
    store.upgrade()
    with caplog.at_level(logging.WARNING):
        app = create_app(settings, content=content, store=store)
    assert "anyone can drive this app" in caplog.text
    reply = app.test_client().post("/voice", data=call_params())
    assert reply.status_code == 200


def test_phone_numbers_never_reach_the_log(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        simulate(client, "5 07400123456# 1")
        post(client, "/voice", call_params("CA" + "6" * 32))
        client.post("/voice", data=call_params(), headers={"X-Twilio-Signature": "forged"})
    assert "*********456" in caplog.text  # the masked caller
    for record in caplog.records:
        message = record.getMessage()
        assert "1522123456" not in message and "7400123456" not in message, message
