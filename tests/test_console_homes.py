"""The console's second part over HTTP: homes found, changed one detail at a time and uploaded with a dry run;
each home's card; the phone tree; and the notice previewed, set and cleared. Every change in the audit log."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ivr import gsm7
from ivr.content.loader import load
from ivr.homes import directory_store, notice
from ivr.homes.directory import Home
from ivr.homes.directory_store import StoreDirectory
from ivr.operators import audit
from ivr.store.database import Store, care_homes, home_uploads
from ivr.texts.compose import compose
from tests.conftest import PROMPTS
from tests.console_support import add_user, console_app, console_settings
from tests.test_console import post, sign_in, token

LINDUM = Home("VL15A", "Lindum House", ("+441522123456",), "+447400123456", None, "LN1 1AA")


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    store.upgrade()
    add_user(store)
    directory_store.add(store, LINDUM)
    directory_store.add(store, Home("VLC01", "Wragby Road Care Home", ("+441522654321",), None, None, "LN2 4PX"))
    return store


@pytest.fixture()
def app(tmp_path: Path, store: Store) -> Flask:
    return console_app(console_settings(tmp_path / "ivr.sqlite3", companion_number="01522 500600",
                                        association_name="LinCA Digital"), store)  # fmt: skip


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client) == 302
    return client


def ref(store: Store, ods: str) -> str:
    return directory_store.ref_of(store, [ods])[ods]


def text_of(page: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", page)).split())


# --- finding homes -------------------------------------------------------------------------------------------


def test_a_search_travels_by_post_and_never_in_an_address(client: FlaskClient, store: Store) -> None:
    reply = client.post("/console/homes/search", data={"csrf_token": token(client, "/console/homes"),
                                                       "search": "ln2 4"})  # fmt: skip
    assert reply.status_code == 302 and reply.headers["Location"] == "/console/homes"
    page = client.get("/console/homes").get_data(as_text=True)
    assert "Wragby Road Care Home" in page and "Lindum House" not in page
    for search, found in (("vl15", "Lindum House"), ("WRAGBY", "Wragby Road Care Home")):
        page = post(client, "/console/homes/search", "/console/homes", search=search)
        assert found in page and text_of(page).count("Care Home") + text_of(page).count("Lindum House") >= 1
    links = re.findall(r'href="(/console/homes/[^"]+)"', client.get("/console/homes").get_data(as_text=True))
    # Not a regular expression for codes: a random ref may look like one (9V0TWm...); the homes' own details.
    details = ("vl15a", "vlc01", "ln11aa", "ln24px", "ln1 1aa", "ln2 4px")
    assert links and not any(detail in link.lower().replace("%20", "") for link in links for detail in details)
    assert f"/console/homes/{ref(store, 'VLC01')}" in links
    everyone = post(client, "/console/homes/search", "/console/homes", search="")
    assert "Lindum House" in everyone and "Wragby Road Care Home" in everyone


def test_the_registered_mobile_is_masked_until_shown_and_the_showing_recorded(client: FlaskClient,
                                                                               store: Store) -> None:  # fmt: skip
    page = client.get(f"/console/homes/{ref(store, 'VL15A')}").get_data(as_text=True)
    assert "*********456" in page and "+447400123456" not in page
    shown = post(client, "/console/reveal", "/console/homes", kind="home", item=ref(store, "VL15A"),
                 back=f"/console/homes/{ref(store, 'VL15A')}")  # fmt: skip
    assert "+447400123456" in shown
    assert audit.recent(store)[0].subject == "registered mobile of home VL15A"


# --- one detail at a time ------------------------------------------------------------------------------------


def test_one_detail_changes_and_the_others_stay(client: FlaskClient, store: Store) -> None:
    page = f"/console/homes/{ref(store, 'VL15A')}"
    after = post(client, f"{page}/edit", page, field="name", value="Lindum House Care Home")
    assert "Name changed." in after
    assert StoreDirectory(store).home("VL15A") == Home("VL15A", "Lindum House Care Home", LINDUM.landlines,
                                                       LINDUM.mobile, None, "LN1 1AA")  # fmt: skip
    post(client, f"{page}/edit", page, field="landlines", value="01522 123456; 01522 123457")
    home = StoreDirectory(store).home("VL15A")
    assert home is not None and home.landlines == ("+441522123456", "+441522123457") and home.mobile == LINDUM.mobile
    refused = post(client, f"{page}/edit", page, field="mobile", value="01522 500200")
    assert "Registered mobile not changed: mobile &#39;01522 500200&#39; is a landline" in refused
    assert StoreDirectory(store).home("VL15A") == home
    assert [(e.action, e.subject) for e in audit.recent(store)[:2]] == [
        ("changed", "home VL15A: landlines"), ("changed", "home VL15A: name")]  # fmt: skip
    assert client.post(f"{page}/edit", data={"csrf_token": token(client, page), "field": "ods",
                                              "value": "VX999"}).status_code == 400  # fmt: skip
    assert client.get("/console/homes/not-a-ref").status_code == 404


# --- a file: the dry run first, then applied -----------------------------------------------------------------

CSV = (b"ods_code,name,landline,mobile,mailbox,postcode\n"
       b"VL15A,Lindum House,01522 123456,07400 123456,,LN1 1AA\n"
       b"VLC01,Wragby Road,01522 654321,,,LN2 4PX\n"
       b"VLC02,Witham View,01205 360200,,,PE21 6AA\n"
       b"VLC03,No Number,07400 999999,,,\n")  # fmt: skip


def upload(client: FlaskClient, content: bytes = CSV, name: str = "members.csv") -> str:
    from io import BytesIO

    reply = client.post("/console/homes/upload", data={"csrf_token": token(client, "/console/homes/upload"),
                                                       "file": (BytesIO(content), name)},
                        content_type="multipart/form-data")  # fmt: skip
    return reply.get_data(as_text=True)


def test_an_upload_shows_its_dry_run_and_applies_only_when_told(client: FlaskClient, store: Store) -> None:
    before = directory_store.homes(store)
    page = upload(client)
    shown = text_of(page)
    assert "Dry run: members.csv" in shown and "Nothing has changed yet" in shown
    assert "Would add 1" in shown and "Would change 1" in shown and "Already up to date 1" in shown
    assert "Witham View" in shown and "Wragby Road name" in shown
    assert "4 landline &#39;07400 999999&#39; is a mobile" in page or "landline '07400 999999' is a mobile" in shown
    assert directory_store.homes(store) == before  # the dry run changed nothing
    [upload_token] = re.findall(r'name="token" value="([^"]+)"', page)

    form = {"csrf_token": token(client, "/console/homes"), "token": upload_token}
    applied = client.post("/console/homes/upload/apply", data=form, follow_redirects=True)
    assert "Applied: 1 added, 1 changed, 1 already up to date. Bad rows were left out." in text_of(
        applied.get_data(as_text=True))  # fmt: skip
    assert StoreDirectory(store).home("VLC02") is not None
    wragby = StoreDirectory(store).home("VLC01")
    assert wragby is not None and wragby.name == "Wragby Road"
    assert [(e.action, e.subject) for e in audit.recent(store)[:2]] == [
        ("imported", "homes file members.csv: 1 added, 1 changed"),
        ("dry run", "homes file members.csv: 1 to add, 1 to change")]  # fmt: skip
    again = client.post("/console/homes/upload/apply", data=form, follow_redirects=True)
    assert "applied already, or is more than a day old" in again.get_data(as_text=True)
    with store.engine.connect() as connection:
        assert connection.execute(select(home_uploads)).all() == []


def test_an_upload_is_not_applied_when_the_directory_changed_since_its_dry_run(client: FlaskClient,
                                                                               store: Store) -> None:  # fmt: skip
    [upload_token] = re.findall(r'name="token" value="([^"]+)"', upload(client))
    directory_store.add(store, Home("VLC02", "Witham View", ("+441205360200",)))  # meanwhile, from the CLI

    page = client.post("/console/homes/upload/apply", data={"csrf_token": token(client, "/console/homes"),
                                                            "token": upload_token}).get_data(as_text=True)  # fmt: skip

    assert "The directory changed since this dry run, so nothing was applied" in page
    assert "Would add 0" in text_of(page) and "Would change 2" in text_of(page)  # VLC02's postcode now
    wragby = StoreDirectory(store).home("VLC01")
    assert wragby is not None and wragby.name == "Wragby Road Care Home"  # still as it was


def test_a_file_that_cannot_be_read_is_named_as_the_officer_knows_it(client: FlaskClient) -> None:
    page = upload(client, b"PK\x03\x04 a spreadsheet", "homes.xlsx")
    assert 'id="problem">homes.xlsx: is a spreadsheet (.xlsx or .ods)' in page
    assert "upload.csv" not in page and "ivr-upload-" not in page  # never the path it had on the server


# --- the card ------------------------------------------------------------------------------------------------


def test_the_card_has_what_to_have_by_the_phone(client: FlaskClient, store: Store) -> None:
    content = load(PROMPTS)
    shown = text_of(client.get(f"/console/homes/{ref(store, 'VL15A')}/card").get_data(as_text=True))
    assert "Lindum House" in shown and "VL15A" in shown
    assert "V Victor L Lima 1 one 5 five A Alpha" in shown
    assert "care.vl15a@nhs.net" in shown and "0333 200 1133" in shown and "01522 500600" in shown
    assert "press 1. At the next choice, press 1 again." in shown
    for _, node in content.scenarios():
        assert node.title in shown
        for line in content.say_first(node.scenario or 0):
            assert line in shown


def test_the_card_leaves_a_space_for_the_companions_number_when_it_is_not_set(tmp_path: Path, store: Store) -> None:
    client = console_app(console_settings(tmp_path / "ivr.sqlite3"), store).test_client()
    sign_in(client)
    page = text_of(client.get(f"/console/homes/{ref(store, 'VL15A')}/card").get_data(as_text=True))
    assert "ring the companion on: (ask your care association for the number)" in page
    assert "The companion's own number is not set (IVR_COMPANION_NUMBER)" in page


# --- what callers hear ---------------------------------------------------------------------------------------


def test_the_phone_tree_shows_menus_scenarios_push_backs_and_texts_with_their_segments(client: FlaskClient) -> None:
    content = load(PROMPTS)
    page = text_of(client.get("/console/phone-tree").get_data(as_text=True))
    assert "To hear what happens when you ring, and which keys to press" in page
    for _, node in content.scenarios():
        assert node.title in page
        for pushback in node.pushbacks:
            assert f"The helpdesk may say: {pushback.helpdesk}" in page
    body = compose(content, "checklist", ods=None)
    counted = gsm7.count(body)
    assert re.search(rf"checklist .*? {counted.units} {counted.segments} of 3 GSM-7", page)
    assert "LinCA Digital" in page  # the texts name the association as the settings do


def test_a_notice_is_previewed_in_the_callers_words_then_set_and_cleared(client: FlaskClient, store: Store) -> None:
    words = "NHSmail is down  this morning. The helpdesk knows."
    previewed = post(client, "/console/notice", "/console/notice", text=words, action="preview")
    heard = text_of(previewed)
    assert "Preview: a caller would hear A message from your care association. NHSmail is down this morning." in heard
    assert notice.current(store) is None  # a preview changes nothing
    post(client, "/console/notice", "/console/notice", text=words, until="", action="set")
    now_set = notice.current(store)
    assert now_set is not None and now_set.text == "NHSmail is down this morning. The helpdesk knows."
    page = text_of(client.get("/console/notice").get_data(as_text=True))
    assert "Said today A message from your care association. NHSmail is down this morning." in page
    too_long = client.post("/console/notice", data={"csrf_token": token(client, "/console/notice"),
                                                    "text": "word " * 61, "action": "set"})  # fmt: skip
    assert too_long.status_code == 400 and "keep it to 60" in too_long.get_data(as_text=True)
    post(client, "/console/notice/clear", "/console/notice")
    assert notice.current(store) is None
    assert [e.action for e in audit.recent(store)[:2]] == ["cleared", "set"]


def test_the_migration_gives_existing_homes_a_ref_and_goes_down_and_up(tmp_path: Path) -> None:
    from alembic import command

    from ivr.store.database import migration_config

    (tmp_path / "old.sqlite3").touch()  # as `ivr db upgrade` makes it: the app never creates a missing file
    store = Store(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    config = migration_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
        connection.exec_driver_sql("INSERT INTO care_homes (ods, name, keypad, created_at, updated_at) VALUES "
                                   "('VL15A', 'Lindum House', '5152', '2026-01-01', '2026-01-01'), "
                                   "('VLC01', 'Wragby', '5201', '2026-01-01', '2026-01-01')")  # fmt: skip
        command.upgrade(config, "head")
        refs = [row.ref for row in connection.execute(select(care_homes.c.ref))]
        assert len(set(refs)) == 2 and all(len(r) == 12 for r in refs)
        command.downgrade(config, "0007")
        command.upgrade(config, "head")


def test_an_uploaded_files_name_keeps_no_folders() -> None:
    from ivr.homes.uploads import file_name

    assert file_name("C:\\Users\\me\\homes.csv") == "homes.csv"
    assert file_name("/home/me/homes.csv") == "homes.csv"
    assert file_name("  ") == "the file"
