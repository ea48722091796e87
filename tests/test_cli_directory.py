"""The digital officer's commands through click: `ivr homes`, `escalations`, `notice`, `purge` and `usage`."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import insert, text

from ivr.cli.main import main
from ivr.homes import directory_store, escalations, notice
from ivr.homes.directory import Home
from ivr.operators import audit
from ivr.store.database import Store, calls, milestones, now, outbox
from ivr.store.database import escalations as escalations_table
from tests.databases import open_store
from tests.test_home_files import SIMPLE_BAD_REASONS

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "homes"

Run = Callable[..., Result]
PASSED_OVER = "not care homes, closed, or with no ODS code"


@pytest.fixture()
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's is read
    return f"sqlite:///{tmp_path}/ivr.sqlite3"


@pytest.fixture()
def ivr(url: str) -> Run:
    """Run `ivr ARGS...` on a SQLite file of its own; IVR_RETENTION_DAYS as given, else the default."""

    def run(*args: str, retention_days: int | None = None) -> Result:
        env = {
            "DATABASE_URL": url,
            "IVR_RETENTION_DAYS": None if retention_days is None else str(retention_days),
            "COLUMNS": "200",  # rich's tables as on a wide terminal, so no cell is wrapped
        }
        return CliRunner().invoke(main, list(args), env=env)

    return run


@pytest.fixture()
def store(url: str) -> Iterator[Store]:
    """The same database, for putting in what no command adds (escalations, old calls and texts)."""
    with open_store(url) as store:
        yield store


def clean_error(result: Result, message: str) -> None:
    """A person's mistake: one `Error:` line, exit code 1, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert f"Error: {message}" in result.output


# --- homes import ---------------------------------------------------------------------------------------------



def test_import_reports_each_bad_row_and_imports_the_good_ones(ivr: Run) -> None:
    path = FIXTURES / "simple_bad.csv"

    result = ivr("homes", "import", str(path))

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"{path}: 10 rows in the simple layout: 2 homes, 0 passed over ({PASSED_OVER}), 8 bad." in result.output
    reported = re.findall(r"^  line (\d+): (.*)$", result.output, re.MULTILINE)
    assert {int(line): reason for line, reason in reported} == SIMPLE_BAD_REASONS
    assert "Added 2, changed 0, 0 already up to date." in result.output

    listed = ivr("homes", "list")
    assert listed.exit_code == 0
    assert "VLC10" in listed.output and "VLC15" in listed.output
    assert "2 shown of 2 homes." in listed.output

    again = ivr("homes", "import", str(path))

    assert again.exit_code == 1  # the bad rows are still bad
    assert "Added 0, changed 0, 2 already up to date." in again.output


def test_a_good_file_imports_with_exit_code_0_and_again_changes_nothing(ivr: Run) -> None:
    first = ivr("homes", "import", str(FIXTURES / "ecarehomesite.csv"), "--layout", "ods")
    assert first.exit_code == 1  # two of its rows are bad
    assert f"7 rows in the ods layout: 4 homes, 1 passed over ({PASSED_OVER}), 2 bad." in first.output

    result = ivr("homes", "import", str(FIXTURES / "simple.csv"))

    assert result.exit_code == 0, result.output
    assert "Added 6, changed 0, 0 already up to date." in result.output
    assert "left out" not in result.output
    again = ivr("homes", "import", str(FIXTURES / "simple.csv"))
    assert again.exit_code == 0
    assert "Added 0, changed 0, 6 already up to date." in again.output
    assert "10 shown of 10 homes." in ivr("homes", "list").output


def test_a_dry_run_imports_nothing(ivr: Run) -> None:
    result = ivr("homes", "import", "--dry-run", str(FIXTURES / "simple_bad.csv"))

    assert result.exit_code == 1
    assert "Would add 2, would change 0, 0 already up to date." in result.output
    assert "Dry run: nothing was changed." in result.output
    assert "line 3: ODS code 'X123'" in result.output  # the bad rows are still shown
    assert "0 shown of 0 homes." in ivr("homes", "list").output


