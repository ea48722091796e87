"""The care-home directory in the database, on SQLite and PostgreSQL: imports, re-imports, dry runs, lookups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, select

from ivr.homes import directory_store
from ivr.homes.directory import Home, keys_for
from ivr.homes.directory_store import ImportPlan, StoreDirectory
from ivr.homes.files import read_homes
from ivr.store.database import Store, care_homes, home_landlines

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "homes"

SIMPLE_HOMES = [
    Home("VLC01", "Wragby Road Care Home", ("+441522500100",), None, None, "LN2 4PX"),
    Home("VLC02", "Witham View Residential Home", ("+441205360200", "+441205360201"), None, None, "PE21 8QS"),
    Home("VLC03", "Fenland Lodge Nursing Home", ("+441775720300",), "+447400123456", None, "PE11 2TB"),
    Home("VLC04", "Wolds Edge House, Louth", ("+441507600400",), None, "wolds.edge.manager@nhs.net", "LN11 0AB"),
    Home("VLC05", "Kesteven Court", (), None, None, "NG31 7XY"),
    Home("VLC06", "Sleaford Grange", ("+443331234567",), None, None, "LN4"),
]
CQC_HOMES = [
    Home("VLC21", "Bramley Court \u2013 Residential", ("+441522511200",), None, None, "LN2 5AB"),
    Home("VLC22", "Maison \u00c9lise", ("+441205311400",), None, None, "PE21 9XY"),
    Home("VLC23", "Hartsholme Lodge", ("+447400654321",), None, None, "LN6 0AA"),
    Home("VLC24", "Spalding Meadows", (), None, None, "PE11 3ZZ"),
    Home("VLC26", "Skegness Sands Nursing Home", ("+441754760500",), None, None, "PE25 3EB"),
]
ODS_HOMES = [
    Home("VLC31", "THE OAKS CARE HOME", ("+441522530100",), None, None, "LN4 2AA"),
    Home("VLC33", "FEN VIEW RESIDENTIAL HOME", (), None, None, "PE11 1AA"),
    Home("VLC34", "CLIFF HOUSE", ("+447400777888",), None, None, "LN5 9AA"),
    Home("VLC36", "MHA ST. JOHN'S", ("+441522530200",), None, None, "LN1 1XG"),
]
# Each fixture, the homes it holds, and the codes in it that must not be imported (bad rows, closed sites).
LAYOUTS = [
    pytest.param("simple.csv", SIMPLE_HOMES, [], id="simple"),
    pytest.param("cqc_active_locations.csv", CQC_HOMES, ["VLC25"], id="cqc"),
    pytest.param("ecarehomesite.csv", ODS_HOMES, ["VLC32", "VLC35"], id="ods"),
]
FILES = ["simple.csv", "cqc_active_locations.csv", "ecarehomesite.csv"]


def import_file(store: Store, path: Path, *, dry_run: bool = False) -> ImportPlan:
    """What `ivr homes import` does: the file's own layout says whether it carries mobiles and mailboxes."""
    parsed = read_homes(path)
    simple = parsed.layout == "simple"
    return directory_store.import_records(store, parsed.homes, carries_contacts=simple, dry_run=dry_run)


def rows(store: Store, table: Table) -> list[tuple[Any, ...]]:
    with store.engine.connect() as connection:
        query = select(table).order_by(*table.primary_key.columns)
        return [tuple(row) for row in connection.execute(query)]


def snapshot(store: Store) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every column of every row of the directory's two tables, timestamps included."""
    return rows(store, care_homes), rows(store, home_landlines)


