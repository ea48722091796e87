"""The console's second part in a real browser (Playwright driving Debian's chromium): a homes file's dry run
then applied, one detail of a home changed, the home's card printed to PDF by the browser (one A4 page, with
the right code on it), and the notice previewed then set."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from ivr.homes import directory_store, notice
from ivr.homes.directory import Home
from ivr.homes.directory_store import StoreDirectory
from ivr.operators import audit
from ivr.store.database import Store
from tests.console_support import CHROMIUM, add_user, console_app, console_settings, live_server

if not Path(CHROMIUM).exists():
    pytest.skip(f"browser tests skipped: {CHROMIUM} is missing (Debian: apt-get install chromium)",
                allow_module_level=True)  # fmt: skip

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests import test_console_browser as part_one

browser, page, sign_in = part_one.browser, part_one.page, part_one.sign_in  # the same fixtures and sign-in

LINDUM = Home("VL15A", "Lindum House", ("+441522123456",), "+447400123456", None, "LN1 1AA")


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    store.upgrade()
    directory_store.add(store, LINDUM)
    add_user(store)
    return store


@pytest.fixture()
def app(tmp_path: Path, store: Store) -> Flask:
    return console_app(console_settings(tmp_path / "ivr.sqlite3", companion_number="01522 500600"), store)


@pytest.fixture()
def base(app: Flask) -> Iterator[str]:
    with live_server(app) as url:
        yield url


def test_a_homes_file_is_dry_run_then_applied(page: Page, base: str, store: Store, tmp_path: Path) -> None:
    members = tmp_path / "members.csv"
    members.write_text("ods_code,name,landline,mobile,mailbox,postcode\n"
                       "VL15A,Lindum House,01522 123456,07400 123456,,LN1 1AA\n"
                       "VLC02,Witham View,01205 360200,,,PE21 6AA\n"
                       "VLC03,No Number,07400 999999,,,\n")  # fmt: skip
    sign_in(page, base)
    page.get_by_role("link", name="Homes", exact=True).click()
    page.get_by_role("link", name="Add or update homes from a file").click()
    page.get_by_label("A homes file (CSV)").set_input_files(members)
    page.get_by_role("button", name="Upload for a dry run").click()
    expect(page.get_by_role("heading", name="Dry run: members.csv")).to_be_visible()
    expect(page.get_by_role("table", name="Would add")).to_contain_text("Witham View")
    expect(page.get_by_role("table", name=re.compile("^Bad rows"))).to_contain_text("is a mobile")
    assert StoreDirectory(store).home("VLC02") is None  # nothing changed by the dry run
    page.get_by_role("button", name="Apply: add 1 and change 0").click()
    expect(page.get_by_role("status")).to_contain_text("Applied: 1 added, 0 changed, 1 already up to date.")
    expect(page.get_by_role("row").filter(has_text="Witham View")).to_contain_text("VLC02")
    assert StoreDirectory(store).home("VLC02") == Home("VLC02", "Witham View", ("+441205360200",), None, None,
                                                       "PE21 6AA")  # fmt: skip


def test_one_detail_of_a_home_is_changed_and_the_others_kept(page: Page, base: str, store: Store) -> None:
    sign_in(page, base)
    page.get_by_role("link", name="Homes", exact=True).click()
    page.get_by_label(re.compile("^Find a home")).fill("vl15")
    page.get_by_role("button", name="Search").click()
    assert "vl15" not in page.url.lower()  # the search is posted, never in the address
    page.get_by_role("link", name="Lindum House").click()
    assert "VL15A" not in page.url  # the home's address names it by its ref
    page.get_by_label("Postcode").fill("ln2 1aa")
    page.get_by_role("button", name="Change postcode").click()
    expect(page.get_by_role("status")).to_have_text("Postcode changed. The next call from this home hears it.")
    expect(page.locator(".facts")).to_contain_text("LN2 1AA")
    expect(page.locator(".facts")).to_contain_text("*********456")  # the mobile, still there, still masked
    assert StoreDirectory(store).home("VL15A") == Home("VL15A", "Lindum House", LINDUM.landlines, LINDUM.mobile,
                                                       None, "LN2 1AA")  # fmt: skip
    assert (audit.recent(store)[0].action, audit.recent(store)[0].subject) == ("changed", "home VL15A: postcode")


def test_the_card_prints_on_one_a4_page_with_the_homes_code(page: Page, base: str, store: Store) -> None:
    for n in range(2, 4):  # another home, whose code must not be on this card
        directory_store.add(store, Home(f"VLC0{n}", f"Other Home {n}", ()))
    sign_in(page, base)
    ref = directory_store.ref_of(store, ["VL15A"])["VL15A"]
    page.goto(f"{base}/console/homes/{ref}")
    page.get_by_role("link", name=re.compile("before you call")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lindum House")

    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", prefer_css_page_size=True)))

    assert len(pdf.pages) == 1
    width, height = float(pdf.pages[0].mediabox.width), float(pdf.pages[0].mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = " ".join(pdf.pages[0].extract_text().split())
    assert "VL15A" in text and "VLC02" not in text
    assert "Lindum House" in text and "care.vl15a@nhs.net" in text and "0333 200 1133" in text
    assert "Victor" in text and "Lima" in text and "Alpha" in text and "five" in text
    assert "01522 500600" in text
    assert "Sign out" not in text and "Print this page" not in text  # the console around the card is not printed


def test_the_notice_is_previewed_before_it_is_set(page: Page, base: str, store: Store) -> None:
    sign_in(page, base)
    page.get_by_role("link", name="What callers hear").click()
    expect(page.get_by_role("heading", name="Scenarios")).to_be_visible()
    page.get_by_role("link", name="set on its own page").click()
    page.get_by_label("The notice, in words for the ear").fill("NHSmail is down this morning. Please ring later.")
    page.get_by_role("button", name="Preview how it is said").click()
    expect(page.locator("#preview")).to_have_text(
        "A message from your care association. NHSmail is down this morning. Please ring later.")  # fmt: skip
    assert notice.current(store) is None
    page.get_by_role("button", name="Set the notice").click()
    expect(page.get_by_role("status")).to_contain_text("The notice is set")
    expect(page.locator("#current-notice")).to_contain_text("NHSmail is down this morning.")
    current = notice.current(store)
    assert current is not None and current.text == "NHSmail is down this morning. Please ring later."