def test_a_dry_run_lists_the_homes_that_would_change(ivr: Run, tmp_path: Path) -> None:
    ivr("homes", "import", str(FIXTURES / "simple.csv"))
    path = tmp_path / "changed.csv"
    path.write_text("ods_code,name,landline\nVLC01,Wragby Road House,01522 500199\nVLC09,New Home,\n", encoding="utf-8")

    result = ivr("homes", "import", "--dry-run", str(path))

    assert result.exit_code == 0, result.output
    assert "Would add 1, would change 1, 0 already up to date." in result.output
    assert "  VLC01 Wragby Road House: name, landlines" in result.output
    shown = ivr("homes", "show", "VLC01").output
    assert "Wragby Road Care Home" in shown and "+441522500100" in shown
    assert ivr("homes", "show", "VLC09").exit_code == 1


@pytest.mark.parametrize(
    ("content", "layout", "message"),
    [
        pytest.param(b"code,home\nVLC01,Somewhere\n", [], "cannot tell which layout this is", id="unknown layout"),
        pytest.param(b"PK\x03\x04rest of a zip", [], "is a spreadsheet (.xlsx or .ods) or a zip, not CSV", id="xlsx"),
        pytest.param(b"\xff\xfeo\x00d\x00s\x00", [], "is UTF-16 text", id="utf-16"),
        pytest.param(b"", [], "is empty; there are no homes to read", id="empty"),
        pytest.param(b"name,postcode\nLindum,LN1\n", ["--layout", "simple"], "has no 'ods_code' column", id="no codes"),
        pytest.param(b"ods_code,name\nVLC01,Lindum\n", ["--layout", "ods"],
                     "is not the ODS care-home file: line 1 has 2 columns, not 27", id="not the ods file"),
        pytest.param(
            b'ods_code,name\nVLC01,"' + b"a" * 140_000 + b'"\n', [], "line 2 cannot be read as CSV", id="not csv"
        ),
    ],
)
def test_a_file_that_cannot_be_used_is_a_clean_error(
    ivr: Run, tmp_path: Path, content: bytes, layout: list[str], message: str
) -> None:
    path = tmp_path / "homes.csv"
    path.write_bytes(content)

    result = ivr("homes", "import", str(path), *layout)

    clean_error(result, f"{path}: ")
    assert message in result.output
    assert "0 shown of 0 homes." in ivr("homes", "list").output


def test_a_missing_file_is_a_clean_error(ivr: Run, tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"

    result = ivr("homes", "import", str(path))

    clean_error(result, f"{path}: cannot read it")
    assert not (tmp_path / "ivr.sqlite3").exists()  # a mistyped path leaves no database behind


def test_an_import_that_fails_while_writing_leaves_the_directory_as_it_was(ivr: Run, store: Store,
                                                                            tmp_path: Path) -> None:  # fmt: skip
    assert ivr("homes", "add", "VLC01", "Wragby Road Care Home").exit_code == 0
    with store.transaction() as tx:  # the database refuses the last home of the file, mid-import
        tx.connection.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON care_homes WHEN NEW.ods = 'VLC99' "
                                   "BEGIN SELECT RAISE(ABORT, 'refused'); END"))  # fmt: skip
    path = tmp_path / "homes.csv"
    path.write_text("ods_code,name\nVLC01,Wragby Road\nVLC02,Second Home\nVLC99,Refused Home\n")

    result = ivr("homes", "import", str(path))

    assert result.exit_code != 0
    listed = ivr("homes", "list").output
    assert "Wragby Road Care Home" in listed and "VLC02" not in listed  # neither the change nor the addition