def write(tmp_path: Path, text: str, name: str = "directory_store.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def ods_line(code: str, name: str, phone: str, postcode: str = "LN4 2AA") -> str:
    """One row of the NHS ODS care-home file: 27 quoted columns, no header."""
    cells = [""] * 27
    cells[0], cells[1], cells[9], cells[10], cells[17] = code, name, postcode, "20140401", phone
    return ",".join(f'"{cell}"' for cell in cells) + "\n"


SIMPLE_HEADER = "ods_code,name,landline,mobile,mailbox,postcode\n"


# --- importing each layout ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected", "absent"), LAYOUTS)
def test_importing_each_layout_puts_its_homes_in_the_directory(
    upgraded: Store, name: str, expected: list[Home], absent: list[str]
) -> None:
    plan = import_file(upgraded, FIXTURES / name)

    assert plan.added == expected
    assert (plan.changed, plan.unchanged) == ([], 0)
    directory = StoreDirectory(upgraded)
    for home in expected:
        assert directory.home(home.ods) == home
        for number in home.landlines:
            assert directory.home_for_landline(number) == home
        assert directory.homes_for_keys(keys_for(home.ods)) == [home]
    for code in absent:
        assert directory.home(code) is None
    assert directory_store.homes(upgraded) == expected
    assert directory_store.count(upgraded) == len(expected)
    assert len(rows(upgraded, home_landlines)) == sum(len(home.landlines) for home in expected)
    assert directory.home_for_landline("+441522999999") is None


def test_the_keypad_column_holds_the_keys_that_type_the_code(upgraded: Store) -> None:
    import_file(upgraded, FIXTURES / "simple.csv")

    with upgraded.engine.connect() as connection:
        keypads = dict(connection.execute(select(care_homes.c.ods, care_homes.c.keypad)).all())

    assert keypads == {home.ods: keys_for(home.ods) for home in SIMPLE_HOMES}
    assert keypads["VLC01"] == "5201"


def test_search_matches_part_of_a_name_code_or_postcode_in_any_case(upgraded: Store) -> None:
    import_file(upgraded, FIXTURES / "simple.csv")

    assert [home.ods for home in directory_store.homes(upgraded, search="witham")] == ["VLC02"]
    assert [home.ods for home in directory_store.homes(upgraded, search="vlc0")] == [f"VLC0{n}" for n in range(1, 7)]
    assert [home.ods for home in directory_store.homes(upgraded, search="pe11")] == ["VLC03"]
    assert [home.ods for home in directory_store.homes(upgraded, search="HOME")] == ["VLC01", "VLC02", "VLC03"]
    assert [home.ods for home in directory_store.homes(upgraded, limit=2)] == ["VLC01", "VLC02"]
    assert directory_store.homes(upgraded, search="nowhere") == []
    # not wildcards
    assert directory_store.homes(upgraded, search="_") == [] and directory_store.homes(upgraded, search="%") == []


def test_a_national_file_with_no_number_for_a_home_keeps_its_landlines(upgraded: Store, tmp_path: Path) -> None:
    directory_store.add(upgraded, Home(ods="VLC70", name="THE OAKS", landlines=("+441522530100",)))
    import_file(upgraded, write(tmp_path, ods_line("VLC70", "THE OAKS", "")))
    found = directory_store.StoreDirectory(upgraded).home_for_landline("+441522530100")
    assert found is not None and found.ods == "VLC70"


# --- importing again ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_importing_the_same_file_again_changes_nothing(upgraded: Store, name: str) -> None:
    first = import_file(upgraded, FIXTURES / name)
    before = snapshot(upgraded)

    again = import_file(upgraded, FIXTURES / name)

    assert (again.added, again.changed, again.unchanged) == ([], [], len(first.added))
    assert snapshot(upgraded) == before  # updated_at included: an unchanged home is not written


def test_a_dry_run_on_an_empty_directory_reports_every_home_and_writes_none(upgraded: Store) -> None:
    plan = import_file(upgraded, FIXTURES / "simple.csv", dry_run=True)

    assert plan.added == SIMPLE_HOMES
    assert snapshot(upgraded) == ([], [])


def test_a_dry_run_reports_what_would_change_and_changes_nothing(upgraded: Store, tmp_path: Path) -> None:
    import_file(upgraded, FIXTURES / "simple.csv")
    before = snapshot(upgraded)
    changed = write(
        tmp_path,
        SIMPLE_HEADER + "VLC01,Wragby Road House,01522 500199,,,LN2 4PX\n"
        "VLC02,Witham View Residential Home,01205 360200;01205 360201,,,PE21 8QS\n"
        "VLC07,Bailgate Court,01522 500700,,,LN1 3AA\n",
    )

    plan = import_file(upgraded, changed, dry_run=True)

    assert plan.added == [Home("VLC07", "Bailgate Court", ("+441522500700",), None, None, "LN1 3AA")]
    assert plan.changed == [
        (Home("VLC01", "Wragby Road House", ("+441522500199",), None, None, "LN2 4PX"), ["name", "landlines"])
    ]
    assert plan.unchanged == 1
    assert snapshot(upgraded) == before
    assert StoreDirectory(upgraded).home_for_landline("+441522500199") is None

    applied = import_file(upgraded, changed)  # the same plan, carried out this time

    assert (applied.added, applied.changed, applied.unchanged) == (plan.added, plan.changed, plan.unchanged)
    assert StoreDirectory(upgraded).home("VLC01") == plan.changed[0][0]


def test_only_the_homes_that_change_are_written(upgraded: Store, tmp_path: Path) -> None:
    import_file(upgraded, FIXTURES / "simple.csv")
    before = {row[0]: row for row in rows(upgraded, care_homes)}

    import_file(upgraded, write(tmp_path, SIMPLE_HEADER + "VLC05,Kesteven Court Care Home,,,,NG31 7XY\n"))

    after = {row[0]: row for row in rows(upgraded, care_homes)}
    updated_at = care_homes.c.keys().index("updated_at")
    created_at = care_homes.c.keys().index("created_at")
    assert after["VLC05"][updated_at] > before["VLC05"][updated_at]
    assert after["VLC05"][created_at] == before["VLC05"][created_at]
    assert {code: row for code, row in after.items() if code != "VLC05"} == {
        code: row for code, row in before.items() if code != "VLC05"
    }  # homes not in the file are left alone


# --- what the operator set by hand ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("cqc_active_locations.csv", CQC_HOMES[0], id="cqc"),
        pytest.param("ecarehomesite.csv", ODS_HOMES[0], id="ods"),
    ],
)
def test_a_national_file_keeps_the_mobile_and_mailbox_set_by_hand(upgraded: Store, name: str, expected: Home) -> None:
    by_hand = Home(expected.ods, "Old Name", ("+441522500999",), "+447400111222", "manager.home@nhs.net", None)
    assert directory_store.add(upgraded, by_hand) == "added"

    plan = import_file(upgraded, FIXTURES / name)

    home = StoreDirectory(upgraded).home(expected.ods)
    assert home == Home(
        expected.ods, expected.name, expected.landlines, "+447400111222", "manager.home@nhs.net", expected.postcode
    )
    assert home.mailbox == "manager.home@nhs.net"
    assert [(changed.ods, fields) for changed, fields in plan.changed] == [
        (expected.ods, ["name", "landlines", "postcode"])
    ]
    assert StoreDirectory(upgraded).home_for_landline("+441522500999") is None

    again = import_file(upgraded, FIXTURES / name)

    assert (again.added, again.changed) == ([], [])  # what was kept is not seen as a change next time


