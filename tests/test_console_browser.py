"""The operator console in a real browser: Playwright driving Debian's chromium against the app on a free port.

Sign-in and lock-out, an escalation made by a signed call closed with a note, a failed text resent, and
the console used with the keyboard alone, every control labelled. Skipped where chromium is not installed
(./scripts/test installs it on Debian when it can).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from ivr.homes import escalations
from ivr.homes.directory import Home
from ivr.operators import accounts
from ivr.store.database import Store
from ivr.texts import attention
from tests.console_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    USER,
    add_user,
    console_app,
    console_settings,
    live_server,
    queue_text,
)  # fmt: skip
from tests.web_support import LANDLINE, add_home, simulate

if not Path(CHROMIUM).exists():
    pytest.skip(f"browser tests skipped: {CHROMIUM} is missing (Debian: apt-get install chromium)",
                allow_module_level=True)  # fmt: skip

from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    store.upgrade()
    add_home(store, Home(ods="VL15A", name="Lindum House", landlines=(LANDLINE,), mobile="+447400123456"))
    add_user(store)
    return store


@pytest.fixture()
def app(tmp_path: Path, store: Store) -> Flask:
    return console_app(console_settings(tmp_path / "ivr.sqlite3", escalation_contact="07400 999888"), store)


@pytest.fixture()
def base(app: Flask) -> Iterator[str]:
    with live_server(app) as url:
        yield url


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    blocked: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        # A refused sign-in is a 401 page, on purpose; anything the CSP blocked, or a missing file, is a fault.
        if "Content Security Policy" in message.text or "404" in message.text:
            blocked.append(message.text)

    page.on("console", watch)
    yield page
    context.close()
    assert not blocked, f"the browser reported: {blocked}"  # nothing the CSP had to block, no broken resource


def sign_in(page: Page, base: str, name: str = USER, password: str = PASSWORD) -> None:
    page.goto(f"{base}/console/")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_signing_in_and_the_lock_out(page: Page, base: str, store: Store) -> None:
    page.goto(f"{base}/console/texts")
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next="))
    for _ in range(accounts.MAX_FAILURES - 1):
        sign_in(page, base, password="not the password")
        expect(page.get_by_role("alert")).to_contain_text("do not match")
    sign_in(page, base, password="not the password")
    expect(page.get_by_role("alert")).to_contain_text("This account is locked")
    sign_in(page, base)  # the right password, but locked
    expect(page.get_by_role("alert")).to_contain_text("This account is locked")
    accounts.set_password(store, USER, PASSWORD)  # what `ivr console set-password` does
    sign_in(page, base)
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    cookie = next(c for c in page.context.cookies() if c["name"] == "ivr_console")
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    page.goto(f"{base}/console/")
    expect(page).to_have_url(re.compile(r"/console/sign-in"))


def test_an_escalation_from_a_signed_call_is_closed_with_a_note(page: Page, base: str, app: Flask,
                                                                 store: Store) -> None:  # fmt: skip
    simulate(app.test_client(), "4 1 4455667# 1 1 1 1")  # a call, signed as Twilio signs it
    sign_in(page, base)
    page.get_by_role("link", name="Escalations", exact=True).click()
    row = page.get_by_role("row").filter(has_text="4455667")
    expect(row).to_contain_text("Lindum House")
    expect(row).to_contain_text("The helpdesk would not help.")
    expect(row).to_contain_text("*********456")  # the number to ring back (the home's landline here), masked
    expect(row).not_to_contain_text("VL15A")
    row.get_by_role("button", name=re.compile("^Show")).click()
    expect(page.get_by_role("row").filter(has_text="4455667")).to_contain_text("+441522123456")
    page.get_by_role("row").filter(has_text="4455667").get_by_role("link").click()
    page.get_by_label(re.compile("^Note")).fill("Rang the helpdesk: they will reset the mailbox password today.")
    page.get_by_role("button", name=re.compile("^Close escalation")).click()
    expect(page.get_by_role("status")).to_contain_text("closed.")
    expect(page.get_by_text("No open escalations")).to_be_visible()
    page.get_by_role("link", name="Closed", exact=True).click()
    page.get_by_role("row").filter(has_text="4455667").get_by_role("link").click()
    expect(page.get_by_text("they will reset the mailbox password today")).to_be_visible()
    [closed] = escalations.listing(store)
    assert closed.status == "closed" and closed.closed_by == USER
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("row").filter(has_text="showed")).to_contain_text(USER)


def test_a_failed_text_is_shown_with_twilios_reason_and_resent(page: Page, base: str, store: Store) -> None:
    failed = queue_text(store, "call:CA9:scenario_1", to="+447400200301", purpose="scenario_1", call_sid="CA9",
                        status="failed", error="30003: Unreachable destination handset")  # fmt: skip
    sign_in(page, base)
    page.get_by_role("link", name="Texts", exact=True).click()
    row = page.locator(f"#text-{failed}")
    expect(row).to_contain_text("30003: Unreachable destination handset")
    expect(row).to_contain_text("*********301")
    row.get_by_role("button", name=f"Resend text {failed}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Text {failed} is queued again")
    expect(page.locator(f"#text-{failed}")).to_contain_text("Resent as text")
    resent = attention.one(store, failed)
    assert resent is not None and resent.resent_as is not None


def test_the_console_works_from_the_keyboard_alone(page: Page, base: str, store: Store) -> None:
    from tests.console_support import escalate

    number = escalate(store, "CA1", ods="VL15A", home="Lindum House", ticket="INC0012345", reason="refused")
    page.goto(f"{base}/console/")
    assert unlabelled(page) == []
    assert focused(page) == "INPUT:name"  # the sign-in page starts in the first field
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "A:Skip to the page"  # the one control before it
    page.keyboard.press("Tab")
    assert focused(page) == "INPUT:name"
    assert outline(page) != "none"  # where the focus is can be seen
    page.keyboard.type(USER)
    page.keyboard.press("Tab")
    assert focused(page) == "INPUT:password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    for path in ("/console/", "/console/escalations", "/console/texts", "/console/usage", "/console/audit",
                 f"/console/escalations/{number}"):  # fmt: skip
        page.goto(base + path)
        assert unlabelled(page) == [], path
    # On the escalation's page: tab to the note, write it, tab to the button, press Enter.
    for _ in range(40):
        page.keyboard.press("Tab")
        if focused(page) == "TEXTAREA:note":
            break
    else:
        pytest.fail("the note could not be reached with Tab")
    page.keyboard.type("Sorted on the phone with the helpdesk.")
    page.keyboard.press("Tab")
    assert focused(page) == f"BUTTON:Close escalation {number}"
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(f"Escalation {number} closed.")
    assert escalations.one(store, number).note == "Sorted on the phone with the helpdesk."  # type: ignore[union-attr]


def focused(page: Page) -> str:
    """The focused element, as TAG:id (inputs), or TAG:its text (links and buttons)."""
    return str(page.evaluate(
        "() => { const e = document.activeElement;"
        " return e.tagName + ':' + (e.id || e.getAttribute('aria-label') || e.textContent.trim()); }"
    ))  # fmt: skip


def outline(page: Page) -> str:
    return str(page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle"))


def unlabelled(page: Page) -> list[str]:
    """Every control a person can reach that has no label a screen reader would read."""
    return list(page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), textarea, select, button, a[href]')]
              .filter(e => {
                 if (e.labels && e.labels.length) return false;
                 if (e.getAttribute('aria-label') || e.getAttribute('aria-labelledby')) return false;
                 return !(e.tagName === 'BUTTON' || e.tagName === 'A') || !e.textContent.trim();
              })
              .map(e => e.outerHTML.slice(0, 80))"""
    ))  # fmt: skip