def test_a_database_that_cannot_be_opened_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    # A database that cannot be opened exits 1; a DATABASE_URL of the wrong shape is a setting error (2).
    for url, why, code in ((f"sqlite:///{tmp_path}/a-file/ivr.sqlite3", "File exists", 1),
                           ("postgresql://nobody@127.0.0.1:1/ivr", "(DATABASE_URL)", 1),
                           ("nonsense://x", "DATABASE_URL: must be", 2)):  # fmt: skip
        result = CliRunner().invoke(main, ["homes", "list"], env={"DATABASE_URL": url})
        assert result.exit_code == code and "Traceback" not in result.output, result.output
        assert "Error: " in result.output and why in result.output, result.output


# --- homes add, show, list, remove ----------------------------------------------------------------------------


def test_add_show_list_and_remove_a_home(ivr: Run) -> None:
    added = ivr(
        "homes", "add", "vlc50", "Lindum  House", "--landline", "01522 500200", "--landline", "01522 500201",
        "--mobile", "07400 123456", "--postcode", "ln1 1aa",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert added.output == "VLC50 Lindum House: added.\n"
    same = ivr(
        "homes", "add", "VLC50", "Lindum House", "--landline", "01522 500201", "--landline", "01522 500200",
        "--mobile", "+447400123456", "--postcode", "LN1 1AA",
    )  # fmt: skip
    assert same.output == "VLC50 Lindum House: unchanged.\n"  # the same home, however it is typed

    shown = ivr("homes", "show", "vlc50")
    assert shown.exit_code == 0
    assert shown.output.splitlines() == [
        "ODS code:        VLC50",
        "Name:            Lindum House",
        "Shared mailbox:  care.vlc50@nhs.net (the usual address)",
        "Landlines:       +441522500200, +441522500201",
        "Registered mobile: +447400123456",
        "Postcode:        LN1 1AA",
    ]

    listed = ivr("homes", "list")
    assert listed.exit_code == 0
    assert "VLC50" in listed.output and "+441522500200" in listed.output
    assert "*********456" in listed.output  # only the mobile's last three digits
    assert "7400123456" not in listed.output and "7400 123456" not in listed.output
    assert "1 shown of 1 homes." in listed.output

    removed = ivr("homes", "remove", "vlc50")
    assert removed.exit_code == 0
    assert removed.output == "VLC50: removed.\n"
    clean_error(ivr("homes", "show", "VLC50"), "no home with ODS code VLC50")
    clean_error(ivr("homes", "remove", "VLC50"), "no home with ODS code VLC50")
    assert "0 shown of 0 homes." in ivr("homes", "list").output


def test_add_on_a_known_home_refuses_unless_told_to_replace(ivr: Run) -> None:
    ivr("homes", "add", "VLC50", "Lindum House", "--landline", "01522 500200", "--mobile", "07400 123456")
    before = ivr("homes", "show", "VLC50").output

    refused = ivr("homes", "add", "VLC50", "Lindum House", "--mailbox", "Lindum.Manager@nhs.net")

    clean_error(refused, "VLC50 is in the directory already; nothing was changed")
    assert "ivr homes edit VLC50" in refused.output and "--replace" in refused.output
    assert ivr("homes", "show", "VLC50").output == before  # the landline and the mobile are still there
    changed = ivr("homes", "add", "VLC50", "Lindum House", "--mailbox", "Lindum.Manager@nhs.net", "--replace")
    assert changed.output == "VLC50 Lindum House: changed.\n"
    shown = ivr("homes", "show", "VLC50").output
    assert "Shared mailbox:  lindum.manager@nhs.net\n" in shown
    assert "Landlines:       none" in shown
    assert "Registered mobile: none" in shown


def test_edit_changes_the_details_given_and_keeps_the_rest(ivr: Run, store: Store) -> None:
    ivr("homes", "add", "VLC50", "Lindum House", "--landline", "01522 500200", "--mobile", "07400 123456",
        "--postcode", "LN1 1AA")  # fmt: skip

    renamed = ivr("homes", "edit", "vlc50", "--name", "Lindum  House Care Home")

    assert renamed.exit_code == 0, renamed.output
    assert renamed.output == "VLC50: changed name.\n"
    assert directory_store.StoreDirectory(store).home("VLC50") == Home(
        "VLC50", "Lindum House Care Home", ("+441522500200",), "+447400123456", None, "LN1 1AA")  # fmt: skip
    assert ivr("homes", "edit", "VLC50", "--name", "Lindum House Care Home").output == (
        "VLC50: unchanged (it already had those details).\n")  # fmt: skip
    two = ivr("homes", "edit", "VLC50", "--landline", "01522 500201", "--landline", "01522 500200", "--mobile", "")
    assert two.output == "VLC50: changed landlines, mobile.\n"
    home = directory_store.StoreDirectory(store).home("VLC50")
    assert home is not None and home.landlines == ("+441522500200", "+441522500201") and home.mobile is None
    assert home.postcode == "LN1 1AA" and home.name == "Lindum House Care Home"
    [latest, before, *_] = audit.recent(store)
    assert (latest.action, latest.subject) == ("changed", "home VLC50: landlines, mobile")
    assert (before.action, before.subject) == ("changed", "home VLC50: name")
    assert latest.user.startswith("command line")


def test_edit_refuses_what_an_import_would_and_changes_nothing(ivr: Run, store: Store) -> None:
    ivr("homes", "add", "VLC50", "Lindum House", "--landline", "01522 500200")
    before = ivr("homes", "show", "VLC50").output

    clean_error(ivr("homes", "edit", "VLC50", "--mobile", "01522 500200", "--name", "New Name"),
                "VLC50: mobile '01522 500200' is a landline; put it in the landline column; nothing was changed")
    clean_error(ivr("homes", "edit", "VLC99", "--name", "Nobody"), "VLC99: no home with ODS code VLC99")
    assert ivr("homes", "edit", "VLC50").exit_code == 2  # nothing to change is a usage error
    assert ivr("homes", "show", "VLC50").output == before
    assert [entry.action for entry in audit.recent(store)] == ["added"]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["X1", "Home"], "ODS code 'X1' is not V plus 4 letters or digits"),
        (["VLC50", " "], "name is missing"),
        (["VLC50", "Home", "--landline", "07400 123456"], "landline '07400 123456' is a mobile"),
        (["VLC50", "Home", "--mobile", "01522 500200"], "mobile '01522 500200' is a landline"),
        (["VLC50", "Home", "--mailbox", "home@gmail.com"], "mailbox 'home@gmail.com' is not an @nhs.net address"),
    ],
)
def test_add_refuses_what_an_import_would(ivr: Run, args: list[str], reason: str) -> None:
    clean_error(ivr("homes", "add", *args), reason)
    assert "0 shown of 0 homes." in ivr("homes", "list").output