def test_a_national_file_keeps_a_postcode_it_does_not_give(upgraded: Store, tmp_path: Path) -> None:
    directory_store.add(upgraded, Home("VLC31", "The Oaks", ("+441522530100",), None, None, "LN4 2AA"))

    import_file(upgraded, write(tmp_path, ods_line("VLC31", "THE OAKS CARE HOME", "01522 530100", postcode="")))

    assert StoreDirectory(upgraded).home("VLC31") == Home(
        "VLC31", "THE OAKS CARE HOME", ("+441522530100",), None, None, "LN4 2AA"
    )


def test_our_simple_file_replaces_the_mobile_and_mailbox(upgraded: Store) -> None:
    wragby = Home("VLC01", "Wragby Road", ("+441522500100",), "+447400111222", "wragby@nhs.net", "LN2 4PX")
    directory_store.add(upgraded, wragby)
    fenland = Home("VLC03", "Fenland Lodge", ("+441775720300",), "+447400999888", "fenland@nhs.net")
    directory_store.add(upgraded, fenland)

    plan = import_file(upgraded, FIXTURES / "simple.csv")

    directory = StoreDirectory(upgraded)
    assert directory.home("VLC01") == SIMPLE_HOMES[0]  # the file has no mobile or mailbox for it: none is kept
    assert directory.home("VLC03") == SIMPLE_HOMES[2]  # the file's own mobile
    assert sorted((home.ods, fields) for home, fields in plan.changed) == [
        ("VLC01", ["name", "mobile", "mailbox_override"]),
        ("VLC03", ["name", "mobile", "mailbox_override", "postcode"]),
    ]
    assert len(plan.added) == 4


# --- landlines ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            SIMPLE_HEADER + "VLC01,Wragby Road Care Home,01522 500100,,,\nVLC02,Witham View,01205 360200,,,\n",
            SIMPLE_HEADER + "VLC01,Wragby Road Care Home,01522 500199,,,\nVLC02,Witham View,01205 360200,,,\n",
            id="simple",
        ),
        pytest.param(
            ods_line("VLC01", "WRAGBY ROAD CARE HOME", "01522 500100")
            + ods_line("VLC02", "WITHAM VIEW", "01205 360200"),
            ods_line("VLC01", "WRAGBY ROAD CARE HOME", "01522 500199")
            + ods_line("VLC02", "WITHAM VIEW", "01205 360200"),
            id="ods",
        ),
    ],
)
def test_a_changed_landline_replaces_the_old_one(upgraded: Store, tmp_path: Path, before: str, after: str) -> None:
    import_file(upgraded, write(tmp_path, before, "before.csv"))
    directory = StoreDirectory(upgraded)
    assert directory.home_for_landline("+441522500100") is not None

    plan = import_file(upgraded, write(tmp_path, after, "after.csv"))

    assert [(home.ods, fields) for home, fields in plan.changed] == [("VLC01", ["landlines"])]
    assert directory.home_for_landline("+441522500100") is None
    found = directory.home_for_landline("+441522500199")
    assert found is not None and found.ods == "VLC01"
    assert found.landlines == ("+441522500199",)
    assert rows(upgraded, home_landlines) == [("+441205360200", "VLC02"), ("+441522500199", "VLC01")]


