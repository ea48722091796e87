"""The operator console over HTTP (Flask's test client): sign-in and lock-out, sessions, CSRF, headers, and
each page calling the same library as the `ivr` commands."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ivr.app import create_app
from ivr.content.loader import load
from ivr.homes import escalations
from ivr.line import derive_key
from ivr.operators import accounts, audit
from ivr.store.database import Store, outbox
from ivr.texts import attention
from ivr.texts import outbox as outbox_queries
from ivr.texts.caps import TextLimits
from tests.conftest import PROMPTS
from tests.console_support import PASSWORD, USER, add_user, console_app, console_settings, escalate, queue_text

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    store.upgrade()
    add_user(store)
    return store


@pytest.fixture()
def app(tmp_path: Path, store: Store) -> Flask:
    return console_app(console_settings(tmp_path / "ivr.sqlite3"), store)


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def token(client: FlaskClient, path: str = "/console/sign-in") -> str:
    found = CSRF.search(client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: FlaskClient, name: str = USER, password: str = PASSWORD) -> int:
    reply = client.post("/console/sign-in", data={"csrf_token": token(client), "name": name, "password": password})
    return reply.status_code


@pytest.fixture()
def signed_in(client: FlaskClient) -> FlaskClient:
    assert sign_in(client) == 302
    return client


def post(client: FlaskClient, path: str, page: str, **form: str) -> str:
    """Post a console form as the browser would: with the CSRF token from the page it is on; the page after."""
    reply = client.post(path, data={"csrf_token": token(client, page), **form}, follow_redirects=True)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply.get_data(as_text=True)


# --- sign-in, sessions and safety --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/console/", "/console/escalations", "/console/texts", "/console/audit",
                                  "/console/escalations/1", "/console/escalations.csv"])  # fmt: skip
def test_every_page_needs_a_sign_in(client: FlaskClient, path: str) -> None:
    reply = client.get(path)
    assert reply.status_code == 302
    assert reply.headers["Location"].startswith("/console/sign-in?next=")


def test_signing_in_goes_where_the_officer_was_going(client: FlaskClient) -> None:
    page = client.get("/console/sign-in?next=/console/texts").get_data(as_text=True)
    csrf = CSRF.search(page).group(1)  # type: ignore[union-attr]
    reply = client.post("/console/sign-in", data={"csrf_token": csrf, "name": USER, "password": PASSWORD,
                                                 "next": "/console/texts"})  # fmt: skip
    assert (reply.status_code, reply.headers["Location"]) == (302, "/console/texts")
    assert "Texts that need attention" in client.get("/console/texts").get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/console/", "/voice", "/console/\\x"])
def test_a_crafted_next_cannot_send_the_officer_elsewhere(client: FlaskClient, target: str) -> None:
    csrf = token(client)
    reply = client.post("/console/sign-in", data={"csrf_token": csrf, "name": USER, "password": PASSWORD,
                                                 "next": target})  # fmt: skip
    assert reply.headers["Location"] == "/console/"


def test_the_session_cookie_is_secure_httponly_strict_and_scoped_to_the_console(client: FlaskClient) -> None:
    assert sign_in(client) == 302
    cookie = client.get_cookie("ivr_console", path="/console")
    assert cookie is not None
    assert cookie.secure and cookie.http_only and cookie.same_site == "Strict" and cookie.path == "/console"
    assert cookie.expires is not None  # the idle limit


def test_the_session_key_is_derived_from_the_root_secret_with_a_label_of_its_own(app: Flask) -> None:
    assert app.secret_key == derive_key("test-secret-key", "ivr console session cookie v1")
    assert app.secret_key != derive_key("test-secret-key", "another use")
    assert app.secret_key != derive_key("another secret", "ivr console session cookie v1")
    assert len(derive_key("s", "l", 80)) == 80 and derive_key("s", "l", 80)[:32] == derive_key("s", "l")


def test_a_wrong_password_is_refused_and_five_in_a_row_lock_the_account(client: FlaskClient, store: Store) -> None:
    for attempt in range(1, accounts.MAX_FAILURES + 1):
        reply = client.post("/console/sign-in", data={"csrf_token": token(client), "name": USER, "password": "nope"})
        assert reply.status_code == 401
        said = reply.get_data(as_text=True)
        assert ("This account is locked" if attempt == accounts.MAX_FAILURES else "do not match") in said
    # Now even the right password is refused, and the page says so and until when.
    reply = client.post("/console/sign-in", data={"csrf_token": token(client), "name": USER, "password": PASSWORD})
    assert reply.status_code == 401
    assert "This account is locked" in reply.get_data(as_text=True)
    assert [entry.action for entry in audit.recent(store)] == ["locked out"]
    accounts.set_password(store, USER, PASSWORD)  # `ivr console set-password` unlocks it
    assert sign_in(client) == 302


def test_a_lock_ends_by_itself(store: Store) -> None:
    from datetime import timedelta

    from ivr.store.database import now

    for _ in range(accounts.MAX_FAILURES):
        accounts.sign_in(store, USER, "wrong")
    assert accounts.sign_in(store, USER, PASSWORD).account is None
    later = now() + accounts.LOCK_FOR + timedelta(seconds=1)
    assert accounts.sign_in(store, USER, PASSWORD, at=later).account is not None


def test_an_unknown_name_is_refused_like_a_wrong_password_and_never_locks(client: FlaskClient) -> None:
    for _ in range(accounts.MAX_FAILURES + 1):
        reply = client.post("/console/sign-in", data={"csrf_token": token(client), "name": "nobody",
                                                     "password": PASSWORD})  # fmt: skip
        assert reply.status_code == 401 and "do not match" in reply.get_data(as_text=True)


def test_every_post_needs_the_sessions_csrf_token(signed_in: FlaskClient, store: Store) -> None:
    number = escalate(store, "CA1", ods="VL15A", home="Lindum House", ticket="INC0012345", reason="refused")
    for form in ({}, {"csrf_token": "forged"}):
        reply = signed_in.post(f"/console/escalations/{number}/close", data={"note": "done", **form})
        assert reply.status_code == 400 and "This form has expired" in reply.get_data(as_text=True)
    assert escalations.one(store, number).status == "open"  # type: ignore[union-attr]
    # the sign-in form too: a page elsewhere cannot sign the officer in to an account of its choosing
    fresh = signed_in.application.test_client()
    assert fresh.post("/console/sign-in", data={"name": USER, "password": PASSWORD}).status_code == 400


def test_every_answer_forbids_scripts_inline_styles_framing_and_caching(signed_in: FlaskClient) -> None:
    for path in ("/console/", "/console/sign-in", "/console/texts"):
        reply = signed_in.get(path)
        csp = reply.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'none'" in csp and "style-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert reply.headers["Cache-Control"] == "no-store"
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        page = reply.get_data(as_text=True)
        assert "<script" not in page and "style=" not in page and "<style" not in page
    with signed_in.get("/console/static/console.css") as css:  # a file response: closed when read
        assert css.status_code == 200 and css.mimetype == "text/css"


def test_signing_out_ends_the_session_and_any_copy_of_its_cookie(signed_in: FlaskClient) -> None:
    stolen = signed_in.get_cookie("ivr_console", path="/console")
    assert stolen is not None
    reply = signed_in.post("/console/sign-out", data={"csrf_token": token(signed_in, "/console/")})
    assert reply.status_code == 302 and "signed_out=1" in reply.headers["Location"]
    assert signed_in.get("/console/").status_code == 302
    other = signed_in.application.test_client()
    other.set_cookie("ivr_console", stolen.value, path="/console")
    assert other.get("/console/").status_code == 302  # the epoch moved on: the old cookie is refused


def test_a_removed_account_is_signed_out_at_its_next_click(signed_in: FlaskClient, store: Store) -> None:
    assert signed_in.get("/console/").status_code == 200
    accounts.remove(store, USER)
    assert signed_in.get("/console/").status_code == 302


def test_passwords_are_stored_as_argon2id_hashes(store: Store) -> None:
    from ivr.store.database import console_users

    with store.engine.connect() as connection:
        hashed = connection.execute(select(console_users.c.password_hash)).scalar_one()
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    with pytest.raises(accounts.AccountError, match="at least 12"):
        accounts.add(store, "short", "too short")
    with pytest.raises(accounts.AccountError, match="already"):
        accounts.add(store, USER, PASSWORD)
    with pytest.raises(accounts.AccountError, match="lower-case"):
        accounts.add(store, "Bad Name", PASSWORD)


def test_the_console_can_be_switched_off(tmp_path: Path, store: Store) -> None:
    app = create_app(console_settings(tmp_path / "ivr.sqlite3", console=False), content=load(PROMPTS), store=store)
    client = app.test_client()
    assert client.get("/console/sign-in").status_code == 404
    assert client.get("/healthz").status_code == 200


# --- escalations -------------------------------------------------------------------------------------------------


def test_escalations_are_listed_masked_and_revealed_once_with_an_audit_line(signed_in: FlaskClient,
                                                                            store: Store) -> None:  # fmt: skip
    queue_text(store, "call:CA1:scenario_1", to="+447400123457", purpose="scenario_1", call_sid="CA1")
    number = escalate(store, "CA1", ods="VL15A", home="Lindum House", ticket="INC0012345", reason="refused")
    page = signed_in.get("/console/escalations").get_data(as_text=True)
    assert "Lindum House" in page and "INC0012345" in page and "The helpdesk would not help." in page
    assert "VL15A" not in page and "+447400123457" not in page and "*********457" in page
    shown = post(signed_in, "/console/reveal", "/console/escalations", kind="escalation", item=str(number),
                 back="/console/escalations")  # fmt: skip
    assert "VL15A" in shown and "+447400123457" in shown
    [entry] = audit.recent(store)[:1]
    assert (entry.user, entry.action) == (USER, "showed") and str(number) in entry.subject
    again = signed_in.get("/console/escalations").get_data(as_text=True)
    assert "+447400123457" not in again  # masked again on the next page


def test_an_escalation_is_closed_with_a_note_and_reopened(signed_in: FlaskClient, store: Store) -> None:
    number = escalate(store, "CA1", ods="VL15A", home="Lindum House", ticket="INC0012345", reason="leaver")
    detail = f"/console/escalations/{number}"
    page = post(signed_in, f"{detail}/close", detail, note="   ")
    assert "Write a note" in page and escalations.one(store, number).status == "open"  # type: ignore[union-attr]
    page = post(signed_in, f"{detail}/close", detail, note="Rang the helpdesk; they reset the password.")
    assert f"Escalation {number} closed." in page and "No open escalations" in page
    closed = escalations.one(store, number)
    assert closed is not None and closed.status == "closed" and closed.closed_by == USER
    assert closed.note == "Rang the helpdesk; they reset the password."
    page = signed_in.get(detail).get_data(as_text=True)
    assert "Rang the helpdesk; they reset the password." in page and f"by {USER}" in page
    page = post(signed_in, f"{detail}/reopen", detail)
    assert f"Escalation {number} reopened." in page
    assert escalations.one(store, number).status == "open"  # type: ignore[union-attr]
    assert [entry.action for entry in audit.recent(store)][:2] == ["reopened", "closed"]
    assert signed_in.get("/console/escalations/999").status_code == 404


def test_the_escalations_csv_has_the_commands_columns_and_is_recorded(signed_in: FlaskClient, store: Store) -> None:
    escalate(store, "CA1", ods="VL15A", home="Lindum House", ticket="INC0012345", reason="refused")
    reply = signed_in.get("/console/escalations.csv?show=all")
    assert reply.mimetype == "text/csv" and "attachment" in reply.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(reply.get_data(as_text=True))))
    assert list(rows[0]) == list(escalations.CSV_COLUMNS)
    assert rows[0]["ods_code"] == "VL15A" and rows[0]["ticket"] == "INC0012345"
    assert audit.recent(store)[0].action == "downloaded"


# --- texts -------------------------------------------------------------------------------------------------------


def test_texts_that_need_attention_are_listed_with_twilios_reason(signed_in: FlaskClient, store: Store) -> None:
    queue_text(store, "a", to="+447400200301", purpose="scenario_1", status="failed",
               error="21614: 'To' number is not a valid mobile number")  # fmt: skip
    queue_text(store, "b", to="+447400200302", purpose="checklist", status="unknown", error="timed out")
    queue_text(store, "c", to="+447400200303", purpose="scenario_3", status="sent", delivery_status="undelivered")
    queue_text(store, "d", to="+447400200304", purpose="scenario_2", status="sent", delivery_status="delivered")
    queue_text(store, "e", to="+447400200305", purpose="scenario_2")  # still on its way
    outbox_queries.opt_out(store, "+447400200399")
    page = signed_in.get("/console/texts").get_data(as_text=True)
    assert "21614: &#39;To&#39; number is not a valid mobile number" in page and "timed out" in page
    assert "Undelivered" in page and "Unknown" in page and "Failed" in page
    assert "scenario_2" not in page  # delivered, or still on its way: nothing to do
    assert "+447400200" not in page and "*********301" in page and "*********399" in page
    assert "1 number" in page


def test_a_failed_text_is_resent_once_as_a_new_text(signed_in: FlaskClient, store: Store) -> None:
    failed = queue_text(store, "a", to="+447400200301", purpose="scenario_1", call_sid="CA1", status="failed",
                        error="30003: Unreachable destination handset")  # fmt: skip
    page = post(signed_in, f"/console/texts/{failed}/resend", "/console/texts")
    assert f"Text {failed} is queued again as text" in page and "Resent as text" in page
    with store.engine.connect() as connection:
        rows = connection.execute(select(outbox.c.id, outbox.c.status, outbox.c.to_number, outbox.c.body)
                                  .order_by(outbox.c.id)).all()  # fmt: skip
    assert [(row.status, row.to_number) for row in rows] == [("failed", "+447400200301"), ("pending", "+447400200301")]
    assert rows[0].body == rows[1].body
    again = post(signed_in, f"/console/texts/{failed}/resend", "/console/texts")
    assert "it was resent already" in again
    assert audit.recent(store)[0].subject == f"text {failed} as text {rows[1].id}"


def test_a_resend_keeps_to_the_opt_outs_and_the_daily_caps(tmp_path: Path, store: Store) -> None:
    opted = queue_text(store, "a", to="+447400200301", purpose="scenario_1", status="failed")
    outbox_queries.opt_out(store, "+447400200301")
    limits = console_settings(tmp_path / "x")  # the default caps: five a mobile a day
    from ivr.phone_line.web import text_limits

    assert attention.resend(store, opted, text_limits(limits)).refusal == "opted_out"
    capped = [queue_text(store, f"b{n}", to="+447400200302", purpose=f"p{n}", status="failed") for n in range(5)]
    assert attention.resend(store, capped[0], text_limits(limits)).refusal == "limit"


def test_the_audit_log_page_lists_who_did_what(signed_in: FlaskClient, store: Store) -> None:
    page = signed_in.get("/console/audit").get_data(as_text=True)
    assert "signed in" in page and USER in page


def test_the_consoles_queries_on_sqlite_and_postgresql(upgraded: Store) -> None:
    """The callback subqueries, the resend key's concatenation and the lock-out, on both databases."""
    from tests.console_support import seed

    store = upgraded
    seed(store)
    add_user(store)
    listed = escalations.listing(store)
    assert [(e.ticket, e.callback) for e in listed] == [
        ("INC0055555", None), ("INC0012345", "+441522123456"), ("INC0067890", "+447400123457"),
    ]  # fmt: skip
    assert listed[0].note and listed[0].closed_by == USER and escalations.reopen(store, listed[0].id) is True
    problems = [text for text in attention.problems(store) if text.to.startswith("+4474002003")]  # not the week's
    assert [text.state for text in problems] == ["undelivered", "unknown", "failed"]
    first = attention.resend(store, problems[0].id, console_settings_limits())
    assert first.new_id is not None and first.reason is None
    assert attention.one(store, problems[0].id).resent_as == first.new_id  # type: ignore[union-attr]
    assert [o.number for o in attention.opted_out(store)] == ["+447400200399"]
    for _ in range(accounts.MAX_FAILURES):
        accounts.sign_in(store, USER, "wrong")
    assert accounts.sign_in(store, USER, PASSWORD).locked_until is not None
    audit.record(store, USER, "showed", "x" * 500)
    assert audit.recent(store)[0].subject == "x" * 120


def console_settings_limits() -> TextLimits:
    return TextLimits(per_mobile=5, per_caller=10, total=500)


def test_the_derivation_is_rfc_5869_hkdf_as_cryptography_computes_it() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    expected = HKDF(algorithm=hashes.SHA256(), length=48, salt=None, info=b"a label").derive(b"a secret")
    assert derive_key("a secret", "a label", 48) == expected


def test_a_session_survives_a_change_of_secret_while_the_previous_one_is_set(tmp_path: Path, store: Store) -> None:
    before = console_app(console_settings(tmp_path / "ivr.sqlite3"), store).test_client()
    assert sign_in(before) == 302
    cookie = before.get_cookie("ivr_console", path="/console")
    assert cookie is not None
    for previous, status in (("test-secret-key", 200), (None, 302)):
        settings = console_settings(tmp_path / "ivr.sqlite3", secret_key="a new secret", secret_key_previous=previous)
        after = console_app(settings, store).test_client()
        after.set_cookie("ivr_console", cookie.value, path="/console")
        assert after.get("/console/").status_code == status