def test_list_searches_and_limits(ivr: Run) -> None:
    ivr("homes", "import", str(FIXTURES / "simple.csv"))

    found = ivr("homes", "list", "--search", "WITHAM")
    assert "VLC02" in found.output and "VLC01" not in found.output
    assert "1 shown of 6 homes." in found.output
    limited = ivr("homes", "list", "--limit", "2")
    assert "VLC02" in limited.output and "VLC03" not in limited.output
    assert "2 shown of 6 homes." in limited.output
    assert ivr("homes", "list", "--limit", "0").exit_code == 2


# --- notice ---------------------------------------------------------------------------------------------------


def test_notice_set_show_and_clear(ivr: Run) -> None:
    tomorrow = notice.today() + timedelta(days=1)
    text = "NHSmail is down   this morning; please call back after noon."

    result = ivr("notice", "set", text, "--until", tomorrow.isoformat())

    assert result.exit_code == 0, result.output
    said = "'NHSmail is down this morning; please call back after noon.'"
    assert result.output == f"Callers will hear: {said}, until the end of {tomorrow:%d %B %Y}.\n"
    assert ivr("notice", "show").output == f"{said} (until {tomorrow.isoformat()})\n"

    yesterday = notice.today() - timedelta(days=1)
    clean_error(ivr("notice", "set", "Too late", "--until", yesterday.isoformat()),
                f"--until {yesterday.isoformat()} is already past")  # fmt: skip
    clean_error(ivr("notice", "set", "   "), "the notice is empty")
    clean_error(ivr("notice", "set", " ".join(["word"] * 61)), "the notice has 61 words; keep it to 60")
    assert (
        ivr("notice", "show").output == f"{said} (until {tomorrow.isoformat()})\n"
    )  # the refused ones changed nothing

    cleared = ivr("notice", "clear")
    assert (cleared.exit_code, cleared.output) == (0, "Notice cleared.\n")
    assert ivr("notice", "show").output == "No notice is said today.\n"
    assert ivr("notice", "clear").output == "There was no notice.\n"