def test_a_second_landline_can_be_added_and_taken_away(upgraded: Store, tmp_path: Path) -> None:
    one = write(tmp_path, SIMPLE_HEADER + "VLC01,Wragby Road,01522 500100,,,\n", "one.csv")
    two = write(tmp_path, SIMPLE_HEADER + "VLC01,Wragby Road,01522 500101; 01522 500100,,,\n", "two.csv")
    directory = StoreDirectory(upgraded)

    import_file(upgraded, one)
    import_file(upgraded, two)
    assert directory.home("VLC01") == Home("VLC01", "Wragby Road", ("+441522500100", "+441522500101"))
    assert import_file(upgraded, two).changed == []  # the order the file gives them in does not matter

    import_file(upgraded, one)
    assert directory.home_for_landline("+441522500101") is None
    assert rows(upgraded, home_landlines) == [("+441522500100", "VLC01")]


def test_a_landline_two_homes_share_recognises_neither(upgraded: Store, tmp_path: Path) -> None:
    import_file(
        upgraded,
        write(
            tmp_path,
            SIMPLE_HEADER + "VLC01,Wragby Road,01522 500500;01522 500100,,,\n"
            "VLC02,Witham View,01522 500500,,,\n"
            "VLC03,Fenland Lodge,01775 720300,,,\n",
        ),
    )
    directory = StoreDirectory(upgraded)

    assert directory.home_for_landline("+441522500500") is None  # the group's head office: never guess
    assert directory.home("VLC02") == Home("VLC02", "Witham View", ("+441522500500",))
    assert directory.home_for_landline("+441522500100") == Home(
        "VLC01", "Wragby Road", ("+441522500100", "+441522500500")
    )
    found = directory.home_for_landline("+441775720300")
    assert found is not None and found.ods == "VLC03"

    assert directory_store.remove(upgraded, "VLC02")

    found = directory.home_for_landline("+441522500500")  # now only one home has it
    assert found is not None and found.ods == "VLC01"


# --- keys -----------------------------------------------------------------------------------------------------


def test_homes_for_keys_gives_every_home_the_keys_type_in_code_order(upgraded: Store) -> None:
    added = [
        Home("VL15A", "Lindum House", ("+441522123456",)),
        Home("VK15C", "Kirkstead Court"),
        Home("VJ15B", "Jasmine Lodge", ("+441522123457",), "+447400123456"),
        Home("VL15D", "Other Keys House"),
    ]
    for home in added:
        assert directory_store.add(upgraded, home) == "added"
    directory = StoreDirectory(upgraded)

    assert keys_for("VL15A") == keys_for("VJ15B") == keys_for("VK15C") == "5152"
    assert directory.homes_for_keys("5152") == [added[2], added[1], added[0]]
    assert directory.homes_for_keys("5153") == [added[3]]
    assert directory.homes_for_keys("9999") == []


# --- adding and removing by hand ------------------------------------------------------------------------------


def test_add_says_whether_it_added_changed_or_left_a_home(upgraded: Store) -> None:
    home = Home("VLC01", "Wragby Road", ("+441522500100",), "+447400123456", None, "LN2 4PX")

    assert directory_store.add(upgraded, home) == "added"
    before = snapshot(upgraded)
    assert directory_store.add(upgraded, home) == "unchanged"
    assert snapshot(upgraded) == before
    other = Home("VLC01", "Wragby Road", ("+441522500101",))
    assert directory_store.add(upgraded, other) == "exists"  # refused: it would wipe the mobile and postcode
    assert snapshot(upgraded) == before
    assert directory_store.add(upgraded, other, replace=True) == "changed"

    assert StoreDirectory(upgraded).home("VLC01") == Home("VLC01", "Wragby Road", ("+441522500101",))
    assert StoreDirectory(upgraded).home_for_landline("+441522500100") is None


def test_remove_takes_the_landlines_with_it(upgraded: Store) -> None:
    directory_store.add(upgraded, Home("VLC01", "Wragby Road", ("+441522500100", "+441522500101")))
    directory_store.add(upgraded, Home("VLC02", "Witham View", ("+441205360200",)))
    directory = StoreDirectory(upgraded)

    assert directory_store.remove(upgraded, "VLC01")

    assert directory.home("VLC01") is None
    assert directory.home_for_landline("+441522500100") is None
    assert directory.home_for_landline("+441522500101") is None
    assert directory.homes_for_keys(keys_for("VLC01")) == []
    assert rows(upgraded, home_landlines) == [("+441205360200", "VLC02")]
    assert directory.home("VLC02") == Home("VLC02", "Witham View", ("+441205360200",))
    assert not directory_store.remove(upgraded, "VLC01")  # nothing left to remove
    assert directory_store.count(upgraded) == 1
