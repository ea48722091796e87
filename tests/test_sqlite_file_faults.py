"""A SQLite file deleted or made read-only under the running app: noticed, said, and never written in vain."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from ivr.app import create_app
from ivr.content.model import Content
from ivr.settings import Settings
from ivr.store.database import Store
from tests.web_support import LANDLINE, REAL_LINE, Caller, add_home, assert_valid_twiml

SIDS = iter(f"CA{index:032x}" for index in range(1, 1000))


@pytest.fixture()
def folder(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "data"
    folder.mkdir()
    yield folder
    folder.chmod(0o755)  # whatever a test did to it, so that tmp_path can be cleaned


@pytest.fixture()
def store(folder: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{folder / 'ivr.sqlite3'}")
    store.upgrade()
    add_home(store)
    yield store
    store.close()


@pytest.fixture()
def client(store: Store, content: Content) -> FlaskClient:
    # A breaker that never opens here: each refusal below must come from noticing the file, not from the breaker.
    settings = Settings(database_url=store.url, database_deadline_seconds=2.0, **REAL_LINE)
    app = create_app(settings, content=content, store=store)
    return app.test_client()


def ask_for_a_text(client: FlaskClient) -> str:
    """A call from the home's landline asking for the checklist by text to a mobile; the reply to the last key."""
    caller = Caller(client, {"CallSid": next(SIDS), "From": LANDLINE, "To": "+443300000000"})
    status, body = caller.start()
    assert status == 200
    for key in ("5", "07400123456", "1"):
        status, body = caller.press(key)
        assert status == 200
    assert_valid_twiml(body)
    return body


def outbox_rows(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return int(connection.execute("SELECT count(*) FROM outbox").fetchone()[0])


def test_the_file_works_before_anything_is_done_to_it(client: FlaskClient, store: Store) -> None:
    assert client.get("/readyz").status_code == 200
    assert "The text is on its way" in ask_for_a_text(client)
    assert store.sqlite_file is not None and outbox_rows(store.sqlite_file.path) == 1


def test_a_deleted_file_is_said_and_nothing_is_written_to_it(client: FlaskClient, store: Store, folder: Path) -> None:
    assert client.get("/readyz").status_code == 200  # the app has the file open
    path = folder / "ivr.sqlite3"
    # The file is unlinked from its name; a second name kept here lets the test look inside it afterwards,
    # which is where SQLite would have gone on writing.
    kept = folder / "kept.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{path}{suffix}").exists():
            os.link(f"{path}{suffix}", f"{kept}{suffix}")
    path.unlink()

    reply = client.get("/readyz")
    assert reply.status_code == 503
    assert reply.get_data(as_text=True) == "not ready: the database file ivr.sqlite3 was deleted\n"
    assert "cannot send texts just now" in ask_for_a_text(client)  # the call goes on; the text is not promised
    assert not path.exists()  # no empty database made in its place either
    assert outbox_rows(kept) == 0

    os.rename(kept, path)  # put back: the same file at its name again, and everything works
    assert client.get("/readyz").status_code == 200
    assert "The text is on its way" in ask_for_a_text(client)
    assert outbox_rows(path) == 1


def test_a_file_put_back_from_a_copy_is_opened_afresh(client: FlaskClient, store: Store, folder: Path) -> None:
    path = folder / "ivr.sqlite3"
    assert client.get("/readyz").status_code == 200
    with sqlite3.connect(path) as source, sqlite3.connect(folder / "copy.sqlite3") as copy:
        source.backup(copy)
    os.replace(folder / "copy.sqlite3", path)  # a restore from a backup: another file at the same name
    assert client.get("/readyz").status_code == 200
    assert "The text is on its way" in ask_for_a_text(client)
    assert outbox_rows(path) == 1  # written to the file at the path, not to the one it replaced


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_file_or_folder_is_said_and_refused(
    client: FlaskClient, store: Store, folder: Path, what: str
) -> None:
    path = folder / "ivr.sqlite3"
    assert client.get("/readyz").status_code == 200
    target, mode = (path, 0o444) if what == "file" else (folder, 0o555)
    target.chmod(mode)
    try:
        reply = client.get("/readyz")
        assert reply.status_code == 503
        expected = "is read-only" if what == "file" else "folder of the database file ivr.sqlite3 is read-only"
        assert expected in reply.get_data(as_text=True)
        assert "cannot send texts just now" in ask_for_a_text(client)
        assert outbox_rows(path) == 0
    finally:
        target.chmod(0o644 if what == "file" else 0o755)
    assert client.get("/readyz").status_code == 200
    assert "The text is on its way" in ask_for_a_text(client)


def test_an_immutable_file_is_said_and_refused(client: FlaskClient, store: Store, folder: Path) -> None:
    path = folder / "ivr.sqlite3"
    assert client.get("/readyz").status_code == 200
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False) if _chattr() else None
    if made is None or made.returncode != 0:
        pytest.skip("chattr +i is not available here (needs chattr, root and a filesystem that keeps the flag)")
    try:
        reply = client.get("/readyz")
        assert reply.status_code == 503 and "ivr.sqlite3 is read-only" in reply.get_data(as_text=True)
        assert "cannot send texts just now" in ask_for_a_text(client)
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)
    assert outbox_rows(path) == 0
    assert "The text is on its way" in ask_for_a_text(client)


def _chattr() -> bool:
    from shutil import which

    return which("chattr") is not None


def test_a_missing_file_is_never_created_by_the_app(tmp_path: Path, content: Content) -> None:
    path = tmp_path / "never.sqlite3"
    store = Store(f"sqlite:///{path}")
    try:
        settings = Settings(database_url=store.url, **REAL_LINE)
        reply = create_app(settings, content=content, store=store).test_client().get("/readyz")
        assert reply.status_code == 503 and reply.get_data(as_text=True) == "not ready: database unreachable\n"
        assert not path.exists()
    finally:
        store.close()