def test_a_notice_without_an_end_lasts_until_cleared(ivr: Run) -> None:
    result = ivr("notice", "set", "Helpdesk hours change on Monday.")

    assert result.output == "Callers will hear: 'Helpdesk hours change on Monday.', until `ivr notice clear`.\n"
    assert ivr("notice", "show").output == "'Helpdesk hours change on Monday.'\n"
    assert ivr("notice", "set", "Today only.", "--until", notice.today().isoformat()).exit_code == 0
    assert ivr("notice", "show").output == f"'Today only.' (until {notice.today().isoformat()})\n"
    assert ivr("notice", "set", "Bad date", "--until", "31/12/2030").exit_code == 2


# --- escalations ----------------------------------------------------------------------------------------------


def escalate(store: Store, key: str, ods: str | None, home: str | None, ticket: str, reason: str) -> bool:
    with store.transaction() as tx:
        return escalations.record(tx, key=key, call_sid=key, ods=ods, home_name=home, ticket=ticket, reason=reason)


def test_escalations_list_close_and_csv(ivr: Run, store: Store) -> None:
    assert "0 escalations." in ivr("escalations", "list").output
    assert escalate(store, "CA1", "VLC01", "Wragby Road Care Home", "INC0012345", "refused")
    assert escalate(store, "CA2", None, None, "INC0067890", "leaver")
    assert not escalate(store, "CA2", None, None, "INC0067890", "leaver")  # a retry stores nothing more
    first, second = (e.id for e in escalations.listing(store))

    listed = ivr("escalations", "list")
    assert listed.exit_code == 0
    assert "INC0012345" in listed.output and "INC0067890" in listed.output
    assert "2 escalations." in listed.output

    closed = ivr("escalations", "close", str(first), "--note", "Rang the helpdesk; reset promised today.")
    assert (closed.exit_code, closed.output) == (0, f"Escalation {first}: closed.\n")
    assert ivr("escalations", "close", str(first)).output == f"Escalation {first}: was already closed.\n"
    clean_error(ivr("escalations", "close", "999"), "no escalation 999")

    still_open = ivr("escalations", "list", "--open")
    assert "INC0067890" in still_open.output and "INC0012345" not in still_open.output
    assert "1 escalation open." in still_open.output

    as_csv = ivr("escalations", "list", "--csv")
    assert as_csv.exit_code == 0
    reader = csv.DictReader(io.StringIO(as_csv.output))
    rows = list(reader)
    assert reader.fieldnames == ["id", "received", "ods_code", "home", "ticket", "reason", "status", "closed",
                                 "callback", "note"]
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")
    assert all(stamp.fullmatch(row["received"]) for row in rows)
    assert stamp.fullmatch(rows[0]["closed"])
    ignored = ("received", "closed", "ring_back")
    shown = [{key: value for key, value in row.items() if key not in ignored} for row in rows]
    assert shown == [
        {"id": str(first), "ods_code": "VLC01", "home": "Wragby Road Care Home", "ticket": "INC0012345",
         "reason": "refused", "status": "closed", "callback": "",
         "note": "Rang the helpdesk; reset promised today."},
        {"id": str(second), "ods_code": "", "home": "", "ticket": "INC0067890", "reason": "leaver", "status": "open",
         "callback": "", "note": ""},
    ]  # fmt: skip
    assert rows[1]["closed"] == ""
    open_csv = list(csv.DictReader(io.StringIO(ivr("escalations", "list", "--open", "--csv").output)))
    assert [row["id"] for row in open_csv] == [str(second)]

    reopened = ivr("escalations", "reopen", str(first))
    assert (reopened.exit_code, reopened.output) == (0, f"Escalation {first}: reopened.\n")
    assert ivr("escalations", "reopen", str(first)).output == f"Escalation {first}: was already open.\n"
    clean_error(ivr("escalations", "reopen", "999"), "no escalation 999")
    assert "2 escalations open." in ivr("escalations", "list", "--open").output


