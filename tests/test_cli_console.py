"""`ivr console` (the console's accounts) and `ivr sms list` / `ivr sms resend`, through click."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ivr.cli.main import main
from ivr.operators import accounts
from ivr.store.database import Store
from ivr.texts import outbox as outbox_queries
from tests.console_support import PASSWORD, queue_text
from tests.databases import open_store

Run = Callable[..., Result]


@pytest.fixture()
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's is read
    return f"sqlite:///{tmp_path}/ivr.sqlite3"


@pytest.fixture()
def ivr(url: str) -> Run:
    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), input=input, env={"DATABASE_URL": url, "COLUMNS": "200"})

    return run


@pytest.fixture()
def store(url: str) -> Iterator[Store]:
    with open_store(url) as store:
        yield store


def test_add_a_user_with_a_prompted_password_then_sign_in(ivr: Run, store: Store) -> None:
    added = ivr("console", "add-user", "jo.bloggs", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert added.exit_code == 0, added.output
    assert "jo.bloggs can now sign in at /console." in added.output and PASSWORD not in added.output
    assert accounts.sign_in(store, "jo.bloggs", PASSWORD).account is not None
    again = ivr("console", "add-user", "jo.bloggs", "--password-stdin", input=f"{PASSWORD}\n")
    assert again.exit_code == 1 and "already a user called jo.bloggs" in again.output
    assert "jo.bloggs" in ivr("console", "users").output


def test_a_password_from_standard_input_and_the_rules_for_one(ivr: Run, store: Store) -> None:
    assert ivr("console", "add-user", "sam", "--password-stdin", input=f"{PASSWORD}\n").exit_code == 0
    short = ivr("console", "add-user", "alex", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output and "Traceback" not in short.output
    bad = ivr("console", "add-user", "Not A Name", "--password-stdin", input=f"{PASSWORD}\n")
    assert bad.exit_code == 1 and "lower-case" in bad.output


def test_set_password_unlocks_and_remove_user_removes(ivr: Run, store: Store) -> None:
    accounts.add(store, "sam", PASSWORD)
    for _ in range(accounts.MAX_FAILURES):
        accounts.sign_in(store, "sam", "wrong")
    assert "sam" in ivr("console", "users").output and accounts.find(store, "sam").locked_until  # type: ignore[union-attr]
    new = "another long passphrase here"
    changed = ivr("console", "set-password", "sam", "--password-stdin", input=f"{new}\n")
    assert changed.exit_code == 0 and "unlocked" in changed.output
    assert accounts.sign_in(store, "sam", new).account is not None
    assert ivr("console", "set-password", "nobody", "--password-stdin", input=f"{new}\n").exit_code == 1
    assert ivr("console", "remove-user", "sam").output == "sam: removed.\n"
    missing = ivr("console", "remove-user", "sam")
    assert missing.exit_code == 1 and "no user called sam" in missing.output


def test_sms_list_shows_what_the_console_shows_and_resend_queues_it_again(ivr: Run, store: Store) -> None:
    assert "0 texts; 0 not resent" in ivr("sms", "list").output
    failed = queue_text(store, "a", to="+447400200301", purpose="scenario_1", status="failed",
                        error="21614: not a mobile number")  # fmt: skip
    queue_text(store, "b", to="+447400200302", purpose="checklist", status="sent", delivery_status="undelivered")
    queue_text(store, "c", to="+447400200303", purpose="checklist", status="sent", delivery_status="delivered")
    outbox_queries.opt_out(store, "+447400200399")
    listed = ivr("sms", "list", "--opt-outs")
    assert listed.exit_code == 0, listed.output
    assert "21614: not a mobile number" in listed.output and "undelivered" in listed.output
    assert "*********301" in listed.output and "+447400" not in listed.output
    assert "2 texts; 2 not resent" in listed.output and "1 opted out:" in listed.output
    resent = ivr("sms", "resend", str(failed))
    assert resent.exit_code == 0 and f"Text {failed} is queued again as text" in resent.output
    twice = ivr("sms", "resend", str(failed))
    assert twice.exit_code == 1 and "resent already" in twice.output
    assert "2 texts; 1 not resent" in ivr("sms", "list").output
    outbox_queries.opt_out(store, "+447400200302")
    refused = ivr("sms", "resend", str(failed + 1))
    assert refused.exit_code == 1 and "opted out" in refused.output
    assert ivr("sms", "resend", "999").exit_code == 1