def test_the_callback_number_is_the_callers_mobile_else_the_homes_landline(ivr: Run, store: Store) -> None:
    directory_store.add(store, Home(ods="VLC01", name="Wragby Road Care Home", landlines=("+441522123456",)))
    assert escalate(store, "CA1", "VLC01", "Wragby Road Care Home", "INC0012345", "refused")
    assert escalate(store, "CA2", "VLC01", "Wragby Road Care Home", "INC0067890", "refused")
    with store.transaction() as tx:  # the second caller had the script texted to their own mobile
        tx.enqueue_text(key="k", call_sid="CA2", purpose="scenario_1", to="+447400123457", body="...")
        tx.enqueue_text(key="n", call_sid="CA1", purpose="escalation_notice", to="+447400999888", body="...")
    first, second = escalations.listing(store)
    assert (first.callback, second.callback) == ("+441522123456", "+447400123457")
    listed = ivr("escalations", "list").output
    assert "*********456" in listed and "*********457" in listed and "+447400" not in listed  # masked
    rows = list(csv.DictReader(io.StringIO(ivr("escalations", "list", "--csv").output)))
    assert [row["callback"] for row in rows] == ["+441522123456", "+447400123457"]  # whole in the CSV


# --- purge and usage ------------------------------------------------------------------------------------------


def add_call(store: Store, sid: str, days_old: float, scenarios: tuple[int, ...]) -> None:
    """A call as the phone line records it: its record, and the milestones counted as it went."""
    stamp = now() - timedelta(days=days_old)
    with store.transaction() as tx:
        tx.connection.execute(insert(calls).values(call_sid=sid, status="completed", created_at=stamp,
                                                   updated_at=stamp))  # fmt: skip
        for kind, detail in [("call_started", ""), *(("scenario_reached", str(n)) for n in scenarios)]:
            tx.connection.execute(insert(milestones).values(call_key=sid, kind=kind, detail=detail, at=stamp))


def add_text(store: Store, key: str, days_old: float, status: str, purpose: str) -> None:
    stamp = now() - timedelta(days=days_old)
    with store.transaction() as tx:
        tx.connection.execute(insert(outbox).values(
            idempotency_key=key, call_sid=None, purpose=purpose, to_number="+447400123456", body="Your steps",
            status=status, created_at=stamp,
        ))  # fmt: skip


def test_purge_dry_run_then_purge_then_usage(ivr: Run, store: Store) -> None:
    add_call(store, "CA-old-1", 40, (1, 3))
    add_call(store, "CA-old-2", 35, (3,))
    add_call(store, "CA-new", 2, (2,))
    add_text(store, "old-sent", 40, "sent", "checklist")
    add_text(store, "old-failed", 31, "failed", "checklist")
    add_text(store, "new", 1, "pending", "checklist")
    # Calls are counted live, as milestones; texts as a purge removes them.
    calls_counted = ["calls: 3", "calls.scenario_1: 1", "calls.scenario_2: 1", "calls.scenario_3: 2"]
    assert ivr("usage").output.splitlines() == calls_counted
    texts_counted = ["  texts.failed.checklist: 1", "  texts.sent.checklist: 1"]

    dry = ivr("purge", "--dry-run")

    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines() == [
        "Would remove 2 calls, 2 texts and 0 closed escalations older than 30 days.",
        *texts_counted,
    ]
    assert ivr("usage").output.splitlines() == calls_counted

    kept = ivr("purge", "--days", "45")
    assert kept.output == "Removed 0 calls, 0 texts and 0 closed escalations older than 45 days.\n"
    assert ivr("purge", retention_days=50).output.startswith("Removed 0 calls")  # IVR_RETENTION_DAYS is the default

    done = ivr("purge", "--days", "30")

    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [
        "Removed 2 calls, 2 texts and 0 closed escalations older than 30 days.",
        *texts_counted,
    ]
    usage = ivr("usage")
    assert usage.exit_code == 0
    assert usage.output.splitlines() == [*calls_counted, *(line.strip() for line in texts_counted)]

    again = ivr("purge")
    assert again.output == "Removed 0 calls, 0 texts and 0 closed escalations older than 30 days.\n"
    assert ivr("usage").output == usage.output  # nothing counted twice
    assert "Removed 1 call, 1 text and 0 closed escalations older than 1 day." in ivr("purge", "--days", "1").output
    assert "calls: 3\ncalls.scenario_1: 1\ncalls.scenario_2: 1\ncalls.scenario_3: 2\n" in ivr("usage").output


def test_purge_refuses_a_period_under_a_day(ivr: Run) -> None:
    result = ivr("purge", "--days", "0")

    assert result.exit_code == 2
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args", [["purge", "--days", "999999999"], ["escalations", "close", "9" * 25]])
def test_numbers_too_large_are_refused_cleanly(ivr: Run, args: list[str]) -> None:
    result = ivr(*args)
    assert result.exit_code == 2 and "Traceback" not in result.output and "is not in the range" in result.output


def test_names_are_shown_as_typed_not_as_markup(ivr: Run, store: Store) -> None:
    assert ivr("homes", "add", "VLC01", "[bold]Elm[/] Lodge").exit_code == 0
    assert escalate(store, "CA1", "VLC01", "[bold]Elm[/] Lodge", "INC1", "refused")
    for args in (["homes", "list"], ["escalations", "list"]):
        result = ivr(*args)
        assert result.exit_code == 0, result.output
        assert "[bold]Elm[/] Lodge" in result.output


def test_escalations_are_listed_in_uk_time(ivr: Run, store: Store) -> None:
    assert escalate(store, "CA1", None, None, "INC1", "refused")
    with store.transaction() as tx:  # received at noon UTC in July: 1 pm in the UK (BST)
        tx.connection.execute(escalations_table.update().values(created_at=datetime(2026, 7, 1, 12, 0, tzinfo=UTC)))
    assert "2026-07-01 13:00" in ivr("escalations", "list", "--csv").output


def test_a_landline_two_homes_share_is_pointed_out(ivr: Run) -> None:
    assert ivr("homes", "add", "VLC01", "First Home", "--landline", "01522 123456").exit_code == 0
    result = ivr("homes", "add", "VLC02", "Second Home", "--landline", "01522 123456")
    assert result.exit_code == 0
    assert "1 landline belongs to more than one home" in result.output
    assert "+441522123456: VLC01, VLC02" in result.output


def test_the_readme_documents_the_directory_commands() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")

    for command in ("homes import", "homes list", "homes show", "homes add", "homes remove", "escalations list",
                    "escalations close", "notice set", "notice show", "notice clear", "purge", "usage"):  # fmt: skip
        assert f"ivr {command}" in readme, f"the README does not show `ivr {command}`"


def test_a_large_import_shows_its_progress_on_a_terminal(
    ivr: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "many.csv"
    path.write_text("ods_code,name\n" + "".join(f"VLC{index:02d},Home {index}\n" for index in range(60)))
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich then draws the bar as on a terminal
    result = ivr("homes", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "reading many.csv" in result.stderr and "61/61" in result.stderr
    assert "Added 60" in result.stdout
